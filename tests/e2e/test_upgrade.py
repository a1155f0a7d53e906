"""e2e: a new binary without dropping a connection (SIGUSR2, proxy/upgrade.h).

While a client opens a new TLS connection for every request, back to
back, and a request that takes 1.5 s is in flight:
- SIGUSR2 starts the binary again with the listening sockets handed over;
  no request fails (no connection is refused or reset at the hand-over);
  the slow request completes (the old process drains); the old process
  exits 0; the new one serves (and answers the admin listener).
- A SIGUSR2 whose new process cannot start (the configuration file became
  invalid) leaves the old one serving, with a log line.
The new process is this test's too: it is stopped by its PID at the end.
"""
import os
import re
import signal
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402


def h1_get(port):
    s = pl.tls_connect(port, alpn=["http/1.1"], timeout=5)
    s.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    return pl.recv_all(s)


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    new_pid = None
    try:
        origin = env.origin()
        port, admin = pl.free_port(), pl.free_port()
        path = os.path.join(env.dir, "up.yaml")
        good = ("listeners:\n  - address: \"127.0.0.1:%d\"\n"
                "    tls: {certificates: [{cert: %s, key: %s}]}\n"
                "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                "routes: [{upstream: app}]\nadmin: {address: \"127.0.0.1:%d\"}\nworkers: 2\n"
                "limits: {shutdown_timeout: 10s}\n"
                % (port, env.cert, env.key, origin.port, admin))
        with open(path, "w") as f:
            f.write(good)
        old = env.spawn([pl.BIN, "-c", path], "proxy-old")
        pl.wait_port(port, old, 20)
        # A failed upgrade first: the old process keeps serving.
        with open(path, "w") as f:
            f.write("listeners: [\n")
        old.send_signal(signal.SIGUSR2)
        deadline = time.time() + 10
        while time.time() < deadline and "did not become ready" not in env.log(old):
            time.sleep(0.1)
        c.check("did not become ready; this process keeps serving" in env.log(old),
                "a new process that cannot start: logged, the old one keeps serving")
        c.check(h1_get(port).startswith(b"HTTP/1.1 200"), "and it still serves")
        with open(path, "w") as f:
            f.write(good)

        results, stop = [], threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    got = h1_get(port)
                    results.append(True if got.startswith(b"HTTP/1.1 200") else got[:80])
                except OSError as e:
                    results.append(repr(e))

        th = threading.Thread(target=hammer)
        th.start()
        slow = pl.tls_connect(port, alpn=["http/1.1"], timeout=20)
        slow.sendall(b"GET /delay/1500 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.5)
        old.send_signal(signal.SIGUSR2)
        got = pl.recv_all(slow)
        c.check(got.startswith(b"HTTP/1.1 200"),
                "the request in flight across the upgrade completes: %r" % got[:40])
        try:
            old.wait(15)
        except Exception:
            pass
        c.eq(old.returncode, 0, "the old process drained and exited 0")
        time.sleep(0.5)
        stop.set()
        th.join(10)
        m = re.search(r"upgrade: the new binary \(pid (\d+)\) serves", env.log(old))
        new_pid = int(m.group(1)) if m else None
        c.check(new_pid is not None and os.path.exists("/proc/%d" % new_pid),
                "the new process runs (pid %r)" % new_pid)
        bad = [x for x in results if x is not True]
        print("requests on new connections across the upgrade: %d, failed: %d"
              % (len(results), len(bad)))
        c.check(len(results) > 20 and not bad,
                "%d requests on new connections across the upgrade, failed: %r"
                % (len(results), bad[:5]))
        c.check(h1_get(port).startswith(b"HTTP/1.1 200"), "the new process serves")
        body = urllib.request.urlopen("http://127.0.0.1:%d/readyz" % admin, timeout=5)
        c.eq(body.status, 200, "the admin listener answers from the new process")
    finally:
        if new_pid:
            try:
                os.kill(new_pid, signal.SIGTERM)
                for _ in range(100):
                    if not os.path.exists("/proc/%d" % new_pid):
                        break
                    time.sleep(0.1)
            except ProcessLookupError:
                pass
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
