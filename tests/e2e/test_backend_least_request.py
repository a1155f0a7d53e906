"""e2e (issue 16, least-request): a slow backend's share drops under
balance: least_request (power of two choices). Two real origins and one
backend that answers every request after 300 ms (counted at the backend).
The same 90 requests, 12 at a time, go once through a round_robin upstream
(the slow one gets its third) and once through a least_request one over
the same servers: there it must get under half of round-robin's share.
Every wait is bounded; only the processes started here are stopped.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()

BAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_backend.py")
N, CONC = 90, 12


def slow_count(p):
    return len(re.findall(r"^REQ ", env.log(p), re.M))


def run(port, prefix):
    """N requests, CONC in flight; returns {server id: count}."""
    c = pl.H2Client(port, timeout=30)
    counts, sent, live = {}, 0, []
    while sent < N or live:
        while sent < N and len(live) < CONC:
            live.append(c.start("GET", "%s/bytes/1" % prefix))
            sent += 1
        c.step()
        for sid in [s for s in live if c.streams[s].done]:
            live.remove(sid)
            who = c.streams[sid].header("x-origin-id")
            counts[who] = counts.get(who, 0) + 1
    c.close()
    return counts


try:
    o1, o2 = env.origin("o1"), env.origin("o2")
    sport = pl.free_port()
    slow = env.spawn([sys.executable, BAD, str(sport), "200", "300"], "slow")
    pl.wait_port(sport, slow)
    port = pl.free_port()
    path = os.path.join(env.dir, "h2bridge.yaml")
    servers = '"127.0.0.1:%d", "127.0.0.1:%d", "127.0.0.1:%d"' % (o1.port, o2.port, sport)
    with open(path, "w") as f:
        f.write("workers: 1\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "upstreams:\n"
                "  rr: {servers: [%s], balance: round_robin}\n"
                "  lr: {servers: [%s], balance: least_request}\n"
                "routes:\n"
                "  - {path_prefix: /rr/, upstream: rr}\n"
                "  - {upstream: lr}\n" % (port, env.cert, env.key, servers, servers))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)

    rr = run(port, "/rr")
    rr_slow = slow_count(slow)
    lr = run(port, "")
    lr_slow = slow_count(slow) - rr_slow
    print("round_robin: %s (slow backend received %d); least_request: %s (slow received %d)"
          % (rr, rr_slow, lr, lr_slow))
    ck.eq(sum(rr.values()), N, "round_robin: every request answered")
    ck.eq(sum(lr.values()), N, "least_request: every request answered")
    ck.eq(rr_slow, N // 3, "round_robin gives the slow backend its third")
    ck.eq(lr.get("slow", 0), lr_slow, "the slow backend's count matches its answers")
    ck.check(lr_slow < rr_slow / 2,
             "least_request: the slow backend's share drops (%d < %d / 2)" % (lr_slow, rr_slow))
    ck.check(lr_slow >= 1, "least_request still tries it (it is not ejected)")
except Exception:
    env.dump_logs()
    raise
finally:
    env.close()
ck.finish()
