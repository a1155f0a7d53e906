"""e2e (issue 15): a real Prometheus (Debian's /usr/bin/prometheus, 1 s
scrape interval, its own temp storage, our alert rules loaded) scrapes
h2bridge's admin listener while h2load sends a known number of requests:
N to a 200 path and M to a 404 path. Prometheus's HTTP API must then give
exactly N + M requests, the 2xx/4xx split, the same histogram _count, and
up == 1. promtool checks a raw scrape (`check metrics`) and the shipped rules
(`check rules`). Every process is started here on free loopback ports and
stopped by PID; every wait is bounded.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
for tool in ("h2load", "prometheus", "promtool"):
    if not shutil.which(tool):
        pl.skip(tool + " not installed")

SRC = os.environ.get("H2B_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(SRC, "deploy", "prometheus", "h2bridge-rules.yml")
N_OK, N_404 = 300, 120

env = pl.Env()
ck = pl.Checker()


def http_get(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def h2load(url, n, c):
    out = subprocess.run(["h2load", "-n", str(n), "-c", str(c), "-m", "10", url],
                         capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done", out)
    return int(m.group(1)) if m else -1, out


try:
    origin = env.origin("o1")
    port, admin, prom_port = pl.free_port(), pl.free_port(), pl.free_port()
    cfg = os.path.join(env.dir, "proxy.yaml")
    with open(cfg, "w") as f:
        f.write("""listeners:
  - name: edge
    address: "127.0.0.1:%d"
    tls:
      certificates: [{cert: %s, key: %s}]
upstreams:
  app:
    servers: ["127.0.0.1:%d"]
routes:
  - upstream: app
admin:
  address: "127.0.0.1:%d"
workers: 2
logging: {level: warn}
""" % (port, env.cert, env.key, origin.port, admin))
    proxy = env.spawn([pl.BIN, "-c", cfg], "proxy")
    pl.wait_port(port, proxy, 20)
    pl.wait_port(admin, proxy, 20)

    # promtool on a raw scrape (the text format; promtool lints names too).
    st, hdr, body = http_get("http://127.0.0.1:%d/metrics" % admin)
    ck.eq(st, 200, "GET /metrics")
    scrape = os.path.join(env.dir, "scrape.txt")
    with open(scrape, "wb") as f:
        f.write(body)
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=30)
    ck.check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
             "promtool check metrics is clean: rc %d %s %s" % (r.returncode, r.stdout, r.stderr))
    r = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True,
                       timeout=30)
    ck.check(r.returncode == 0 and "SUCCESS" in r.stdout,
             "promtool check rules %s: %s %s" % (RULES, r.stdout, r.stderr))

    # Prometheus: scrape every second; the rules are loaded and evaluated.
    shutil.copy(RULES, os.path.join(env.dir, "rules.yml"))
    pcfg = os.path.join(env.dir, "prometheus.yml")
    with open(pcfg, "w") as f:
        f.write("""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: h2bridge
    static_configs:
      - targets: ["127.0.0.1:%d"]
