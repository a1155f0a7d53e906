"""e2e (issue 15): the error log in a file (logging.error_log), written by
the log writer: repeated lines are rate-limited per call site
(logging.error_log_rate) and counted in one "N similar lines suppressed"
line; SIGUSR1 reopens the file after logrotate's rename, and no line is
lost across it. Only processes started here are stopped."""
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
t = pl.Checker()
N = 20
RATE = 3


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(path, needle, limit=10.0):
    deadline = time.time() + limit
    while needle not in read(path) and time.time() < deadline:
        time.sleep(0.05)
    return needle in read(path)


try:
    dead = pl.free_port()
    port = pl.free_port()
    errlog = os.path.join(env.dir, "error.log")
    cfg = os.path.join(env.dir, "errlog.yaml")
    with open(cfg, "w") as f:
        f.write("""
listeners: [{address: "127.0.0.1:%d"}]
upstreams: {dead: {servers: ["127.0.0.1:%d"], retries: 0}}
routes: [{upstream: dead}]
workers: 1
logging: {error_log: error.log, error_log_rate: %d}
""" % (port, dead, RATE))
    proxy = env.spawn([pl.BIN, "-c", cfg], "proxy")
    pl.wait_port(port, proxy, 20)
    t.check(wait_for(errlog, "listening on 127.0.0.1:%d" % port), "start-up lines in the file")
    t0 = time.time()
    for i in range(N):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /r%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % i)
        t.check(pl.recv_all(s).startswith(b"HTTP/1.1 502"), "request %d → 502" % i)
    burst = time.time() - t0
    time.sleep(1.2)  # the call site's window ends; its next line brings the count
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    pl.recv_all(s)
    site = "connect failed → 502"
    t.check(wait_for(errlog, "similar lines suppressed"), "the count line came")
    text = read(errlog)
    failed = [ln for ln in text.splitlines() if site in ln and "suppressed" not in ln]
    m = re.search(r"WARN  (\d+) similar lines suppressed \(logging.error_log_rate\): "
                  r"client %s stream %u backend %s: %s → %s", text)
    t.check(m is not None, "the count names the call site's format:\n" + text[-1500:])
    if burst < 1.0 and m:
        t.eq(len(failed), RATE + 1, "%d lines in the first second, then the one after" % RATE)
        t.eq(int(m.group(1)), N - RATE, "the rest counted")
    t.check(all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR|DEBUG) ", ln)
                for ln in text.splitlines()), "every line has the time and the level")

    # logrotate: rename, SIGUSR1, and the next lines go to a new file.
    os.rename(errlog, errlog + ".1")
    proxy.send_signal(signal.SIGUSR1)
    t.check(wait_for(errlog + ".1", "SIGUSR1: reopening the log files"),
            "the reopen line closes the old file")
    deadline = time.time() + 10
    while not os.path.exists(errlog) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.1)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /rotated HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    pl.recv_all(s)
    t.check(wait_for(errlog, site), "a new line in the reopened file")
    env.stop(proxy)
    t.eq(proxy.returncode, 0, "exit status")
    t.check("every connection finished: exiting" in read(errlog), "the last lines, in the file")
    stderr = env.log(proxy)
    t.check(site not in stderr and "reopening" not in stderr,
            "nothing of that went to stderr:\n" + stderr[-800:])
except Exception as e:
    import traceback
    traceback.print_exc()
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs()
        print("---- error.log", read(os.path.join(env.dir, "error.log"))[-3000:])
    env.close()
t.finish()
