"""e2e: PROXY protocol sent to backends (upstreams.*.proxy_protocol v1|v2).

The backends are tests/e2e/raw_backend.py servers, which parse every
connection's PROXY header exactly (v1 line, v2 binary with its TLVs) and
answer HTTP/1.1 keep-alive with what they parsed.

- h1 (TLS, ALPN http/1.1) and h2 clients: the v1 line and the v2 header
  name the client's own address and port and the proxy's listening
  address; v2 carries PP2_TYPE_ALPN (the client's protocol),
  PP2_TYPE_AUTHORITY (SNI) and PP2_TYPE_SSL (client bits, verify, the TLS
  version and cipher sub-TLVs).
- Two clients, requests interleaved: each backend connection carries one
  client's header and serves only that client (connections are reused
  within a client: fewer connections than requests).
- A client connection that closes: its backend connections close.
- Behind a trusted L4 balancer (listeners[].proxy_protocol): the address
  the balancer's header carried is what is sent on.
- A client certificate (listeners[].tls.client_auth: optional, a CA made
  with openssl here): PP2_TYPE_SSL says PP2_CLIENT_SSL|CERT_CONN|CERT_SESS,
  verify 0 and carries the certificate's CN; without one, on the same
  listener, PP2_CLIENT_SSL alone and verify non-zero.
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
from raw_backend import RawBackend  # noqa: E402


class H1:
    """A keep-alive HTTP/1.1 client over TLS (ALPN http/1.1)."""

    def __init__(self, port, pre=b"", cert=None):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        if pre:
            raw.sendall(pre)
        self.local = raw.getsockname()
        ctx = pl.tls_context(["http/1.1"])
        if cert:
            ctx.load_cert_chain(*cert)
        self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        assert self.s.selected_alpn_protocol() == "http/1.1"
        self.buf = b""

    def get(self, path):
        self.s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path.encode())
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(rest) < n:
            rest += self.s.recv(65536)
        self.buf = rest[n:]
        assert head.startswith(b"HTTP/1.1 200"), head
        return json.loads(rest[:n])

    def close(self):
        self.s.close()


def h2get(cl, path):
    r = cl.request("GET", path, deadline=10)
    assert r.status == 200, r.status
    return json.loads(bytes(r.body))


def wait(cond, limit=5.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def make_client_pki(d):
    """A CA and a client certificate it signed (CN "pp client")."""
    def sh(*argv):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-days", "2", "-subj", "/CN=pp CA", "-keyout", p("ppca.key"),
       "-out", p("ppca.pem"))
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-subj", "/O=Test/CN=pp client", "-keyout", p("ppcl.key"), "-out", p("ppcl.csr"))
    sh("openssl", "x509", "-req", "-in", p("ppcl.csr"), "-CA", p("ppca.pem"), "-CAkey",
       p("ppca.key"), "-CAcreateserial", "-days", "2", "-out", p("ppcl.pem"))
    return p("ppca.pem"), (p("ppcl.pem"), p("ppcl.key"))


def start(env, b1, b2, balancer_port, mtls_port, ca):
    port = pl.free_port()
    path = os.path.join(env.dir, "pp-out.yaml")
    with open(path, "w") as f:
        f.write("listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    proxy_protocol: [127.0.0.1/32]\n"
                "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls: {certificates: [{cert: %s, key: %s}], client_auth: optional,"
                " client_ca: %s}\n"
                "upstreams:\n"
                "  one: {servers: [\"127.0.0.1:%d\"], proxy_protocol: v1}\n"
                "  two: {servers: [\"127.0.0.1:%d\"], proxy_protocol: v2}\n"
                "routes:\n"
                "  - {path_prefix: /v1/, upstream: one}\n"
                "  - {upstream: two}\n"
                "logging: {level: debug}\n"
                % (port, env.cert, env.key, balancer_port, env.cert, env.key,
                   mtls_port, env.cert, env.key, ca, b1.port, b2.port))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p)
    pl.wait_port(balancer_port, p)
    pl.wait_port(mtls_port, p)
    p.port = port
    return p


def check_ssl_tlv(c, t, what):
    s = t.get("ssl")
    c.check(s is not None, "%s: PP2_TYPE_SSL present" % what)
    if not s:
        return
    c.eq(s["client"], 0x01, "%s: PP2_CLIENT_SSL, no client certificate" % what)
    c.check(s["verify"] != 0, "%s: verify non-zero (no certificate verified)" % what)
    c.check(s["sub"].get("version", "").startswith("TLSv1."), "%s: version %r" % (what, s["sub"]))
    c.check(s["sub"].get("cipher", "").startswith("TLS_"), "%s: cipher %r" % (what, s["sub"]))


def addresses(c, p, client, port):
    h = H1(port)
    cport = h.local[1]
    r = h.get("/v1/a")
    c.eq(r["pp"], {"version": 1, "command": "PROXY", "family": "TCP4", "src": "127.0.0.1",
                   "dst": "127.0.0.1", "sport": cport, "dport": port}, "h1 → v1 line")
    r = h.get("/b")
    pp = r["pp"]
    c.eq((pp["version"], pp["command"], pp["family"], pp["src"], pp["sport"], pp["dst"],
          pp["dport"]), (2, "PROXY", "TCP4", "127.0.0.1", cport, "127.0.0.1", port),
         "h1 → v2 addresses")
    c.eq(pp["tlvs"].get("alpn"), "http/1.1", "h1 → v2 ALPN")
    c.eq(pp["tlvs"].get("authority"), "localhost", "h1 → v2 authority (SNI)")
    check_ssl_tlv(c, pp["tlvs"], "h1")
    h.close()
    cl = pl.H2Client(port, timeout=10)
    cport = cl.sock.getsockname()[1]
    r = h2get(cl, "/v1/a")
    c.eq((r["pp"]["src"], r["pp"]["sport"], r["pp"]["dport"]), ("127.0.0.1", cport, port),
         "h2 → v1 client address and port")
    pp = h2get(cl, "/b")["pp"]
    c.eq((pp["src"], pp["sport"], pp["dport"]), ("127.0.0.1", cport, port),
         "h2 → v2 client address and port")
    c.eq(pp["tlvs"].get("alpn"), "h2", "h2 → v2 ALPN")
    check_ssl_tlv(c, pp["tlvs"], "h2")
    cl.close()


def per_client(c, b2, port):
    before = len(b2.conns)
    a, b = H1(port), H1(port)
    ports = {a.local[1]: "a", b.local[1]: "b"}
    seen = {}
    for i in range(4):
        for name, h in (("a", a), ("b", b)):
            r = h.get("/p%d" % i)
            seen.setdefault(r["conn"], set()).add(name)
            c.eq(ports.get(r["pp"]["sport"]), name, "request %d of %s: its own header" % (i, name))
    new = b2.conns[before:]
    c.eq(len(new), 2, "8 requests of 2 clients: 2 backend connections (one each, reused)")
    c.check(all(len(v) == 1 for v in seen.values()), "no connection served both: %r" % seen)
    c.eq(sum(len(x["requests"]) for x in new), 8, "the backend counted 8 requests")
    a.close()
    c.check(wait(lambda: all(x["closed"] for x in new if ports[x["pp"]["sport"]] == "a")),
            "client a closed: its backend connection closed")
    c.check(not any(x["closed"] for x in new if ports[x["pp"]["sport"]] == "b"),
            "client b's connection stays open")
    b.get("/again")
    b.close()
    c.check(wait(lambda: all(x["closed"] for x in new)), "client b closed: its connection too")


def h2_concurrent(c, b2, port):
    """Concurrent h2 streams of one client may open several connections,
    each with that client's header; another client gets none of them."""
    before = len(b2.conns)
    x = pl.H2Client(port, timeout=10)
    y = pl.H2Client(port, timeout=10)
    xs = [x.start("GET", "/c%d" % i) for i in range(6)]
    ys = [y.start("GET", "/d%d" % i) for i in range(6)]
    x.flush()
    y.flush()
    x.wait(xs, 10)
    y.wait(ys, 10)
    bx = {json.loads(bytes(x.streams[s].body))["conn"] for s in xs}
    by = {json.loads(bytes(y.streams[s].body))["conn"] for s in ys}
    c.check(not (bx & by), "h2: no backend connection shared by two clients (%r %r)" % (bx, by))
    xp, yp = x.sock.getsockname()[1], y.sock.getsockname()[1]
    for rec in b2.conns[before:]:
        c.check(rec["pp"]["sport"] in (xp, yp), "h2 connection %d names one of them" % rec["id"])
    x.close()
    y.close()
    c.check(wait(lambda: all(r["closed"] for r in b2.conns[before:])),
            "both h2 clients closed: every backend connection of theirs closed")


