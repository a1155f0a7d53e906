"""e2e (issue 16, fairness): a client that stalls loses its backend connection.

One origin, one worker, limits.response_stall_timeout: 1s and
limits.request_body_timeout: 1s.
(1) An h2 client with every stream window at 0 (it reads its socket, but
    never opens a window) asks for /bytes/1000000: the head comes, then
    after about 1 s RST_STREAM CANCEL; the backend connection is closed and
    counted (h2bridge_backend_response_stalls_total), the access log says
    CLIENT_STALLED, and the connection still serves a bodiless request.
(2) A slow reader that keeps taking bytes (a read every 10 ms), whose
    response takes longer than the timeout, is not reset: progress restarts
    the clock.
(3) h2: POST /inspect (answered once the body is read) with Content-Length
    1000, 100 bytes sent, then nothing: 408 after about 1 s,
    h2bridge_backend_request_body_stalls_total. To /echo (which answers at
    once and streams): the head, then RST_STREAM CANCEL.
(4) The same over HTTP/1.1: 408, and the connection is closed.
(5) A body that trickles (a piece every 0.4 s for 2 s) is served: 200,
    echoed exactly.
Every wait is bounded; only the processes started here are stopped.
"""
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()


def start_proxy():
    port, admin = pl.free_port(), pl.free_port()
    path = os.path.join(env.dir, "stall.yaml")
    alog = os.path.join(env.dir, "stall.access.log")
    with open(path, "w") as f:
        f.write("workers: 1\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    protocols: [h2, http/1.1]\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "admin: {address: 127.0.0.1, port: %d}\n"
                "logging: {access_log: %s, access_log_format: json, access_log_flush: 100ms}\n"
                "limits: {response_stall_timeout: 1s, request_body_timeout: 1s}\n"
                "upstreams:\n"
                "  u: {servers: [\"127.0.0.1:%d\"]}\n"
                "routes:\n"
                "  - {upstream: u}\n" % (port, env.cert, env.key, admin, alog, o.port))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)
    p.port, p.admin, p.alog = port, admin, alog
    return p


def metric_sum(admin, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as r:
        text = r.read().decode()
    return sum(float(v) for v in re.findall(r"^%s\{[^}]*\} (\S+)$" % name, text, re.M))


def alog(p, want_lines):
    deadline = time.time() + 3
    lines = []
    while time.time() < deadline:
        with open(p.alog) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        if len(lines) >= want_lines:
            break
        time.sleep(0.1)
    return lines


class SlowReader(pl.H2Client):
    """Reads its socket 100 times a second (about one small TLS record each:
    some 130 KB/s); the window opens as it reads."""

    def step(self):
        time.sleep(0.01)
        super().step()


try:
    o = env.origin("o1")
    p = start_proxy()

    # (1) no window.
    c = pl.H2Client(p.port, window=0, timeout=20)
    t0 = time.time()
    sid = c.start("GET", "/bytes/1000000")
    r = c.wait([sid], deadline=10)[0]
    took = time.time() - t0
    ck.eq((r.status, r.reset), (200, 8), "no window: head, then RST_STREAM CANCEL")
    ck.check(0.9 <= took < 5, "no window: reset after response_stall_timeout (%.2f s)" % took)
    ck.eq(metric_sum(p.admin, "h2bridge_backend_response_stalls_total"), 1,
          "no window: the backend connection closed is counted")
    ck.check(env.wait_log(p, "client took no response byte for 1000 ms"), "no window: logged")
    r = c.request("GET", "/status/204", deadline=10)
    ck.eq(r.status, 204, "no window: the connection still serves")
    c.close()
    recs = alog(p, 2)
    ck.check(any(x.get("end_reason") == "CLIENT_STALLED" and x.get("status") == 200 for x in recs),
             "no window: access log end_reason CLIENT_STALLED: %r"
             % [x.get("end_reason") for x in recs])

    # (2) a slow reader that makes progress.
    c = SlowReader(p.port, timeout=20)
    t0 = time.time()
    r = c.request("GET", "/bytes/600000", deadline=30)
    took = time.time() - t0
    ck.eq((r.status, r.reset, r.length), (200, None, 600000), "slow reader: served whole")
    ck.check(took > 1.0, "slow reader: slower than response_stall_timeout (%.2f s)" % took)
    ck.eq(metric_sum(p.admin, "h2bridge_backend_response_stalls_total"), 1,
          "slow reader: not counted as a stall")
    c.close()

    # (3) h2 request body stall.
    c = pl.H2Client(p.port, timeout=20)
    t0 = time.time()
    sid = c.start("POST", "/inspect", [("content-length", "1000")], body=b"x" * 100, end=False)
    r = c.wait([sid], deadline=10)[0]
    took = time.time() - t0
    ck.eq(r.status, 408, "h2 body stall: 408")
    ck.check(0.9 <= took < 5, "h2 body stall: after request_body_timeout (%.2f s)" % took)
    ck.eq(metric_sum(p.admin, "h2bridge_backend_request_body_stalls_total"), 1,
          "h2 body stall: counted")
    ck.check(env.wait_log(p, "no request body byte from the client for 1000 ms"),
             "h2 body stall: logged")
    # After a response head (a backend that answers while the body comes):
    # RST_STREAM CANCEL.
    sid = c.start("POST", "/echo", [("content-length", "1000")], body=b"x" * 100, end=False)
    r = c.wait([sid], deadline=10)[0]
    ck.eq((r.status, r.reset), (200, 8), "h2 body stall after the head: RST_STREAM CANCEL")
    ck.eq(metric_sum(p.admin, "h2bridge_backend_request_body_stalls_total"), 2,
          "h2 body stall after the head: counted")
    c.close()

    # (4) HTTP/1.1 request body stall.
    s = pl.tls_connect(p.port, alpn=["http/1.1"], timeout=10)
    t0 = time.time()
    s.sendall(b"POST /inspect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n" + b"y" * 10)
    data = pl.recv_all(s)
    took = time.time() - t0
    ck.check(data.startswith(b"HTTP/1.1 408"), "h1 body stall: 408 (%r)" % data[:40])
    ck.check(0.9 <= took < 5, "h1 body stall: answered, and closed (%.2f s)" % took)
    ck.eq(metric_sum(p.admin, "h2bridge_backend_request_body_stalls_total"), 3,
          "h1 body stall: counted")

    # (5) a trickling body.
    c = pl.H2Client(p.port, timeout=20)
    body = bytes(range(256)) * 4
    sid = c.start("POST", "/echo", [("content-length", str(len(body)))], body=body[:200],
                  end=False)
    for k in range(1, 5):
        time.sleep(0.4)
        c.send_data(sid, body[200 * k:200 * (k + 1)] if k < 4 else body[800:], end=(k == 4))
    r = c.wait([sid], deadline=10)[0]
    ck.eq((r.status, bytes(r.body)), (200, body), "trickling body: served and echoed")
    ck.eq(metric_sum(p.admin, "h2bridge_backend_request_body_stalls_total"), 3,
          "trickling body: not a stall")
    c.close()
    recs = alog(p, 7)
    ck.eq(sum(1 for x in recs if x.get("end_reason") == "CLIENT_STALLED"), 4,
          "four CLIENT_STALLED lines in the access log")
except Exception:
    import traceback
    traceback.print_exc()
    ck.check(False, "exception")
if ck.failed:
    env.dump_logs()
env.close(keep=bool(ck.failed))
ck.finish()
