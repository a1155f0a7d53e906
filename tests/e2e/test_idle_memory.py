"""e2e (issue 9): an idle HTTP/2 connection costs the proxy a few KiB.

Holds 600 TLS h2 connections that finished the connection preface and
exchanged SETTINGS but never send a request (bench/idle.py, the probe of
the benchmark's idle scenario), and checks the proxy's RSS growth per
connection. Such a connection holds its socket, its struct px_fconn, four
libevent events, BoringSSL's SSL object and session (handshake
configuration shed), and the HTTP/2 engine's connection struct: no I/O
buffer, no HPACK table, no stream table (all allocated on first use).
Measured ~5 KiB; the bound of 12 KiB fails if any of those buffers came
back up front (the HPACK tables alone were ~20 KiB, the first version's
total ~35 KiB). Not run under sanitizers, whose allocators change every
figure."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

CONNS = 600
MAX_BYTES_PER_CONN = 12 * 1024

if os.environ.get("H2B_SANITIZE", "").upper() in ("1", "ON", "TRUE", "YES"):
    pl.skip("RSS figures are meaningless under ASan")
pl.require_binaries()
env = pl.Env()
ck = pl.Checker()
try:
    origin = env.origin()
    proxy = env.proxy([origin.port], extra=["--workers", "1"])
    # Warm the worker up first (its first request allocates what every
    # later connection reuses), so growth is the idle connections' own.
    c = pl.H2Client(proxy.port)
    r = c.request("GET", "/bytes/100")
    ck.eq(r.status, 200, "warm-up request")
    c.close()
    probe = os.path.join(os.environ["H2B_SOURCE_DIR"], "bench", "idle.py")
    out = subprocess.run([sys.executable, probe, "--port", str(proxy.port),
                          "--pid", str(proxy.pid), "-n", str(CONNS), "--settle", "0.5",
                          "--max-seconds", "60"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    opened, failed, alive, rss0, rss1, per_conn = [float(x) for x in out.split("\t")[:6]]
    print("idle connections: opened %d failed %d alive %d, RSS %d -> %d KiB, %.0f bytes each"
          % (opened, failed, alive, rss0, rss1, per_conn))
    ck.eq(int(alive), CONNS, "idle connections held")
    ck.check(0 < per_conn <= MAX_BYTES_PER_CONN,
             "RSS per idle connection %.0f bytes <= %d" % (per_conn, MAX_BYTES_PER_CONN))
    # The proxy still serves after they went away.
    c = pl.H2Client(proxy.port)
    r = c.request("GET", "/bytes/1000")
    ck.eq((r.status, bytes(r.body)), (200, pl.pattern(1000)), "request after the idle storm")
    c.close()
finally:
    env.close()
ck.finish()
