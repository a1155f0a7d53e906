"""e2e: HTTP/2 server push from Link preloads (routes[].push, docs/push.md).

A Python HTTP/1.1 backend records every request it gets (path and
fields) and answers pages whose 200 carries Link values. Through h2bridge:
- /p/page.html names three preloads to push (absolute, relative,
  scheme://authority form), and a nopush preload, a stylesheet, another
  origin and a dot-segment path that are not pushed: a python3-h2 client
  gets exactly three PUSH_PROMISEs on the page's stream, each pushed
  response is the backend's, and the backend saw each pushed request with
  the client's accept-encoding, accept-language and user-agent and no cookie;
- max_per_response 8 and max_per_connection 12 hold (the rest counted as
  limited); a target promised once on a connection is not promised again;
- forward_cookies: the pushed request carries the client's cookie crumbs
  joined with "; ";
- the client's RST_STREAM(CANCEL) of a promised stream closes its backend
  connection while the backend is still sending;
- no push to a client with SETTINGS_ENABLE_PUSH=0, on a route without
  push, or to an HTTP/1.1 client;
- nghttp (which accepts push) receives the promises;
- h2bridge_http2_pushes_total counts promised, limited and cancelled, and
  the access log names each pushed request's parent stream (pushed_by)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

import h2.errors  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402

PAGE_LINKS = ("</p/a.css>; rel=preload; as=style, <b.js>; rel=preload; as=script, "
              "<https://localhost/p/img.png>; rel=preload; as=image, "
              "</p/nopush.css>; rel=preload; nopush, </p/style.css>; rel=stylesheet, "
              "<https://other.test/x.js>; rel=preload, </p/../secret>; rel=preload")
PAGE_PUSHES = ["/p/a.css", "/p/b.js", "/p/img.png"]


class Backend:
    """HTTP/1.1 keep-alive backend: records (path, fields) of every request."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(128)
        self.port = self.ls.getsockname()[1]
        self.lock = threading.Lock()
        self.seen = []  # (path, {lowercase name: value})
        self.slow_closed = threading.Event()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def requests_for(self, path):
        with self.lock:
            return [f for p, f in self.seen if p == path]

    def paths(self):
        with self.lock:
            return [p for p, _ in self.seen]

    def links_for(self, path):
        if path == "/p/page.html" or path == "/n/page.html":
            return PAGE_LINKS.replace("/p/", path[:3])
        if path == "/p/many.html":
            return ", ".join("</p/m%d.css>; rel=preload; as=style" % i for i in range(12))
        if path == "/p/more.html":
            return ", ".join("</p/m%d.css>; rel=preload; as=style" % i for i in range(20, 23))
        if path == "/p/slow.html":
            return "</p/slow.bin>; rel=preload; as=fetch"
        if path == "/c/page.html":
            return "</c/x.css>; rel=preload; as=style"
        return None

    def serve(self, s):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                fields = {}
                for ln in lines[1:]:
                    k, v = ln.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
                with self.lock:
                    self.seen.append((path, fields))
                if path == "/p/slow.bin":
                    self.slow(s)
                    return
                body = ("body of %s" % path).encode()
                link = self.links_for(path)
                extra = "Link: %s\r\n" % link if link else ""
                s.sendall(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                           "Content-Length: %d\r\n%s\r\n" % (len(body), extra)).encode() + body)
        except OSError:
            pass
        finally:
            s.close()

    def slow(self, s):
        """A large body sent slowly: the proxy must close this connection
        once the client cancels the push."""
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        end = time.time() + 15
        try:
            while time.time() < end:
                s.sendall(b"x" * 1024)
                time.sleep(0.05)
        except OSError:
            self.slow_closed.set()

    def close(self):
        self.ls.close()


class PushClient(pl.H2Client):
    """Records PUSH_PROMISEs: promised stream → (parent stream, :path)."""

    cancel_pushes = False

    def setup(self, sock, window=None):
        super().setup(sock, window)
        self.promises = {}

    def handle(self, ev):
        if isinstance(ev, h2.events.PushedStreamReceived):
            hdrs = {k.decode(): v.decode() for k, v in ev.headers}
            self.promises[ev.pushed_stream_id] = (ev.parent_stream_id, hdrs[":path"], hdrs)
            self.streams[ev.pushed_stream_id] = pl.Response()
            if self.cancel_pushes:
                self.conn.reset_stream(ev.pushed_stream_id, h2.errors.ErrorCodes.CANCEL)
                self.streams[ev.pushed_stream_id].done = True
            return
        super().handle(ev)

    def get(self, path, headers=()):
        """GET path; waits for it and for every push it brought. Returns
        (response, {pushed path: response})."""
        sid = self.start("GET", path, headers)
        self.wait([sid], deadline=30.0)
        # The promises come before the page's head: all are known now.
        mine = [p for p, (parent, _, _) in self.promises.items() if parent == sid]
        self.wait(mine, deadline=30.0)
        return self.streams[sid], {self.promises[p][1]: self.streams[p] for p in mine}


