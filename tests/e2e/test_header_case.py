"""e2e: header name case for legacy software (upstreams.*.header_case and
listeners[].header_case), checked on the exact bytes.

A raw backend (a socket in this test) records the request head it gets and
answers with lowercase names.
- lower (default): the backend gets names as HTTP/2 has them, lowercase.
- title: the backend gets Title-Case names, with the usual exceptions
  (DNT, ETag, Content-MD5, WWW-Authenticate, X-XSS-Protection), Host and
  the proxy's own fields (X-Forwarded-For, X-Request-Id, Content-Length)
  included.
- A listener with header_case: title writes its responses to HTTP/1.1
  clients in Title-Case (ETag, WWW-Authenticate, Content-Length).
"""
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

RESP = (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\netag: \"1\"\r\nx-some-thing: a\r\n"
        b"www-authenticate: Basic\r\n\r\nok")


class RawBackend:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.heads = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                self.heads.append(head)
                c.sendall(RESP)
        except OSError:
            pass
        finally:
            c.close()


def names(head):
    return [ln.split(b":", 1)[0].decode() for ln in head.split(b"\r\n")[1:]]


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        be = RawBackend()
        sent = [("x-my-header", "1"), ("dnt", "1"), ("content-md5", "x"), ("x-xss-protection", "0")]
        p = env.proxy([be.port])
        cl = pl.H2Client(p.port, timeout=10)
        c.eq(cl.request("GET", "/", headers=sent, deadline=10).status, 200, "lower: served")
        got = names(be.heads[-1])
        c.check(all(n == n.lower() for n in got), "lower: every name lowercase: %r" % got)
        cl.close()
        env.stop(p)
        path = os.path.join(env.dir, "title.yaml")
        lport = pl.free_port()
        with open(path, "w") as f:
            f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n    header_case: title\n"
                    "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                    "upstreams: {app: {servers: [\"127.0.0.1:%d\"], header_case: title}}\n"
                    "routes: [{upstream: app}]\n" % (lport, env.cert, env.key, be.port))
        p = env.spawn([pl.BIN, "-c", path], "proxy-title")
        pl.wait_port(lport, p, 20)
        cl = pl.H2Client(lport, timeout=10)
        c.eq(cl.request("POST", "/", headers=sent + [("content-length", "3")], body=b"abc",
                        deadline=10).status, 200,
             "title: served")
        got = names(be.heads[-1])
        for want in ("Host", "X-My-Header", "DNT", "Content-MD5", "X-XSS-Protection",
                     "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-Id", "Content-Length"):
            c.check(want in got, "title: the backend gets %s: %r" % (want, got))
        cl.close()
        s = pl.tls_connect(lport, alpn=["http/1.1"])
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        head = pl.recv_all(s).split(b"\r\n\r\n", 1)[0]
        got = names(head)
        for want in ("ETag", "WWW-Authenticate", "X-Some-Thing", "Content-Length", "Connection"):
            c.check(want in got, "title listener: the HTTP/1.1 client gets %s: %r" % (want, got))
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
