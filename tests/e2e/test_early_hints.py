"""e2e: 103 Early Hints made by the proxy (routes[].early_hints,
docs/early-hints.md).

A Python HTTP/1.1 backend answers every request after DELAY seconds; on /h/
and /plain/ its 200 carries Link: a preload, a preconnect and a stylesheet
(not a hint). Through h2bridge (one worker, so one cache):
- /h/ learns: the first GET of a path gets no 103, the second gets a 103
  with the preload and preconnect (not the stylesheet), well before the
  final response; a 2xx without Link removes the entry; max_entries holds;
- /as/ learns with learn_as [style, image]: its 103 keeps the style and
  image preloads and the preconnect, not the font, the script, a preload
  without "as" or the stylesheet;
- /cfg/ has configured links: a 103 on the first request;
- the catch-all route has no early_hints: never a 103;
- an HTTP/1.1 client gets the 103 too, an HTTP/1.0 client does not."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

import h2.events  # noqa: E402

DELAY = 0.3
LINKS = ("</style.css>; rel=preload; as=style, </print.css>; rel=stylesheet, "
         "<https://cdn.test>; rel=preconnect")
LEARNED = "</style.css>; rel=preload; as=style, <https://cdn.test>; rel=preconnect"
AS_LINKS = ("</style.css>; rel=preload; as=style, </f.ttf>; rel=preload; as=font; crossorigin, "
            "</a.js>; rel=preload; as=\"Script\", </hero.png>; rel=preload; as=IMAGE, "
            "</bare>; rel=preload, </print.css>; rel=stylesheet, <https://cdn.test>; rel=preconnect")
AS_LEARNED = ("</style.css>; rel=preload; as=style, </hero.png>; rel=preload; as=IMAGE, "
              "<https://cdn.test>; rel=preconnect")


def serve_conn(s):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            path = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            time.sleep(DELAY)
            body = b"<html>" + path.encode() + b"</html>"
            extra = ""
            if "nolink" not in path and (path.startswith("/h/") or path.startswith("/plain/")):
                extra = "Link: %s\r\n" % LINKS
            elif path.startswith("/as/"):
                extra = "Link: %s\r\n" % AS_LINKS
            s.sendall(("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n%s\r\n"
                       % (len(body), extra)).encode() + body)
    except OSError:
        pass
    finally:
        s.close()


def backend():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve_conn, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls


class TimedClient(pl.H2Client):
    """Records when each stream's 103s and final head arrive, and the 103s'
    Link values."""

    def start(self, method, path, headers=(), body=None, end=True, keep_body=True):
        sid = super().start(method, path, headers, body, end, keep_body)
        r = self.streams[sid]
        r.t0 = time.monotonic()
        r.hints = []  # (seconds after the request, [Link values])
        r.t_final = None
        return sid

    def handle(self, ev):
        if isinstance(ev, h2.events.InformationalResponseReceived):
            r = self.streams[ev.stream_id]
            links = [v.decode() for k, v in ev.headers if k == b"link"]
            r.hints.append((time.monotonic() - r.t0, links))
        elif isinstance(ev, h2.events.ResponseReceived):
            self.streams[ev.stream_id].t_final = time.monotonic() - self.streams[ev.stream_id].t0
        super().handle(ev)

    def get(self, path):
        return self.request("GET", path, deadline=30.0)


def h1_get(port, path, version="HTTP/1.1"):
    s = pl.tls_connect(port, alpn=["http/1.1"])
    s.sendall(("GET %s %s\r\nHost: localhost\r\nConnection: close\r\n\r\n"
               % (path, version)).encode())
    data = pl.recv_all(s)
    return data.decode("latin-1")


def main():
    pl.require_binaries()
    env = pl.Env()
    ck = pl.Checker()
    be = backend()
    try:
        port = pl.free_port()
        yaml = ("workers: 1\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "upstreams:\n"
                "  web: {servers: [\"127.0.0.1:%d\"]}\n"
                "routes:\n"
                "  - path_prefix: /h/\n"
                "    upstream: web\n"
                "    early_hints: {learn: true, max_entries: 4}\n"
                "  - path_prefix: /as/\n"
                "    upstream: web\n"
                "    early_hints: {learn: true, learn_as: [style, image]}\n"
                "  - path_prefix: /cfg/\n"
                "    upstream: web\n"
                "    early_hints:\n"
                "      links: [\"</fixed.js>; rel=preload; as=script\"]\n"
                "  - {upstream: web}\n"
                % (port, env.cert, env.key, be.getsockname()[1]))
        path = os.path.join(env.dir, "hints.yaml")
        with open(path, "w") as f:
            f.write(yaml)
        proxy = env.spawn([pl.BIN, "-c", path], "proxy")
        pl.wait_port(port, proxy, timeout=20)
        c = TimedClient(port)

        r = c.get("/h/page")
        ck.eq(r.status, 200, "first GET /h/page")
        ck.eq(r.hints, [], "first GET of a path: nothing learned yet, no 103")
        r = c.get("/h/page?x=1")  # the query is not part of the key
        ck.eq(r.status, 200, "second GET /h/page")
        if ck.eq(len(r.hints), 1, "second GET: one 103"):
            t, links = r.hints[0]
            ck.eq(links, [LEARNED], "the 103 repeats the preload and preconnect, not the stylesheet")
            ck.check(r.t_final >= DELAY * 0.9, "final head after the backend's delay (%.3f s)"
                     % r.t_final)
            ck.check(t + DELAY / 2 < r.t_final,
                     "103 at %.3f s, well before the final head at %.3f s" % (t, r.t_final))

        # learn_as: only the named destinations (case ignored in the Link,
        # as HTML does), preconnects always, preloads without "as" never.
        c.get("/as/page")
        r = c.get("/as/page")
        ck.eq([h[1] for h in r.hints], [[AS_LEARNED]],
              "learn_as [style, image]: style, image and preconnect kept")

        # A route without early_hints never sends one, whatever the backend says.
        c.get("/plain/page")
        r = c.get("/plain/page")
        ck.eq(r.hints, [], "route without early_hints: no 103")

        # Configured links: from the first request on.
        r = c.get("/cfg/x")
        ck.eq([h[1] for h in r.hints], [["</fixed.js>; rel=preload; as=script"]],
              "configured links: a 103 on the first request")

        # HTTP/1.1 gets the learned 103; HTTP/1.0 has no 1xx.
        raw = h1_get(port, "/h/page")
        ck.check(raw.startswith("HTTP/1.1 103 Early Hints\r\n") and
                 ("link: " + LEARNED).lower() in raw.lower() and "\r\n\r\nHTTP/1.1 200" in raw,
                 "HTTP/1.1 client: 103 then 200: %r" % raw[:300])
        raw = h1_get(port, "/h/page", "HTTP/1.0")
        ck.check(raw.startswith("HTTP/1.1 200"), "HTTP/1.0 client: no 103: %r" % raw[:100])

        # A 2xx without Link removes the entry (it got the old hint itself).
        r = c.get("/h/page?nolink")
        ck.eq(len(r.hints), 1, "GET ?nolink still hinted from the entry")
        r = c.get("/h/page?nolink")
        ck.eq(r.hints, [], "after a 2xx without Link: entry removed, no 103")

        # max_entries: 4 — six paths learned in order, the two oldest are gone.
        for i in range(6):
            c.get("/h/b%d" % i)
        sids = [c.start("GET", "/h/b%d" % i) for i in range(6)]
        rs = c.wait(sids, deadline=30.0)
        got = [len(x.hints) for x in rs]
        ck.eq(got, [0, 0, 1, 1, 1, 1], "max_entries 4: the least recently used two were evicted")
        c.close()
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
