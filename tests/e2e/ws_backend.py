"""A WebSocket origin for tests/e2e/test_websocket.py (python3-websockets).

Paths:
  /echo     every message back as it came (text or binary); "close-me" makes
            the server close with code 4000 "bye"
  /refuse   answers 403 without upgrading
  /flood    sends N binary messages of 64 KiB (N from the first message), then
            waits for the client to close
  /headers  sends the request's header lines as seen (one text message)
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


async def process_request(path, headers):
    if path == "/refuse":
        return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"no upgrade here\n"
    return None


async def main(port):
    async with websockets.server.serve(handler, "127.0.0.1", port, process_request=process_request,
                                       max_size=None, compression=None, ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
