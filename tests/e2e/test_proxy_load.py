"""h2load -n 100000 -c 100 -m 10 through h2bridge to h2bridge-origin: every
request succeeds, and the origin accepts no more connections than the pool
allows (workers x servers[].max_connections; counted with the origin's
connection ids)."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
if not shutil.which("h2load"):
    pl.skip("h2load not installed (nghttp2-client)")
N = int(os.environ.get("H2B_LOAD_REQUESTS", "100000"))
if pl.SANITIZE:
    N = min(N, 20000)  # the same run, sized for a sanitizer build
WORKERS, MAXC = 2, 8
env = pl.Env()
t = pl.Checker()
try:
    origin = env.origin("load")
    port = pl.free_port()
    cfg = os.path.join(env.dir, "load.yaml")
    with open(cfg, "w") as f:
        f.write("""
listeners:
  - address: "127.0.0.1:%d"
    tls:
      certificates: [{cert: %s, key: %s}]
upstreams:
  origin:
    servers: [{address: "127.0.0.1:%d", max_connections: %d}]
    keepalive: %d
routes:
  - upstream: origin
workers: %d
logging: {level: warn}
""" % (port, env.cert, env.key, origin.port, MAXC, MAXC, WORKERS))
    p = env.spawn([pl.BIN, "-c", cfg], "proxy")
    pl.wait_port(port, p, 20)
    out = subprocess.run(["h2load", "-n", str(N), "-c", "100", "-m", "10",
                          "https://127.0.0.1:%d/bytes/100" % port],
                         capture_output=True, text=True, timeout=300).stdout
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    t.check(m is not None, "h2load printed its summary:\n" + out)
    if m:
        total, started, done, ok, failed, errored, timeout = map(int, m.groups())
        t.eq((done, ok, failed, errored, timeout), (N, N, 0, 0, 0), "h2load requests")
    t.check("status codes: %d 2xx" % N in out, "all %d responses are 2xx" % N)
    c = pl.H2Client(port)
    info = json.loads(bytes(c.request("GET", "/inspect").body))
    c.close()
    # conn 1 was the harness's port probe.
    t.check(info["conn_id"] <= WORKERS * MAXC + 1,
            "origin accepted %d connections, pool allows %d" % (info["conn_id"] - 1, WORKERS * MAXC))
    t.check(p.poll() is None, "proxy still running")
    print(out[out.find("finished in"):].splitlines()[0] if "finished in" in out else out[-500:])
except Exception as e:
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs(6000)
    env.close()
t.finish()
