"""e2e (issue 7): 421 Misdirected Request and coalescing under a wildcard
certificate; connection timeouts (slowloris request header, HTTP/1.1
keep-alive, idle h2); graceful shutdown on SIGTERM (during an h2load run,
with h2 streams and an HTTP/1.1 request in flight; a second signal exits at
once). Every wait is bounded; only the processes started here are stopped.
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402

pl.require_binaries()
if not subprocess.run(["sh", "-c", "command -v h2load"], stdout=subprocess.DEVNULL).returncode == 0:
    pl.skip("h2load not installed")
env = pl.Env()
ck = pl.Checker()

CONFIG = os.path.join(env.dir, "limits.yaml")
with open(CONFIG, "w") as f:
    f.write("limits:\n"
            "  request_header_timeout: 2s\n"
            "  h1_keepalive_timeout: 1s\n"
            "  h2_idle_timeout: 1s\n"
            "  shutdown_timeout: 5s\n"
            "  max_request_body_size: 64KiB\n"
            "  min_send_rate: 256KiB\n"
            "  min_send_rate_window: 1s\n")

WILD_CERT = os.path.join(env.dir, "wild.pem")
WILD_KEY = os.path.join(env.dir, "wild.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=example.test",
                "-addext", "subjectAltName=DNS:*.example.test,DNS:localhost",
                "-keyout", WILD_KEY, "-out", WILD_CERT],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def spawn_proxy(backends, tls, name, cert=None, key=None, config=CONFIG):
    port = pl.free_port()
    argv = [pl.BIN, "--listen", "127.0.0.1:%d" % port, "-c", config]
    if tls:
        argv += ["--cert", cert or env.cert, "--key", key or env.key]
    for b in backends:
        argv += ["--backend", "127.0.0.1:%d" % b]
    p = env.spawn(argv, name)
    pl.wait_port(port, p, timeout=20)
    p.port = port
    return p


class TlsH2(pl.H2Client):
    """H2Client with a chosen SNI and :authority per request."""

    def __init__(self, port, sni):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.setup(ctx.wrap_socket(raw, server_hostname=sni))

    def get(self, authority, path):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                     (":authority", authority), (":path", path)], end_stream=True)
        self.streams[sid] = pl.Response()
        self.flush()
        return sid


def misdirected(origin):
    p = spawn_proxy([origin], True, "proxy-421", WILD_CERT, WILD_KEY)
    c = TlsH2(p.port, "a.example.test")
    # The proxy remembers the last covered host per connection: the same
    # host again, near misses of it and names after a 421 must each still
    # get the certificate's answer.
    cases = [("a.example.test", 200), ("a.example.test", 200),
             ("a.example.tes", 421), ("a.example.testx", 421), ("a.example.test.", 200),
             ("b.example.test", 200),  # coalescing under *.example.test
             ("B.Example.Test:%d" % p.port, 200), ("localhost", 200),
             ("other.test", 421), ("localhost", 200), ("x.y.example.test", 421),
             ("example.test", 421), ("127.0.0.1:%d" % p.port, 421), ("a.example.test", 200)]
    sids = [c.get(a, "/bytes/3") for a, _ in cases]
    big = c.conn.get_next_available_stream_id()
    c.conn.send_headers(big, [(":method", "POST"), (":scheme", "https"),
                              (":authority", "a.example.test"), (":path", "/echo"),
                              ("content-length", "100000")], end_stream=False)
    c.streams[big] = pl.Response()
    c.flush()
    # No content-length: the cap applies to the bytes as they arrive (to a
    # path that answers late: /echo would have answered 200 already).
    nocl = c.conn.get_next_available_stream_id()
    c.conn.send_headers(nocl, [(":method", "POST"), (":scheme", "https"),
                               (":authority", "a.example.test"), (":path", "/delay/2000")],
                        end_stream=False)
    c.streams[nocl] = pl.Response()
    c.send_data(nocl, b"x" * 100000, end=True)
    rs = c.wait(sids + [big, nocl], 20)
    ck.eq(rs[-2].status, 413, "h2 content-length over max_request_body_size")
    ck.eq(rs[-1].status, 413, "h2 body without content-length over max_request_body_size")
    rs = rs[:-2]
    for (a, want), r in zip(cases, rs):
        ck.eq(r.status, want, ":authority %s on an a.example.test connection" % a)
        if want == 200:
            ck.eq(bytes(r.body), pl.pattern(3), ":authority %s body" % a)
    c.close()
    env.stop(p)


def slowloris(origin):
    p = spawn_proxy([origin], False, "proxy-slow")
    s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    result = {}

    def drip():
        t0 = time.time()
        head = b"GET /bytes/1 HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100
        got = b""
        try:
            for b in head:
                s.sendall(bytes([b]))
                s.settimeout(1.0)
                try:
                    d = s.recv(4096)
                    got += d
                    if not d or got:
                        break
                except socket.timeout:
                    pass
            s.settimeout(5)
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        result["t"] = time.time() - t0
        result["got"] = got

    th = threading.Thread(target=drip)
    th.start()
    r = subprocess.run(["h2load", "--h1", "-n", "3000", "-c", "100", "-T", "20",
                        "http://127.0.0.1:%d/bytes/100" % p.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    th.join(20)
    ck.check("3000 succeeded, 0 failed" in out and "3000 2xx" in out,
             "100 honest clients served during the slowloris: %s"
             % [l for l in out.splitlines() if "requests:" in l or "status codes" in l])
    ck.check(1.5 <= result.get("t", 0) <= 4.5, "slowloris cut at the 2 s header timeout (%.1f s)"
             % result.get("t", -1))
    ck.check(result.get("got", b"").startswith(b"HTTP/1.1 408 "), "slowloris got 408: %r"
             % result.get("got", b"")[:40])
    # max_request_body_size (64 KiB): Content-Length and chunked totals.
    for req in (b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n",
                b"POST /delay/2000 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                b"\r\n" + b"4000\r\n" + b"x" * 0x4000 + b"\r\n" + b"4000\r\n" + b"x" * 0x4000
                + b"\r\n" + b"4000\r\n" + b"x" * 0x4000 + b"\r\n" + b"4000\r\n" + b"x" * 0x4000
                + b"\r\n" + b"4000\r\n" + b"x" * 0x4000 + b"\r\n"):
        t = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        try:
            t.sendall(req)
        except OSError:
            pass
        got = b""
        try:
            while True:
                d = t.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        ck.check(got.startswith(b"HTTP/1.1 413 ") and b"connection: close" in got.lower(),
                 "h1 body over max_request_body_size: 413: %r" % got[:40])
        t.close()
    # Keep-alive timeout: a served connection is closed after 1 s idle.
    k = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    k.sendall(b"GET /bytes/4 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    t0 = time.time()
    got = b""
    while True:
        d = k.recv(4096)
        if not d:
            break
        got += d
    ck.check(got.endswith(pl.pattern(4)) and 0.8 <= time.time() - t0 <= 3.5,
             "h1 keep-alive timeout closes after 1 s (%.1f s)" % (time.time() - t0))
    k.close()
    # Idle h2 (prior knowledge): GOAWAY NO_ERROR after 1 s without a stream.
    h = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    h.sendall(conn.data_to_send())
    t0 = time.time()
    goaway = None
    while goaway is None and time.time() - t0 < 5:
        d = h.recv(65536)
        if not d:
            break
        for ev in conn.receive_data(d):
            if isinstance(ev, h2.events.ConnectionTerminated):
                goaway = ev.error_code
        h.sendall(conn.data_to_send())
    ck.check(goaway == 0 and 0.8 <= time.time() - t0 <= 3.5, "idle h2 connection: GOAWAY "
             "NO_ERROR after 1 s (%r, %.1f s)" % (goaway, time.time() - t0))
    h.close()
    env.stop(p)
    ck.eq(p.returncode, 0, "exit status")


def stalled_readers(origin):
    """Clients that stop reading a large response are cut by min_send_rate
    (256 KiB/s over 1 s windows), on HTTP/1.1 and on h2."""
    p = spawn_proxy([origin], False, "proxy-stall")
    socks = []
    for kind in ("h1", "h2"):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(("127.0.0.1", p.port))
        if kind == "h1":
            s.sendall(b"GET /bytes/400000000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        else:
            c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            c.initiate_connection()
            c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2 ** 31 - 1})
            c.increment_flow_control_window(2 ** 31 - 65536)
            c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                               (":path", "/bytes/400000000")], end_stream=True)
            s.sendall(c.data_to_send())
        socks.append(s)
        end = time.time() + 12
        want = len(socks)
        while env.log(p).count("slower than limits.min_send_rate") < want and time.time() < end:
            time.sleep(0.2)
        ck.eq(env.log(p).count("slower than limits.min_send_rate"), want,
              "%s client that stopped reading is cut by min_send_rate" % kind)
    for s in socks:
        s.close()
    env.stop(p)
    ck.eq(p.returncode, 0, "exit status")


def wait_exit(p, limit):
    t0 = time.time()
    try:
        p.wait(limit)
    except subprocess.TimeoutExpired:
        return None
    return time.time() - t0


def sigterm_h2load(origin):
    p = spawn_proxy([origin], True, "proxy-term-load")
    load = subprocess.Popen(["h2load", "-n", "400000", "-c", "8", "-m", "16", "-T", "20",
                             "https://127.0.0.1:%d/delay/30" % p.port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(2.0)
    p.send_signal(signal.SIGTERM)
    took = wait_exit(p, 10)
    out = load.communicate(timeout=60)[0].decode("utf-8", "replace")
    ck.check(took is not None and took < 5.5, "exit within shutdown_timeout (%s s)" % took)
    ck.eq(p.returncode, 0, "exit status after SIGTERM under load")
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    ok = int(m.group(1)) if m else 0
    ck.check(m and ok > 100 and m.group(4) == "0" and m.group(3) == "0",
             "h2load: only 2xx answers: %s" % (m.group(0) if m else out[-500:]))
    m2 = re.search(r"requests: \d+ total, (\d+) started, (\d+) done, (\d+) succeeded", out)
    ck.check(m2 and int(m2.group(3)) == ok, "h2load: every answered request succeeded")
    log = env.log(p)
    ck.check("stream closed by" not in log and "RST_STREAM" not in log,
             "no accepted stream was cut (proxy log)")
    print("h2load after SIGTERM:", m2.group(0) if m2 else "?", flush=True)


def sigterm_streams(origin):
    """Streams accepted before SIGTERM are served to completion; an h1
    request in flight gets Connection: close."""
    p = spawn_proxy([origin], True, "proxy-term")
    # python3-h2 cannot read past a GOAWAY (it closes its state machine), so
    # the h2 side is h2load: 20 streams on one connection.
    load = subprocess.Popen(["h2load", "-n", "20", "-c", "1", "-m", "20", "-T", "20",
                             "https://127.0.0.1:%d/delay/900" % p.port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    s = ssl.create_default_context()
    s.check_hostname = False
    s.verify_mode = ssl.CERT_NONE
    s.set_alpn_protocols(["http/1.1"])
    h1 = s.wrap_socket(socket.create_connection(("127.0.0.1", p.port), timeout=10),
                       server_hostname="localhost")
    h1.sendall(b"GET /delay/700 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    out = load.communicate(timeout=30)[0].decode("utf-8", "replace")
    ck.check("20 succeeded, 0 failed" in out, "20 h2 streams in flight at SIGTERM all "
             "completed: %s" % [l for l in out.splitlines() if "requests:" in l])
    got = b""
    h1.settimeout(10)
    while True:
        d = h1.recv(4096)
        if not d:
            break
        got += d
    ck.check(got.startswith(b"HTTP/1.1 200") and b"connection: close" in got.lower()
             and got.endswith(b"delayed 700 ms\n"), "h1 request in flight: answered with "
             "Connection: close: %r" % got[-80:])
    took = wait_exit(p, 8)
    ck.check(took is not None, "exited after draining")
    ck.eq(p.returncode, 0, "exit status")
    # A second signal exits at once.
    p = spawn_proxy([origin], True, "proxy-term2")
    c = pl.H2Client(p.port)
    c.start("GET", "/delay/4000")
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    ck.check(p.poll() is None, "still draining after the first signal")
    p.send_signal(signal.SIGTERM)
    took = wait_exit(p, 3)
    ck.check(took is not None and took < 1.5, "second signal: exit at once (%s s)" % took)
    c.close()


try:
    o = env.origin("o1")
    misdirected(o.port)
    slowloris(o.port)
    stalled_readers(o.port)
    sigterm_streams(o.port)
    sigterm_h2load(o.port)
finally:
    env.close(keep=ck.failed > 0)
    if ck.failed:
        print("logs kept in", env.dir)
ck.finish()
