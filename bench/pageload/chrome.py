#!/usr/bin/python3
"""bench/pageload/chrome.py — drives headless Chromium over the DevTools
protocol for the page-load and upload benchmarks. Each measurement is a new
Chromium process with a new profile: a cold cache and a new connection, as
a first visit.

    chrome.py page URL N          N loads of URL; one JSON line each:
                                  {"fcp": ms, "lcp": ms, "load": ms, "proto": "h2"}
    chrome.py upload ORIGIN BYTES one fetch() POST of BYTES to ORIGIN/sink
                                  from ORIGIN/site/blank.html: {"seconds": s}

Times are from the navigation's start (so they include the connection and
the TLS handshake): first contentful paint, largest contentful paint and
the end of the load event."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets.client

CHROMIUM = "/usr/bin/chromium"

METRICS_JS = """
new Promise(done => {
  let lcp = null;
  new PerformanceObserver(l => { for (const e of l.getEntries()) lcp = e.startTime; })
    .observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => {
    const p = performance.getEntriesByName('first-contentful-paint')[0];
    const n = performance.getEntriesByType('navigation')[0];
    done(JSON.stringify({fcp: p ? p.startTime : null, lcp: lcp, load: n.loadEventEnd,
                         proto: n.nextHopProtocol}));
  }, 200);
})
"""

UPLOAD_JS = """
(async () => {
  const body = new Uint8Array(%d);
  for (let i = 0; i < body.length; i += 4096) body[i] = i & 255;
  const t = performance.now();
  const r = await fetch('/sink', {method: 'POST', body: body, cache: 'no-store'});
  await r.text();
  return JSON.stringify({seconds: (performance.now() - t) / 1000, status: r.status});
})()
"""


def netlog_flags():
    """H2B_CHROME_NETLOG=DIR: each Chromium writes its NetLog (every HTTP/2
    frame it sends and gets, with priorities) to DIR/netlog-PID-TIME.json,
    for looking into what a browser asked a proxy for; off by default (it
    costs the browser time)."""
    d = os.environ.get("H2B_CHROME_NETLOG")
    if not d:
        return []
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "netlog-%d-%d.json" % (os.getpid(), time.monotonic_ns()))
    return ["--log-net-log=" + path, "--net-log-capture-mode=Everything"]


def cert_flag():
    """H2B_CHROME_SPKI=HASH (base64 SHA-256 of the proxies' public key, from
    bench/lib/common.sh make_cert): Chromium trusts that key as if a CA had
    signed it. Without it, certificate errors are ignored, and Chromium then
    keeps nothing in its HTTP cache (a response with a certificate error is
    never stored): every 103 Early Hints preload is fetched a second time."""
    spki = os.environ.get("H2B_CHROME_SPKI")
    if spki:
        return "--ignore-certificate-errors-spki-list=" + spki
    return "--ignore-certificate-errors"


class Chrome:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="h2b-chrome-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update",
             cert_flag(), "--window-size=1280,800",
             "--user-data-dir=" + self.profile, "--remote-debugging-port=0"] + netlog_flags()
            + ["about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws = None
        self.n = 0
        self.events = []

    async def open(self):
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        end = time.time() + 30
        target = None
        while target is None:
            if time.time() > end:
                raise RuntimeError("chromium: no DevTools target")
            try:
                with open(port_file) as f:
                    port = int(f.readline())
                with urllib.request.urlopen("http://127.0.0.1:%d/json" % port, timeout=5) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                target = pages[0]["webSocketDebuggerUrl"] if pages else None
            except (OSError, ValueError):
                pass
            if target is None:
                await asyncio.sleep(0.1)
        self.ws = await websockets.client.connect(target, max_size=None)

    async def call(self, method, **params):
        self.n += 1
        mid = self.n
        await self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            m = json.loads(await self.ws.recv())
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    async def wait_event(self, name, timeout):
        end = time.time() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == name:
                    del self.events[i]
                    return m
            left = end - time.time()
            if left <= 0:
                raise RuntimeError("timed out waiting for " + name)
            m = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            self.events.append(m)

    async def evaluate(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr, awaitPromise=True,
                            returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("page: %s" % r["exceptionDetails"])
        return json.loads(r["result"]["value"])

    async def navigate(self, url, timeout=120):
        await self.call("Page.enable")
        await self.call("Page.navigate", url=url)
        await self.wait_event("Page.loadEventFired", timeout)

    async def close(self):
        if self.ws:
            await self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


async def one_page(url):
    c = Chrome()
    try:
        await c.open()
        await c.navigate(url)
        await asyncio.sleep(0.3)  # the last paint after load is reported
        return await c.evaluate(METRICS_JS)
    finally:
        await c.close()


async def one_upload(origin, nbytes):
    c = Chrome()
    try:
        await c.open()
        await c.navigate(origin + "/site/blank.html")
        return await c.evaluate(UPLOAD_JS % nbytes)
    finally:
        await c.close()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("page", "upload"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if sys.argv[1] == "page":
        for _ in range(int(sys.argv[3])):
            print(json.dumps(asyncio.run(one_page(sys.argv[2]))), flush=True)
    else:
        print(json.dumps(asyncio.run(one_upload(sys.argv[2], int(sys.argv[3])))), flush=True)


if __name__ == "__main__":
    main()
