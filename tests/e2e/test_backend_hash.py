"""e2e (issue 16, consistent hash): balance: consistent_hash keeps a key on
one server across requests, connections, both workers and a reload, for
each kind of key: a request header, a cookie, the path, and the client
address (here the trusted X-Forwarded-For client, as with realip). Four
real origins report which one answered (X-Origin-Id).

Each key is sent on 8 separate TLS connections; the 2 workers' SO_REUSEPORT
sockets spread them (all 8 on one worker: chance 1/128), so a table that
differed per worker would show. After SIGHUP, new connections (the new
generation's workers) must see the same map. Then one origin is killed
(SIGKILL): keys of the other three stay where they were, and the killed
one's keys move, the same way on every connection (the retry follows the
key's Maglev order). A request without the header is balanced by
round-robin. Every wait is bounded; only the processes started here are
stopped.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()

NKEYS = 24


def requests():
    """(kind, key, path, headers) of every key, in order."""
    out = []
    for k in range(NKEYS):
        out.append(("header", k, "/h/x", [("x-user", "user-%d" % k)]))
        out.append(("cookie", k, "/c/x", [("cookie", "a=1; sid=s%d; b=2" % k)]))
        out.append(("path", k, "/bytes/%d" % (k + 1), []))
        out.append(("addr", k, "/a/x", [("x-forwarded-for", "198.51.100.%d" % (k + 1))]))
    return out


def run_map(port, conns):
    """{(kind, key): set of servers} over `conns` new connections."""
    seen = {}
    reqs = requests()
    for _ in range(conns):
        c = pl.H2Client(port, timeout=10)
        for i in range(0, len(reqs), 32):
            batch = reqs[i:i + 32]
            sids = [c.start("GET", path, headers=h) for _, _, path, h in batch]
            for (kind, k, _, _), r in zip(batch, c.wait(sids, deadline=20)):
                seen.setdefault((kind, k), set()).add(r.header("x-origin-id"))
        c.close()
    return seen


def single(m):
    return {k: next(iter(v)) for k, v in m.items() if len(v) == 1}


try:
    origins = [env.origin("o%d" % i) for i in range(1, 5)]
    port = pl.free_port()
    path = os.path.join(env.dir, "h2bridge.yaml")
    servers = ", ".join('"127.0.0.1:%d"' % o.port for o in origins)
    ups = ""
    for name, key in (("h", "{key: header, name: X-User}"), ("c", "{key: cookie, name: sid}"),
                      ("p", "{key: path}"), ("a", "")):
        ups += ("  %s:\n    servers: [%s]\n    balance: consistent_hash\n"
                "    consistent_hash: %s\n" % (name, servers, key))
    with open(path, "w") as f:
        f.write("workers: 2\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "forwarded: {x_forwarded_for_mode: trust, trusted: [127.0.0.1]}\n"
                "upstreams:\n%s"
                "routes:\n"
                "  - {path_prefix: /c/, upstream: c}\n"
                "  - {path_prefix: /bytes/, upstream: p}\n"
                "  - {path_prefix: /a/, upstream: a}\n"
                "  - {path_prefix: /, upstream: h}\n" % (port, env.cert, env.key, ups))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)

    # 1. The same key, the same server, on every connection (both workers).
    m1 = run_map(port, 8)
    split = [k for k, v in m1.items() if len(v) != 1]
    ck.eq(split, [], "every key on one server across 8 connections")
    s1 = single(m1)
    for kind in ("header", "cookie", "path", "addr"):
        used = {v for (kd, _), v in s1.items() if kd == kind}
        ck.check(len(used) >= 3, "%s keys spread over at least 3 of the 4 servers: %s"
                 % (kind, sorted(used)))

    # 2. No key: round-robin.
    c = pl.H2Client(port, timeout=10)
    got = {c.request("GET", "/h/x").header("x-origin-id") for _ in range(8)}
    c.close()
    ck.check(len(got) >= 2, "requests without the header spread: %s" % sorted(got))

    # 3. A reload (SIGHUP, same file): the new generation has the same map.
    p.send_signal(signal.SIGHUP)
    ck.check(env.wait_log(p, "generation 2 serves new connections", 10), "the reload happened")
    time.sleep(0.3)
    m2 = single(run_map(port, 4))
    ck.eq(m2, s1, "the same map after the reload")

    # 4. One origin killed: the others' keys stay, the killed one's keys
    # move the same way on every connection.
    victim = origins[1]
    victim.kill()
    victim.wait(5)
    m3 = run_map(port, 4)
    ck.eq([k for k, v in m3.items() if len(v) != 1], [],
          "after the kill, every key still on one server across connections")
    s3 = single(m3)
    stayed = [k for k, v in s1.items() if v != "o2" and s3.get(k) != v]
    ck.eq(stayed, [], "keys of the 3 live servers did not move")
    moved = [k for k, v in s1.items() if v == "o2"]
    ck.check(len(moved) > 0 and all(s3.get(k) not in (None, "o2") for k in moved),
             "the %d keys of the killed server moved to live ones" % len(moved))
    ck.check(p.poll() is None, "the proxy is still running")
except Exception:
    env.dump_logs()
    raise
finally:
    env.close()
ck.finish()
