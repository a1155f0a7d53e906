"""e2e (issue 16, retries): retry_on, per_try_timeout and the retry budget.

A real origin next to a misbehaving backend (tests/e2e/bad_backend.py:
answers 503, closes at once, or never answers), counted at both:
- retry_on [503]: every GET is answered by the origin after the bad
  backend's 503; a POST with a body is not retried (503 comes through);
- retry_on [reset]: a connection closed before any response byte is retried;
- retry_on [timeout] with per_try_timeout 150ms: a backend that never answers
  costs one per-try timeout, then the origin answers;
- the budget: two backends that answer 503 after 300 ms, 40 concurrent
  requests, retry_budget {percent: 0, min_retries: 2}: retries made are at
  most 2 per wave, the rest are counted as refused by the budget, and the
  backends received exactly the requests plus the retries.
Every wait is bounded; only the processes started here are stopped.
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
if subprocess.run(["sh", "-c", "command -v h2load"], stdout=subprocess.DEVNULL).returncode != 0:
    pl.skip("h2load not installed")
env = pl.Env()
ck = pl.Checker()
BAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_backend.py")


def bad_backend(mode, name, delay_ms=0):
    port = pl.free_port()
    p = env.spawn([sys.executable, BAD, str(port), mode, str(delay_ms)], name)
    pl.wait_port(port, p)
    p.port = port
    return p


def received(p):
    return len(re.findall(r"^REQ ", env.log(p), re.M))


def origin_count(p, what):
    return len(re.findall(r'"GET %s' % re.escape(what), env.log(p)))


def start_proxy(name, servers, extra):
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
                "  u:\n"
                "    servers: [%s]\n%s"
                "routes:\n"
                "  - {upstream: u}\n" % (port, env.cert, env.key, admin,
                                         ", ".join('"127.0.0.1:%d"' % s for s in servers), extra))
    p = env.spawn([pl.BIN, "-c", path], name)
    pl.wait_port(port, p, timeout=20)
    p.port, p.admin = port, admin
    return p


def metric_sum(admin, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5) as r:
        text = r.read().decode()
    return sum(float(v) for v in re.findall(r"^%s\{[^}]*\} (\S+)$" % name, text, re.M))


try:
    o1 = env.origin("o1", extra=["--verbose"])

    # 1. retry_on 503: GETs end on the origin; a POST with a body does not retry.
    b503 = bad_backend("503", "bad503")
    p = start_proxy("p503", [b503.port, o1.port], "    retries: 1\n    retry_on: [503]\n")
    c = pl.H2Client(p.port, timeout=10)
    st = [c.request("GET", "/bytes/7").status for _ in range(20)]
    ck.eq(st, [200] * 20, "every GET answered after the retry")
    ck.eq(received(b503), 10, "the 503 backend got its half")
    ck.eq(origin_count(o1, "/bytes/7"), 20, "the origin served all 20")
    r = c.request("POST", "/echo", body=b"x" * 100)
    if r.header("x-origin-id") == "o1":  # round robin put it on the origin: once more
        r = c.request("POST", "/echo", body=b"x" * 100)
    ck.eq(r.status, 503, "POST with a body: not retried")
    c.close()
    ck.check(re.search(r"answered 503, retrying on another server \(try 2\)", env.log(p)),
             "the retry line")
    ck.eq(metric_sum(p.admin, "h2bridge_backend_retries_total"), 10, "10 retries counted")
    env.stop(p)

    # 2. retry_on reset.
    bclose = bad_backend("close", "badclose")
    p = start_proxy("preset", [bclose.port, o1.port], "    retries: 1\n    retry_on: [reset]\n")
    c = pl.H2Client(p.port, timeout=10)
    st = [c.request("GET", "/bytes/8").status for _ in range(10)]
    c.close()
    ck.eq(st, [200] * 10, "reset before any byte: retried")
    ck.eq(received(bclose), 5, "the closing backend got its half")
    env.stop(p)

    # 3. retry_on timeout with per_try_timeout.
    bhang = bad_backend("hang", "badhang")
    p = start_proxy("ptimeout", [bhang.port, o1.port],
                    "    retries: 1\n    retry_on: [timeout]\n    per_try_timeout: 150ms\n")
    c = pl.H2Client(p.port, timeout=10)
    times = []
    for _ in range(4):
        t0 = time.time()
        r = c.request("GET", "/bytes/9")
        times.append(time.time() - t0)
        ck.eq(r.status, 200, "timeout: retried")
    c.close()
    slow = sorted(times)[-2:]
    ck.check(all(0.14 < t < 1.0 for t in slow), "two requests waited one per-try timeout: %r"
             % times)
    env.stop(p)

    # 4. The budget, with every backend failing.
    s1 = bad_backend("503", "slow1", 300)
    s2 = bad_backend("503", "slow2", 300)
    p = start_proxy("pbudget", [s1.port, s2.port],
                    "    retries: 1\n    retry_on: [503]\n"
                    "    retry_budget: {percent: 0, min_retries: 2}\n")
    r = subprocess.run(["h2load", "-n", "120", "-c", "1", "-m", "40", "-T", "30",
                        "https://127.0.0.1:%d/bytes/1" % p.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = r.stdout.decode()
    m = re.search(r"status codes: \d+ 2xx, \d+ 3xx, \d+ 4xx, (\d+) 5xx", out)
    ck.check(m and int(m.group(1)) == 120, "all 120 answered 503: %s" % (m and m.group(0)))
    retries = metric_sum(p.admin, "h2bridge_backend_retries_total")
    refused = metric_sum(p.admin, "h2bridge_backend_retry_budget_exhausted_total")
    got = received(s1) + received(s2)
    ck.eq(got, 120 + retries, "the backends received the requests plus the retries")
    ck.eq(retries + refused, 120, "every first 503 was retried or refused by the budget")
    # 40 at a time, 300 ms each: 3 waves of 40, at most 2 retries in flight.
    ck.check(1 <= retries <= 12, "retries within the budget: %d (refused %d)" % (retries, refused))
    env.stop(p)
except Exception:
    import traceback
    traceback.print_exc()
    ck.check(False, "exception")
if ck.failed:
    env.dump_logs()
env.close(keep=bool(ck.failed))
ck.finish()
