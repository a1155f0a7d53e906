"""e2e: WebSocket and other Upgrade tunnels (docs/websocket.md) through the
proxy to a real WebSocket server (python3-websockets, tests/e2e/ws_backend.py).

- HTTP/1.1 (wss:// with the websockets client): echo of text and binary
  messages up to 1 MiB, fragmented messages, ping/pong, close from either
  side, a backend refusing the upgrade (403 reaches the client), a route
  with websocket: false and a listener without websocket (the Upgrade is
  not forwarded: the server answers 426).
- HTTP/2 (RFC 8441 extended CONNECT driven with python3-h2 and the framing
  below): SETTINGS_ENABLE_CONNECT_PROTOCOL only on listeners with websocket;
  200 and echo up to 1 MiB, fragmented, ping/pong, close from either side,
  403 refused, 50 concurrent tunnels on one connection, a slow reader with
  the proxy's RSS bounded.
- Records and metrics: tunnels_total, tunnels_open, the tunnels' bytes each
  way in the request/response body byte counters; the access log (json) has
  each tunnel once with its kind, bytes each way, status and duration.
- A listener with tcp_notsent_lowat (writes to the client often partial):
  ten 1 MiB echoes over HTTP/1.1 each come back whole (a pass whose pull
  was cut short by output still waiting and whose write then took it all
  used to leave the last bytes in the proxy until tunnels.idle_timeout).
- tunnels.idle_timeout ends an idle tunnel; tunnels.max_per_connection
  answers 503; on SIGTERM a tunnel works on while the proxy drains and is
  closed after limits.shutdown_timeout.
"""
import asyncio
import json
import signal
import os
import socket
import ssl
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402
import websockets  # noqa: E402
import websockets.client  # noqa: E402
import websockets.exceptions  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ENABLE_CONNECT_PROTOCOL = 0x8
MIB = 1024 * 1024


