"""e2e: TLS 1.3 0-RTT (listeners[].tls.early_data, RFC 8470), with a real
client sending early data: openssl s_client -sess_out, then -sess_in with
-early_data FILE (HTTP/1.1), and for HTTP/2 an h2 preface, SETTINGS and a
HEADERS frame (made with python3-h2) as the early data.

- early_data off (the default): the early data is rejected, and the same
  request sent after the handshake is served, without Early-Data.
- on, HTTP/1.1: a GET in early data reaches the backend with Early-Data: 1;
  the request after the handshake has none; a POST with a body in early
  data is answered 425 Too Early by the proxy; a GET whose client sent
  Early-Data: 1 itself gets the backend's 425 back (RFC 8470 §5.2 MUST).
- on, a backend that answers 425 to requests with Early-Data (after a
  pause, so the handshake has finished): the proxy retries without
  Early-Data and the client gets the 200.
- on, HTTP/2: a GET in early data reaches the backend with Early-Data: 1.
- h2bridge_tls_early_data_requests_total counts forwarded, too_early and
  retried.
"""
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402

CLOSE_REQ = b"GET /inspect HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def start(env, backend_port, early, keys=None):
    port, admin = pl.free_port(), pl.free_port()
    path = os.path.join(env.dir, "early-%d.yaml" % port)
    with open(path, "w") as f:
        f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n"
                "    tls: {certificates: [{cert: %s, key: %s}]%s%s}\n"
                "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                "routes: [{upstream: app}]\n"
                "admin: {address: \"127.0.0.1:%d\"}\n"
                % (port, env.cert, env.key, ", early_data: true" if early else "",
                   ", ticket_key_file: %s" % keys if keys else "", backend_port, admin))
    p = env.spawn([pl.BIN, "-c", path], "proxy-%d" % port)
    pl.wait_port(port, p, 20)
    p.port, p.admin = port, admin
    return p


def s_client(port, alpn, extra, stdin=b"", quiet=False):
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3", "-alpn", alpn,
            "-servername", "localhost", "-ign_eof"] + (["-quiet"] if quiet else []) + extra
    r = subprocess.run(argv, input=stdin, capture_output=True, timeout=20)
    return r.stdout


def ticket(env, port, alpn):
    """A session (with its ticket) from one full handshake."""
    sess = os.path.join(env.dir, "sess-%d-%s.pem" % (port, alpn.replace("/", "")))
    if alpn == "h2":  # a preface and a GOAWAY: the proxy closes at once
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.close_connection()
        stdin = conn.data_to_send()
    else:
        stdin = CLOSE_REQ
    s_client(port, alpn, ["-sess_out", sess], stdin)
    return sess


def early_h1(env, port, early_bytes, stdin=CLOSE_REQ, ticket_port=None):
    sess = ticket(env, ticket_port or port, "http/1.1")
    ed = os.path.join(env.dir, "early-%d" % time.monotonic_ns())
    with open(ed, "wb") as f:
        f.write(early_bytes)
    return s_client(port, "http/1.1", ["-sess_in", sess, "-early_data", ed], stdin).decode(
        "utf-8", "replace")


def inspected(out):
    """The header lists of the /inspect bodies in s_client's output."""
    return [{k.lower(): v for k, v in json.loads(m.group(0))["headers"]}
            for m in re.finditer(r'\{"method".*\}', out)]


def metric(p, outcome):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % p.admin, timeout=5).read()
    m = re.search(rb'^h2bridge_tls_early_data_requests_total\{listener="[^"]*",outcome="%s"\} '
                  rb'(\d+)$' % outcome.encode(), body, re.M)
    return int(m.group(1)) if m else None


