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
- preserve (raw_backend.py records the exact request bytes): one request
  from an HTTP/1.1 client with odd-case names (x-MiXeD-Case, CONTENT-type)
  reaches an upstream of each mode; lower and title as above, preserve with
  the client's own spelling and Title-Case for what the proxy writes itself
  (Host, X-Forwarded-For, X-Request-Id, Content-Length, Via, a route's set
  field). From an HTTP/2 client, whose names are lowercase on the wire,
  preserve is title byte for byte. A listener with header_case: preserve
  gives an HTTP/1.1 client the response names as the backend spelt them
  (exact response head), with the proxy's own fields in Title-Case.
"""
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import raw_backend  # noqa: E402

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


def field_names(head):
    """The field names of a request head as received (text), in order."""
    return [ln.split(":", 1)[0] for ln in head.split("\r\n")[1:] if ln]


def h1_exchange(port, raw):
    """One request on a fresh HTTP/1.1 (TLS, ALPN http/1.1) connection that
    closes after it: the response head and body as bytes."""
    s = pl.tls_connect(port, alpn=["http/1.1"])
    s.sendall(raw)
    head, _, body = pl.recv_all(s).partition(b"\r\n\r\n")
    return head, body


def preserve(env, c):
    be = raw_backend.RawBackend()
    lport = pl.free_port()
    path = os.path.join(env.dir, "preserve.yaml")
    srv = "{servers: [\"127.0.0.1:%d\"], header_case: %%s}" % be.port
    with open(path, "w") as f:
        f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n    header_case: preserve\n"
                "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                "forwarded: {via: true}\n"
                "upstreams:\n  lo: %s\n  ti: %s\n  pr: %s\n"
                "routes:\n"
                "  - {path_prefix: /lower/, rewrite_prefix: /, upstream: lo}\n"
                "  - {path_prefix: /title/, rewrite_prefix: /, upstream: ti}\n"
                "  - {path_prefix: /preserve/, rewrite_prefix: /, upstream: pr,\n"
                "     request_headers: {set: {x-set: s}}, response_headers: {add: {x-added: a}}}\n"
                "  - {upstream: lo}\n"
                % (lport, env.cert, env.key, srv % "lower", srv % "title", srv % "preserve"))
    p = env.spawn([pl.BIN, "-c", path], "proxy-preserve")
    pl.wait_port(lport, p, 20)
    try:
        rid = "X-Request-Id: r1\r\n"
        odd = ("x-MiXeD-Case: 1\r\nCONTENT-type: text/plain\r\nuser-AGENT: t/1\r\n"
               "X-SET: client\r\nx-forwarded-FOR: 192.0.2.9\r\netag: e\r\n")
        want = {
            "lower": ["host", "x-mixed-case", "content-type", "user-agent", "x-set", "etag",
                      "x-forwarded-for", "x-forwarded-proto", "via", "x-request-id",
                      "content-length"],
            "title": ["Host", "X-Mixed-Case", "Content-Type", "User-Agent", "X-Set", "ETag",
                      "X-Forwarded-For", "X-Forwarded-Proto", "Via", "X-Request-Id",
                      "Content-Length"],
            # the client's X-SET is replaced by the route's set (after the
            # forwarding fields): a rewritten field, Title-Case
            "preserve": ["Host", "x-MiXeD-Case", "CONTENT-type", "user-AGENT", "etag",
                         "X-Forwarded-For", "X-Forwarded-Proto", "Via", "X-Request-Id",
                         "X-Set", "Content-Length"],
        }
        for mode in ("lower", "title", "preserve"):
            raw = ("POST /%s/x HTTP/1.1\r\nhost: localhost\r\n%s%scontent-LENGTH: 2\r\n"
                   "connection: close\r\n\r\nab" % (mode, odd, rid)).encode()
            head, body = h1_exchange(lport, raw)
            if not c.check(head.startswith(b"HTTP/1.1 200"), "h1 %s: served: %r" % (mode, head)):
                continue
            got = field_names(json.loads(body)["head"])
            # the request id is the proxy's own (the client's is not trusted)
            c.eq(got, want[mode], "h1 client, upstream header_case %s: names as received" % mode)
        # Two pipelined requests on one connection: each keeps its own spelling.
        raw = (b"GET /preserve/a HTTP/1.1\r\nHost: localhost\r\nx-ONE: 1\r\n\r\n"
               b"GET /preserve/b HTTP/1.1\r\nhost: localhost\r\nX-one: 2\r\nx-TWO: 2\r\n"
               b"Connection: close\r\n\r\n")
        s = pl.tls_connect(lport, alpn=["http/1.1"])
        s.sendall(raw)
        data = pl.recv_all(s)
        got = []
        while data:
            head, _, rest = data.partition(b"\r\n\r\n")
            n = int([ln.split(b":", 1)[1] for ln in head.split(b"\r\n")
                     if ln.lower().startswith(b"content-length:")][0])
            got.append(field_names(json.loads(rest[:n])["head"]))
            data = rest[n:]
        c.eq([g[:2] for g in got], [["Host", "x-ONE"], ["Host", "X-one"]],
             "pipelined: each request's own spelling")
        c.check(len(got) == 2 and "x-TWO" in got[1], "pipelined: x-TWO in the second: %r" % got)
        # HTTP/2: lowercase on the wire, so preserve is title (and the route's set
        # field, X-Set, Title-Case in both).
        cl = pl.H2Client(lport, timeout=10)
        h2_sent = [("x-mixed-case", "1"), ("content-type", "text/plain"), ("etag", "e")]
        heads = {}
        for mode in ("title", "preserve"):
            r = cl.request("POST", "/%s/x" % mode, headers=h2_sent + [("content-length", "2")],
                           body=b"ab", deadline=10)
            if c.eq(r.status, 200, "h2 %s: served" % mode):
                heads[mode] = json.loads(bytes(r.body))["head"]
        cl.close()
        h2_title = ["Host", "X-Mixed-Case", "Content-Type", "ETag", "X-Forwarded-For",
                    "X-Forwarded-Proto", "Via", "X-Request-Id", "Content-Length"]
        if "title" in heads:
            c.eq(field_names(heads["title"]), h2_title, "h2 client, upstream title: names")
        if "preserve" in heads:
            c.eq(field_names(heads["preserve"]),
                 h2_title[:8] + ["X-Set"] + h2_title[8:],
                 "h2 client, upstream preserve: title case, X-Forwarded-For included")
        # Responses to an HTTP/1.1 client of the preserve listener: the
        # backend's spelling, exactly; Content-Length, Connection and the
        # route's added field are the proxy's (Title-Case).
        respond = "x-BACKEND-Thing: 1|eTaG: \"1\"|WWW-authenticate: Basic|cache-control: no-store"
        raw = ("GET /preserve/respond HTTP/1.1\r\nHost: localhost\r\nX-Respond: %s\r\n"
               "Connection: close\r\n\r\n" % respond).encode()
        head, body = h1_exchange(lport, raw)
        c.eq(head, b"HTTP/1.1 200 OK\r\nx-BACKEND-Thing: 1\r\neTaG: \"1\"\r\n"
                   b"WWW-authenticate: Basic\r\ncache-control: no-store\r\nX-Added: a\r\n"
                   b"Content-Length: 2\r\nConnection: close",
             "preserve listener: the exact response head to an HTTP/1.1 client")
        c.eq(body, b"ok", "preserve listener: the body")
        # The same response to an HTTP/2 client: names lowercase, as h2 wants.
        cl = pl.H2Client(lport, timeout=10)
        r = cl.request("GET", "/preserve/respond", headers=[("x-respond", respond)], deadline=10)
        names = [k for k, _ in r.headers]
        c.check(all(n == n.lower() for n in names) and "x-backend-thing" in names,
                "preserve listener: an HTTP/2 client gets lowercase names: %r" % names)
        cl.close()
    finally:
        env.stop(p)
        be.stop()


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
        env.stop(p)
        preserve(env, c)
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
