"""e2e (issue 18): session ticket keys shared through memcached.

A real memcached (Debian's, unprivileged, loopback, no UDP) and three
h2bridge instances reading listeners[].tls.ticket_memcached every second:

- a TLS 1.2 and a TLS 1.3 session made on any instance resumes on the two
  others (the rate is printed); an instance with its own keys does not
  resume them (the control: without it the check proves nothing);
- `h2bridge-ticketkeys rotate` is picked up within the interval (logs and
  h2bridge_tls_ticket_keys_generation), and a session from before the
  rotation still resumes everywhere; a rotation that keeps no old key
  (--keep 0, twice) makes it fail everywhere, so the keys in use really are
  the ones in memcached;
- with memcached stopped, the instances keep their keys (resumption across
  them goes on), log it once per transition (not once per poll), count the
  failed fetches and set h2bridge_tls_ticket_keys_stale; when memcached
  is back with a new set they take it and say so once.
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
MEMCACHED = shutil.which("memcached") or "/usr/bin/memcached"
if not os.access(MEMCACHED, os.X_OK):
    pl.skip("memcached is not installed (scripts/deps.sh test)")
TOOL = os.path.join(os.environ.get("H2B_BUILD_DIR", ""), "tools", "ticketkeys",
                    "h2bridge-ticketkeys")
if not os.access(TOOL, os.X_OK):
    pl.skip("h2bridge-ticketkeys not built")

env = pl.Env()
ck = pl.Checker()
MC_PORT = pl.free_port()
KEY = "fleet-test/tickets"


def memcached():
    argv = [MEMCACHED, "-l", "127.0.0.1", "-p", str(MC_PORT), "-U", "0", "-m", "8"]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]  # memcached refuses root without -u
    p = env.spawn(argv, "memcached")
    pl.wait_port(MC_PORT, p)
    return p


def tool(*args):
    r = subprocess.run([TOOL, "--memcached", "127.0.0.1:%d" % MC_PORT, "--key", KEY] +
                       list(args), capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def proxy(name, shared=True):
    port, admin = pl.free_port(), pl.free_port()
    mc = ("      ticket_memcached: {address: \"127.0.0.1:%d\", key: \"%s\", interval: 1s, "
          "timeout: 500ms}\n" % (MC_PORT, KEY)) if shared else ""
    path = os.path.join(env.dir, name + ".yaml")
    with open(path, "w") as f:
        f.write("listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    protocols: [http/1.1]\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n%s"
                "upstreams:\n  o: {servers: [\"127.0.0.1:%d\"]}\n"
                "routes:\n  - {upstream: o}\n"
                "admin: {address: \"127.0.0.1:%d\"}\n"
                "workers: 1\n"
                "logging: {level: info}\n" % (port, env.cert, env.key, mc, origin.port, admin))
    p = env.spawn([pl.BIN, "-c", path], name)
    pl.wait_port(port, p, timeout=20)
    pl.wait_port(admin, p, timeout=20)
    p.port, p.admin = port, admin
    return p


def metric(p, name, labels=""):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % p.admin, timeout=5) as r:
        body = r.read().decode()
    for line in body.splitlines():
        if (line.startswith(name + "{") or line.startswith(name + " ")) and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return None


CTX = {}


def ctx(version):
    """One client context per TLS version: python ties a session to the
    client context, not to the server, so one context resumes a session on
    any instance."""
    if version not in CTX:
        c = pl.tls_context(["http/1.1"])
        c.minimum_version = c.maximum_version = version
        CTX[version] = c
    return CTX[version]


def handshake(port, version, session=None):
    """One request on a fresh connection. Returns (session, reused)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx(version).wrap_socket(raw, server_hostname="localhost", session=session)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    while s.recv(65536):  # the response, and TLS 1.3's tickets before it
        pass
    reused, sess = s.session_reused, s.session
    s.close()
    return sess, reused


def resumes(session, port, version):
    return handshake(port, version, session)[1]


def wait_all_logs(procs, text, limit):
    return all(env.wait_log(p, text, limit) for p in procs)


V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3

