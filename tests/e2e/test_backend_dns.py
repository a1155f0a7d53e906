"""e2e (issue 16, backend names): servers given as DNS names, with a real
DNS server.

dnsmasq (Debian's dnsmasq-base) runs unprivileged on a loopback port and
answers from an addn-hosts file that the test rewrites and SIGHUPs. Three
origins listen on 127.0.0.2, .3 and .4 (all on lo), on one port. The proxy
resolves "app.h2b.test" through resolver.servers every 500 ms
(resolver.interval; the answer's TTL is 60 s, so the interval is what
counts) and serves it under load from h2load:
  1. at start both addresses of the name get requests;
  2. the name moves from {.2, .3} to {.3, .4}: within the interval plus a
     margin .4 gets requests and .2 none any more, the change is logged
     once, and no request fails (in-flight ones finish on .2);
  3. a resolve: lazy name that does not resolve at start answers 503, and
     200 once the DNS server has it;
  4. with dnsmasq stopped, resolutions fail (logged once, counted in
     /status) and the last answer keeps serving, with no failed request;
  5. a name that does not resolve, without resolve: lazy, stops the start
     with its file:line:column;
  6. balance: consistent_hash over the name's addresses: each key stays on
     one address across connections and both workers; after the change the
     Maglev table is rebuilt from the new addresses (no key on .2, each key
     still on one address everywhere, .3 and .4 both own keys).
Every wait is bounded; only the processes started here are stopped.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
DNSMASQ = "/usr/sbin/dnsmasq"
if not os.access(DNSMASQ, os.X_OK):
    pl.skip("dnsmasq not installed (dnsmasq-base)")
if subprocess.run(["sh", "-c", "command -v h2load"], stdout=subprocess.DEVNULL).returncode != 0:
    pl.skip("h2load not installed")
env = pl.Env()
ck = pl.Checker()
INTERVAL = 0.5
SAN = os.environ.get("H2B_SANITIZE") in ("1", "ON", "TRUE", "true")
MARGIN = 2.0 if SAN else 1.0


def start_dnsmasq(hosts, port, gen):
    argv = [DNSMASQ, "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--addn-hosts=" + hosts, "--port=%d" % port, "--listen-address=127.0.0.1",
            "--bind-interfaces", "--local-ttl=60", "--pid-file=", "--log-facility=-"]
    if os.getuid() == 0:
        argv.append("--user=root")  # else it drops to nobody, who cannot read env.dir
    p = env.spawn(argv, "dnsmasq-%d" % gen)
    deadline = time.time() + 5
    while time.time() < deadline and "read " + hosts not in env.log(p):
        if p.poll() is not None:
            break
        time.sleep(0.05)
    return p


def write_hosts(path, entries):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for addr, name in entries:
            f.write("%s %s\n" % (addr, name))
    os.replace(tmp, path)


def served(p):
    return len(re.findall(r'"GET /bytes/', env.log(p)))


def h2load(port, seconds):
    r = subprocess.run(["h2load", "-D", str(seconds), "-c", "4", "-m", "4", "-T", "20",
                        "https://127.0.0.1:%d/bytes/100" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds + 60)
    return r.stdout.decode()


def h2load_bg(port, seconds):
    return subprocess.Popen(["h2load", "-D", str(seconds), "-c", "4", "-m", "4", "-T", "20",
                             "https://127.0.0.1:%d/bytes/100" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def result(out):
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored", out)
    st = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if not m or not st:
        print(out)
        return None
    return {"done": int(m.group(3)), "ok": int(m.group(4)), "failed": int(m.group(5)),
            "errored": int(m.group(6)), "5xx": int(st.group(4))}


def get(port, path):
    c = pl.H2Client(port, timeout=10)
    r = c.request("GET", path)
    c.close()
    return r


KEYS = ["k%d" % i for i in range(40)]


def hash_map(port, conns=4):
    """key -> the set of origins that served it, over conns connections
    (spread over both workers)."""
    seen = {k: set() for k in KEYS}
    for _ in range(conns):
        c = pl.H2Client(port, timeout=10)
        for k in KEYS:
            r = c.request("GET", "/hash/200", headers=[("x-key", k)])
            seen[k].add(r.header("x-origin-id") if r.status == 200 else "status %d" % r.status)
        c.close()
    return seen


def status(admin):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % admin, timeout=5) as r:
        return json.loads(r.read())


def config(path, port, admin, dport, name="app.h2b.test", lazy=True):
    with open(path, "w") as f:
        f.write("workers: 2\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "admin: {address: 127.0.0.1, port: %d}\n"
                "resolver:\n"
                "  servers: [\"127.0.0.1:%d\"]\n"
                "  interval: 500ms\n"
                "  min_interval: 100ms\n"
                "  timeout: 300ms\n"
                "upstreams:\n"
                "  u:\n"
                "    servers: [\"%s:%d\"]\n"
                "    retries: 0\n"
                "    health_check: {type: tcp, interval: 200ms, jitter: 20ms, timeout: 150ms}\n"
                "  h:\n"
                "    servers: [\"%s:%d\"]\n"
                "    balance: consistent_hash\n"
                "    consistent_hash: {key: header, name: x-key}\n"
                % (port, env.cert, env.key, admin, dport, name, OPORT, name, OPORT))
        if lazy:
            f.write("  l:\n"
                    "    servers: [{address: late.h2b.test, port: %d, resolve: lazy}]\n"
                    % OPORT)
        f.write("routes:\n")
        f.write("  - {path_prefix: /hash/, rewrite_prefix: /status/, upstream: h}\n")
        if lazy:
            f.write("  - {path_prefix: /status/, upstream: l}\n")
        f.write("  - {upstream: u}\n")


try:
    OPORT = pl.free_port()
    origins = {}
    for last in (2, 3, 4):
        ip = "127.0.0.%d" % last
        p = env.spawn([pl.ORIGIN, "--listen", "%s:%d" % (ip, OPORT), "--id", "o%d" % last,
                       "--verbose"], "origin-o%d" % last)
        origins[last] = p
    for last, p in origins.items():
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                import socket
                socket.create_connection(("127.0.0.%d" % last, OPORT), 0.5).close()
                break
            except OSError:
                time.sleep(0.05)
    hosts = os.path.join(env.dir, "hosts")
    write_hosts(hosts, [("127.0.0.2", "app.h2b.test"), ("127.0.0.3", "app.h2b.test")])
    dport = pl.free_port()
    dns = start_dnsmasq(hosts, dport, 0)
    ck.check(dns.poll() is None, "dnsmasq runs")

    port, admin = pl.free_port(), pl.free_port()
    path = os.path.join(env.dir, "h2bridge.yaml")
    config(path, port, admin, dport)
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)
    pl.wait_port(admin, p, timeout=20)

    # 1. Both addresses serve.
    res = result(h2load(port, 1))
    ck.check(res and res["failed"] == 0 and res["errored"] == 0 and res["5xx"] == 0,
             "start: no failed request: %r" % res)
    ck.check(served(origins[2]) > 0 and served(origins[3]) > 0 and served(origins[4]) == 0,
             "start: .2 and .3 serve, .4 not: %d %d %d" % (
                 served(origins[2]), served(origins[3]), served(origins[4])))
    ck.check(env.wait_log(p, "dns: upstream u server app.h2b.test:%d: 2 addresses" % OPORT),
             "the first answer is logged")
    r = get(port, "/status/200")
    ck.eq(r.status, 503, "lazy name, not resolved: 503")
    st = status(admin)
    u = [x for x in st["upstreams"] if x["name"] == "u"][0]
    names = sorted(a["server"] for s in u["servers"] for a in s.get("addresses", []))
    ck.eq(names, ["127.0.0.2:%d" % OPORT, "127.0.0.3:%d" % OPORT], "/status: the addresses")

    # 6 (before the change). Each key on one address, everywhere.
    hmap0 = hash_map(port)
    ck.check(all(len(v) == 1 for v in hmap0.values()),
             "hash: each key on one origin: %r" % {k: v for k, v in hmap0.items() if len(v) != 1})
    on = {o: [k for k, v in hmap0.items() if v == {o}] for o in ("o2", "o3", "o4")}
    ck.check(on["o2"] and on["o3"] and not on["o4"],
             "hash: keys on .2 and .3 only: %d %d %d" % tuple(len(on[o]) for o in on))

    # 2. {.2, .3} → {.3, .4} under load.
    load = h2load_bg(port, 4)
    time.sleep(1.0)
    write_hosts(hosts, [("127.0.0.3", "app.h2b.test"), ("127.0.0.4", "app.h2b.test"),
                        ("127.0.0.4", "late.h2b.test")])
    t_change = time.time()
    dns.send_signal(signal.SIGHUP)
    moved = None
    while time.time() - t_change < INTERVAL + MARGIN + 2:
        if served(origins[4]) > 0:
            moved = time.time() - t_change
            break
        time.sleep(0.02)
    ck.check(moved is not None and moved < INTERVAL + MARGIN,
             "traffic reaches .4 within the interval: %s s" % moved)
    print("traffic reached .4 %.3f s after the DNS change" % (moved or -1))
    time.sleep(INTERVAL)  # requests already on .2 finish
    o2_then = served(origins[2])
    out, _ = load.communicate(timeout=60)
    res = result(out.decode())
    ck.check(res and res["done"] > 100 and res["failed"] == 0 and res["errored"] == 0 and
             res["5xx"] == 0, "change: no failed request: %r" % res)
    print("under the change: %r" % res)
    ck.eq(served(origins[2]), o2_then, ".2 gets nothing after the change")
    ck.check(served(origins[3]) > 0 and served(origins[4]) > 0, ".3 and .4 serve")
    log = env.log(p)
    ck.eq(len(re.findall(r"dns: upstream u server app\.h2b\.test:%d: 2 addresses \(1 added, 1 "
                         r"removed, 1 kept\): \+127\.0\.0\.4:%d -127\.0\.0\.2:%d" %
                         (OPORT, OPORT, OPORT), log)), 1, "the change is logged once")

    # Health checks, metrics and /status follow the new address.
    time.sleep(0.5)
    st = status(admin)
    u = [x for x in st["upstreams"] if x["name"] == "u"][0]
    addrs = {a["server"]: a for a in u["servers"][0]["addresses"]}
    ck.eq(sorted(addrs), ["127.0.0.3:%d" % OPORT, "127.0.0.4:%d" % OPORT],
          "/status: the new addresses")
    a4 = addrs.get("127.0.0.4:%d" % OPORT, {})
    ck.check(a4.get("health", {}).get("checked") and a4["health"]["checks_passed"] >= 1,
             "the new address is health-checked: %r" % a4.get("health"))
    ck.check(a4.get("requests_total", 0) > 0, "/status counts its requests")
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as m:
        metrics = m.read().decode()
    ck.check(re.search(r'h2bridge_backend_requests_total\{upstream="u",server="127\.0\.0\.4:%d"'
                       % OPORT, metrics) is not None, "metrics carry the new address")
    ck.check(re.search(r'h2bridge_backend_requests_total\{upstream="u",server="127\.0\.0\.2:%d"'
                       % OPORT, metrics) is not None, "and keep the counts of the old one")

    # 6 (after the change). The table follows the new addresses.
    hmap1 = hash_map(port)
    ck.check(all(len(v) == 1 for v in hmap1.values()),
             "hash after the change: each key on one origin: %r"
             % {k: v for k, v in hmap1.items() if len(v) != 1})
    ck.check(not any(v == {"o2"} for v in hmap1.values()) and
             all(v <= {"o3", "o4"} for v in hmap1.values()),
             "hash after the change: keys on .3 and .4 only")
    ck.check(any(v == {"o3"} for v in hmap1.values()) and any(v == {"o4"} for v in hmap1.values()),
             "hash after the change: both .3 and .4 own keys")
    # Not asserted: with one address out and one in, Maglev keeps about half
    # of .3's keys on .3 (.4 takes its share of the slots from the one
    # remaining server); a removal alone moves only the removed one's keys
    # (test_maglev_removal_moves_one_nth).
    stayed = sum(1 for k in on["o3"] if hmap1[k] == {"o3"})
    print("consistent_hash: %d of %d keys of .3 stayed on .3; .2's %d keys moved"
          % (stayed, len(on["o3"]), len(on["o2"])))

    # 3. The lazy name resolved with the same change.
    ck.check(env.wait_log(p, "dns: upstream l server late.h2b.test:%d: 1 addresses" % OPORT),
             "the lazy name resolves")
    r = get(port, "/status/200")
    ck.eq(r.status, 200, "lazy name: 200 once resolved")
    ck.eq(r.header("x-origin-id"), "o4", "lazy name: served by .4")

    # 4. The DNS server stops: the last answer keeps serving.
    env.stop(dns)
    ck.check(env.wait_log(p, "resolution failed: ", limit=INTERVAL * 4 + 3),
             "a failed resolution is logged")
    time.sleep(INTERVAL * 3)
    before = (served(origins[3]), served(origins[4]))
    res = result(h2load(port, 1))
    ck.check(res and res["failed"] == 0 and res["errored"] == 0 and res["5xx"] == 0,
             "DNS down: no failed request: %r" % res)
    ck.check(served(origins[3]) > before[0] and served(origins[4]) > before[1],
             "DNS down: the last answer (.3, .4) serves")
    log = env.log(p)
    ck.eq(len(re.findall(r"upstream u server app\.h2b\.test:%d: resolution failed" % OPORT, log)), 1,
          "failing resolutions: one warning, not one per try")
    st = status(admin)
    u = [x for x in st["upstreams"] if x["name"] == "u"][0]
    dnsv = u["servers"][0].get("dns", {})
    ck.check(dnsv.get("failing") is True and dnsv.get("failures", 0) >= 2,
             "/status counts the failures: %r" % dnsv)
    env.stop(p)

    # 5. Without resolve: lazy, a name that does not resolve stops the start.
    dns = start_dnsmasq(hosts, dport, 1)
    bad = os.path.join(env.dir, "bad.yaml")
    config(bad, pl.free_port(), pl.free_port(), dport, name="nowhere.h2b.test", lazy=False)
    t0 = time.time()
    r = subprocess.run([pl.BIN, "-c", bad], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    out = r.stdout.decode()
    ck.check(r.returncode != 0, "unresolvable name: exit %d" % r.returncode)
    ck.check(re.search(r"bad\.yaml:14:\d+: server nowhere\.h2b\.test:%d of upstream \"u\" does "
                       r"not resolve" % OPORT, out) is not None,
             "the error names file:line:column: %s" % out[-600:])
    ck.check(time.time() - t0 < 10, "and comes at once")
except Exception:
    env.dump_logs()
    raise
finally:
    if ck.failed:
        env.dump_logs()
    env.close()
ck.finish()
