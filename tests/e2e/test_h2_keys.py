"""e2e: what the proxy promises about HTTP/2 requests and forwarded fields,
each checked so that the check fails when the promise is broken.

- The SETTINGS frame the proxy sends has no SETTINGS_ENABLE_CONNECT_PROTOCOL
  (0x8, RFC 8441): extended CONNECT is not served, and a request with
  :protocol is then malformed (RFC 8441 §3): RST_STREAM(PROTOCOL_ERROR).
- limits.max_header_count applies to h2 requests: with the default 100, 100
  regular fields are forwarded, 101 get 431; a configured value likewise;
  far more (over twice the limit) get RST_STREAM(PROTOCOL_ERROR). It also
  applies to backend responses (502 past it).
- forwarded.via: the Via sent to the backend names the client's protocol,
  "2 h2bridge" for h2, "1.1 h2bridge" for HTTP/1.1 (RFC 9110 §7.6.3).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import h2.events  # noqa: E402

ENABLE_CONNECT_PROTOCOL = 0x8
PROTOCOL_ERROR = 0x1


class RawClient(pl.H2Client):
    """H2Client whose outbound headers are not validated by python-h2 (to
    send :protocol), and which keeps the proxy's SETTINGS."""

    h2_options = {"client_side": True, "validate_outbound_headers": False,
                  "normalize_outbound_headers": False}
    remote_settings = None

    def handle(self, ev):
        if isinstance(ev, h2.events.RemoteSettingsChanged) and self.remote_settings is None:
            self.remote_settings = {int(k): v.new_value for k, v in ev.changed_settings.items()}
        super().handle(ev)


def check_settings_and_extended_connect(env, proxy, c):
    cl = RawClient(proxy.port, timeout=10)
    while cl.remote_settings is None:
        cl.step()
    c.check(len(cl.remote_settings) > 0, "the proxy's SETTINGS frame was read")
    c.check(ENABLE_CONNECT_PROTOCOL not in cl.remote_settings,
            "SETTINGS has no ENABLE_CONNECT_PROTOCOL: %r" % cl.remote_settings)
    sid = cl.conn.get_next_available_stream_id()
    cl.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"),
                               (":scheme", "https"), (":authority", "localhost"),
                               (":path", "/chat"), ("sec-websocket-version", "13")])
    cl.streams[sid] = pl.Response()
    cl.flush()
    r = cl.wait([sid], deadline=10)[0]
    c.eq((r.status, r.reset), (None, PROTOCOL_ERROR),
         "extended CONNECT without the setting: (status, RST_STREAM code)")
    r = cl.request("GET", "/bytes/3", deadline=10)
    c.eq(r.status, 200, "the connection still serves requests after that")
    cl.close()


def fields(n):
    return [("x-f%d" % i, "v") for i in range(n)]


def check_header_count(env, proxy, c, limit):
    cl = pl.H2Client(proxy.port, timeout=10)
    r = cl.request("GET", "/bytes/3", headers=fields(limit), deadline=10)
    c.eq(r.status, 200, "max_header_count %d: %d regular fields are forwarded" % (limit, limit))
    r = cl.request("GET", "/bytes/3", headers=fields(limit + 1), deadline=10)
    c.eq(r.status, 431, "max_header_count %d: %d fields get 431" % (limit, limit + 1))
    r = cl.request("GET", "/bytes/3", headers=fields(limit + 20), deadline=10)
    c.eq(r.status, 431, "max_header_count %d: %d fields get 431" % (limit, limit + 20))
    r = cl.request("GET", "/bytes/3", headers=fields(2 * limit + 10), deadline=10)
    c.eq((r.status, r.reset), (None, PROTOCOL_ERROR),
         "max_header_count %d: %d fields: RST_STREAM(PROTOCOL_ERROR)" % (limit, 2 * limit + 10))
    r = cl.request("GET", "/bytes/3", deadline=10)
    c.eq(r.status, 200, "max_header_count %d: the connection still serves" % limit)
    cl.close()
    c.check("over limits.max_header_count (%d) → 431" % limit in env.log(proxy),
            "max_header_count %d: the 431 is logged" % limit)


def inspect_h1(port):
    s = pl.tls_connect(port, alpn=["http/1.1"])
    s.sendall(b"GET /inspect HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    return json.loads(pl.recv_all(s).split(b"\r\n\r\n", 1)[1])


def via_of(inspect):
    return [v for k, v in inspect["headers"] if k.lower() == "via"]


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = env.proxy([origin.port])
        check_settings_and_extended_connect(env, p, c)
        check_header_count(env, p, c, 100)
        env.stop(p)
        path = os.path.join(env.dir, "keys.yaml")
        with open(path, "w") as f:
            f.write("limits: {max_header_count: 20}\nforwarded: {via: true}\n")
        q = env.proxy([origin.port], config=path)
        check_header_count(env, q, c, 20)
        cl = pl.H2Client(q.port, timeout=10)
        r = cl.request("GET", "/headers?n=10&size=8", deadline=10)
        c.eq(r.status, 200, "max_header_count 20: a response with 10 X-Fill fields passes")
        r = cl.request("GET", "/headers?n=30&size=8", deadline=10)
        c.eq(r.status, 502, "max_header_count 20: a response with 30 fields is a 502")
        r = cl.request("GET", "/inspect", deadline=10)
        c.eq(via_of(json.loads(bytes(r.body))), ["2 h2bridge"], "Via from an h2 client")
        cl.close()
        c.eq(via_of(inspect_h1(q.port)), ["1.1 h2bridge"], "Via from an HTTP/1.1 client")
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
