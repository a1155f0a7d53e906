"""e2e: request ids and W3C traceparent (request_id.* in the configuration),
as the backend sees them (the origin's /inspect echoes what it received).

- Default: every request reaches the backend with exactly one
  x-request-id of 32 lowercase hex digits, a new one per request; a
  client's own x-request-id is replaced (the client is not trusted); a
  client's traceparent and tracestate pass untouched; none is added.
- trust + generate + a header name of our own: a trusted client's id is
  kept (and an unacceptable one, with a space, replaced); a missing or
  malformed traceparent is replaced by a valid one whose trace id is the
  request id, and the client's tracestate is then dropped; a valid one
  passes with its tracestate. HTTP/1.1 clients get the same.
- enabled: false: nothing is added and the client's field passes as is.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

HEX32 = re.compile(r"^[0-9a-f]{32}$")
TP = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")
VALID_TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def seen(cl, headers=()):
    r = cl.request("GET", "/inspect", headers=list(headers), deadline=10)
    assert r.status == 200, r.status
    return json.loads(bytes(r.body))["headers"]


def values(hs, name):
    return [v for k, v in hs if k.lower() == name]


def seen_h1(port, extra):
    s = pl.tls_connect(port, alpn=["http/1.1"])
    s.sendall(b"GET /inspect HTTP/1.1\r\nHost: localhost\r\n" + extra +
              b"Connection: close\r\n\r\n")
    return json.loads(pl.recv_all(s).split(b"\r\n\r\n", 1)[1])["headers"]


def check_default(p, c):
    cl = pl.H2Client(p.port, timeout=10)
    a = values(seen(cl), "x-request-id")
    b = values(seen(cl), "x-request-id")
    c.check(len(a) == 1 and HEX32.match(a[0]), "default: one 32-hex x-request-id: %r" % a)
    c.check(len(b) == 1 and b != a, "default: a new id per request: %r then %r" % (a, b))
    hs = seen(cl, [("x-request-id", "mine"), ("traceparent", "garbage"), ("tracestate", "k=v")])
    ids = values(hs, "x-request-id")
    c.check(len(ids) == 1 and ids[0] != "mine" and HEX32.match(ids[0]),
            "default: an untrusted client's id is replaced: %r" % ids)
    c.eq(values(hs, "traceparent"), ["garbage"], "default (pass): traceparent untouched")
    c.eq(values(hs, "tracestate"), ["k=v"], "default (pass): tracestate untouched")
    c.eq(values(seen(cl), "traceparent"), [], "default (pass): no traceparent is added")
    cl.close()
    ids = values(seen_h1(p.port, b"X-Request-Id: mine\r\n"), "x-request-id")
    c.check(len(ids) == 1 and ids[0] != "mine" and HEX32.match(ids[0]),
            "default, HTTP/1.1: the client's id is replaced: %r" % ids)


def check_trust_generate(p, c):
    cl = pl.H2Client(p.port, timeout=10)
    hs = seen(cl, [("x-correlation-id", "abc-123"), ("x-request-id", "other")])
    c.eq(values(hs, "x-correlation-id"), ["abc-123"], "trusted client: its id is kept")
    c.eq(values(hs, "x-request-id"), ["other"], "another header name is left alone")
    hs = seen(cl, [("x-correlation-id", "has space")])
    ids = values(hs, "x-correlation-id")
    c.check(len(ids) == 1 and HEX32.match(ids[0]),
            "trusted client, unacceptable id: replaced by a new one: %r" % ids)
    tp = values(hs, "traceparent")
    m = TP.match(tp[0]) if len(tp) == 1 else None
    c.check(m is not None, "generate: a missing traceparent is made: %r" % tp)
    c.check(m is not None and m.group(1) == ids[0],
            "generate: its trace id is the request id (%r, %r)" % (tp, ids))
    hs = seen(cl, [("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
                   ("tracestate", "k=v")])
    tp = values(hs, "traceparent")
    c.check(len(tp) == 1 and TP.match(tp[0]) and not tp[0].startswith("00-0000"),
            "generate: an invalid traceparent (zero trace id) is replaced: %r" % tp)
    c.eq(values(hs, "tracestate"), [], "generate: the old tracestate goes with it")
    hs = seen(cl, [("traceparent", VALID_TP), ("tracestate", "k=v")])
    c.eq(values(hs, "traceparent"), [VALID_TP], "generate: a valid traceparent passes")
    c.eq(values(hs, "tracestate"), ["k=v"], "generate: with its tracestate")
    hs = seen(cl, [("x-correlation-id", "0123456789abcdef0123456789abcdef")])
    c.eq(TP.match(values(hs, "traceparent")[0]).group(1), "0123456789abcdef0123456789abcdef",
         "generate: a trusted client's hex id becomes the trace id")
    cl.close()
    hs = seen_h1(p.port, b"X-Correlation-Id: from-h1\r\n")
    c.eq(values(hs, "x-correlation-id"), ["from-h1"], "HTTP/1.1: a trusted id is kept")
    c.eq(len(values(hs, "traceparent")), 1, "HTTP/1.1: a traceparent is made")


def check_disabled(p, c):
    cl = pl.H2Client(p.port, timeout=10)
    c.eq(values(seen(cl), "x-request-id"), [], "enabled: false: no id is added")
    c.eq(values(seen(cl, [("x-request-id", "mine")]), "x-request-id"), ["mine"],
         "enabled: false: the client's field passes as any other")
    cl.close()


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = env.proxy([origin.port])
        check_default(p, c)
        env.stop(p)
        path = os.path.join(env.dir, "rid.yaml")
        with open(path, "w") as f:
            f.write("request_id: {header: X-Correlation-Id, trust: [127.0.0.0/8],"
                    " traceparent: generate}\n")
        p = env.proxy([origin.port], config=path)
        check_trust_generate(p, c)
        env.stop(p)
        with open(path, "w") as f:
            f.write("request_id: {enabled: false}\n")
        p = env.proxy([origin.port], config=path)
        check_disabled(p, c)
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