try:
    origin = env.origin()
    mc = memcached()
    rc, out = tool("rotate")
    ck.check(rc == 0 and "generation 1," in out, "the tool writes generation 1: %s" % out)
    fleet = [proxy("a"), proxy("b"), proxy("c")]
    lone = proxy("lone", shared=False)
    ck.check(wait_all_logs(fleet, "generation 1 (1 keys)", 5), "every instance loads generation 1")

    # 1. Across instances, both TLS versions.
    for version in (V12, V13):
        tried = ok = 0
        for i, p in enumerate(fleet):
            for _ in range(3):
                sess, _ = handshake(p.port, version)
                for q in fleet:
                    if q is not p:
                        tried += 1
                        ok += resumes(sess, q.port, version)
        print("resumption across instances, %s: %d/%d" % (version.name, ok, tried))
        ck.eq(ok, tried, "%s: every session made on one instance resumes on the others"
              % version.name)
        sess, _ = handshake(fleet[0].port, version)
        ck.check(not resumes(sess, lone.port, version),
                 "%s: an instance with its own keys does not resume it (control)" % version.name)
    ck.eq(metric(fleet[0], "h2bridge_tls_ticket_keys_generation"), 1.0, "generation metric")
    age = metric(fleet[0], "h2bridge_tls_ticket_keys_age_seconds")
    ck.check(age is not None and 0 <= age < 60, "key set age metric (%s)" % age)
    ck.check(metric(lone, "h2bridge_tls_ticket_keys_generation") is None,
             "no ticket key families on an instance without ticket_memcached")

    # 2. A rotation: picked up within the interval, old sessions still resume.
    old12, _ = handshake(fleet[1].port, V12)
    old13, _ = handshake(fleet[1].port, V13)
    t0 = time.time()
    rc, out = tool("rotate")
    ck.check(rc == 0 and "generation 2, " in out and "2 keys" in out, "rotate: %s" % out)
    ck.check(wait_all_logs(fleet, "generation 2 (2 keys)", 4), "every instance loads generation 2")
    print("rotation picked up by all three after %.1f s (interval 1 s)" % (time.time() - t0))
    for p in fleet:
        ck.eq(metric(p, "h2bridge_tls_ticket_keys_generation"), 2.0, "generation 2 on %d" % p.port)
        ck.check(resumes(old12, p.port, V12) and resumes(old13, p.port, V13),
                 "a session of generation 1 still resumes after the rotation")
    new13, _ = handshake(fleet[0].port, V13)
    ck.check(resumes(new13, fleet[2].port, V13), "a session of generation 2 resumes elsewhere")

    # 3. Rotations that keep no old key: the old sessions fail everywhere.
    for g in (3, 4):
        rc, out = tool("--keep", "0", "rotate")
        ck.check(rc == 0 and ("generation %d, " % g) in out and "1 keys" in out, out)
    ck.check(wait_all_logs(fleet, "generation 4 (1 keys)", 4), "every instance loads generation 4")
    for p in fleet:
        ck.check(not resumes(old12, p.port, V12) and not resumes(old13, p.port, V13),
                 "a generation-1 session no longer resumes once its key left the set")

    # 4. memcached down: keys kept, one log line per transition.
    sess, _ = handshake(fleet[0].port, V13)
    env.stop(mc)
    ck.check(wait_all_logs(fleet, "keeping generation 4 until memcached answers", 4),
             "each instance logs that it keeps its keys")
    time.sleep(3.5)  # three more failed polls
    for p in fleet:
        ck.eq(env.log(p).count("keeping generation"), 1, "the outage is logged once")
        ck.check(resumes(sess, p.port, V13), "resumption across instances goes on without memcached")
        f = metric(p, "h2bridge_tls_ticket_key_fetches_total", 'result="failed"')
        ck.check(f is not None and f >= 3, "failed fetches counted (%s)" % f)
        ck.eq(metric(p, "h2bridge_tls_ticket_keys_stale"), 1.0, "stale gauge while down")
        ck.eq(metric(p, "h2bridge_tls_ticket_keys_generation"), 4.0, "generation kept")

    # 5. Back (empty: memcached keeps nothing), then a new set.
    mc = memcached()
    time.sleep(2.5)  # answers without the key: still failing, no new line
    for p in fleet:
        ck.eq(env.log(p).count("keeping generation"), 1, "a miss after the outage logs nothing new")
    rc, out = tool("rotate")
    ck.check(rc == 0 and "generation 1," in out, "a new set after the restart: %s" % out)
    ck.check(wait_all_logs(fleet, "answers again", 4), "each instance logs the recovery")
    time.sleep(1.5)
    for p in fleet:
        ck.eq(env.log(p).count("answers again"), 1, "the recovery is logged once")
        ck.eq(metric(p, "h2bridge_tls_ticket_keys_stale"), 0.0, "stale gauge cleared")
        ck.eq(metric(p, "h2bridge_tls_ticket_keys_generation"), 1.0, "the new set is used")
    sess, _ = handshake(fleet[2].port, V12)
    ck.check(resumes(sess, fleet[0].port, V12), "resumption across instances with the new set")
except Exception:
    env.dump_logs()
    raise
finally:
    if ck.failed:
        env.dump_logs(1500)
    env.close()
ck.finish()
