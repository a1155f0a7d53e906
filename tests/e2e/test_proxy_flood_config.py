"""e2e: the http2 flood budgets of the configuration reach the engine.

Two proxies from YAML files: one with `ping_per_second: 5` (a bucket of 10),
one with the defaults (50/s, a bucket of 100). 40 PINGs sent at once must end
the first connection with GOAWAY(ENHANCE_YOUR_CALM) and leave the second one
serving requests."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import h2.events  # noqa: E402

ENHANCE_YOUR_CALM = 0xb


def start(env, origin, http2_yaml, name):
    port = pl.free_port()
    yaml = ("listeners:\n"
            "  - address: \"127.0.0.1:%d\"\n"
            "    tls:\n"
            "      certificates: [{cert: %s, key: %s}]\n"
            "%s"
            "upstreams:\n  o: {servers: [\"127.0.0.1:%d\"]}\n"
            "routes:\n  - {upstream: o}\n" % (port, env.cert, env.key, http2_yaml, origin.port))
    path = os.path.join(env.dir, name + ".yaml")
    with open(path, "w") as f:
        f.write(yaml)
    p = env.spawn([pl.BIN, "-c", path, "--workers", "1"], name)
    pl.wait_port(port, p, timeout=20)
    return port


def ping_flood(port, n):
    """Sends n PINGs at once; returns the GOAWAY error code, or None if the
    connection is still open (and answering) after the ACKs came back."""
    c = pl.H2Client(port, timeout=5.0)
    for i in range(n):
        c.conn.ping(i.to_bytes(8, "big"))
    c.flush()
    acks = 0
    deadline = time.time() + 5
    while time.time() < deadline and acks < n:
        try:
            data = c.sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            break
        for ev in c.conn.receive_data(data):
            if isinstance(ev, h2.events.ConnectionTerminated):
                return ev.error_code
            if isinstance(ev, h2.events.PingAckReceived):
                acks += 1
        c.flush()
    r = c.request("GET", "/bytes/10", deadline=10.0)
    return None if r.status == 200 else "no 200 after the pings: %r" % r.status


def main():
    pl.require_binaries()
    env = pl.Env()
    ck = pl.Checker()
    try:
        origin = env.origin("o1")
        strict = start(env, origin, "http2:\n  ping_per_second: 5\n", "strict")
        default = start(env, origin, "", "default")
        got = ping_flood(strict, 40)
        ck.eq(got, ENHANCE_YOUR_CALM, "40 PINGs against ping_per_second: 5 -> GOAWAY ENHANCE_YOUR_CALM")
        got = ping_flood(default, 40)
        ck.eq(got, None, "40 PINGs against the default budget are answered, requests still served")
    finally:
        env.close()
    ck.finish()


if __name__ == "__main__":
    main()
