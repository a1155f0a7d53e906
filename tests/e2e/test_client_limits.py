"""e2e: limits per client address (clients.*), across connections.

- clients.max_connections 3: a fourth connection from the same address is
  closed at once (logged, counted in h2bridge_client_limited_total), and
  once one closes a new one is served.
- clients.requests_per_second 5 with burst 5: ten requests at once get
  five 200s and five 429s; the budget is the address's, shared by its
  connections; a second later requests pass again.
- clients.exempt: an exempt address is not limited.
- Behind a balancer (listeners[].proxy_protocol): the limit applies to the
  address the PROXY header names, not to the balancer's.
"""
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
from test_proxy_protocol import PPClient  # noqa: E402


def start(env, origin, clients, extra=""):
    port, admin = pl.free_port(), pl.free_port()
    path = os.path.join(env.dir, "limits-%d.yaml" % port)
    with open(path, "w") as f:
        f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n%s"
                "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                "routes: [{upstream: app}]\n"
                "admin: {address: \"127.0.0.1:%d\"}\n"
                "clients: %s\n" % (port, extra, env.cert, env.key, origin.port, admin, clients))
    p = env.spawn([pl.BIN, "-c", path], "proxy-%d" % port)
    pl.wait_port(port, p, 20)
    p.port, p.admin = port, admin
    return p


def refused(port):
    """True when a new TLS connection is closed without being served."""
    try:
        cl = pl.H2Client(port, timeout=5)
        r = cl.request("GET", "/bytes/1", deadline=5)
        cl.close()
        return r.status is None
    except (OSError, AssertionError, ValueError):
        return True


def metric(p, limit):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % p.admin, timeout=5).read()
    m = re.search(rb'^h2bridge_client_limited_total\{listener="[^"]*",limit="%s"\} (\d+)$'
                  % limit.encode(), body, re.M)
    return int(m.group(1)) if m else None


def connections(env, p, c):
    held = [pl.H2Client(p.port, timeout=10) for _ in range(3)]
    for i, cl in enumerate(held):
        c.eq(cl.request("GET", "/bytes/1", deadline=5).status, 200, "connection %d served" % i)
    c.check(refused(p.port), "a fourth connection from the address is refused")
    c.check(env.wait_log(p, "over clients.max_connections (3 open from this address), closed"),
            "the refusal is logged")
    held.pop().close()
    time.sleep(0.3)
    cl = pl.H2Client(p.port, timeout=10)
    c.eq(cl.request("GET", "/bytes/1", deadline=5).status, 200, "after one closed, a new one")
    held.append(cl)
    c.check((metric(p, "connections") or 0) >= 1, "h2bridge_client_limited_total{connections}")
    return held


def rate(env, p, c, held):
    a, b = held[0], held[1]
    time.sleep(1.2)  # the requests above used part of the burst: let it refill
    sids = [a.start("GET", "/bytes/1") for _ in range(6)]
    sids_b = [b.start("GET", "/bytes/1") for _ in range(4)]
    st = [r.status for r in a.wait(sids, deadline=10)] + \
         [r.status for r in b.wait(sids_b, deadline=10)]
    c.eq((st.count(200), st.count(429)), (5, 5),
         "10 requests at once on two connections, 5/s burst 5: %r" % st)
    c.eq(metric(p, "requests"), 5, "h2bridge_client_limited_total{requests}")
    time.sleep(1.1)
    st = [a.request("GET", "/bytes/1", deadline=5).status for _ in range(4)]
    c.eq(st, [200] * 4, "a second later: 5 more fit")


def exempt(env, origin, c):
    p = start(env, origin, "{max_connections: 1, exempt: [127.0.0.1/32]}")
    held = [pl.H2Client(p.port, timeout=10) for _ in range(3)]
    st = [cl.request("GET", "/bytes/1", deadline=5).status for cl in held]
    c.eq(st, [200, 200, 200], "an exempt address: 3 connections with max_connections 1")
    for cl in held:
        cl.close()


def behind_balancer(env, origin, c):
    p = start(env, origin, "{max_connections: 1}", "    proxy_protocol: [127.0.0.1/32]\n")
    one = PPClient(p.port, b"PROXY TCP4 203.0.113.1 10.0.0.1 1000 443\r\n")
    two = PPClient(p.port, b"PROXY TCP4 203.0.113.2 10.0.0.1 1000 443\r\n")
    st = [cl.request("GET", "/bytes/1", deadline=5).status for cl in (one, two)]
    c.eq(st, [200, 200], "two clients through one balancer, max_connections 1: both served")
    try:
        three = PPClient(p.port, b"PROXY TCP4 203.0.113.1 10.0.0.1 1001 443\r\n")
        r = three.request("GET", "/bytes/1", deadline=5)
        again = r.status is None
    except (OSError, AssertionError, ValueError):
        again = True
    c.check(again, "a second connection of 203.0.113.1 (via the balancer) is refused")
    one.close()
    two.close()


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = start(env, origin, "{max_connections: 3, requests_per_second: 5, burst: 5}")
        held = connections(env, p, c)
        rate(env, p, c, held)
        for cl in held:
            cl.close()
        exempt(env, origin, c)
        behind_balancer(env, origin, c)
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
