"""h2bridge in front of h2bridge-origin, driven by python3-h2 over TLS:
GET/HEAD/POST/PUT with bodies of 0 B, 1 KiB and 10 MiB (Content-Length and
chunked both ways), trailers both ways, 204/304, forwarding headers, and 100
concurrent streams on one connection with interleaved responses."""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
t = pl.Checker()
try:
    origin = env.origin("o1")
    proxy = env.proxy([origin.port], ["--workers", "2"])
    c = pl.H2Client(proxy.port)

    r = c.request("GET", "/")
    t.eq(r.status, 200, "GET /")
    t.eq(r.header("x-origin-id"), "o1", "x-origin-id")
    t.check(r.header("connection") is None and r.header("keep-alive") is None,
            "no hop-by-hop response fields")

    for n in (0, 1024, 10 * 1024 * 1024):
        want = pl.pattern(n)
        r = c.request("GET", "/bytes/%d" % n)
        t.eq((r.status, r.length), (200, n), "GET /bytes/%d" % n)
        t.check(bytes(r.body) == want, "GET /bytes/%d body bytes" % n)
        t.eq(r.header("content-length"), str(n), "content-length of /bytes/%d" % n)
        r = c.request("GET", "/chunked/%d" % n)
        t.eq((r.status, r.length), (200, n), "GET /chunked/%d" % n)
        t.check(bytes(r.body) == want, "GET /chunked/%d body bytes" % n)
        r = c.request("HEAD", "/bytes/%d" % n)
        t.eq((r.status, r.length, r.header("content-length")), (200, 0, str(n)), "HEAD /bytes/%d" % n)

    for method in ("POST", "PUT"):
        for n in (0, 1024, 10 * 1024 * 1024):
            body = os.urandom(n)
            # with content-length: forwarded with Content-Length
            r = c.request(method, "/echo", [("content-length", str(n))], body=body)
            t.eq((r.status, r.length), (200, n), "%s /echo %d with content-length" % (method, n))
            t.eq(r.sha.hexdigest(), hashlib.sha256(body).hexdigest(), "%s /echo %d sha" % (method, n))
            # without: forwarded chunked
            r = c.request(method, "/echo", body=body)
            t.eq((r.status, r.length), (200, n), "%s /echo %d chunked" % (method, n))
            t.eq(r.sha.hexdigest(), hashlib.sha256(body).hexdigest(), "%s /echo %d chunked sha" % (method, n))

    # Request trailers: a chunked request ending with trailers.
    sid = c.start("POST", "/echo", body=b"hello trailers", end=False)
    c.conn.send_headers(sid, [("x-req-trailer", "yes")], end_stream=True)
    c.flush()
    r = c.wait([sid])[0]
    t.eq((r.status, bytes(r.body)), (200, b"hello trailers"), "POST with request trailers")

    # Response trailers.
    r = c.request("GET", "/trailers?n=100000")
    tr = dict(r.trailers)
    t.eq((r.status, r.length), (200, 100000), "GET /trailers")
    t.eq(tr.get("x-body-sha256"), r.sha.hexdigest(), "trailer x-body-sha256 matches the body")
    t.eq(tr.get("x-origin-trailer"), "end", "trailer x-origin-trailer")

    for code in (204, 304, 404, 500):
        r = c.request("GET", "/status/%d" % code)
        t.eq(r.status, code, "GET /status/%d" % code)
        if code in (204, 304):
            t.eq(r.length, 0, "/status/%d has no body" % code)

    # What the backend received.
    r = c.request("GET", "/inspect", [("cookie", "a=1"), ("cookie", "b=2"),
                                      ("x-forwarded-proto", "spoofed")])
    info = json.loads(bytes(r.body))
    hdrs = [(k.lower(), v) for k, v in info["headers"]]
    t.eq([v for k, v in hdrs if k == "cookie"], ["a=1; b=2"], "cookie crumbs joined")
    t.eq([v for k, v in hdrs if k == "x-forwarded-for"], ["127.0.0.1"], "x-forwarded-for")
    t.eq([v for k, v in hdrs if k == "x-forwarded-proto"], ["https"], "x-forwarded-proto replaced")
    t.eq([v for k, v in hdrs if k == "host"], ["localhost"], "host from :authority")
    t.eq(info["version"], "HTTP/1.1", "backend request version")

    # Headers close to the limits (64 KiB lists and heads, 100 fields).
    big = [("x-big-%d" % i, "v" * 1000) for i in range(58)]
    r = c.request("GET", "/inspect", big)
    got = [k.lower() for k, v in json.loads(bytes(r.body))["headers"]] if r.status == 200 else []
    t.eq((r.status, sum(1 for k in got if k.startswith("x-big-"))), (200, 58),
         "request with 58 KiB of headers forwarded whole")
    r = c.request("GET", "/headers?n=60&size=1000")
    t.eq((r.status, sum(1 for k, v in r.headers if k.startswith("x-fill-"))), (200, 60),
         "response head of about 60 KiB")
    r = c.request("GET", "/headers?n=70&size=1000")
    t.eq(r.status, 502, "response head over limits.max_response_header_size -> 502")
    r = c.request("GET", "/headers?n=95&size=10")
    t.eq(r.status, 200, "response with 95 fields")
    r = c.request("GET", "/headers?n=120&size=10")
    t.eq(r.status, 502, "response over limits.max_header_count fields -> 502")

    # 100 concurrent streams, responses interleaved.
    sizes = [1000 + 1537 * i for i in range(100)]
    sids = [c.start("GET", "/bytes/%d" % n) for n in sizes]
    c.order = []
    rs = c.wait(sids)
    ok = all(r.status == 200 and bytes(r.body) == pl.pattern(n) for r, n in zip(rs, sizes))
    t.check(ok, "100 concurrent streams: every body exact")
    switches = sum(1 for a, b in zip(c.order, c.order[1:]) if a != b)
    t.check(switches > 100, "responses interleaved (%d stream switches in DATA order)" % switches)

    # Sequential requests reuse one keep-alive backend connection.
    a = json.loads(bytes(c.request("GET", "/inspect").body))
    b = json.loads(bytes(c.request("GET", "/inspect").body))
    t.eq((b["conn_id"], b["conn_request"]), (a["conn_id"], a["conn_request"] + 1),
         "backend connection reused")
    c.close()
except Exception as e:  # a crash is a failure, with the logs
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        for p in env.procs:
            print("---- %s" % p.logpath)
            print(env.log(p)[-12000:])
    env.close()
t.finish()
