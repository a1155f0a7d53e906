"""e2e: listener keys of docs/configuration.md do what they say, each checked
so that the check fails when the key is ignored.

- listeners[].tls.ciphers: a TLS 1.2 client offering only a suite the list
  excludes fails the handshake, one offering a listed suite connects (and the
  same excluded suite connects to a listener with the default list); a list
  BoringSSL refuses is reported by `h2bridge -t` at the key's line:column.
- listeners[].max_connections: with 1, a second connection is not served
  while the first is open (accepting is paused, logged with the listener's
  name) and is served once the first closes.
- listeners[].name: the listener's log lines carry it (its address when
  unnamed).
"""
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402


def write_config(env, name, port, origin_port, listener="", tls="", top=""):
    """A one-listener TLS configuration; listener/tls/top are extra YAML
    lines (already indented for their place). Returns the file's path."""
    yaml = ("listeners:\n"
            "  - address: \"127.0.0.1:%d\"\n"
            "%s"
            "    tls:\n"
            "      certificates: [{cert: %s, key: %s}]\n"
            "%s"
            "upstreams:\n  o: {servers: [\"127.0.0.1:%d\"]}\n"
            "routes:\n  - {upstream: o}\n"
            "%s" % (port, listener, env.cert, env.key, tls, origin_port, top))
    path = os.path.join(env.dir, name + ".yaml")
    with open(path, "w") as f:
        f.write(yaml)
    return path


def start(env, origin, name, workers=1, **kw):
    port = pl.free_port()
    path = write_config(env, name, port, origin.port, **kw)
    p = env.spawn([pl.BIN, "-c", path, "--workers", str(workers)], name)
    pl.wait_port(port, p, timeout=20)
    p.port = port
    return p


def tls12_handshake(port, cipher):
    """True when a TLS 1.2 client offering only `cipher` completes the
    handshake."""
    ctx = pl.tls_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(cipher)
    try:
        s = pl.tls_connect(port, timeout=5, ctx=ctx)
    except (ssl.SSLError, OSError):
        return False
    got = s.cipher()[0]
    s.close()
    return got == cipher


def check_ciphers(env, origin, c):
    # The test certificate is ECDSA (P-256): ECDHE-ECDSA suites.
    listed, excluded = "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"
    p = start(env, origin, "ciphers", tls="      ciphers: \"%s\"\n" % listed)
    c.check(tls12_handshake(p.port, listed), "ciphers: the listed suite connects")
    c.check(not tls12_handshake(p.port, excluded),
            "ciphers: a client offering only an excluded suite fails the handshake")
    d = start(env, origin, "ciphers-default")
    c.check(tls12_handshake(d.port, excluded),
            "ciphers: the default list has %s (else the check above proves nothing)" % excluded)
    env.stop(p)
    env.stop(d)
    for bad in ("ECDHE-ECDSA-AES128-GCM-SHA256:NO-SUCH-SUITE", "TLS_AES_128_GCM_SHA256"):
        path = write_config(env, "ciphers-bad", pl.free_port(), origin.port,
                            tls="      ciphers: \"%s\"\n" % bad)
        r = subprocess.run([pl.BIN, "-t", "-c", path], capture_output=True, text=True, timeout=30)
        # ciphers is on line 5 of write_config's file, its value at column 16.
        c.eq(r.returncode, 1, "ciphers %r: h2bridge -t exit status" % bad)
        c.check("%s:5:16: expected a TLS 1.2 cipher list" % path in r.stderr + r.stdout,
                "ciphers %r: error at file:line:column, got %r" % (bad, r.stderr + r.stdout))


def wait_log(env, p, text, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in env.log(p):
            return True
        time.sleep(0.05)
    return False


def check_name(env, origin, c):
    debug = "logging: {level: debug}\n"
    p = start(env, origin, "named", listener="    name: edge-test\n", top=debug)
    c.check(wait_log(env, p, "listener edge-test: listening on 127.0.0.1:%d" % p.port),
            "name: the start-up line names the listener")
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.sendall(b"not a TLS ClientHello\r\n\r\n")
    s.recv(100)
    s.close()
    c.check(wait_log(env, p, " on edge-test: TLS handshake failed"),
            "name: a handshake failure names the listener")
    u = start(env, origin, "unnamed", top=debug)
    s = socket.create_connection(("127.0.0.1", u.port), timeout=5)
    s.sendall(b"not a TLS ClientHello\r\n\r\n")
    s.recv(100)
    s.close()
    c.check(wait_log(env, u, " on 127.0.0.1:%d: TLS handshake failed" % u.port),
            "name: an unnamed listener is named by its address")
    env.stop(p)
    env.stop(u)


def tls_client(port, timeout):
    return pl.tls_connect(port, alpn=["http/1.1"], timeout=timeout, handshake=False)


def get(s):
    s.sendall(b"GET /bytes/3 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def check_max_connections(env, origin, c):
    p = start(env, origin, "maxconn", listener="    name: lim1\n    max_connections: 1\n")
    first = tls_client(p.port, 5)
    first.do_handshake()
    c.eq(get(first), b"HTTP/1.1 200 OK", "max_connections: the first connection is served")
    second = tls_client(p.port, 1.0)  # TCP connects: the kernel's backlog
    served = True
    try:
        second.do_handshake()
    except socket.timeout:
        served = False
    c.check(not served, "max_connections 1: a second connection is not served while the first "
            "is open")
    c.check(wait_log(env, p, "listener lim1: max_connections reached"),
            "max_connections: the pause is logged with the listener's name")
    first.close()
    second.settimeout(5)
    try:
        second.do_handshake()
        c.eq(get(second), b"HTTP/1.1 200 OK",
             "max_connections: the waiting connection is served once the first closes")
    except OSError as e:
        c.check(False, "max_connections: the waiting connection after the first closed: %r" % e)
    second.close()
    env.stop(p)


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        check_ciphers(env, origin, c)
        check_name(env, origin, c)
        check_max_connections(env, origin, c)
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
