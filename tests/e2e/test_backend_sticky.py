"""e2e (issue 16, sticky sessions): upstreams.*.sticky_cookie. Three real
origins, round-robin, 2 workers. The first response sets the cookie (its
attributes as configured; its value an opaque id, not the address); the
next requests that carry it, on new connections (either worker), all go to
the same server and get no new cookie. Each server has one stable value. A
cookie naming no server is replaced. The server is killed (SIGKILL): a
request with its cookie is answered by another server with a new cookie,
which then sticks. After a reload (SIGHUP) the cookies still pin.
Every wait is bounded; only the processes started here are stopped.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()


def get(port, cookie=None):
    c = pl.H2Client(port, timeout=10)
    r = c.request("GET", "/bytes/1", headers=[("cookie", cookie)] if cookie else [])
    c.close()
    return r.status, r.header("x-origin-id"), r.header("set-cookie")


def value(set_cookie):
    m = re.match(r"srv=([0-9a-f]{16}); ", set_cookie or "")
    return m.group(1) if m else None


try:
    origins = [env.origin("o%d" % i) for i in range(1, 4)]
    port = pl.free_port()
    path = os.path.join(env.dir, "h2bridge.yaml")
    with open(path, "w") as f:
        f.write("workers: 2\n"
                "listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "upstreams:\n"
                "  u:\n"
                "    servers: [%s]\n"
                "    sticky_cookie: {name: srv, max_age: 1h, secure: true, same_site: strict}\n"
                "routes:\n"
                "  - {upstream: u}\n"
                % (port, env.cert, env.key,
                   ", ".join('"127.0.0.1:%d"' % o.port for o in origins)))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)

    # 1. The first response sets the cookie, as configured, opaque.
    st, first, sc = get(port)
    ck.eq(st, 200, "first request")
    ck.check(re.fullmatch(r"srv=[0-9a-f]{16}; Path=/; Max-Age=3600; HttpOnly; Secure; "
                          r"SameSite=Strict", sc or "") is not None, "the Set-Cookie: %r" % sc)
    ck.check("127.0.0.1" not in sc and all(str(o.port) not in sc for o in origins),
             "no address or port in the cookie")
    cookie = "other=1; srv=%s" % value(sc)

    # 2. With it, 12 new connections all reach the same server, no new cookie.
    got = [get(port, cookie) for _ in range(12)]
    ck.eq({g[1] for g in got}, {first}, "the cookie pins every request to %s" % first)
    ck.eq([g[2] for g in got if g[2]], [], "no Set-Cookie while the cookie is right")

    # 3. One stable value per server: without a cookie, round-robin visits
    # all three, each always with its own value.
    ids = {}
    for _ in range(12):
        _, who, sc2 = get(port)
        ids.setdefault(who, set()).add(value(sc2))
    ck.eq(sorted(ids), ["o1", "o2", "o3"], "round-robin without a cookie")
    ck.check(all(len(v) == 1 and None not in v for v in ids.values()),
             "one cookie value per server: %s" % ids)
    ck.eq(len({next(iter(v)) for v in ids.values()}), 3, "three distinct values")
    ck.eq(ids.get(first), {value(sc)}, "the same value as the first response's")

    # 4. A value no server has is replaced.
    _, who, sc3 = get(port, "srv=0123456789abcdef")
    ck.eq(value(sc3), next(iter(ids[who])), "a stale value gets the answering server's cookie")

    # 5. The server is killed: another one answers, with a new cookie, which sticks.
    victim = origins[int(first[1]) - 1]
    victim.kill()
    victim.wait(5)
    st, second, sc4 = get(port, cookie)
    ck.eq(st, 200, "the request with the dead server's cookie is served")
    ck.check(second != first and second is not None, "by another server (%s)" % second)
    ck.eq(value(sc4), next(iter(ids.get(second, {None}))), "with that server's cookie")
    cookie2 = "srv=%s" % value(sc4)
    got = [get(port, cookie2) for _ in range(8)]
    ck.eq({g[1] for g in got}, {second}, "the new cookie pins to %s" % second)
    ck.eq([g[2] for g in got if g[2]], [], "and sets nothing more")

    # 6. A reload keeps the values (a hash of the upstream and server names).
    p.send_signal(signal.SIGHUP)
    ck.check(env.wait_log(p, "generation 2 serves new connections", 10), "the reload happened")
    time.sleep(0.3)
    got = [get(port, cookie2) for _ in range(6)]
    ck.eq({g[1] for g in got}, {second}, "after the reload, still %s" % second)
    ck.eq([g[2] for g in got if g[2]], [], "and no new cookie")
    ck.check(p.poll() is None, "the proxy is still running")
except Exception:
    env.dump_logs()
    raise
finally:
    env.close()
ck.finish()