class TooEarly(http.server.BaseHTTPRequestHandler):
    """425 (after 0.3 s) to a request with Early-Data, else 200."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_GET(self):
        early = self.headers.get("Early-Data")
        TooEarly.seen.append(early)
        if early:
            time.sleep(0.3)
        body = b"too early" if early else b"served-after-handshake"
        self.send_response(425 if early else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def h2_early(env, port):
    """An h2 GET /inspect sent as early data; returns (s_client's early
    data line, the response headers and body)."""
    sess = ticket(env, port, "h2")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":scheme", "https"), (":authority", "localhost"),
                          (":path", "/inspect")], end_stream=True)
    ed = os.path.join(env.dir, "early-h2")
    with open(ed, "wb") as f:
        f.write(conn.data_to_send())
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3", "-alpn", "h2",
            "-servername", "localhost", "-quiet", "-sess_in", sess, "-early_data", ed]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    status, body, deadline = None, b"", time.time() + 15
    try:
        while time.time() < deadline:
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers).get(b":status")
                elif isinstance(ev, h2.events.DataReceived):
                    body += ev.data
                elif isinstance(ev, h2.events.StreamEnded):
                    return status, body
    finally:
        proc.kill()
        proc.wait(5)
    return status, body


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    srv = None
    try:
        origin = env.origin()
        # Two listeners sharing ticket keys, one with early data on: its
        # tickets allow early data, which the other one must refuse.
        keys = os.path.join(env.dir, "ticket.key")
        with open(keys, "wb") as f:
            f.write(os.urandom(48))
        on = start(env, origin.port, early=True, keys=keys)
        off = start(env, origin.port, early=False, keys=keys)
        out = early_h1(env, off.port, CLOSE_REQ.replace(b"Connection: close\r\n", b""),
                       ticket_port=on.port)
        c.check("Reused, TLSv1.3" in out, "off: the session made with early data on resumes")
        c.check("Early data was rejected" in out, "early_data off: early data rejected")
        hs = inspected(out)
        c.eq(len(hs), 1, "off: the request sent after the handshake is served (only it)")
        c.check(all("early-data" not in h for h in hs), "off: no Early-Data to the backend")
        c.eq(metric(off, "forwarded"), 0, "off: nothing counted")

        out = early_h1(env, on.port, CLOSE_REQ.replace(b"Connection: close\r\n", b""))
        c.check("Early data was accepted" in out, "early_data on: early data accepted")
        hs = inspected(out)
        c.eq(len(hs), 2, "on: the early request and the one after the handshake are served")
        c.eq(hs[0].get("early-data") if hs else None, "1",
             "the GET from early data reaches the backend with Early-Data: 1")
        c.check(len(hs) == 2 and "early-data" not in hs[1],
                "the request after the handshake has no Early-Data")
        post = (b"POST /inspect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello")
        out = early_h1(env, on.port, post)
        c.check("Early data was accepted" in out and "HTTP/1.1 425 Too Early" in out,
                "a POST with a body in early data is answered 425 Too Early")
        c.check(env.wait_log(on, "POST with a body in TLS early data → 425"),
                "the 425 is logged")
        c.eq(metric(on, "too_early"), 1, "counted too_early")
        c.eq(metric(on, "forwarded"), 1, "counted forwarded")

        status, body = h2_early(env, on.port)
        c.eq(status, b"200", "h2: the GET in early data is served")
        hdrs = {k.lower(): v for k, v in json.loads(body)["headers"]} if body else {}
        c.eq(hdrs.get("early-data"), "1", "h2: the backend gets Early-Data: 1")
        c.eq(metric(on, "forwarded"), 2, "h2: counted forwarded")

        TooEarly.seen = []
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TooEarly)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        te = start(env, srv.server_address[1], early=True)
        out = early_h1(env, te.port, b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        c.check("Early data was accepted" in out, "425 backend: early data accepted")
        c.eq(out.count("served-after-handshake"), 2,
             "the backend's 425 is retried after the handshake: the client gets a 200")
        c.check("HTTP/1.1 425" not in out, "and never sees the 425")
        c.eq(TooEarly.seen[1:3], ["1", None],  # [0]: the request that got the ticket
             "the backend saw Early-Data: 1, then the retry without it")
        c.eq(metric(te, "retried"), 1, "counted retried")
        out = early_h1(env, te.port, b"GET /x HTTP/1.1\r\nHost: localhost\r\nEarly-Data: 1\r\n\r\n")
        c.check("HTTP/1.1 425 Too Early" in out,
                "a client's own Early-Data: 1 gets the backend's 425 (RFC 8470 §5.2)")
    finally:
        if srv:
            srv.shutdown()
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
