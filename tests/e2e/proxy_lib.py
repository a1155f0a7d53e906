"""Shared helpers for the proxy e2e tests (tests/e2e/test_proxy_*.py).

Starts real processes on 127.0.0.1 only (free ports), stops them by PID, and
speaks HTTP/2 over TLS with python3-h2. Every wait is bounded.
"""
import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

BIN = os.environ.get("H2B_BIN", "")
ORIGIN = os.environ.get("H2B_ORIGIN", "")
SANITIZE = os.environ.get("H2B_SANITIZE", "0") in ("1", "ON", "TRUE", "true")


def skip(why):
    print("SKIP:", why)
    sys.exit(0)


def require_binaries():
    if not BIN or not os.access(BIN, os.X_OK):
        skip("H2B_BIN not set or not executable")
    if not ORIGIN or not os.access(ORIGIN, os.X_OK):
        skip("H2B_ORIGIN not set or not executable")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc=None, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on port %d after %.0fs" % (port, timeout))


_BASE = bytes((31 * j + 7) & 0xFF for j in range(256))
_SHIFT = [bytes((b + a) & 0xFF for b in range(256)) for a in range(256)]


def pattern(n):
    """The origin's /bytes/N body (og_pattern_fill from offset 0): byte i is
    31*i + 7*(i>>8) + 3*(i>>16) + 7, built 256 bytes at a time."""
    out = []
    for k in range((n + 255) // 256):
        out.append(_BASE.translate(_SHIFT[(7 * k + 3 * (k >> 8)) & 0xFF]))
    return b"".join(out)[:n]


def tls_context(alpn=None):
    """A client context for the tests' self-signed certificate (not
    verified), offering the ALPN protocols given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def tls_connect(port, alpn=None, timeout=10.0, handshake=True, ctx=None):
    """A TLS connection to 127.0.0.1:port with SNI localhost (ctx: a context
    of the caller's, else tls_context(alpn)); with handshake=False the
    handshake happens on first use."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return (ctx or tls_context(alpn)).wrap_socket(
            raw, server_hostname="localhost", do_handshake_on_connect=handshake)
    except (ssl.SSLError, OSError):
        raw.close()
        raise


def recv_all(s):
    """Everything s sends until it closes; closes s."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


class Env:
    """A temp dir with a certificate, and the processes a test started."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="h2b-e2e-")
        self.procs = []
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=localhost",
             # Every :authority a test sends must be covered (else 421:
             # proxy/front/authority.h): the names of test_config_routing.
             "-addext", "subjectAltName=DNS:localhost,DNS:a.test,DNS:b.test,DNS:c.test,DNS:other.test,DNS:*.b.test,DNS:*.x.b.test,IP:127.0.0.1",
             "-keyout", self.key, "-out", self.cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def spawn(self, argv, name, extra_env=None):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        penv = dict(os.environ, **extra_env) if extra_env else None
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=penv)
        p.logpath = log.name
        self.procs.append(p)
        return p

    def origin(self, ident="o1", extra=()):
        port = free_port()
        p = self.spawn([ORIGIN, "--listen", "127.0.0.1:%d" % port, "--id", ident] + list(extra),
                       "origin-" + ident)
        wait_port(port, p)
        p.port = port
        return p

    def proxy(self, backends, extra=(), config=os.environ.get("H2B_PROXY_CONFIG")):
        port = free_port()
        argv = [BIN, "--listen", "127.0.0.1:%d" % port, "--cert", self.cert, "--key", self.key]
        for b in backends:
            argv += ["--backend", "127.0.0.1:%d" % b]
        if config:
            argv += ["-c", config]
        argv += list(extra)
        p = self.spawn(argv, "proxy")
        wait_port(port, p, timeout=20)
        p.port = port
        return p

    def log(self, p):
        with open(p.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, p, text, limit=3.0):
        """True once text is in p's log (the error log is written off the
        event loop, so a line may come a moment after what caused it)."""
        deadline = time.time() + limit
        while time.time() < deadline:
            if text in self.log(p):
                return True
            time.sleep(0.05)
        return False

    def dump_logs(self, tail=4000):
        """Prints the end of every process's log (for a failed test)."""
        for p in self.procs:
            print("---- %s" % p.logpath)
            print(self.log(p)[-tail:])

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def close(self, keep=False):
        for p in reversed(self.procs):
            self.stop(p)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def cpu_seconds(pid):
    """User + system CPU seconds the process has used (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Response:
    def __init__(self):
        self.status = None
        self.headers = []
        self.informational = []
        self.body = bytearray()
        self.sha = hashlib.sha256()
        self.length = 0
        self.trailers = []
        self.reset = None
        self.done = False
        self.keep_body = True

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class H2Client:
    """A blocking HTTP/2 client over TLS; several streams may be in flight."""

    h2_options = {"client_side": True}  # H2Configuration's; subclasses may add

    def __init__(self, port, window=None, timeout=60.0):
        sock = tls_connect(port, alpn=["h2"], timeout=timeout)
        assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.setup(sock, window)

    def setup(self, sock, window=None):
        """Starts HTTP/2 (preface, SETTINGS) on a connected socket; for
        subclasses that make their own (cleartext, another SNI)."""
        self.sock = sock
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(**self.h2_options))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.auto_ack = True
        self.flush()
        self.streams = {}
        self.pending_body = {}
        self.goaway = None
        self.order = []

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(self, method, path, headers=(), body=None, end=True, keep_body=True):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", "https"), (":authority", "localhost"),
                (":path", path)] + list(headers)
        self.conn.send_headers(sid, hdrs, end_stream=(body is None and end))
        r = Response()
        r.keep_body = keep_body
        self.streams[sid] = r
        if body is not None:
            self.pending_body[sid] = [memoryview(body), end]
        self.flush()
        self.pump_bodies()
        return sid

    def send_data(self, sid, data, end=False):
        self.pending_body[sid] = [memoryview(data), end]
        self.pump_bodies()

    def pump_bodies(self):
        for sid in list(self.pending_body):
            buf, end = self.pending_body[sid]
            if sid not in self.conn.streams:
                del self.pending_body[sid]
                continue
            while len(buf):
                win = min(self.conn.local_flow_control_window(sid),
                          self.conn.max_outbound_frame_size)
                if win <= 0:
                    break
                chunk = buf[:win]
                self.conn.send_data(sid, chunk.tobytes())
                buf = buf[len(chunk):]
            self.pending_body[sid][0] = buf
            if not len(buf):
                if end:
                    self.conn.end_stream(sid)
                del self.pending_body[sid]
        self.flush()

    def handle(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            r = self.streams[ev.stream_id]
            r.status = int(dict(ev.headers)[b":status"])
            r.headers = [(k.decode(), v.decode()) for k, v in ev.headers]
        elif isinstance(ev, h2.events.InformationalResponseReceived):
            self.streams[ev.stream_id].informational.append(int(dict(ev.headers)[b":status"]))
        elif isinstance(ev, h2.events.DataReceived):
            r = self.streams[ev.stream_id]
            r.length += len(ev.data)
            self.order.append(ev.stream_id)
            r.sha.update(ev.data)
            if r.keep_body:
                r.body += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.TrailersReceived):
            self.streams[ev.stream_id].trailers = [(k.decode(), v.decode()) for k, v in ev.headers]
        elif isinstance(ev, h2.events.StreamEnded):
            self.streams[ev.stream_id].done = True
        elif isinstance(ev, h2.events.StreamReset):
            r = self.streams.get(ev.stream_id)
            if r:
                r.reset = ev.error_code
                r.done = True
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code

    def step(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("proxy closed the connection")
        for ev in self.conn.receive_data(data):
            self.handle(ev)
        self.pump_bodies()
        self.flush()

    def wait(self, sids, deadline=60.0):
        end = time.time() + deadline
        while not all(self.streams[s].done for s in sids):
            if time.time() > end:
                raise TimeoutError("streams %s not done" % [s for s in sids if not self.streams[s].done])
            if self.goaway is not None:
                raise ConnectionError("GOAWAY %s" % self.goaway)
            self.step()
        return [self.streams[s] for s in sids]

    def request(self, method, path, headers=(), body=None, keep_body=True, deadline=60.0):
        sid = self.start(method, path, headers, body, keep_body=keep_body)
        return self.wait([sid], deadline)[0]

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
            self.sock.close()
        except OSError:
            pass


class Checker:
    """Counts checks; prints 'N passed, N failed' at the end."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        """Counts the check; returns whether it passed (to guard checks
        that depend on it)."""
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what, flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %r, want %r" % (what, got, want))

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
