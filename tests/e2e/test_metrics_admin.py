"""e2e (issue 15): the admin listener — /healthz, /readyz (503 from the
moment SIGTERM starts a graceful shutdown, while a slow request drains),
/status JSON fields, OpenMetrics by Accept, HEAD, 404/405/431, the request
timeout, admin.allow (403 and a log line), the open-connection gauges, an
HTTP/2 flood counted by kind, and SIGHUP: the generation moves on, counters
stay monotonic, a refused reload is counted, an admin address change is
logged and the listener kept. Every process is started here on free loopback
ports and stopped by PID; every wait is bounded.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
ck = pl.Checker()


def get(port, path, headers=None, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=headers or {},
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def metric(port, name, labels=""):
    """The sum of the samples of name whose label text contains labels."""
    _, _, body = get(port, "/metrics")
    total, seen = 0.0, False
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if labels in line:
                total += float(line.rsplit(" ", 1)[1])
                seen = True
    return total if seen else None


def write_cfg(path, port, admin, backends, extra=""):
    with open(path, "w") as f:
        f.write("""listeners:
  - name: edge
    address: "127.0.0.1:%d"
    tls:
      certificates: [{cert: %s, key: %s}]
upstreams:
  app:
    servers: [%s]
routes:
  - upstream: app
admin:
  address: "127.0.0.1:%d"
  max_request_size: 1KiB
  request_timeout: 700ms
limits:
  shutdown_timeout: 8s
