"""e2e (issue 15): a log file that cannot keep up never blocks a worker.
The access log is a FIFO that the test opens but does not read while
h2load sends N requests through a 16 KiB ring: the writer thread blocks in
write(2), the ring fills, and lines are dropped and counted, while every
request still completes quickly. Then the test reads the FIFO to its end:
the lines it gets are whole, and written + dropped (the writer's summary at
exit) is exactly N. Only processes started here are stopped."""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
if not shutil.which("h2load"):
    pl.skip("h2load not installed (nghttp2-client)")
env = pl.Env()
t = pl.Checker()
N = 4000
try:
    origin = env.origin()
    fifo = os.path.join(env.dir, "access.fifo")
    os.mkfifo(fifo)
    # The read end first, so that the proxy's open(2) does not wait for one.
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    port = pl.free_port()
    admin = pl.free_port()
    cfg = os.path.join(env.dir, "drop.yaml")
    with open(cfg, "w") as f:
        f.write("""
listeners: [{address: "127.0.0.1:%d"}]
upstreams: {app: {servers: ["127.0.0.1:%d"]}}
routes: [{upstream: app}]
workers: 1
admin: {address: "127.0.0.1:%d"}
logging:
  access_log: %s
  access_log_buffer: 16KiB
  access_log_line_max: 1KiB
  access_log_flush: 50ms
""" % (port, origin.port, admin, fifo))
    proxy = env.spawn([pl.BIN, "-c", cfg], "proxy")
    pl.wait_port(port, proxy, 20)
    t0 = time.time()
    out = subprocess.run(["h2load", "-n", str(N), "-c", "2", "-m", "10", "-t", "1",
                          "http://127.0.0.1:%d/bytes/16" % port],
                         capture_output=True, timeout=120).stdout.decode()
    took = time.time() - t0
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", out)
    t.check(m is not None and int(m.group(4)) == N, "h2load: %d succeeded\n%s" % (N, out[-600:]))
    # Blocked workers would stall at the first full ring (a few hundred
    # lines in); sanitizer builds are slower, hence the generous bound.
    t.check(took < (60 if pl.SANITIZE else 20), "requests were not held up: %.1fs" % took)

    # The drops are visible in the metrics while the proxy runs.
    import urllib.request
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=10).read()
    m = re.search(rb"^h2bridge_access_log_dropped_total (\d+)$", body, re.M)
    t.check(m is not None and int(m.group(1)) > 0,
            "h2bridge_access_log_dropped_total > 0: %r" % (m.group(0) if m else None))

    got = bytearray()
    done = threading.Event()

    def reader():
        os.set_blocking(rfd, True)
        while True:
            b = os.read(rfd, 65536)
            if not b:
                break
            got.extend(b)
        done.set()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    env.stop(proxy)
    done.wait(20)
    t.eq(proxy.returncode, 0, "proxy exit status")
    lines = bytes(got).decode("utf-8", "replace").splitlines()
    t.check(got.endswith(b"\n"), "the FIFO got whole lines")
    whole = [ln for ln in lines if re.match(r'^127\.0\.0\.1 - - \[.*\] "GET /bytes/16 HTTP/2" '
                                            r'200 16 "-" "h2load[^"]*" h2c \d+\.\d{3} app '
                                            r'[0-9a-f]{32}$', ln)]
    t.eq(len(whole), len(lines), "every line is whole")
    log = env.log(proxy)
    s = re.search(r"log writer: stopped; access log lines written (\d+), dropped (\d+)", log)
    if t.check(s is not None, "the writer's summary"):
        written, dropped = int(s.group(1)), int(s.group(2))
        t.check(dropped > 0, "lines were dropped (%d)" % dropped)
        t.eq(written + dropped, N, "written + dropped = requests")
        t.eq(len(lines), written, "every written line reached the reader")
    t.check("access log lines dropped (rings full" in log, "the drops were reported")
except Exception as e:
    import traceback
    traceback.print_exc()
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs()
    env.close()
t.finish()