""" % admin)
    prom = env.spawn(["prometheus", "--config.file=" + pcfg,
                      "--storage.tsdb.path=" + os.path.join(env.dir, "tsdb"),
                      "--web.listen-address=127.0.0.1:%d" % prom_port, "--log.level=warn"],
                     "prometheus")
    base = "http://127.0.0.1:%d" % prom_port
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if http_get(base + "/-/ready", timeout=1)[0] == 200:
                break
        except OSError:
            pass
        if prom.poll() is not None:
            break
        time.sleep(0.2)
    ck.check(prom.poll() is None, "prometheus is running")

    def query(q):
        st, _, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
        if st != 200:
            return None
        res = json.loads(body)["data"]["result"]
        return res

    def scalar(q):
        res = query(q)
        return float(res[0]["value"][1]) if res else None

    # Load: N_OK requests answered 200, N_404 answered 404 by the origin.
    done, out = h2load("https://127.0.0.1:%d/bytes/100" % port, N_OK, 4)
    ck.eq(done, N_OK, "h2load done (200s)")
    done, out = h2load("https://127.0.0.1:%d/status/404" % port, N_404, 2)
    ck.eq(done, N_404, "h2load done (404s)")

    # Wait for a scrape that saw all of them.
    total = None
    deadline = time.time() + 20
    while time.time() < deadline:
        total = scalar('sum(h2bridge_requests_total{job="h2bridge",listener="edge"})')
        if total == N_OK + N_404:
            break
        time.sleep(0.5)
    ck.eq(total, N_OK + N_404, "Prometheus: h2bridge_requests_total")
    split = {r["metric"]["status_class"]: float(r["value"][1]) for r in query(
        'sum by (status_class) (h2bridge_requests_total{listener="edge"})') or []}
    ck.eq(split, {"2xx": N_OK, "4xx": N_404}, "Prometheus: the status-class split")
    by_proto = {r["metric"]["protocol"]: float(r["value"][1]) for r in query(
        'sum by (protocol, method) (h2bridge_requests_total{listener="edge"})') or []}
    ck.eq(by_proto, {"h2": N_OK + N_404}, "Prometheus: every request is h2 GET")
    ck.eq(scalar('sum(h2bridge_request_duration_seconds_count{listener="edge"})'),
          N_OK + N_404, "Prometheus: the request duration histogram's _count")
    ck.eq(scalar('sum(h2bridge_request_duration_seconds_bucket{listener="edge",le="+Inf"})'),
          N_OK + N_404, "Prometheus: the +Inf bucket")
    ck.eq(scalar('sum(h2bridge_backend_first_byte_seconds_count{upstream="app"})'),
          N_OK + N_404, "Prometheus: the time-to-first-byte histogram's _count")
    ck.eq(scalar('sum(h2bridge_backend_requests_total{upstream="app",status_class="4xx"})'),
          N_404, "Prometheus: the backend's 4xx")
    ck.eq(scalar('sum(h2bridge_request_ends_total{reason="complete"})'), N_OK + N_404,
          "Prometheus: every request ended complete")
    ck.check((scalar('sum(h2bridge_response_body_bytes_total{listener="edge"})') or 0)
             >= 100 * N_OK, "Prometheus: response bytes, at least 100 per 200")
    ck.check((scalar('sum(h2bridge_tls_handshakes_total{listener="edge"})') or 0) >= 6,
             "Prometheus: the handshakes of h2load's 6 connections")
    ck.eq(scalar('up{job="h2bridge"}'), 1.0, "Prometheus: up")
    ck.eq(scalar('h2bridge_workers'), 2.0, "Prometheus: h2bridge_workers")
    ck.eq(scalar('h2bridge_ready'), 1.0, "Prometheus: h2bridge_ready")
    ck.check((scalar('process_resident_memory_bytes') or 0) > 1 << 20, "process RSS")
    ck.check((scalar('process_open_fds') or 0) > 3, "process open fds")
    # Prometheus 2.42's Accept asks for OpenMetrics first, so the output it
    # parsed here is the OpenMetrics one (the raw scrape above was the text format).
    st, _, body = http_get(base + "/api/v1/targets")
    t = json.loads(body)["data"]["activeTargets"]
    ck.check(t and t[0]["health"] == "up" and not t[0]["lastError"],
             "target healthy: %r" % (t[0] if t else None))
    # The rules load and evaluate without errors; none fires on a healthy proxy.
    st, _, body = http_get(base + "/api/v1/rules")
    groups = json.loads(body)["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    ck.check(len(rules) >= 10, "Prometheus loaded the rules (%d)" % len(rules))
    bad = [(r["name"], r.get("lastError")) for r in rules if r.get("health") not in ("ok", None)
           or r.get("lastError")]
    ck.eq(bad, [], "every rule evaluates")
    firing = [r["name"] for r in rules if r.get("state") == "firing"]
    ck.eq(firing, [], "no alert fires")
    env.stop(proxy)
    ck.eq(proxy.returncode, 0, "the proxy exits cleanly on SIGTERM (no sanitizer report)")
except Exception as e:  # noqa: BLE001
    ck.check(False, "exception: %r" % e)
finally:
    if ck.failed:
        env.dump_logs()
    env.close()
ck.finish()
