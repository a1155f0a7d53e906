"""e2e: a real headless Chromium opens wss:// through the proxy and checks
every echo (binary messages up to 1 MiB and a text message, then a close
handshake) from a WebSocket server (tests/e2e/ws_backend.py) — once on a
listener with HTTP/2, where Chromium uses RFC 8441 extended CONNECT on the
page's own h2 connection, and once on a listener with HTTP/2 disabled
(protocols: [http/1.1]), where it uses HTTP/1.1 Upgrade. The proxy's debug
log says which kind of tunnel each one was.
"""
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import websockets.client  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    pl.skip("chromium not installed")


def chromium(env, url, profile):
    """Runs Chromium on url and returns the page's result text, read over the
    DevTools protocol (a WebSocket is not network activity that
    --virtual-time-budget waits for)."""
    dport = pl.free_port()
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--ignore-certificate-errors", "--user-data-dir=" + profile,
            "--remote-debugging-port=%d" % dport, url]
    p = env.spawn(argv, "chromium-%d" % dport)
    try:
        return asyncio.run(read_result(dport))
    finally:
        env.stop(p)


async def read_result(dport):
    end = time.time() + 60
    target = None
    while target is None and time.time() < end:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json" % dport, timeout=5) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            target = pages[0]["webSocketDebuggerUrl"] if pages else None
        except OSError:
            pass
        if target is None:
            await asyncio.sleep(0.2)
    if target is None:
        return "no DevTools target"
    async with websockets.client.connect(target, max_size=None) as cdp:
        n = 0
        text = ""
        while time.time() < end:
            n += 1
            await cdp.send(json.dumps({"id": n, "method": "Runtime.evaluate", "params": {
                "expression": "(document.getElementById('result') || {}).textContent || ''"}}))
            while True:
                m = json.loads(await cdp.recv())
                if m.get("id") == n:
                    break
            text = m.get("result", {}).get("result", {}).get("value", "")
            if text and text != "running":
                return text
            await asyncio.sleep(0.2)
        return text


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        ws_port = pl.free_port()
        ws = env.spawn(["/usr/bin/python3", os.path.join(HERE, "ws_backend.py"), str(ws_port)],
                       "ws-backend")
        pl.wait_port(ws_port, ws)
        h2port, h1port = pl.free_port(), pl.free_port()
        path = os.path.join(env.dir, "chromium.yaml")
        with open(path, "w") as f:
            f.write("listeners:\n"
                    "  - {address: \"127.0.0.1:%d\", websocket: true, tls: {certificates: [{cert: %s, key: %s}]}}\n"
                    "  - {address: \"127.0.0.1:%d\", websocket: true, protocols: [http/1.1], tls: {certificates: [{cert: %s, key: %s}]}}\n"
                    "upstreams:\n  ws: {servers: [\"127.0.0.1:%d\"]}\n"
                    "routes:\n  - {upstream: ws}\n"
                    "logging: {level: debug}\n"
                    % (h2port, env.cert, env.key, h1port, env.cert, env.key, ws_port))
        proxy = env.spawn([pl.BIN, "-c", path, "--workers", "1"], "proxy")
        pl.wait_port(h2port, proxy, timeout=20)
        pl.wait_port(h1port, proxy, timeout=20)
        for port, kind, what in ((h2port, "websocket-h2", "HTTP/2 (RFC 8441)"),
                                 (h1port, "upgrade", "HTTP/2 disabled (HTTP/1.1 Upgrade)")):
            before = env.log(proxy).count("%s tunnel open" % kind)
            profile = tempfile.mkdtemp(prefix="chromium-", dir=env.dir)
            text = chromium(env, "https://127.0.0.1:%d/page" % port, profile)
            c.check(text.startswith("echoes 8/8 close 1000"),
                    "%s: every echo checked by the page: %r" % (what, text[:400]))
            after = env.log(proxy).count("%s tunnel open" % kind)
            c.eq(after - before, 1, "%s: the proxy opened one %s tunnel" % (what, kind))
        if c.failed:
            env.dump_logs(2000)
    finally:
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
