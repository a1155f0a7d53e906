"""e2e: what a client's own X-Forwarded-For is worth
(forwarded.x_forwarded_for_mode, forwarded.trusted).

- append (default): kept, the client's address appended.
- replace: dropped; the backend sees the client's address only.
- trust, the client in forwarded.trusted (a proxy in front): kept and
  appended, its X-Forwarded-Proto and X-Request-Id kept, and the access
  log's client_addr is the rightmost untrusted address of its
  X-Forwarded-For.
- trust, the client not in forwarded.trusted: as replace; its
  X-Forwarded-Proto and X-Request-Id are replaced too.
- trust without forwarded.trusted is a configuration error.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

SENT = [("x-forwarded-for", "198.51.100.1, 203.0.113.9"), ("x-forwarded-proto", "http"),
        ("x-request-id", "from-the-proxy-in-front")]


def seen(p):
    cl = pl.H2Client(p.port, timeout=10)
    r = cl.request("GET", "/inspect", headers=SENT, deadline=10)
    cl.close()
    hs = {}
    for k, v in json.loads(bytes(r.body))["headers"]:
        hs.setdefault(k.lower(), []).append(v)
    return hs


def proxy(env, origin, forwarded, log):
    path = os.path.join(env.dir, "xff-%s.yaml" % log)
    with open(path, "w") as f:
        f.write("forwarded: %s\nlogging: {access_log: %s, access_log_format: json,"
                " access_log_flush: 50ms}\n" % (forwarded, os.path.join(env.dir, log)))
    return env.proxy([origin.port], config=path)


def last_client(env, log):
    path = os.path.join(env.dir, log)
    for _ in range(60):
        if os.path.exists(path) and open(path).read().strip():
            break
        time.sleep(0.05)
    return json.loads(open(path).read().strip().splitlines()[-1])["client_addr"]


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = proxy(env, origin, "{}", "append.log")
        hs = seen(p)
        c.eq(hs.get("x-forwarded-for"), ["198.51.100.1, 203.0.113.9, 127.0.0.1"], "append")
        c.eq(hs.get("x-forwarded-proto"), ["https"], "append: our X-Forwarded-Proto")
        env.stop(p)
        p = proxy(env, origin, "{x_forwarded_for_mode: replace}", "replace.log")
        c.eq(seen(p).get("x-forwarded-for"), ["127.0.0.1"], "replace")
        env.stop(p)
        p = proxy(env, origin, "{x_forwarded_for_mode: trust, trusted: [127.0.0.0/8]}",
                  "trusted.log")
        hs = seen(p)
        c.eq(hs.get("x-forwarded-for"), ["198.51.100.1, 203.0.113.9, 127.0.0.1"],
             "trust, a trusted proxy: kept and appended")
        c.eq(hs.get("x-forwarded-proto"), ["http"], "trust: its X-Forwarded-Proto kept")
        c.eq(hs.get("x-request-id"), ["from-the-proxy-in-front"], "trust: its request id kept")
        c.eq(last_client(env, "trusted.log"), "203.0.113.9",
             "the access log's client: the rightmost untrusted address")
        env.stop(p)
        p = proxy(env, origin, "{x_forwarded_for_mode: trust, trusted: [10.0.0.0/8]}",
                  "untrusted.log")
        hs = seen(p)
        c.eq(hs.get("x-forwarded-for"), ["127.0.0.1"], "trust, an untrusted client: dropped")
        c.eq(hs.get("x-forwarded-proto"), ["https"], "its X-Forwarded-Proto replaced")
        rid = hs.get("x-request-id") or [""]
        c.check(re.fullmatch(r"[0-9a-f]{32}", rid[0]) is not None, "its request id replaced")
        c.eq(last_client(env, "untrusted.log"), "127.0.0.1", "the access log's client: the peer")
        env.stop(p)
        bad = os.path.join(env.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("listeners: [{address: \"127.0.0.1:1\"}]\n"
                    "upstreams: {u: {servers: [\"127.0.0.1:2\"]}}\nroutes: [{upstream: u}]\n"
                    "forwarded: {x_forwarded_for_mode: trust}\n")
        r = subprocess.run([pl.BIN, "-t", "-c", bad], capture_output=True, text=True)
        c.check(r.returncode == 1 and "expected forwarded.trusted" in r.stdout + r.stderr,
                "-t: trust without trusted: %r" % (r.stdout + r.stderr))
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
