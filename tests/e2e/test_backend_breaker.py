"""e2e (issue 16, breakers): past the limits, 503 at once.

One origin, one worker. (1) upstreams.*.max_requests: 5: of 30 concurrent
GET /delay/800, 5 are served after 800 ms and 25 get 503 within 5 ms at
p99 (timed per stream from its HEADERS), counted in
h2bridge_backend_breaker_rejections_total. (2) The per-server pending cap
(servers[].max_connections: 2, queue_size: 3): 2 in flight and 3 waiting
complete, the other 25 get 503 at once, counted as queue_full. (3) The
upstream-wide pending cap (upstreams.*.max_pending: 3 over two servers of
max_connections 1): 2 in flight and 3 waiting complete, 25 get 503 at once,
counted as pending_full.
Every wait is bounded; only the processes started here are stopped.
"""
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


def start_proxy(name, upstream):
    port, admin = pl.free_port(), pl.free_port()
    path = os.path.join(env.dir, name + ".yaml")
    with open(path, "w") as f:
        f.write("workers: 1\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "admin: {address: 127.0.0.1, port: %d}\n"
                "upstreams:\n"
                "  u:\n%s"
                "routes:\n"
                "  - {upstream: u}\n" % (port, env.cert, env.key, admin, upstream))
    p = env.spawn([pl.BIN, "-c", path], name)
    pl.wait_port(port, p, timeout=20)
    p.port, p.admin = port, admin
    return p


def burst(port, n):
    """5 GET /delay/800 fill the limit; then n - 5 more, one at a time, each
    timed from its HEADERS to its answer while the 5 are in flight:
    [(status, seconds)]."""
    c = pl.H2Client(port, timeout=20)
    first = [c.start("GET", "/delay/800") for _ in range(5)]
    t_first = time.time()
    time.sleep(0.1)  # they reach the proxy and take the slots
    out = []
    for _ in range(n - 5):
        t0 = time.time()
        sid = c.start("GET", "/delay/800")
        while not (c.streams[sid].done or c.streams[sid].reset is not None):
            c.step()
        out.append((c.streams[sid].status, time.time() - t0))
    for r in c.wait(first, deadline=20):
        out.append((r.status, time.time() - t_first))
    c.close()
    return out


def metric_sum(admin, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as r:
        text = r.read().decode()
    return sum(float(v) for v in re.findall(r"^%s\{[^}]*\} (\S+)$" % name, text, re.M))


def check(name, rs, admin, counter):
    ok = [t for s, t in rs if s == 200]
    fast = sorted(t for s, t in rs if s == 503)
    ck.eq(len(rs), 30, "%s: every stream answered" % name)
    ck.eq(len(ok), 5, "%s: 5 accepted and served" % name)
    ck.check(all(t >= 0.75 for t in ok), "%s: the accepted waited for the origin" % name)
    ck.eq(len(fast), 25, "%s: 25 refused" % name)
    p99 = fast[max(0, int(len(fast) * 0.99) - 1)] if fast else 1
    ck.check(p99 < 0.005, "%s: 503 p99 %.2f ms" % (name, p99 * 1000))
    ck.eq(metric_sum(admin, counter), 25, "%s: counted in %s" % (name, counter))


try:
    o = env.origin("o1")
    p = start_proxy("pmax", "    servers: [\"127.0.0.1:%d\"]\n    max_requests: 5\n" % o.port)
    check("max_requests", burst(p.port, 30), p.admin, "h2bridge_backend_breaker_rejections_total")
    ck.check("upstream max_requests reached" in env.log(p), "the log line")
    env.stop(p)
    # One client fills both: per_client_share 100 lets it hold both connections.
    p = start_proxy("pqueue", "    servers: [{address: \"127.0.0.1:%d\", max_connections: 2}]\n"
                              "    queue_size: 3\n    per_client_share: 100\n" % o.port)
    check("queue_size", burst(p.port, 30), p.admin, "h2bridge_backend_queue_full_total")
    env.stop(p)
    # (3) The upstream-wide pending cap: two servers of one connection each,
    # max_pending 3 across both: 2 in flight and 3 waiting (on either).
    o2 = env.origin("o2")
    p = start_proxy("ppending", "    servers: [{address: \"127.0.0.1:%d\", max_connections: 1},"
                                " {address: \"127.0.0.1:%d\", max_connections: 1}]\n"
                                "    max_pending: 3\n    per_client_share: 100\n"
                                % (o.port, o2.port))
    check("max_pending", burst(p.port, 30), p.admin, "h2bridge_backend_pending_full_total")
    ck.check("upstream max_pending reached" in env.log(p), "max_pending: the log line")
    ck.eq(metric_sum(p.admin, "h2bridge_backend_queue_full_total"), 0,
          "max_pending: not counted as a full server queue")
    env.stop(p)
except Exception:
    import traceback
    traceback.print_exc()
    ck.check(False, "exception")
if ck.failed:
    env.dump_logs()
env.close(keep=bool(ck.failed))
ck.finish()
