"""e2e (issue 15): the access log has exactly one line per request, for
every way a request ends: complete (h2 over TLS, h2c, HTTP/1.1, HTTP/1.0),
client reset (RST_STREAM mid-response), backend error (502, backend down),
timeout (504), connection closed by the client mid-request, and local
answers (404 no route, 421, 413, 431, 400 malformed HTTP/1.1). The json
format is parsed and every field checked; a SIGHUP switches to the combined
format at a new path (checked by regex); a SIGUSR1 reopen during an h2load
run (the file renamed mid-run, as logrotate does) loses and splits no line:
the old and the new file together hold exactly one whole line per request.
Only processes started here are stopped."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
if not shutil.which("h2load"):
    pl.skip("h2load not installed (nghttp2-client)")
env = pl.Env()
t = pl.Checker()

FIELDS = ["time", "client_addr", "client_port", "listener", "tls_version", "tls_cipher", "sni",
          "protocol", "stream_id", "method", "authority", "path", "status",
          "request_body_bytes", "response_body_bytes", "bytes_received", "bytes_sent",
          "duration", "upstream", "backend", "connect_time", "first_byte_time", "retries",
          "end_reason", "end_detail", "request_id", "traceparent", "user_agent", "referer",
          "tunnel", "pushed_by"]
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def lines_of(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    t.check(data == b"" or data.endswith(b"\n"), "%s ends with a whole line" % path)
    return data.decode("utf-8", "replace").splitlines()


def wait_lines(paths, n, limit=10.0):
    """Waits until the files hold n lines in all (bounded), then a little
    longer, so that a line too many would show too."""
    deadline = time.time() + limit
    while time.time() < deadline and sum(len(lines_of(p)) for p in paths) < n:
        time.sleep(0.05)
    time.sleep(0.4)  # access_log_flush is 100ms: an extra line would be here by now
    return [ln for p in paths for ln in lines_of(p)]


def raw_h1(port, data, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    return pl.recv_all(s)


def h2_raw_start(c, headers, end=True):
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, headers, end_stream=end)
    c.streams[sid] = pl.Response()
    c.flush()
    return sid


origin = env.origin()
dead = pl.free_port()
tls_port, plain_port = pl.free_port(), pl.free_port()
ACCESS = os.path.join(env.dir, "access.json.log")
ACCESS2 = os.path.join(env.dir, "access.combined.log")
CFG = os.path.join(env.dir, "h2bridge.yaml")


def write_cfg(fmt, path):
    with open(CFG, "w") as f:
        f.write("""
listeners:
  - name: pub
    address: "127.0.0.1:%d"
    tls:
      certificates: [{cert: %s, key: %s}]
  - name: plain
    address: "127.0.0.1:%d"
upstreams:
  app: {servers: ["127.0.0.1:%d"]}
  slow: {servers: ["127.0.0.1:%d"], read_timeout: 300ms}
  dead: {servers: ["127.0.0.1:%d"], retries: 0, connect_timeout: 1s}
routes:
  - {path_prefix: /app/, rewrite_prefix: /, upstream: app}
  - {path_prefix: /slow/, rewrite_prefix: /delay/, upstream: slow}
  - {path_prefix: /dead/, upstream: dead}
workers: 2
limits: {max_header_count: 20, max_request_body_size: 1KiB, shutdown_timeout: 5s}
logging:
  access_log: %s
  access_log_format: %s
  access_log_flush: 100ms
