"""e2e: PROXY protocol in front of client connections
(listeners[].proxy_protocol).

- From a configured balancer network (here 127.0.0.1): a v1 line, a v2
  header with TLVs (IPv6 source), and a v2 LOCAL, each followed by TLS and
  h2: the backend's X-Forwarded-For names the address the header carried
  (LOCAL: the socket's). A v1 line written in pieces works, and while it is
  incomplete the proxy uses no CPU.
- From that network without a header, with a malformed one, or with one
  left half way: closed, with a log line naming why (the last at
  limits.handshake_timeout).
- On a listener whose balancer network does not include the client: a
  header is refused (log line); a plain TLS client is served.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(src6, dst6, sport, dport, tlvs=b"", local=False):
    if local:
        return V2_SIG + bytes([0x20, 0x00, 0, 0])
    body = (socket.inet_pton(socket.AF_INET6, src6) + socket.inet_pton(socket.AF_INET6, dst6) +
            sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + tlvs)
    return V2_SIG + bytes([0x21, 0x21]) + len(body).to_bytes(2, "big") + body


def tlv(t, v):
    return bytes([t]) + len(v).to_bytes(2, "big") + v


class PPClient(pl.H2Client):
    """H2Client whose TCP connection starts with a PROXY protocol header."""

    def __init__(self, port, header, pieces=1, pause=0.0):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        step = max(1, len(header) // pieces)
        for i in range(0, len(header), step):
            raw.sendall(header[i:i + step])
            time.sleep(pause)
        sock = pl.tls_context(["h2"]).wrap_socket(raw, server_hostname="localhost")
        assert sock.selected_alpn_protocol() == "h2"
        self.setup(sock)


def xff(cl):
    r = cl.request("GET", "/inspect", deadline=10)
    assert r.status == 200, r.status
    hs = json.loads(bytes(r.body))["headers"]
    return [v for k, v in hs if k.lower() == "x-forwarded-for"]


def closed(s, limit=5.0):
    s.settimeout(limit)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False


def trusted(env, p, c):
    cl = PPClient(p.port, b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n")
    c.eq(xff(cl), ["203.0.113.7"], "v1 TCP4: the backend sees the client's address")
    cl.close()
    hdr = v2("2001:db8::7", "2001:db8::1", 1234, 443, tlv(0x01, b"h2") + tlv(0x02, b"localhost"))
    cl = PPClient(p.port, hdr)
    c.eq(xff(cl), ["2001:db8::7"], "v2 TCP6 with TLVs: the backend sees the client's address")
    cl.close()
    cl = PPClient(p.port, v2(None, None, 0, 0, local=True))
    c.eq(xff(cl), ["127.0.0.1"], "v2 LOCAL: the socket's address")
    cl.close()
    before = pl.cpu_seconds(p.pid)
    cl = PPClient(p.port, b"PROXY TCP4 198.51.100.9 10.0.0.1 1 443\r\n", pieces=4, pause=0.15)
    used = pl.cpu_seconds(p.pid) - before
    c.eq(xff(cl), ["198.51.100.9"], "v1 in 4 pieces, 0.15 s apart")
    c.check(used < 0.3, "no CPU while the header was incomplete: %.2f s" % used)
    cl.close()


def refused(env, p, c):
    try:
        s = pl.tls_connect(p.port, alpn=["h2"], timeout=5)
        ok = False
        s.close()
    except (OSError, ValueError):
        ok = True
    c.check(ok, "no header from a balancer network: the TLS handshake does not happen")
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.sendall(b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 443\r\n")
    c.check(closed(s), "a malformed v1 line: closed")
    s.close()
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.sendall(b"PROXY TCP4 1.2.3.4")
    t0 = time.time()
    c.check(closed(s, 5), "a header left half way: closed")
    c.check(time.time() - t0 < 3, "at limits.handshake_timeout (1 s)")
    s.close()
    time.sleep(0.2)
    log = env.log(p)
    for want in ("bad PROXY protocol header from a balancer: not a PROXY protocol header",
                 "bad PROXY protocol header from a balancer: v1 port not a number 0..65535",
                 "PROXY protocol header timed out"):
        c.check(want in log, "logged: %s" % want)


def untrusted(env, p, c):
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.sendall(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n")
    c.check(closed(s), "a header from outside the balancer networks: closed")
    s.close()
    cl = pl.H2Client(p.port, timeout=10)
    c.eq(xff(cl), ["127.0.0.1"], "a plain client on that listener is served")
    cl.close()
    time.sleep(0.2)
    c.check("PROXY protocol header from outside listeners[].proxy_protocol, closed"
            in env.log(p), "logged: header from outside")


def start(env, origin, nets):
    port = pl.free_port()
    path = os.path.join(env.dir, "pp-%d.yaml" % port)
    with open(path, "w") as f:
        f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n    proxy_protocol: %s\n"
                "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                "routes: [{upstream: app}]\n"
                "limits: {handshake_timeout: 1s}\nlogging: {level: debug}\n"
                % (port, nets, env.cert, env.key, origin.port))
    p = env.spawn([pl.BIN, "-c", path], "proxy-%d" % port)
    pl.wait_port(port, p)
    p.port = port
    return p


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = start(env, origin, "[127.0.0.1/32]")
        trusted(env, p, c)
        refused(env, p, c)
        q = start(env, origin, "[10.0.0.0/8]")
        untrusted(env, q, c)
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
