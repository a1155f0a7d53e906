"""e2e (issue 7): every way in. HTTP/1.1 over TLS (ALPN http/1.1) and over
cleartext, h2 prior knowledge and Upgrade: h2c on the cleartext listener,
with curl, nghttp and python3-h2: the request kinds of the proxy runtime
(sizes, chunked, uploads with Content-Length and chunked, HEAD, 204, 404,
100-continue), bytes exact; 100 pipelined HTTP/1.1 requests answered in
order; request limits answered 400/414/431. Every wait is bounded; only the
processes started here are stopped.
"""
import hashlib
import os
import random
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()


def spawn_proxy(backends, tls, name, extra=()):
    port = pl.free_port()
    argv = [pl.BIN, "--listen", "127.0.0.1:%d" % port]
    if tls:
        argv += ["--cert", env.cert, "--key", env.key]
    for b in backends:
        argv += ["--backend", "127.0.0.1:%d" % b]
    p = env.spawn(argv + list(extra), name)
    pl.wait_port(port, p, timeout=20)
    p.port = port
    return p


def run(argv, timeout=60, data=None):
    r = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def md5(b):
    return hashlib.md5(b).hexdigest()


UP = os.urandom(1 << 20)
up_path = os.path.join(env.dir, "up.bin")
with open(up_path, "wb") as f:
    f.write(UP)


def curl_kinds(tag, base, opts):
    """The request kinds through curl with opts on base (scheme://host:port)."""
    c = ["curl", "-sS", "-k", "--max-time", "30"] + opts
    for n in (0, 1, 16384, 300000):
        rc, out, err = run(c + [base + "/bytes/%d" % n])
        ck.check(rc == 0 and out == pl.pattern(n), "%s GET /bytes/%d (rc %d, %d bytes) %s"
                 % (tag, n, rc, len(out), err[-200:]))
    rc, out, err = run(c + [base + "/chunked/70000"])
    ck.check(rc == 0 and out == pl.pattern(70000), "%s GET /chunked/70000 %s" % (tag, err[-200:]))
    rc, out, err = run(c + ["--data-binary", "@" + up_path, base + "/echo"])
    ck.check(rc == 0 and md5(out) == md5(UP), "%s POST /echo 1 MiB (%d bytes) %s"
             % (tag, len(out), err[-200:]))
    rc, out, err = run(c + ["-o", "/dev/null", "-w", "%{http_code}", "-I", base + "/bytes/5"])
    ck.eq(out, b"200", "%s HEAD status" % tag)
    for code in (204, 404):
        rc, out, err = run(c + ["-o", "/dev/null", "-w", "%{http_code}",
                                base + "/status/%d" % code])
        ck.eq(out, str(code).encode(), "%s /status/%d" % (tag, code))


def curl_h1_only(tag, base, opts):
    c = ["curl", "-sS", "-k", "--max-time", "30"] + opts
    rc, out, err = run(c + ["-H", "Transfer-Encoding: chunked", "--data-binary", "@" + up_path,
                            base + "/echo"])
    ck.check(rc == 0 and md5(out) == md5(UP), "%s chunked POST /echo (%d bytes) %s"
             % (tag, len(out), err[-200:]))
    rc, out, err = run(c + ["-H", "Expect: 100-continue", "--data-binary", "@" + up_path,
                            base + "/echo"])
    ck.check(rc == 0 and md5(out) == md5(UP), "%s Expect: 100-continue POST /echo %s"
             % (tag, err[-200:]))


def recv_until(s, pred, limit=30.0):
    s.settimeout(limit)
    data = b""
    while not pred(data):
        d = s.recv(65536)
        if not d:
            break
        data += d
    return data


def raw_h1(port):
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def pipelined(port, split=False):
    s = raw_h1(port)
    reqs = b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % (i + 1)
                    for i in range(100))
    if split:  # arbitrary segment boundaries, including inside heads
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rnd = random.Random(7)
        i = 0
        while i < len(reqs):
            n = rnd.randint(1, 40)
            s.sendall(reqs[i:i + n])
            i += n
            if rnd.random() < 0.05:
                time.sleep(0.002)
    else:
        s.sendall(reqs)
    want = b"".join(pl.pattern(i + 1) for i in range(100))
    data = recv_until(s, lambda d: d.count(b"HTTP/1.1 200 OK") >= 100 and d.endswith(pl.pattern(100)))
    s.close()
    bodies = []
    rest = data
    for i in range(100):
        head, sep, rest = rest.partition(b"\r\n\r\n")
        cl = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        if not sep or cl != [i + 1]:
            break
        bodies.append(rest[:i + 1])
        rest = rest[i + 1:]
    ck.eq(len(bodies), 100, "pipelined (split %s): responses in order" % split)
    ck.check(b"".join(bodies) == want and rest == b"", "pipelined (split %s): bodies exact" % split)


def expect_100(port):
    s = raw_h1(port)
    body = pl.pattern(5000)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n"
              b"Expect: 100-continue\r\n\r\n")
    first = recv_until(s, lambda d: b"\r\n\r\n" in d, 10)
    ck.check(first.startswith(b"HTTP/1.1 100 Continue\r\n"), "100 Continue before the body: %r"
             % first[:40])
    s.sendall(body)
    data = first + recv_until(s, lambda d: (first + d).endswith(body), 10)
    ck.check(b"HTTP/1.1 200 OK" in data and data.endswith(body), "100-continue: echo")
    s.close()


