"""A WebSocket origin for tests/e2e/test_websocket.py (python3-websockets).

Paths:
  /echo     every message back as it came (text or binary); "close-me" makes
            the server close with code 4000 "bye"
  /refuse   answers 403 without upgrading
  /flood    sends N binary messages of 64 KiB (N from the first message), then
            waits for the client to close
  /headers  sends the request's header lines as seen (one text message)
  /page     an HTML page (plain HTTP 200) whose script opens wss:// to
            /echo on its own origin, checks every echo and writes the result
            into <pre id=result> (tests/e2e/test_websocket_chromium.py)
Usage: ws_backend.py PORT
"""
import asyncio
import http
import sys

import websockets
import websockets.server


async def handler(ws, path):
    if path == "/flood":
        n = int(await ws.recv())
        chunk = bytes(range(256)) * 256
        for _ in range(n):
            await ws.send(chunk)
        await ws.wait_closed()
        return
    if path == "/headers":
        await ws.send("\n".join("%s: %s" % kv for kv in ws.request_headers.raw_items()))
        await ws.wait_closed()
        return
    async for msg in ws:
        if msg == "close-me":
            await ws.close(4000, "bye")
            return
        await ws.send(msg)


PAGE = b"""<!doctype html><html><body><pre id=result>running</pre><script>
const sizes = [0, 1, 125, 126, 65535, 65536, 1048576];
const out = document.getElementById('result');
const ws = new WebSocket('wss://' + location.host + '/echo');
ws.binaryType = 'arraybuffer';
let i = 0, ok = 0, log = [];
function msg(n) { const a = new Uint8Array(n); for (let k = 0; k < n; k++) a[k] = (k * 7 + n) & 255; return a; }
function next() {
  if (i < sizes.length) { ws.send(msg(sizes[i])); return; }
  if (i == sizes.length) { ws.send('text \u00e9cho'); return; }
  ws.close(1000, 'done');
}
ws.onopen = next;
ws.onmessage = (e) => {
  let good;
  if (i < sizes.length) {
    const want = msg(sizes[i]), got = new Uint8Array(e.data);
    good = got.length == want.length && got.every((v, k) => v == want[k]);
    log.push('binary ' + sizes[i] + (good ? ' ok' : ' BAD'));
  } else {
    good = e.data === 'text \u00e9cho';
    log.push('text' + (good ? ' ok' : ' BAD'));
  }
  ok += good ? 1 : 0; i++; next();
};
ws.onclose = (e) => { out.textContent = 'echoes ' + ok + '/' + (sizes.length + 1) + ' close ' + e.code + ' | ' + log.join(' | '); };
ws.onerror = () => { out.textContent = 'error after ' + i + ' | ' + log.join(' | '); };
</script></body></html>
"""


async def process_request(path, headers):
    if path == "/page":
        return http.HTTPStatus.OK, [("Content-Type", "text/html"), ("Cache-Control", "no-store")], PAGE
    if path == "/refuse":
        return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"no upgrade here\n"
    return None


async def main(port):
    async with websockets.server.serve(handler, "127.0.0.1", port, process_request=process_request,
                                       max_size=None, compression=None, ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
