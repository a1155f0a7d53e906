"""e2e (issue 16, passive ejection): outlier_detection without active checks.

Two real origins and one backend that answers 503 to everything (a small
HTTP/1.1 keep-alive server started here, counting what it receives). With
consecutive_failures 3, the bad backend gets 3 requests, is ejected for
base_ejection_time (logged once, counted in metrics), comes back after it
and, failing again, is ejected for twice as long. max_ejected_percent: with
the bad one out, a second failing server (an origin killed) is not ejected
(capped), and requests still succeed through the remaining origin.
Every wait is bounded; only the processes started here are stopped.
"""
import os
import re
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()

BAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_backend.py")


def get_ids(port, n):
    out = []
    c = pl.H2Client(port, timeout=10)
    for _ in range(n):
        r = c.request("GET", "/bytes/1")
        out.append((r.status, r.header("x-origin-id")))
    c.close()
    return out


def bad_count(p):
    return len(re.findall(r"^REQ ", env.log(p), re.M))


try:
    o1, o2 = env.origin("o1"), env.origin("o2")
    bport = pl.free_port()
    bad = env.spawn([sys.executable, BAD, str(bport), "503"], "bad")
    pl.wait_port(bport, bad)
    port, admin = pl.free_port(), pl.free_port()
    path = os.path.join(env.dir, "h2bridge.yaml")
    with open(path, "w") as f:
        f.write("workers: 1\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "admin: {address: 127.0.0.1, port: %d}\n"
                "upstreams:\n"
                "  u:\n"
                "    servers: [\"127.0.0.1:%d\", \"127.0.0.1:%d\", \"127.0.0.1:%d\"]\n"
                "    retries: 2\n"
                "    outlier_detection:\n"
                "      consecutive_failures: 3\n"
                "      count: [connect_failure, 5xx]\n"
                "      base_ejection_time: 1s\n"
                "      max_ejection_time: 10s\n"
                "      max_ejected_percent: 34\n"
                "routes:\n"
                "  - {upstream: u}\n" % (port, env.cert, env.key, admin, o1.port, o2.port, bport))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)

    # 1. Ejected after 3 failures in a row; 60 more requests never reach it.
    r = get_ids(port, 60)
    ck.eq(sum(1 for s, _ in r if s == 503), 3, "3 requests answered 503 before the ejection")
    ck.eq(bad_count(bad), 3, "the bad backend received 3 requests")
    log = env.log(p)
    ck.eq(len(re.findall(r"server 127\.0\.0\.1:%d: ejected for 1000 ms \(3 failures in a row, "
                         r"last: 5xx; ejection 1\)" % bport, log)), 1, "the ejection line, once")
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as m:
        text = m.read().decode()
    ck.check('h2bridge_backend_ejected{upstream="u",server="127.0.0.1:%d"} 1' % bport in text,
             "ejected gauge 1")
    ck.check('h2bridge_backend_ejections_total{upstream="u",server="127.0.0.1:%d"} 1' % bport
             in text, "one ejection counted")

    # 2. Back after 1 s; three more failures: out for 2 s (exponential).
    time.sleep(1.1)
    r = get_ids(port, 30)
    ck.eq(sum(1 for s, _ in r if s == 503), 3, "back, three more 503s, ejected again")
    log = env.log(p)
    ck.check("back after its ejection" in log, "the back line")
    ck.check(re.search(r"ejected for 2000 ms \(3 failures in a row, last: 5xx; ejection 2\)",
                       log) is not None, "second ejection twice as long")

    # 3. Capped: o1 killed while bad is out; o1 is not ejected (1 of 3 is the
    # cap), and every request is still answered by o2 through retries.
    os.kill(o1.pid, signal.SIGKILL)
    o1.wait(5)
    r = get_ids(port, 30)
    ck.check(all(s == 200 and i == "o2" for s, i in r), "o2 serves everything: %r" % r[:6])
    ck.eq(len(re.findall(r"server 127\.0\.0\.1:%d: ejected" % o1.port, env.log(p))), 0,
          "o1 not ejected: capped by max_ejected_percent")
    env.stop(p)
    ck.eq(p.returncode, 0, "proxy exits 0")
except Exception:
    import traceback
    traceback.print_exc()
    ck.check(False, "exception")
if ck.failed:
    env.dump_logs()
env.close(keep=bool(ck.failed))
ck.finish()