class NoPushClient(PushClient):
    def setup(self, sock, window=None):
        super().setup(sock, window)
        self.conn.update_settings({h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.flush()


def metric(admin, name, **labels):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all('%s="%s"' % (k, v) in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    pl.require_binaries()
    env = pl.Env()
    ck = pl.Checker()
    be = Backend()
    try:
        port, admin = pl.free_port(), pl.free_port()
        alog = os.path.join(env.dir, "access.log")
        yaml = ("workers: 1\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    name: web\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "admin: {address: 127.0.0.1, port: %d}\n"
                "logging: {access_log: %s, access_log_format: json, access_log_flush: 100ms}\n"
                "upstreams:\n"
                "  app: {servers: [\"127.0.0.1:%d\"]}\n"
                "routes:\n"
                "  - path_prefix: /p/\n"
                "    upstream: app\n"
                "    push: {enabled: true, max_per_response: 8, max_per_connection: 12}\n"
                "  - path_prefix: /c/\n"
                "    upstream: app\n"
                "    push: {enabled: true, forward_cookies: true}\n"
                "  - {upstream: app}\n"
                % (port, env.cert, env.key, admin, alog, be.port))
        path = os.path.join(env.dir, "push.yaml")
        with open(path, "w") as f:
            f.write(yaml)
        proxy = env.spawn([pl.BIN, "-c", path], "proxy")
        pl.wait_port(port, proxy, timeout=20)

        ua = [("user-agent", "push-test/1"), ("accept-encoding", "gzip, br"),
              ("accept-language", "fr"), ("cookie", "secret=1")]
        c = PushClient(port)
        page, pushed = c.get("/p/page.html", ua)
        ck.eq(page.status, 200, "GET /p/page.html")
        ck.eq(sorted(pushed), PAGE_PUSHES,
              "pushed: the three same-origin preloads (absolute, relative, https://localhost); "
              "not nopush, a stylesheet, another origin or a dot segment")
        for p, r in sorted(pushed.items()):
            ck.eq((r.status, r.body), (200, ("body of %s" % p).encode()),
                  "pushed %s: the backend's response" % p)
        promise_hdrs = [h for (parent, _, h) in c.promises.values()]
        ck.check(all(h.get(":authority") == "localhost" and h.get(":scheme") == "https" and
                     h.get(":method") == "GET" for h in promise_hdrs),
                 "promises: GET https://localhost (%r)" % promise_hdrs[:1])
        ck.check(all(sid % 2 == 0 for sid in c.promises), "promised ids are even")
        for p in PAGE_PUSHES:
            got = be.requests_for(p)
            if ck.eq(len(got), 1, "the backend got one request for %s" % p):
                f = got[0]
                ck.eq((f.get("user-agent"), f.get("accept-encoding"), f.get("accept-language")),
                      ("push-test/1", "gzip, br", "fr"),
                      "%s: the client's user-agent, accept-encoding, accept-language" % p)
                ck.eq(f.get("cookie"), None, "%s: no cookie without forward_cookies" % p)
                ck.eq(f.get("host"), "localhost", "%s: Host is the page's authority" % p)
        ck.eq(be.requests_for("/p/nopush.css") + be.requests_for("/p/style.css") +
              be.requests_for("/secret"), [], "nothing else fetched")

        # The same page again on this connection: everything was promised already.
        before = len(c.promises)
        page, pushed = c.get("/p/page.html", ua)
        ck.eq((page.status, len(c.promises) - before), (200, 0),
              "second GET on the connection: no target promised twice")

        # max_per_response 8 of 12 preloads, then max_per_connection 12 in all.
        page, pushed = c.get("/p/many.html")
        ck.eq(len(pushed), 8, "max_per_response: 8 of 12 preloads pushed")
        ck.check(all(r.status == 200 for r in pushed.values()), "the eight are served")
        page, pushed = c.get("/p/more.html")
        ck.eq(len(pushed), 1, "max_per_connection 12: 3 + 8 promised, 1 more of 3")
        c.close()

        # forward_cookies: crumbs joined as one Cookie field.
        c2 = PushClient(port)
        page, pushed = c2.get("/c/page.html", [("cookie", "a=1"), ("cookie", "b=2")])
        ck.eq(sorted(pushed), ["/c/x.css"], "forward_cookies route pushes")
        got = be.requests_for("/c/x.css")
        ck.check(len(got) == 1 and got[0].get("cookie") == "a=1; b=2",
                 "pushed request carries the cookie crumbs joined: %r" % got)
        c2.close()

        # A client that says ENABLE_PUSH=0, a route without push, HTTP/1.1.
        n = len(be.paths())
        c3 = NoPushClient(port)
        page, pushed = c3.get("/p/slow.html")
        ck.eq((page.status, pushed, c3.promises), (200, {}, {}), "ENABLE_PUSH=0: no promise")
        c3.close()
        c4 = PushClient(port)
        page, pushed = c4.get("/n/page.html")
        ck.eq((page.status, c4.promises), (200, {}), "route without push: no promise")
        c4.close()
        s = pl.tls_connect(port, alpn=["http/1.1"])
        s.sendall(b"GET /p/page.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        raw = pl.recv_all(s).decode("latin-1")
        ck.check(raw.startswith("HTTP/1.1 200"), "HTTP/1.1 client: 200 (%r)" % raw[:40])
        time.sleep(0.3)
        ck.eq(be.paths()[n:], ["/p/slow.html", "/n/page.html", "/p/page.html"],
              "the backend got the three pages and nothing pushed")

        # The client cancels a push while its backend is still sending.
        c5 = PushClient(port)
        c5.cancel_pushes = True
        page, _ = c5.get("/p/slow.html")
        ck.eq(page.status, 200, "GET /p/slow.html")
        ck.eq([v[1] for v in c5.promises.values()], ["/p/slow.bin"], "slow.bin promised")
        ck.check(be.slow_closed.wait(5), "RST_STREAM(CANCEL) of the push closed its backend "
                                         "connection while the backend was sending")
        c5.close()

        # nghttp accepts push: it receives the promises of a fresh connection.
        # Its :authority is 127.0.0.1:PORT, so https://localhost/p/img.png is
        # another origin there and is not pushed.
        out = subprocess.run(["nghttp", "-nv", "https://127.0.0.1:%d/p/page.html" % port],
                             capture_output=True, text=True, timeout=30)
        ck.eq(out.stdout.count("recv PUSH_PROMISE frame"), 2,
              "nghttp: two PUSH_PROMISE frames (rc %d, %s)" % (out.returncode, out.stderr[-200:]))
        for p in PAGE_PUSHES[:2]:
            ck.check((":path: %s" % p) in out.stdout, "nghttp saw the promise of %s" % p)
        ck.check(":path: /p/img.png" not in out.stdout,
                 "https://localhost/... is not the origin of a request to 127.0.0.1: not pushed")

        # Counters: 3 + 8 + 1 + 1 (cookies) + 1 (slow) + 2 (nghttp) promised;
        # 4 + 2 limited; one cancelled.
        time.sleep(0.3)
        ck.eq(metric(admin, "h2bridge_http2_pushes_total", outcome="promised"), 16.0,
              "pushes_total promised")
        ck.eq(metric(admin, "h2bridge_http2_pushes_total", outcome="limited"), 6.0,
              "pushes_total limited")
        ck.eq(metric(admin, "h2bridge_http2_pushes_total", outcome="cancelled"), 1.0,
              "pushes_total cancelled")

        # The access log: each pushed request names the stream that promised it.
        time.sleep(0.5)
        with open(alog) as f:
            recs = [json.loads(ln) for ln in f if ln.strip()]
        pushed_recs = [r for r in recs if r.get("pushed_by") is not None]
        ck.eq(len(pushed_recs), 16, "16 access-log records with pushed_by")
        first = [r for r in pushed_recs if r["path"] in PAGE_PUSHES]
        ck.check(len(first) >= 3 and all(r["pushed_by"] == 1 for r in first[:3]) and
                 all(r["stream_id"] % 2 == 0 for r in pushed_recs),
                 "the first page's pushes: pushed_by 1, even stream ids (%r)" % first[:3])
        ck.check(all(r.get("pushed_by") is None for r in recs
                     if r["path"] in ("/p/page.html", "/p/many.html")),
                 "the pages themselves have no pushed_by")
        ck.check(proxy.poll() is None, "proxy still running")
    except Exception:
        env.dump_logs()
        raise
    finally:
        be.close()
        env.close()
    ck.finish()


if __name__ == "__main__":
    main()