workers: 2
logging: {level: info}
%s""" % (port, env.cert, env.key, ", ".join('"127.0.0.1:%d"' % b for b in backends), admin,
         extra))


try:
    o1, o2 = env.origin("o1"), env.origin("o2")
    port, admin = pl.free_port(), pl.free_port()
    cfg = os.path.join(env.dir, "a.yaml")
    write_cfg(cfg, port, admin, [o1.port])
    proxy = env.spawn([pl.BIN, "-c", cfg], "proxy")
    pl.wait_port(port, proxy, 20)
    pl.wait_port(admin, proxy, 20)

    st, _, body = get(admin, "/healthz")
    ck.eq(st, 200, "/healthz")
    ck.check(body.startswith(b"ok: 2 workers, 0 stalled"), "/healthz body %r" % body)
    ck.eq(get(admin, "/readyz")[0], 200, "/readyz")
    st, hdr, body = get(admin, "/healthz", method="HEAD")
    ck.eq((st, body), (200, b""), "HEAD /healthz: no body")
    ck.eq(get(admin, "/nothing")[0], 404, "unknown path: 404")
    ck.eq(get(admin, "/metrics", method="POST")[0], 405, "POST: 405")

    # Traffic: two h2 requests, one HTTP/1.1.
    c = pl.H2Client(port)
    ck.eq(c.request("GET", "/bytes/10").status, 200, "h2 GET")
    ck.eq(c.request("HEAD", "/bytes/10").status, 200, "h2 HEAD")
    r = subprocess.run(["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}",
                        "-X", "DELETE", "https://127.0.0.1:%d/status/503" % port],
                       capture_output=True, text=True, timeout=20)
    ck.eq(r.stdout, "503", "HTTP/1.1 DELETE answered 503 by the origin")
    # The h2 connection is still open: the gauge says so.
    ck.eq(metric(admin, "h2bridge_connections_open", 'protocol="h2"'), 1.0,
          "one h2 connection open")
    ck.eq(metric(admin, "h2bridge_requests_total",
                 'protocol="h2",method="HEAD",status_class="2xx"'), 1.0, "the h2 HEAD counted")
    ck.eq(metric(admin, "h2bridge_requests_total",
                 'protocol="http/1.1",method="DELETE",status_class="5xx"'), 1.0,
          "the HTTP/1.1 DELETE counted")
    ck.eq(metric(admin, "h2bridge_requests_active"), 0.0, "no request in progress")
    c.close()

    # /status.
    st, hdr, body = get(admin, "/status")
    ck.eq((st, hdr.get("Content-Type")), (200, "application/json"), "/status")
    s = json.loads(body)
    ck.check(isinstance(s.get("version"), str) and s["version"], "status.version")
    ck.check(s.get("uptime_seconds", -1) >= 0, "status.uptime_seconds")
    ck.eq((s.get("generation"), s.get("ready"), s.get("workers")), (1, True, 2),
          "status generation, ready, workers")
    lis = s["listeners"][0]
    ck.eq((lis["name"], lis["port"], lis["tls"], lis["state"], lis["requests_total"]),
          ("edge", port, True, "listening", 3), "status.listeners[0]")
    ck.eq(lis["requests_by_status"]["2xx"], 2, "status: listener 2xx")
    srv = s["upstreams"][0]["servers"][0]
    ck.eq((s["upstreams"][0]["name"], srv["server"], srv["state"], srv["requests_total"]),
          ("app", "127.0.0.1:%d" % o1.port, "up", 3), "status.upstreams[0].servers[0]")
    for k in ("connections_open", "connections_idle", "queue_length", "errors_total",
              "timeouts_total", "retries_total", "connect_failures_total"):
        ck.check(k in srv, "status server field " + k)

    # OpenMetrics on request.
    st, hdr, body = get(admin, "/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
    ck.check(hdr.get("Content-Type", "").startswith("application/openmetrics-text; version=1.0.0"),
             "OpenMetrics content type: %r" % hdr.get("Content-Type"))
    ck.check(body.endswith(b"# EOF\n") and b"# TYPE h2bridge_requests counter\n" in body,
             "OpenMetrics body")

    # Limits: a head over max_request_size gets 431; silence is closed.
    s1 = socket.create_connection(("127.0.0.1", admin), timeout=5)
    s1.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 2048 + b"\r\n\r\n")
    ck.check(pl.recv_all(s1).startswith(b"HTTP/1.1 431 "), "431 over admin.max_request_size")
    s2 = socket.create_connection(("127.0.0.1", admin), timeout=5)
    t0 = time.time()
    ck.eq(pl.recv_all(s2), b"", "a silent admin connection is closed")
    ck.check(time.time() - t0 < 3, "closed after admin.request_timeout (%.2f s)" % (time.time() - t0))

    # TLS handshake failures by reason: plain HTTP to the TLS port is a
    # protocol error; a client that closes mid-handshake is "closed".
    before_closed = metric(admin, "h2bridge_tls_handshake_failures_total", 'reason="closed"') or 0
    g = socket.create_connection(("127.0.0.1", port), timeout=5)
    g.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        pl.recv_all(g)
    except OSError:
        pass
    h = socket.create_connection(("127.0.0.1", port), timeout=5)
    h.sendall(b"\x16\x03\x01")  # the start of a ClientHello record, then nothing
    time.sleep(0.1)
    h.close()
    deadline = time.time() + 5
    while time.time() < deadline and not (
            metric(admin, "h2bridge_tls_handshake_failures_total", 'reason="protocol"') and
            (metric(admin, "h2bridge_tls_handshake_failures_total", 'reason="closed"') or 0) >
            before_closed):
        time.sleep(0.05)
    ck.eq(metric(admin, "h2bridge_tls_handshake_failures_total", 'reason="protocol"'), 1.0,
          "a TLS protocol failure counted")
    ck.check((metric(admin, "h2bridge_tls_handshake_failures_total", 'reason="closed"') or 0) >
             before_closed, "a handshake the client closed counted")
    ck.check((metric(admin, "h2bridge_tls_handshakes_total", 'version="TLSv1.3"') or 0) >= 2,
             "TLS 1.3 handshakes counted")

    # An HTTP/2 PING flood: GOAWAY ENHANCE_YOUR_CALM, counted by kind.
    fl = pl.tls_connect(port, alpn=["h2"])
    fl.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" +
               b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"\x00" * 8 + b"".join(
                   b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + bytes([i]) * 8 for i in range(200)))
    try:
        pl.recv_all(fl)
    except OSError:
        pass
    deadline = time.time() + 5
    floods = None
    while time.time() < deadline and not floods:
        floods = metric(admin, "h2bridge_http2_floods_total", 'listener="edge"')
        time.sleep(0.1)
    ck.eq(floods, 1.0, "one flood counted")
    ck.eq(metric(admin, "h2bridge_http2_errors_total",
                 'scope="connection",code="ENHANCE_YOUR_CALM"'), 1.0,
          "the GOAWAY ENHANCE_YOUR_CALM counted")

    # Reload: the generation moves on, counters do not go back, the admin
    # address change is logged and the listener kept.
    before = metric(admin, "h2bridge_requests_total")
    write_cfg(cfg, port, admin, [o1.port, o2.port])
    with open(cfg) as f:
        text = f.read().replace('address: "127.0.0.1:%d"\n  max_request_size' % admin,
                                'address: "127.0.0.1:%d"\n  max_request_size' % pl.free_port())
    with open(cfg, "w") as f:
        f.write(text)
    proxy.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    gen = None
    while time.time() < deadline and gen != 2:
        gen = json.loads(get(admin, "/status")[2]).get("generation")
        time.sleep(0.1)
    ck.eq(gen, 2, "generation 2 after SIGHUP")
    c = pl.H2Client(port)
    for _ in range(4):
        c.request("GET", "/bytes/1")
    c.close()
    after = metric(admin, "h2bridge_requests_total")
    ck.eq(after, before + 4, "requests_total is monotonic across the reload")
    s = json.loads(get(admin, "/status")[2])
    ck.eq(len(s["upstreams"][0]["servers"]), 2, "status shows the new server")
    ck.eq(metric(admin, "h2bridge_config_reloads_total", 'result="ok"'), 1.0, "reloads ok")
    ck.check("admin.enabled, admin.address and admin.port take effect at the next start"
             in env.log(proxy), "the admin address change is logged")
    with open(cfg, "w") as f:
        f.write("listeners: [oops\n")
    proxy.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    failed = None
    while time.time() < deadline and failed != 1.0:
        failed = metric(admin, "h2bridge_config_reloads_total", 'result="failed"')
        time.sleep(0.1)
    ck.eq(failed, 1.0, "a refused reload is counted")
    ck.eq(metric(admin, "h2bridge_config_generation"), 2.0, "generation stays 2")

    # Graceful shutdown: /readyz turns 503 at once while a slow request drains.
    slow = {}

    def run_slow():
        r = subprocess.run(["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_code}",
                            "https://127.0.0.1:%d/delay/2500" % port],
                           capture_output=True, text=True, timeout=30)
        slow["code"] = r.stdout

    th = threading.Thread(target=run_slow)
    th.start()
    deadline = time.time() + 5
    while time.time() < deadline and not metric(admin, "h2bridge_requests_active"):
        time.sleep(0.05)
    ck.eq(metric(admin, "h2bridge_requests_active", 'protocol="h2"'), 1.0,
          "the slow request is in progress")
    t0 = time.time()
    proxy.send_signal(signal.SIGTERM)
    st = None
    while time.time() - t0 < 2 and st != 503:
        try:
            st = get(admin, "/readyz")[0]
        except OSError:
            break
        time.sleep(0.02)
    ck.eq(st, 503, "/readyz is 503 during the drain")
    ck.check(time.time() - t0 < 1.0, "…within a second of SIGTERM (%.2f s)" % (time.time() - t0))
    ck.check(proxy.poll() is None, "the proxy still drains")
    ck.eq(get(admin, "/healthz")[0], 200, "/healthz still 200 while draining")
    ck.check(json.loads(get(admin, "/status")[2])["listeners"][0]["state"] == "draining",
             "status: the listener is draining")
    th.join(30)
    ck.eq(slow.get("code"), "200", "the slow request finished")
    proxy.wait(15)
    ck.eq(proxy.returncode, 0, "the proxy exited cleanly")

    # admin.allow: a client outside it gets 403 and a log line.
    port2, admin2 = pl.free_port(), pl.free_port()
    cfg2 = os.path.join(env.dir, "b.yaml")
    write_cfg(cfg2, port2, admin2, [o1.port])
    with open(cfg2) as f:
        text = f.read().replace("  request_timeout: 700ms\n",
                                "  request_timeout: 700ms\n  allow: [10.0.0.0/8, \"::1\"]\n")
    with open(cfg2, "w") as f:
        f.write(text)
    p2 = env.spawn([pl.BIN, "-c", cfg2], "proxy2")
    pl.wait_port(admin2, p2, 20)
    st, _, body = get(admin2, "/metrics")
    ck.eq(st, 403, "admin.allow: 403 from 127.0.0.1")
    ck.check(b"h2bridge_" not in body, "no metrics in the 403")
    time.sleep(0.2)
    ck.check("is not in admin.allow: 403" in env.log(p2), "the 403 is logged")
    env.stop(p2)
except Exception as e:  # noqa: BLE001
    import traceback
    traceback.print_exc()
    ck.check(False, "exception: %r" % e)
finally:
    if ck.failed:
        env.dump_logs()
    env.close()
ck.finish()