def balancer(c, bport):
    h = H1(bport, pre=b"PROXY TCP4 203.0.113.7 198.51.100.1 5555 443\r\n")
    r = h.get("/v1/x")
    c.eq(r["pp"], {"version": 1, "command": "PROXY", "family": "TCP4", "src": "203.0.113.7",
                   "dst": "198.51.100.1", "sport": 5555, "dport": 443},
         "behind a balancer: v1 sends on the balancer's addresses")
    pp = h.get("/y")["pp"]
    c.eq((pp["src"], pp["sport"], pp["dst"], pp["dport"]),
         ("203.0.113.7", 5555, "198.51.100.1", 443), "behind a balancer: v2 too")
    h.close()


def client_cert(c, mport, cert):
    h = H1(mport, cert=cert)
    s = h.get("/m")["pp"]["tlvs"].get("ssl")
    c.check(s is not None, "mTLS: PP2_TYPE_SSL present")
    if s:
        c.eq(s["client"], 0x07, "mTLS: PP2_CLIENT_SSL | CERT_CONN | CERT_SESS")
        c.eq(s["verify"], 0, "mTLS: verify 0 (a certificate presented and verified)")
        c.eq(s["sub"].get("cn"), "pp client", "mTLS: the certificate's CN sub-TLV")
    h.close()
    h = H1(mport)
    s = h.get("/n")["pp"]["tlvs"].get("ssl")
    c.check(s is not None and s["client"] == 0x01 and s["verify"] != 0 and "cn" not in s["sub"],
            "optional client_auth, no certificate: PP2_CLIENT_SSL alone, no CN: %r" % (s,))
    h.close()


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    b1, b2 = RawBackend(pp=True), RawBackend(pp=True)
    try:
        bport, mport = pl.free_port(), pl.free_port()
        ca, cert = make_client_pki(env.dir)
        p = start(env, b1, b2, bport, mport, ca)
        addresses(c, p, None, p.port)
        per_client(c, b2, p.port)
        h2_concurrent(c, b2, p.port)
        balancer(c, bport)
        client_cert(c, mport, cert)
        c.eq(b1.errors + b2.errors, [], "every PROXY header parsed")
    except (AssertionError, OSError, ssl.SSLError, KeyError, TypeError) as e:
        import traceback
        traceback.print_exc()
        c.check(False, "exception: %r; backend errors %r" % (e, b1.errors + b2.errors))
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
        b1.stop()
        b2.stop()
    c.finish()


if __name__ == "__main__":
    main()
