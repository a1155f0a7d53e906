"""A backend killed mid-run: its in-flight GETs are reset, and retried on
the other backend (retry_on's default has reset) as far as the retry budget
allows (3 + 20 % of the 20 active requests); the rest get 502 (or
RST_STREAM). The other backend's complete, and new requests succeed on the
surviving backend (a refused connect moves to the next server). Nothing
hangs: every wait is bounded."""
import os
import signal
import time
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
t = pl.Checker()
try:
    o1 = env.origin("o1")
    o2 = env.origin("o2")
    proxy = env.proxy([o1.port, o2.port], ["--workers", "1"])
    c = pl.H2Client(proxy.port)
    warm = c.wait([c.start("GET", "/") for _ in range(4)])
    ids = sorted(r.header("x-origin-id") for r in warm)
    t.eq(ids, ["o1", "o1", "o2", "o2"], "round-robin over both backends")

    sids = [c.start("GET", "/delay/1500") for _ in range(20)]
    time.sleep(0.3)  # the requests reach the backends (1.5 s before any answer)
    env.stop(o1, signal.SIGKILL)
    rs = c.wait(sids, deadline=20)
    ok = [r for r in rs if r.status == 200 and r.reset is None]
    failed = [r for r in rs if r.status == 502 or r.reset is not None]
    t.eq(len(ok) + len(failed), 20, "every in-flight request ended with 200, 502 or RST")
    t.check(all(r.header("x-origin-id") == "o2" for r in ok),
            "the 200s came from o2: %s" % [r.header("x-origin-id") for r in ok])
    # Round robin put 10 on each; o1's were retried within the budget (7),
    # plus those on the 2 keep-alive connections of the warm-up, whose
    # stale-connection retry is outside it (a fresh connect, refused, then
    # the next server).
    retried = len(ok) - 10
    t.check(1 <= retried <= 9, "o1's in-flight requests retried on o2 within the budget (%d)"
            % retried)
    t.eq(len(failed), 10 - retried, "the others failed")
    t.check("retrying on another server" in env.log(proxy), "the retry lines")

    rs = c.wait([c.start("GET", "/") for _ in range(20)], deadline=20)
    t.eq([r.status for r in rs], [200] * 20, "new requests succeed after the kill")
    t.check(all(r.header("x-origin-id") == "o2" for r in rs), "served by the surviving backend")
    c.close()
    t.check(proxy.poll() is None, "proxy still running")
except Exception as e:
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs()
    env.close()
t.finish()