""" % (tls_port, env.cert, env.key, plain_port, origin.port, origin.port, dead, path, fmt))


try:
    write_cfg("json", ACCESS)
    proxy = env.spawn([pl.BIN, "-c", CFG], "proxy")
    pl.wait_port(tls_port, proxy, 20)
    pl.wait_port(plain_port, proxy, 20)
    want = {}  # marker -> (status, end_reason, protocol, upstream)

    # complete, h2 over TLS, with a body both ways
    c = pl.H2Client(tls_port)
    r = c.request("POST", "/app/echo?t=h2-complete",
                  [("user-agent", "ua \"q\" \\ \u00e9"), ("referer", "https://r.example/"),
                   ("content-length", "5")], body=b"hello")
    t.eq((r.status, bytes(r.body)), (200, b"hello"), "h2 POST /echo")
    want["h2-complete"] = (200, "COMPLETE", "h2", "app")
    h2_sock_port = c.sock.getsockname()[1]

    # client reset mid-response
    sid = c.start("GET", "/app/bytes/50000000?t=h2-reset", keep_body=False)
    while c.streams[sid].length < 5000:
        c.step()
    c.conn.reset_stream(sid, 8)  # CANCEL
    c.flush()
    want["h2-reset"] = (200, "CLIENT_RESET", "h2", "app")

    # backend down: 502; timeout: 504
    r = c.request("GET", "/dead/x?t=h2-502")
    t.eq(r.status, 502, "backend down → 502")
    want["h2-502"] = (502, "BACKEND_ERROR", "h2", "dead")
    r = c.request("GET", "/slow/3000?t=h2-504")
    t.eq(r.status, 504, "read_timeout → 504")
    want["h2-504"] = (504, "TIMEOUT", "h2", "slow")

    # local answers: 404, 421, 413, 431
    r = c.request("GET", "/nowhere?t=h2-404")
    t.eq(r.status, 404, "no route → 404")
    want["h2-404"] = (404, "LOCAL", "h2", None)
    sid = h2_raw_start(c, [(":method", "GET"), (":scheme", "https"),
                           (":authority", "not-covered.example"), (":path", "/app/?t=h2-421")])
    t.eq(c.wait([sid])[0].status, 421, "authority not covered → 421")
    want["h2-421"] = (421, "LOCAL", "h2", None)
    sid = h2_raw_start(c, [(":method", "POST"), (":scheme", "https"), (":authority", "localhost"),
                           (":path", "/app/echo?t=h2-413"), ("content-length", "5000")],
                       end=False)
    t.eq(c.wait([sid])[0].status, 413, "declared body over the limit → 413")
    want["h2-413"] = (413, "LOCAL", "h2", None)
    r = c.request("GET", "/app/?t=h2-431", [("x-h%d" % i, "v") for i in range(30)])
    t.eq(r.status, 431, "too many fields → 431")
    want["h2-431"] = (431, "LOCAL", "h2", None)
    c.close()

    # the client connection closes with a request in flight
    c2 = pl.H2Client(tls_port)
    c2.start("GET", "/app/delay/3000?t=h2-closed")
    time.sleep(0.3)
    c2.sock.close()
    want["h2-closed"] = (None, "CONN_CLOSED", "h2", "app")

    # h2c, HTTP/1.1, HTTP/1.0 complete
    out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                          "%{http_code}", "http://127.0.0.1:%d/app/bytes/10?t=h2c-complete"
                          % plain_port], capture_output=True, timeout=20).stdout
    t.eq(out, b"200", "h2c via curl")
    want["h2c-complete"] = (200, "COMPLETE", "h2c", "app")
    h1_req = (b"GET /app/bytes/10?t=h1-complete HTTP/1.1\r\nHost: localhost\r\n"
              b"User-Agent: ua\xe9\"q\r\nConnection: close\r\n\r\n")
    resp = raw_h1(plain_port, h1_req)
    h1_resp_len = len(resp)
    t.check(resp.startswith(b"HTTP/1.1 200"), "HTTP/1.1 GET: %r" % resp[:40])
    want["h1-complete"] = (200, "COMPLETE", "http/1.1", "app")
    resp = raw_h1(plain_port, b"GET /app/bytes/10?t=h10-complete HTTP/1.0\r\n\r\n")
    t.check(resp.startswith(b"HTTP/1.1 200"), "HTTP/1.0 GET: %r" % resp[:40])
    want["h10-complete"] = (200, "COMPLETE", "http/1.0", "app")
    # malformed HTTP/1.1: 400 and close, no path to mark it
    resp = raw_h1(plain_port, b"GET /x HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n")
    t.check(resp.startswith(b"HTTP/1.1 400"), "malformed HTTP/1.1 → 400: %r" % resp[:40])

    n_want = len(want) + 1
    lines = wait_lines([ACCESS], n_want)
    t.eq(len(lines), n_want, "one line per request (%d), no more" % n_want)
    got = {}
    bad400 = []
    for ln in lines:
        try:
            j = json.loads(ln)
        except ValueError as e:
            t.check(False, "a json line: %r (%s)" % (ln, e))
            continue
        t.eq(list(j.keys()), FIELDS, "json keys, in order")
        m = re.search(r"[?&]t=([\w-]+)", j.get("path") or "")
        if m:
            t.check(m.group(1) not in got, "one line for %s" % m.group(1))
            got[m.group(1)] = j
        else:
            bad400.append(j)
    for k, (status, reason, proto, up) in want.items():
        j = got.get(k)
        if not t.check(j is not None, "a line for %s" % k):
            continue
        t.eq((j["status"], j["end_reason"], j["protocol"], j["upstream"]),
             (status, reason, proto, up), "%s: status, end, protocol, upstream" % k)
        t.check(re.fullmatch(TIME_RE, j["time"]) is not None, "%s: time %s" % (k, j["time"]))
        t.eq(j["client_addr"], "127.0.0.1", "%s: client_addr" % k)
        t.check(isinstance(j["client_port"], int) and j["client_port"] > 0, "%s: port" % k)
        t.check(isinstance(j["duration"], float) and j["duration"] >= 0, "%s: duration" % k)
        t.check(isinstance(j["request_id"], str) and len(j["request_id"]) == 32,
                "%s: request id %r" % (k, j["request_id"]))
        tls = proto == "h2"
        t.eq(j["listener"], "pub" if tls else "plain", "%s: listener" % k)
        if tls:
            t.check(j["tls_version"] in ("TLSv1.2", "TLSv1.3"), "%s: tls_version" % k)
            t.check(bool(j["tls_cipher"]), "%s: cipher" % k)
            t.check(j["stream_id"] % 2 == 1, "%s: an h2 stream id" % k)
        else:
            t.eq((j["tls_version"], j["tls_cipher"], j["sni"]), (None, None, None),
                 "%s: no TLS" % k)
        if up and status != 502 and reason != "CONN_CLOSED":
            t.eq(j["backend"], "127.0.0.1:%d" % origin.port, "%s: backend" % k)
            t.check(j["connect_time"] is not None, "%s: connect time" % k)
            # A read timeout means no response byte came: no first byte time.
            t.check((j["first_byte_time"] is None) == (reason == "TIMEOUT"),
                    "%s: first byte time %r" % (k, j["first_byte_time"]))
        if not up:
            t.eq((j["backend"], j["connect_time"], j["first_byte_time"]), (None, None, None),
                 "%s: local: no backend" % k)
        # No route here pushes: a request the client sent has no pusher.
        t.eq(j["pushed_by"], None, "%s: pushed_by" % k)
    j = got.get("h2-complete", {})
    t.eq((j.get("method"), j.get("authority"), j.get("sni"), j.get("client_port")),
         ("POST", "localhost", "localhost", h2_sock_port), "h2: method, authority, sni, port")
    t.eq((j.get("request_body_bytes"), j.get("response_body_bytes")), (5, 5), "h2: body bytes")
    t.eq((j.get("user_agent"), j.get("referer")), ("ua \"q\" \\ \u00e9", "https://r.example/"),
         "h2: user agent (escaped, parsed back) and referer")
    t.eq((j.get("retries"), j.get("end_detail")), (0, None), "h2: no retry, no detail")
    j = got.get("h2-reset", {})
    t.eq(j.get("end_detail"), "RST_STREAM CANCEL", "reset: the RST code")
    t.check((j.get("response_body_bytes") or 0) >= 5000, "reset: part of the body was sent")
    j = got.get("h2-502", {})
    t.check("connect" in (j.get("end_detail") or ""), "502: the cause %r" % j.get("end_detail"))
    t.eq(j.get("backend"), "127.0.0.1:%d" % dead, "502: the backend tried")
    t.check(j.get("end_detail") is not None, "504: detail %r" % got.get("h2-504", {}).get(
        "end_detail"))
    j = got.get("h1-complete", {})
    t.eq((j.get("method"), j.get("stream_id"), j.get("user_agent")),
         ("GET", 1, "ua\u00e9\"q"), "HTTP/1.1: method, request number, hostile user agent")
    t.eq((j.get("bytes_received"), j.get("bytes_sent")), (len(h1_req), h1_resp_len),
         "HTTP/1.1: bytes on the wire, both ways, exactly")
    j = got.get("h2-complete", {})
    t.check((j.get("bytes_received") or 0) > 5 + 9 and (j.get("bytes_sent") or 0) > 5 + 9,
            "h2: bytes on the wire include the frames (%r, %r)"
            % (j.get("bytes_received"), j.get("bytes_sent")))
    t.eq(len(bad400), 1, "one line for the malformed HTTP/1.1 request")
    if bad400:
        j = bad400[0]
        t.eq((j["status"], j["end_reason"], j["protocol"], j["method"], j["path"]),
             (400, "BAD_REQUEST", "http/1.1", None, None), "400: the line")

    # SIGHUP: the combined format at a new path; the old file is left.
    before = len(lines_of(ACCESS))
    write_cfg("combined", ACCESS2)
    proxy.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "generation 2 serves" not in env.log(proxy) and time.time() < deadline:
        time.sleep(0.05)
    t.check("generation 2 serves" in env.log(proxy), "reloaded")
    for v in ("1.1", "1.0"):
        raw_h1(plain_port, b"GET /app/bytes/3?x=\"a\" HTTP/%s\r\nHost: localhost\r\n"
                           b"User-Agent: u\\v\r\nReferer: r\r\nConnection: close\r\n\r\n"
                           % v.encode())
    c = pl.H2Client(tls_port)
    c.request("GET", "/app/status/204", [("user-agent", "h2 \"ua\"")])
    c.request("GET", "/nowhere")
    c.close()
    combined = wait_lines([ACCESS2], 4)
    t.eq(len(lines_of(ACCESS)), before, "nothing more in the old file after the reload")
    COMBINED = re.compile(
        r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3} \+0000\] '
        r'"(?P<req>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}) (?P<bytes>\d+) '
        r'"(?P<ref>[^"\\]*(?:\\.[^"\\]*)*)" "(?P<ua>[^"\\]*(?:\\.[^"\\]*)*)" '
        r'(?P<proto>h2|h2c|http/1\.1|http/1\.0) (?P<dur>\d+\.\d{3}) (?P<up>\S+) (?P<rid>[0-9a-f]{32})$')
    ms = [COMBINED.match(ln) for ln in combined]
    t.eq(len(combined), 4, "combined: one line per request")
    t.check(all(ms), "combined lines match the layout:\n" + "\n".join(combined))
    if all(ms) and len(ms) == 4:
        got = sorted((m["req"], m["status"], m["bytes"], m["ref"], m["ua"], m["proto"], m["up"])
                     for m in ms)
        t.eq(got, sorted([
            ('GET /app/bytes/3?x=\\"a\\" HTTP/1.1', "200", "3", "r", "u\\\\v", "http/1.1", "app"),
            ('GET /app/bytes/3?x=\\"a\\" HTTP/1.0', "200", "3", "r", "u\\\\v", "http/1.0", "app"),
            ("GET /app/status/204 HTTP/2", "204", "0", "-", 'h2 \\"ua\\"', "h2", "app"),
            ("GET /nowhere HTTP/2", "404", "0", "-", "-", "h2", "-")]),
            "combined: request line, status, bytes, referer, user agent, protocol, upstream")

    # SIGUSR1 under load: logrotate's rename, then the signal, mid-run.
    N = 20000
    rotated = ACCESS2 + ".1"
    before = len(lines_of(ACCESS2))
    load = subprocess.Popen(["h2load", "-n", str(N), "-c", "4", "-m", "8", "-t", "1",
                             "https://127.0.0.1:%d/app/bytes/16" % tls_port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while len(lines_of(ACCESS2)) < before + N // 4 and time.time() < deadline \
            and load.poll() is None:
        time.sleep(0.02)
    os.rename(ACCESS2, rotated)
    proxy.send_signal(signal.SIGUSR1)
    mid = len(lines_of(rotated))
    out = load.communicate(timeout=120)[0].decode()
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", out)
    t.check(m is not None and int(m.group(4)) == N, "h2load: %d succeeded\n%s" % (N, out[-600:]))
    lines = wait_lines([rotated, ACCESS2], before + N)
    old, new = lines_of(rotated), lines_of(ACCESS2)
    t.check(before + N // 4 <= mid < before + N, "the rename came mid-run (%d lines then)" % mid)
    t.check(len(new) > 0, "the new file got the lines after the reopen (%d)" % len(new))
    t.eq(len(old) + len(new), before + N, "old + new files: every line, once")
    torn = [ln for ln in old + new if not COMBINED.match(ln)]
    t.eq(torn[:3], [], "no torn or merged line")
    t.check("SIGUSR1: reopening the log files" in env.log(proxy), "the reopen was logged")

    # Graceful shutdown: the writer's last pass, then its summary.
    env.stop(proxy)
    t.eq(proxy.returncode, 0, "proxy exit status")
    t.check(re.search(r"log writer: stopped; access log lines written \d+, dropped 0",
                      env.log(proxy)) is not None, "the writer's summary, nothing dropped")
except Exception as e:
    import traceback
    traceback.print_exc()
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs()
        for p in (ACCESS, ACCESS2):
            print("----", p)
            print("\n".join(lines_of(p)[-30:]))
    env.close()
t.finish()
