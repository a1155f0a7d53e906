"""Bulk transfers and bounded memory:
- 1 GiB streamed up and back (/echo, chunked both ways) with curl --http2,
  SHA-256 compared end to end, proxy RSS sampled throughout;
- 1 GiB download (/bytes/N, Content-Length) with curl, SHA-256 against the
  origin's known pattern;
- a slow reader (python3-h2, reading a large body slowly): proxy RSS stays
  flat while the origin has far more to send; the bytes read are exact;
- a slow backend (a backend here that reads 32 MiB of upload slowly): proxy
  RSS stays flat and the backend's SHA-256 of the body matches.
H2B_BIG_BYTES overrides the 1 GiB (the sanitizer build uses 256 MiB)."""
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

BIG = int(os.environ.get("H2B_BIG_BYTES", str(256 << 20 if pl.SANITIZE else 1 << 30)))
RSS_GROWTH_KIB = 48 * 1024  # a generous ceiling: buffers are 64 KiB per stream


def rss_check(cond, what):
    """ASan's quarantine keeps freed memory resident: RSS says nothing there,
    so the sanitizer build checks bytes only and prints the figures."""
    if pl.SANITIZE:
        print("(sanitizer build, not checked) " + what)
    else:
        t.check(cond, what)


class Sampler:
    def __init__(self, pid):
        self.pid = pid
        self.max = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                self.max = max(self.max, pl.rss_kib(self.pid))
            except OSError:
                return
            time.sleep(0.1)

    def done(self):
        self.stop = True
        self.t.join()
        return self.max


def pattern_sha(n):
    h = hashlib.sha256()
    step = 1 << 20
    base = pl.pattern(256 * 256 * 256)  # the pattern repeats every 2^24 bytes
    off = 0
    while off < n:
        k = min(step, n - off)
        s = off % len(base)
        piece = base[s:s + k]
        if len(piece) < k:
            piece += base[:k - len(piece)]
        h.update(piece)
        off += k
    return h.hexdigest()


def curl(url, extra=()):
    return ["curl", "-sk", "--http2", "--fail", "--max-time", "600"] + list(extra) + [url]


class SlowBackend:
    """Reads a request body slowly (about 16 MiB/s) and answers its SHA-256."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        c, _ = self.sock.accept()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += c.recv(65536)
        head, body = buf.split(b"\r\n\r\n", 1)
        n = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                 if ln.lower().startswith(b"content-length")][0])
        h = hashlib.sha256(body)
        got = len(body)
        while got < n:
            d = c.recv(min(65536, n - got))
            if not d:
                break
            h.update(d)
            got += len(d)
            time.sleep(0.004)
        hx = h.hexdigest().encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(hx), hx))
        c.close()


pl.require_binaries()
env = pl.Env()
t = pl.Checker()
try:
    origin = env.origin("big")
    proxy = env.proxy([origin.port], ["--workers", "2"])
    url = "https://127.0.0.1:%d" % proxy.port
    base_rss = pl.rss_kib(proxy.pid)

    # 1. 1 GiB up and back, streamed.
    sm = Sampler(proxy.pid)
    t0 = time.time()
    sh = ("head -c %d /dev/urandom | tee >(sha256sum > %s/in.sha) | %s | sha256sum > %s/out.sha"
          % (BIG, env.dir, " ".join(curl(url + "/echo", ["-T", "-"])), env.dir))
    rc = subprocess.run(["bash", "-o", "pipefail", "-c", sh], timeout=900).returncode
    peak = sm.done()
    time.sleep(0.5)
    sin = open(env.dir + "/in.sha").read().split()[0]
    sout = open(env.dir + "/out.sha").read().split()[0]
    t.eq(rc, 0, "curl upload+echo of %d bytes" % BIG)
    t.eq(sout, sin, "SHA-256 of %d bytes echoed through the proxy" % BIG)
    rss_check(peak - base_rss < RSS_GROWTH_KIB,
              "proxy RSS during the echo: %d KiB -> peak %d KiB" % (base_rss, peak))
    print("echo %d bytes in %.1fs, proxy RSS %d -> %d KiB" % (BIG, time.time() - t0, base_rss, peak))

    # 2. 1 GiB download with Content-Length.
    sm = Sampler(proxy.pid)
    out = subprocess.run(["bash", "-o", "pipefail", "-c",
                          " ".join(curl(url + "/bytes/%d" % BIG)) + " | sha256sum"],
                         capture_output=True, text=True, timeout=900)
    peak = sm.done()
    t.eq(out.stdout.split()[0] if out.stdout else "", pattern_sha(BIG),
         "SHA-256 of /bytes/%d through the proxy" % BIG)
    rss_check(peak - base_rss < RSS_GROWTH_KIB, "proxy RSS during the download: peak %d KiB" % peak)

    # 3. Slow reader: 3 s reading a 1 GiB body at a trickle.
    c = pl.H2Client(proxy.port)
    sid = c.start("GET", "/bytes/%d" % BIG, keep_body=True)
    end = time.time() + 3
    r0 = None
    while time.time() < end:  # about 1.3 MB/s: 64 KiB every 50 ms
        target = c.streams[sid].length + 65536
        while c.streams[sid].length < target:
            c.step()
        if r0 is None and c.streams[sid].length > (1 << 20):
            r0 = pl.rss_kib(proxy.pid)
        time.sleep(0.05)
    r = c.streams[sid]
    r1 = pl.rss_kib(proxy.pid)
    t.check(r.length < BIG // 4, "the slow reader got only part of the body (%d bytes)" % r.length)
    t.check(bytes(r.body) == pl.pattern(r.length), "the slow reader's bytes are exact")
    rss_check(r0 is not None and r1 - r0 < 8 * 1024,
            "proxy RSS flat under a slow reader: %s -> %d KiB" % (r0, r1))
    c.close()

    # 4. Slow backend: 32 MiB uploaded fast, read slowly by the backend.
    sb = SlowBackend()
    p2 = env.proxy([sb.port])
    body = os.urandom(32 << 20)
    c = pl.H2Client(p2.port)
    rb = pl.rss_kib(p2.pid)
    sm = Sampler(p2.pid)
    r = c.request("PUT", "/up", [("content-length", str(len(body)))], body=body, deadline=120)
    peak = sm.done()
    t.eq((r.status, bytes(r.body).decode()), (200, hashlib.sha256(body).hexdigest()),
         "slow backend got the exact 32 MiB")
    rss_check(peak - rb < 16 * 1024, "proxy RSS flat under a slow backend: %d -> %d KiB" % (rb, peak))
    c.close()
except Exception as e:
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs()
    env.close()
t.finish()