def write_config(env, ports, ws_port, admin_port, log):
    """Listeners: [0] TLS h2+http/1.1 with websocket, [1] TLS http/1.1 only
    with websocket, [2] TLS without websocket, [3] as [1] with
    tcp_notsent_lowat. Route /nows/ has websocket:
    false. A tunnel holds its backend connection: the server allows more
    than the default (keepalive, 32) per worker."""
    yaml = ("listeners:\n"
            "  - {address: \"127.0.0.1:%d\", websocket: true, tls: {certificates: [{cert: %s, key: %s}]}}\n"
            "  - {address: \"127.0.0.1:%d\", websocket: true, protocols: [http/1.1], tls: {certificates: [{cert: %s, key: %s}]}}\n"
            "  - {address: \"127.0.0.1:%d\", tls: {certificates: [{cert: %s, key: %s}]}}\n"
            "  - {address: \"127.0.0.1:%d\", websocket: true, protocols: [http/1.1], tcp_notsent_lowat: 16KiB, tls: {certificates: [{cert: %s, key: %s}]}}\n"
            "upstreams:\n  ws: {servers: [{address: \"127.0.0.1:%d\", max_connections: 200}]}\n"
            "routes:\n"
            "  - {path_prefix: /nows/, rewrite_prefix: /, upstream: ws, websocket: false}\n"
            "  - {upstream: ws}\n"
            "tunnels: {idle_timeout: 2s, max_per_connection: 60}\n"
            "limits: {shutdown_timeout: 1s}\n"
            "logging: {access_log: %s, access_log_format: json}\n"
            "admin: {address: \"127.0.0.1:%d\"}\n"
            % (ports[0], env.cert, env.key, ports[1], env.cert, env.key, ports[2], env.cert,
               env.key, ports[3], env.cert, env.key, ws_port, log, admin_port))
    path = os.path.join(env.dir, "ws.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    return path


# ---- HTTP/1.1: the websockets client -------------------------------------------

def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def h1_checks(c, port, port_nows):
    url = "wss://localhost:%d" % port
    async with websockets.client.connect(url + "/echo", ssl=client_ctx(), max_size=None,
                                         compression=None, ping_interval=None) as ws:
        for size in (0, 1, 125, 126, 65535, 65536, MIB):
            msg = pl.pattern(size)
            await ws.send(msg)
            c.eq(await ws.recv(), msg, "h1 binary echo of %d bytes" % size)
        await ws.send("héllo")
        c.eq(await ws.recv(), "héllo", "h1 text echo")
        await ws.send(["frag", "mented", " text"])  # one message in three frames
        c.eq(await ws.recv(), "fragmented text", "h1 fragmented message")
        pong = await ws.ping(b"p1")
        await asyncio.wait_for(pong, 10)
        c.check(True, "h1 ping answered by pong")
        await ws.close(1000, "done")
        c.eq(ws.close_code, 1000, "h1 close from the client")
    async with websockets.client.connect(url + "/echo", ssl=client_ctx(), compression=None,
                                         ping_interval=None) as ws:
        await ws.send("close-me")
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.exceptions.ConnectionClosed:
            pass
        c.eq(ws.close_code, 4000, "h1 close from the server (code)")
        c.eq(ws.close_reason, "bye", "h1 close from the server (reason)")
    for path, want, what in ((url + "/refuse", 403, "refused upgrade"),
                             (url + "/nows/echo", 426, "route with websocket: false"),
                             ("wss://localhost:%d/echo" % port_nows, 426,
                              "listener without websocket")):
        try:
            async with websockets.client.connect(path, ssl=client_ctx(), compression=None):
                c.check(False, "h1 %s: upgraded" % what)
        except websockets.exceptions.InvalidStatusCode as e:
            c.eq(e.status_code, want, "h1 %s: status" % what)


async def lowat_checks(c, port):
    """Partial writes to the client, 1 MiB each way, ten times over."""
    url = "wss://localhost:%d/echo" % port
    async with websockets.client.connect(url, ssl=client_ctx(), max_size=None,
                                         compression=None, ping_interval=None) as ws:
        whole = 0
        for i in range(10):
            msg = pl.pattern(MIB + i)
            await ws.send(msg)
            try:
                got = await asyncio.wait_for(ws.recv(), 10)
            except (asyncio.TimeoutError, websockets.exceptions.ConnectionClosed):
                break
            whole += got == msg
        c.eq(whole, 10, "tcp_notsent_lowat listener: ten 1 MiB echoes come back whole")


# ---- HTTP/2: RFC 8441 with python3-h2 ----------------------------------------------

def ws_frame(opcode, payload, fin=True):
    """A client frame (masked, RFC 6455 §5.2)."""
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
        (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return head + mask + body


def ws_parse(buf):
    """Server frames from buf: a list of (fin, opcode, payload) and the rest."""
    out = []
    while len(buf) >= 2:
        b0, b1 = buf[0], buf[1]
        n, off = b1 & 0x7f, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, off = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, off = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < off + n:
            break
        out.append((bool(b0 & 0x80), b0 & 0x0f, bytes(buf[off:off + n])))
        buf = buf[off + n:]
    return out, buf


class WsH2(pl.H2Client):
    """HTTP/2 client that opens WebSocket streams by extended CONNECT."""

    h2_options = {"client_side": True, "validate_outbound_headers": False,
                  "normalize_outbound_headers": False}
    remote_settings = None

    def handle(self, ev):
        if isinstance(ev, h2.events.RemoteSettingsChanged) and self.remote_settings is None:
            self.remote_settings = {int(k): v.new_value for k, v in ev.changed_settings.items()}
        super().handle(ev)

    def open_ws(self, path):
        sid = self.start("CONNECT", path, [(":protocol", "websocket"),
                                           ("sec-websocket-version", "13")], end=False)
        self.streams[sid].parsed = bytearray()
        return sid

    def wait_head(self, sid, deadline=20.0):
        end = time.time() + deadline
        while self.streams[sid].status is None and not self.streams[sid].done:
            if time.time() > end:
                raise TimeoutError("no response head")
            self.step()
        return self.streams[sid].status

    def messages(self, sid, count, deadline=60.0):
        """The next count complete messages (opcode, payload) on sid; control
        frames count as messages."""
        r = self.streams[sid]
        got, frag, fop = [], b"", None
        end = time.time() + deadline
        while len(got) < count:
            frames, rest = ws_parse(r.body)
            r.body = bytearray(rest)
            for fin, op, payload in frames:
                if op == 0:
                    frag += payload
                    if fin:
                        got.append((fop, frag))
                        frag = b""
                elif op >= 8 or fin:
                    got.append((op, payload))
                else:
                    fop, frag = op, payload
            if len(got) >= count:
                break
            if r.done:
                break
            if time.time() > end:
                raise TimeoutError("messages")
            self.step()
        return got

    def send_ws(self, sid, data, end=False):
        self.send_data(sid, data, end)
        while sid in self.pending_body:
            self.step()


def h2_checks(c, env, proxy, port, port_nows):
    cl = WsH2(port)
    sid = cl.start("GET", "/", [])  # only to get SETTINGS in
    cl.wait([sid])
    c.eq((cl.remote_settings or {}).get(ENABLE_CONNECT_PROTOCOL), 1,
         "h2: SETTINGS_ENABLE_CONNECT_PROTOCOL=1 on a websocket listener")
    sid = cl.open_ws("/echo")
    c.eq(cl.wait_head(sid), 200, "h2 extended CONNECT answered 200")
    c.eq(cl.streams[sid].header("sec-websocket-accept"), None,
         "h2: no Sec-WebSocket-Accept in the 200 (RFC 8441 §5)")
    for size in (0, 125, 126, 65536, MIB):
        msg = pl.pattern(size)
        cl.send_ws(sid, ws_frame(2, msg))
        c.eq(cl.messages(sid, 1), [(2, msg)], "h2 binary echo of %d bytes" % size)
    cl.send_ws(sid, ws_frame(1, "héllo".encode()))
    c.eq(cl.messages(sid, 1), [(1, "héllo".encode())], "h2 text echo")
    cl.send_ws(sid, ws_frame(1, b"frag", fin=False) + ws_frame(0, b"mented", fin=False) +
               ws_frame(0, b"!", fin=True))
    c.eq(cl.messages(sid, 1), [(1, b"fragmented!")], "h2 fragmented message")
    cl.send_ws(sid, ws_frame(9, b"ping-1"))
    c.eq(cl.messages(sid, 1), [(10, b"ping-1")], "h2 ping answered by pong")
    cl.send_ws(sid, ws_frame(8, struct.pack("!H", 1000) + b"done"))
    got = cl.messages(sid, 1)
    c.eq(got[:1], [(8, struct.pack("!H", 1000) + b"done")], "h2 close from the client echoed")
    cl.send_ws(sid, b"", end=True)
    cl.wait([sid], 20)
    c.check(cl.streams[sid].reset is None, "h2 tunnel ended by END_STREAM, not reset")

    sid = cl.open_ws("/echo")
    cl.wait_head(sid)
    cl.send_ws(sid, ws_frame(1, b"close-me"))
    got = cl.messages(sid, 1)
    c.eq(got[:1], [(8, struct.pack("!H", 4000) + b"bye")], "h2 close from the server")
    cl.send_ws(sid, ws_frame(8, struct.pack("!H", 4000)))
    cl.wait([sid], 20)
    c.check(cl.streams[sid].done and cl.streams[sid].reset is None,
            "h2 tunnel ends (END_STREAM) when the server closes")
    cl.send_ws(sid, b"", end=True) if sid in cl.conn.streams else None

    sid = cl.open_ws("/refuse")
    c.eq(cl.wait_head(sid), 403, "h2 refused upgrade: the backend's 403 reaches the client")
    cl.send_ws(sid, b"", end=True)
    sid = cl.open_ws("/nows/echo")
    c.eq(cl.wait_head(sid), 501, "h2 route with websocket: false: 501")

    # Many tunnels on one connection, all at once.
    sids = [cl.open_ws("/echo") for _ in range(50)]
    for s in sids:
        cl.wait_head(s)
    c.eq(sorted(set(cl.streams[s].status for s in sids)), [200], "h2: 50 concurrent tunnels open")
    for i, s in enumerate(sids):
        cl.send_data(s, ws_frame(2, pl.pattern(1000 + i)))
    bad = []
    for i, s in enumerate(sids):
        got = cl.messages(s, 1)
        if got != [(2, pl.pattern(1000 + i))]:
            bad.append(i)

    c.eq(bad, [], "h2: every one of 50 concurrent tunnels echoes its own message")
    m = metrics(env)
    c.check(m.get("h2bridge_tunnels_open", 0) >= 50, "metrics: tunnels_open %s >= 50"
            % m.get("h2bridge_tunnels_open"))
    for s in sids:
        cl.send_data(s, ws_frame(8, struct.pack("!H", 1000)), end=True)
    cl.wait(sids, 30)
    c.check(True, "h2: 50 tunnels closed")

    # Over tunnels.max_per_connection (60): 503.
    sids = [cl.open_ws("/echo") for _ in range(61)]
    statuses = [cl.wait_head(s) for s in sids]
    c.eq(statuses.count(503), 1, "h2: tunnel 61 over tunnels.max_per_connection gets 503")
    for s in sids:
        if statuses[sids.index(s)] == 200:
            cl.send_data(s, b"", end=True)
    cl.wait([s for s, st in zip(sids, statuses) if st == 200], 30)

    # Slow reader: the server floods 64 MiB; the client reads slowly with a
    # small window. The proxy must not buffer it.
    slow = WsH2(port, window=65535)
    sid = slow.open_ws("/flood")
    slow.wait_head(sid)
    slow.send_ws(sid, ws_frame(1, b"1024"))
    slow.auto_ack = False
    rss0 = pl.rss_kib(proxy.pid)
    got = 0
    end = time.time() + 4
    while time.time() < end:
        slow.sock.settimeout(0.2)
        try:
            data = slow.sock.recv(16384)
        except socket.timeout:
            continue
        for ev in slow.conn.receive_data(data):
            if isinstance(ev, h2.events.DataReceived):
                got += len(ev.data)
                slow.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        slow.flush()
        time.sleep(0.05)
    rss1 = pl.rss_kib(proxy.pid)
    c.check(got > 0 and got < 32 * MIB, "slow reader got %d bytes, not everything" % got)
    c.check(rss1 - rss0 < 16 * 1024, "slow reader: proxy RSS grew %d KiB (< 16 MiB)" % (rss1 - rss0))
    slow.close()

    # Idle timeout: tunnels.idle_timeout (2 s) ends a tunnel nobody uses.
    sid = cl.open_ws("/echo")
    cl.wait_head(sid)
    t0 = time.time()
    cl.wait([sid], 15)
    c.check(1.5 < time.time() - t0 < 10, "idle tunnel ended after about tunnels.idle_timeout")
    cl.close()

    nows = WsH2(port_nows)
    sid = nows.start("GET", "/", [])
    nows.wait([sid])
    c.eq((nows.remote_settings or {}).get(ENABLE_CONNECT_PROTOCOL, 0), 0,
         "h2: no SETTINGS_ENABLE_CONNECT_PROTOCOL on a listener without websocket")
    nows.close()


async def shutdown_check(c, proxy, port):
    """SIGTERM: an open tunnel keeps working while the proxy drains, and is
    closed after limits.shutdown_timeout (1 s)."""
    async with websockets.client.connect("wss://localhost:%d/echo" % port, ssl=client_ctx(),
                                         compression=None, ping_interval=None) as ws:
        proxy.send_signal(signal.SIGTERM)
        t0 = time.time()
        await asyncio.sleep(0.3)
        await ws.send("still there")
        c.eq(await asyncio.wait_for(ws.recv(), 5), "still there", "tunnel works while draining")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            c.check(False, "tunnel closed at the drain timeout")
        except websockets.exceptions.ConnectionClosed:
            c.check(0.8 < time.time() - t0 < 6, "tunnel closed after limits.shutdown_timeout "
                    "(%.1f s)" % (time.time() - t0))
    try:
        proxy.wait(10)
    except subprocess.TimeoutExpired:
        pass
    c.check(proxy.poll() is not None, "proxy exited after draining")


def metrics(env):
    out = {}
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % env.admin_port, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(("h2bridge_tunnels", "h2bridge_request_body_bytes_total",
                                "h2bridge_response_body_bytes_total")):
                name, val = line.split("{")[0], float(line.rsplit(" ", 1)[1])
                out[name] = out.get(name, 0) + val
    return out


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        ws_port = pl.free_port()
        ws = env.spawn(["/usr/bin/python3", os.path.join(HERE, "ws_backend.py"), str(ws_port)],
                       "ws-backend")
        pl.wait_port(ws_port, ws)
        ports = [pl.free_port() for _ in range(4)]
        env.admin_port = pl.free_port()
        log = os.path.join(env.dir, "access.log")
        path = write_config(env, ports, ws_port, env.admin_port, log)
        proxy = env.spawn([pl.BIN, "-c", path, "--workers", "1"], "proxy")
        for p in ports:
            pl.wait_port(p, proxy, timeout=20)
        asyncio.run(h1_checks(c, ports[0], ports[2]))
        asyncio.run(h1_checks(c, ports[1], ports[2]))
        asyncio.run(lowat_checks(c, ports[3]))
        h2_checks(c, env, proxy, ports[0], ports[2])
        m = metrics(env)
        c.check(m.get("h2bridge_tunnels_total", 0) >= 100, "metrics: tunnels_total %s"
                % m.get("h2bridge_tunnels_total"))
        # Each tunnel's record (px_ex_record_done) carries its bytes each way.
        c.check(m.get("h2bridge_request_body_bytes_total", 0) > 3 * MIB,
                "records: tunnel bytes client → backend counted (%s)"
                % m.get("h2bridge_request_body_bytes_total"))
        c.check(m.get("h2bridge_response_body_bytes_total", 0) > 3 * MIB,
                "records: tunnel bytes backend → client counted (%s)"
                % m.get("h2bridge_response_body_bytes_total"))
        c.eq(m.get("h2bridge_tunnels_open"), 0, "metrics: no tunnel open at the end")
        asyncio.run(shutdown_check(c, proxy, ports[0]))
        # The access log has each tunnel once, at its end, with its kind,
        # bytes each way and duration.
        recs = [json.loads(line) for line in open(log) if line.strip()]
        kinds = {}
        for r in recs:
            kinds[r.get("tunnel")] = kinds.get(r.get("tunnel"), 0) + 1
        c.check(kinds.get("upgrade", 0) >= 4 and kinds.get("websocket-h2", 0) >= 100,
                "access log: tunnel records by kind %s" % kinds)
        big = [r for r in recs if r.get("tunnel") == "websocket-h2"
               and r["request_body_bytes"] > MIB and r["response_body_bytes"] > MIB]
        c.check(len(big) == 1 and big[0]["status"] == 200 and big[0]["duration"] > 0,
                "access log: the h2 echo tunnel with > 1 MiB each way, 200, its duration")
        up = [r for r in recs if r.get("tunnel") == "upgrade" and r["request_body_bytes"] > MIB]
        c.check(len(up) == 3 and all(r["status"] == 101 for r in up),
                "access log: the three HTTP/1.1 echo tunnels with status 101 (%d)" % len(up))
        idle = [r for r in recs if r.get("tunnel") and r["end_reason"] == "TIMEOUT"]
        c.check(len(idle) >= 1, "access log: the idle tunnel ended TIMEOUT")
        if c.failed:
            env.dump_logs()
    finally:
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