def limits(port):
    cases = [
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200))
         + b"\r\n", b"431"),
        (b"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"zz\r\n", b"400"),
    ]
    for req, status in cases:
        s = raw_h1(port)
        try:
            s.sendall(req)
        except OSError:
            pass
        data = recv_until(s, lambda d: b"\r\n\r\n" in d, 10)
        ck.check(data.startswith(b"HTTP/1.1 " + status) and b"connection: close" in data.lower(),
                 "limit answer %s: got %r" % (status.decode(), data[:60]))
        s.close()


class ClearH2(pl.H2Client):
    """python3-h2 with prior knowledge over cleartext."""

    def __init__(self, port):
        self.setup(socket.create_connection(("127.0.0.1", port), timeout=30))


def python_h2(port):
    c = ClearH2(port)
    sids = [c.start("GET", "/bytes/%d" % n) for n in (0, 1, 100000)]
    sids.append(c.start("POST", "/echo", body=UP))
    sids.append(c.start("GET", "/chunked/70000"))
    rs = c.wait(sids, 60)
    for r, n in zip(rs[:3], (0, 1, 100000)):
        ck.check(r.status == 200 and bytes(r.body) == pl.pattern(n), "python-h2 /bytes/%d" % n)
    ck.check(rs[3].status == 200 and md5(bytes(rs[3].body)) == md5(UP), "python-h2 POST /echo")
    ck.check(rs[4].status == 200 and bytes(rs[4].body) == pl.pattern(70000), "python-h2 chunked")
    c.close()


def upgrade_checks(port, base):
    rc, out, err = run(["curl", "-sS", "--max-time", "10", "--http2", "-o", "/dev/null", "-w",
                        "%{http_version}", base + "/bytes/10"])
    ck.eq(out, b"2", "curl --http2 on http:// upgraded to h2c")
    # Refused cleanly, answered as plain HTTP/1.1: malformed HTTP2-Settings,
    # and a request with a body (it cannot become stream 1 half-closed).
    bad = [(b"GET /bytes/7 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: ***\r\n\r\n", pl.pattern(7)),
           (b"GET /bytes/7 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQ\r\n\r\n", pl.pattern(7)),
           (b"POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 5\r\n\r\nhello",
            b"hello")]
    for req, body in bad:
        s = raw_h1(port)
        s.sendall(req)
        data = recv_until(s, lambda d: d.endswith(body), 10)
        ck.check(data.startswith(b"HTTP/1.1 200 OK") and data.endswith(body),
                 "refused upgrade served as HTTP/1.1: %r" % data[:40])
        s.close()


def nghttp(tag, base, opts):
    rc, out, err = run(["nghttp", "-t", "30"] + opts + [base + "/bytes/300000"])
    ck.check(rc == 0 and out == pl.pattern(300000), "%s GET /bytes/300000 (rc %d, %d bytes) %s"
             % (tag, rc, len(out), err[-200:]))
    rc, out, err = run(["nghttp", "-t", "30", "-d", up_path] + opts + [base + "/echo"])
    ck.check(rc == 0 and md5(out) == md5(UP), "%s POST /echo %s" % (tag, err[-200:]))


try:
    o = env.origin("o1")
    tls = spawn_proxy([o.port], True, "proxy-tls")
    clear = spawn_proxy([o.port], False, "proxy-clear")
    https = "https://127.0.0.1:%d" % tls.port
    http = "http://127.0.0.1:%d" % clear.port

    curl_kinds("curl --http1.1 TLS", https, ["--http1.1"])
    curl_h1_only("curl --http1.1 TLS", https, ["--http1.1"])
    curl_kinds("curl --http1.1 cleartext", http, ["--http1.1"])
    curl_h1_only("curl --http1.1 cleartext", http, ["--http1.1"])
    curl_kinds("curl --http2-prior-knowledge", http, ["--http2-prior-knowledge"])
    curl_kinds("curl --http2 (Upgrade)", http, ["--http2"])
    nghttp("nghttp prior knowledge", http, [])
    nghttp("nghttp -u", http, ["-u"])
    python_h2(clear.port)
    upgrade_checks(clear.port, http)

    # TLS without ALPN is HTTP/1.1 (RFC 7301 §3.2).
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls.port), timeout=10),
                        server_hostname="localhost")
    s.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = recv_until(s, lambda d: d.endswith(pl.pattern(10)), 10)
    ck.check(data.startswith(b"HTTP/1.1 200 OK"), "TLS without ALPN: HTTP/1.1")
    s.close()

    for offer, want in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(offer)
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls.port), timeout=10),
                            server_hostname="localhost")
        ck.eq(s.selected_alpn_protocol(), want, "ALPN for %s" % offer)
        s.close()

    pipelined(clear.port)
    pipelined(clear.port, split=True)
    expect_100(clear.port)
    limits(clear.port)
    rc, out, err = run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                        "-H", "X-Forwarded-Proto: evil", http + "/inspect"])
    ck.eq(out, b"200", "inspect")
    rc, out, err = run(["curl", "-sS", "--max-time", "10", http + "/inspect"])
    ck.check(b'["x-forwarded-proto","http"]' in out, "X-Forwarded-Proto http on cleartext")
    for p in (tls, clear):
        ck.check(p.poll() is None, "proxy still running")
        env.stop(p)
        ck.eq(p.returncode, 0, "proxy exit status after SIGTERM")
finally:
    env.close(keep=ck.failed > 0)
    if ck.failed:
        print("logs kept in", env.dir)
ck.finish()
