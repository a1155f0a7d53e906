"""e2e (issue 15): headless Chromium renders the stats page at / of the
admin listener: a phone-sized screenshot (a PNG of a non-trivial size) and
the DOM after the page's script ran (--dump-dom with a virtual time budget
that covers a refresh from /status), which must name every listener,
upstream and server of the configuration. The page loads nothing from
elsewhere (no external assets). Every process is started here and stopped by
PID; every wait is bounded.
"""
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    pl.skip("chromium not installed")

env = pl.Env()
ck = pl.Checker()


def chromium(args, profile):
    # Its own profile directory, no sandbox (runs as root in CI), bounded.
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--user-data-dir=" + profile] + args
    return subprocess.run(argv, capture_output=True, timeout=60)


try:
    o = [env.origin("o%d" % i) for i in range(3)]
    port, plain, admin = pl.free_port(), pl.free_port(), pl.free_port()
    cfg = os.path.join(env.dir, "page.yaml")
    with open(cfg, "w") as f:
        f.write("""listeners:
  - name: edge-tls
    address: "127.0.0.1:%d"
    tls:
      certificates: [{cert: %s, key: %s}]
  - name: edge-plain
    address: "127.0.0.1:%d"
upstreams:
  web:
    servers: ["127.0.0.1:%d", "127.0.0.1:%d"]
  api:
    servers: ["127.0.0.1:%d"]
routes:
  - path_prefix: /api/
    upstream: api
  - upstream: web
admin:
  address: "127.0.0.1:%d"
workers: 1
logging: {level: warn}
""" % (port, env.cert, env.key, plain, o[0].port, o[1].port, o[2].port, admin))
    proxy = env.spawn([pl.BIN, "-c", cfg], "proxy")
    pl.wait_port(port, proxy, 20)
    pl.wait_port(admin, proxy, 20)
    c = pl.H2Client(port)
    for path in ("/bytes/10", "/bytes/10", "/api/bytes/10"):
        c.request("GET", path)
    c.close()

    url = "http://127.0.0.1:%d/" % admin
    profile = tempfile.mkdtemp(prefix="chromium-", dir=env.dir)
    shot = os.path.join(env.dir, "stats.png")
    r = chromium(["--window-size=412,915", "--hide-scrollbars", "--screenshot=" + shot, url],
                 profile)
    ck.eq(r.returncode, 0, "chromium --screenshot ran: %s" % r.stderr[-500:])
    ck.check(os.path.exists(shot), "screenshot written")
    if os.path.exists(shot):
        with open(shot, "rb") as f:
            png = f.read()
        ck.check(png.startswith(b"\x89PNG\r\n\x1a\n"), "the screenshot is a PNG")
        ck.check(len(png) > 10000, "the screenshot is not blank (%d bytes)" % len(png))
    # The DOM after the script ran, including one refresh (every 2 s).
    r = chromium(["--virtual-time-budget=5000", "--dump-dom", url], profile)
    dom = r.stdout.decode("utf-8", "replace")
    ck.eq(r.returncode, 0, "chromium --dump-dom ran")
    for name in ("edge-tls", "edge-plain"):
        ck.check('data-listener="%s"' % name in dom, "DOM has listener " + name)
    for up, srv in (("web", o[0].port), ("web", o[1].port), ("api", o[2].port)):
        ck.check(re.search(r'<tr data-upstream="%s" data-server="127\.0\.0\.1:%d"' % (up, srv),
                           dom) is not None, "DOM has server %s/127.0.0.1:%d" % (up, srv))
    ck.check(re.search(r'<p id="err" class="err"></p>', dom) is not None,
             "no refresh error shown")
    m = re.search(r'data-refreshes="(\d+)"', dom)
    ck.check(m is not None and int(m.group(1)) >= 1, "the page refreshed itself from /status")
    ck.check(re.search(r'data-generation="1"', dom) is not None, "the script rendered")
    # Self-contained: no src= or href= to anything (no external assets).
    with urllib.request.urlopen(url, timeout=5) as resp:
        page = resp.read().decode()
        ck.check('name="viewport"' in page, "a viewport meta for phones")
    ck.check(re.search(r'\b(src|href)\s*=', page) is None, "no external asset referenced")
    ck.check("@media (max-width:640px)" in page, "a narrow-screen layout")
    env.stop(proxy)
    ck.eq(proxy.returncode, 0, "the proxy exits cleanly on SIGTERM (no sanitizer report)")
except Exception as e:  # noqa: BLE001
    import traceback
    traceback.print_exc()
    ck.check(False, "exception: %r" % e)
finally:
    if ck.failed:
        env.dump_logs()
    env.close()
ck.finish()
