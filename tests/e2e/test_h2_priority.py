"""e2e: RFC 7540 priorities through the proxy (python-h2 client, demo origin).

A client that sends RFC 7540 signals gets its DATA in the order of the
dependency tree (docs/http2.md, response scheduling). The client opens its
streams with a window of 0, waits until the backends' bodies are in the
proxy, then opens every stream's window at once (SETTINGS_INITIAL_WINDOW_SIZE)
and records the order of the DATA frames:

- Chromium's chain: 1 (HIGHEST) <- 5 (MEDIUM) <- 3 (LOWEST), each request
  depending exclusively on the last of the same or higher priority: the
  rest comes out 1, then 5, then 3, never going back.
- a PRIORITY frame then makes 3 depend exclusively on stream 0 (3 above 1
  above 5): 3, 1, 5.
- a client that sends a priority header (RFC 9218) is scheduled by
  urgency: u=0 before u=7 whatever RFC 7540 dependency it also sends.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import h2.settings  # noqa: E402

BODY = 49152  # fits a stream's buffer in the proxy (limits.stream_buffer_size 64 KiB)


def runs(order):
    out = []
    for sid in order:
        if not out or out[-1] != sid:
            out.append(sid)
    return out


def request(cl, sid, dep, weight, extra=()):
    cl.conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                               (":authority", "localhost"), (":path", "/bytes/%d" % BODY)]
                         + list(extra),
                         end_stream=True, priority_weight=weight, priority_depends_on=dep,
                         priority_exclusive=True)
    cl.streams[sid] = pl.Response()


def order_after_open(cl, sids, c, what, before_open=None):
    """Waits for the response heads (no DATA: the windows are 0) and for the
    bodies to reach the proxy, opens the windows, and returns the order of
    the DATA frames."""
    cl.flush()
    end = time.time() + 10
    while any(cl.streams[s].status is None for s in sids):
        if time.time() > end:
            c.check(False, "%s: response heads arrived" % what)
            return []
        cl.step()
    time.sleep(1.0)  # every backend body is in the proxy by now
    c.eq(cl.order, [], "%s: no DATA while the windows are 0" % what)
    if before_open:
        before_open()
    cl.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
    cl.flush()
    cl.wait(sids, deadline=10)
    for s in sids:
        c.eq(cl.streams[s].length, BODY, "%s: stream %d complete" % (what, s))
    return runs(cl.order)


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = env.proxy([origin.port])

        # Chromium's chain: 1 (HIGHEST, 256) <- 5 (MEDIUM, 220) <- 3 (LOWEST, 147).
        cl = pl.H2Client(p.port, window=0, timeout=10)
        for sid, dep, weight in ((1, 0, 256), (3, 1, 147), (5, 1, 220)):
            request(cl, sid, dep, weight)
        c.eq(order_after_open(cl, [1, 3, 5], c, "chain"), [1, 5, 3],
             "chain 1 <- 5 <- 3: DATA in chain order")
        cl.close()

        # The same, then a PRIORITY frame puts 3 alone under the root.
        cl = pl.H2Client(p.port, window=0, timeout=10)
        for sid, dep, weight in ((1, 0, 256), (3, 1, 147), (5, 1, 220)):
            request(cl, sid, dep, weight)

        def reprioritise():
            cl.conn.prioritize(3, weight=256, depends_on=0, exclusive=True)
            cl.flush()
        c.eq(order_after_open(cl, [1, 3, 5], c, "priority frame", reprioritise), [3, 1, 5],
             "3 made the root's only child: DATA in order 3, 1, 5")
        cl.close()

        # RFC 9218 wins: urgencies decide even with RFC 7540 dependencies.
        cl = pl.H2Client(p.port, window=0, timeout=10)
        request(cl, 1, 0, 16, [("priority", "u=7")])
        request(cl, 3, 1, 16, [("priority", "u=0")])
        c.eq(order_after_open(cl, [1, 3], c, "urgency"), [3, 1],
             "u=0 (stream 3, a child of 1 by RFC 7540) before u=7")
        cl.close()
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
