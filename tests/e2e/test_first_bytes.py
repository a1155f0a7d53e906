"""e2e: the first bytes of a connection, before any request.

- Cleartext sniffing (h2 prior knowledge or HTTP/1.1): a client that sends
  a prefix of the h2 preface ("PR") and stops costs no CPU while it waits
  (the bytes are read, not peeked: a readable socket would spin the
  level-triggered event loop), and is closed at limits.handshake_timeout
  with a log line.
- A preface split across writes still gives h2, and "P" then "OST …"
  still gives HTTP/1.1.
- HTTP/2 over TLS, limits.request_header_timeout (1 s here) as for
  HTTP/1.1: a connection that sends nothing after the handshake, or only
  the preface and SETTINGS, gets GOAWAY and is closed after it; so is one
  whose header block stops half way (HEADERS without END_HEADERS) or
  trickles in a byte at a time, after requests that were served. A
  connection used by requests spaced wider than the timeout, with no
  header block pending, stays open.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def start(env, origin, timeout="2s"):
    port = pl.free_port()
    path = os.path.join(env.dir, "first.yaml")
    with open(path, "w") as f:
        f.write("listeners: [{address: \"127.0.0.1:%d\"}]\n"
                "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                "routes: [{upstream: app}]\n"
                "limits: {handshake_timeout: %s}\n"
                "workers: 1\n" % (port, origin.port, timeout))
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p)
    p.port = port
    return p


def h2_get_split(port, c):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(PREFACE[:2])
    time.sleep(0.2)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    data = conn.data_to_send()
    assert data.startswith(PREFACE)
    s.sendall(data[2:])
    conn.send_headers(1, [(":method", "GET"), (":scheme", "http"),
                          (":authority", "127.0.0.1"), (":path", "/bytes/5")], end_stream=True)
    s.sendall(conn.data_to_send())
    status, body = None, b""
    deadline = time.time() + 5
    while time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        for ev in conn.receive_data(chunk):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(b":status")
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
            elif isinstance(ev, h2.events.StreamEnded):
                deadline = 0
        s.sendall(conn.data_to_send())
    s.close()
    c.eq((status, len(body)), (b"200", 5), "a preface split after 2 bytes still gives h2")


def h1_split(port, c):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"G")
    time.sleep(0.2)
    s.sendall(b"ET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = pl.recv_all(s)
    c.check(data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\n" + pl.pattern(3)),
            "HTTP/1.1 whose first byte came alone: %r" % data[:40])
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"P")
    time.sleep(0.2)
    s.sendall(b"OST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    data = pl.recv_all(s)
    c.check(data.startswith(b"HTTP/1.1 200") and data.endswith(b"hi"),
            "HTTP/1.1 POST whose 'P' came alone (a prefix of the preface): %r" % data[:40])


def stalled_prefix(env, p, c):
    socks = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        s.sendall(b"PR")
        socks.append(s)
    time.sleep(0.2)
    before = pl.cpu_seconds(p.pid)
    time.sleep(1.0)
    used = pl.cpu_seconds(p.pid) - before
    # The spinning loop used a whole core (0.96-0.99 s); timers and the log
    # writer use a little, more on a loaded machine.
    c.check(used < 0.3, "4 clients stalled after 'PR': %.2f s of CPU in 1 s (want ~0)" % used)
    t0 = time.time()
    closed = 0
    for s in socks:
        s.settimeout(5)
        try:
            closed += s.recv(1) == b""
        except OSError:
            closed += 1
        s.close()
    c.eq(closed, 4, "the stalled clients are closed")
    c.check(time.time() - t0 < 3, "within limits.handshake_timeout (2 s)")
    c.check("first request bytes timed out" in env.log(p), "the timeout is logged")


def h2_conn():
    return h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))


def closed_after(s, limit):
    """Seconds until the peer closed s (reading and dropping what comes),
    or None when it stayed open for limit seconds."""
    t0 = time.time()
    s.settimeout(0.2)
    while time.time() - t0 < limit:
        try:
            if s.recv(65536) == b"":
                return time.time() - t0
        except socket.timeout:
            pass
        except OSError:
            return time.time() - t0
    return None


def h2_heads(env, p, c):
    s = pl.tls_connect(p.port, alpn=["h2"])
    t = closed_after(s, 4)
    c.check(t is not None and t < 2.5, "h2, nothing after the handshake: closed after %r s" % t)
    s.close()
    s = pl.tls_connect(p.port, alpn=["h2"])
    conn = h2_conn()
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    t = closed_after(s, 4)
    c.check(t is not None and t < 2.5, "h2, preface and SETTINGS only: closed after %r s" % t)
    s.close()
    c.check("no complete request headers within limits.request_header_timeout_ms, GOAWAY"
            in env.log(p), "logged: no complete request headers")
    # Served requests spaced wider than the timeout: the connection stays.
    cl = pl.H2Client(p.port, timeout=10)
    for i in range(3):
        r = cl.request("GET", "/bytes/2", deadline=5)
        c.eq(r.status, 200, "h2 request %d on a connection used every 1.3 s" % i)
        time.sleep(1.3)
    r = cl.request("GET", "/bytes/2", deadline=5)
    c.eq(r.status, 200, "h2: an idle connection that had requests is kept past the timeout")
    # Then a header block that stops half way.
    enc = cl.conn.encoder
    block = enc.encode([(":method", "GET"), (":scheme", "https"), (":authority", "localhost"),
                        (":path", "/bytes/1")])
    sid = cl.conn.get_next_available_stream_id()
    frame = len(block[:3]).to_bytes(3, "big") + bytes([1, 0x1]) + sid.to_bytes(4, "big")
    cl.sock.sendall(frame + block[:3])  # HEADERS, END_STREAM, no END_HEADERS
    t = closed_after(cl.sock, 4)
    c.check(t is not None and t < 2.5, "h2, a header block left half way: closed after %r s" % t)
    c.check("request header block not complete within limits.request_header_timeout_ms"
            in env.log(p), "logged: header block not complete")
    # A HEADERS frame that trickles in one byte every 0.3 s.
    s = pl.tls_connect(p.port, alpn=["h2"])
    conn = h2_conn()
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":scheme", "https"), (":authority", "localhost"),
                          (":path", "/bytes/1")], end_stream=True)
    data = conn.data_to_send()
    hdr_at = data.rfind(b"\x01\x05\x00\x00\x00\x01") - 3  # after the 3 length bytes: type 1, flags 5, sid 1
    s.sendall(data[:hdr_at + 9 + 1])
    t0 = time.time()
    gone = False
    for b in data[hdr_at + 10:]:
        time.sleep(0.3)
        try:
            s.sendall(bytes([b]))
        except OSError:
            gone = True
            break
    t = closed_after(s, 3) if not gone else time.time() - t0
    c.check(t is not None and time.time() - t0 < 3.5,
            "h2, a HEADERS frame trickling a byte per 0.3 s: closed (%r s)" % t)
    s.close()


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = start(env, origin)
        stalled_prefix(env, p, c)
        h2_get_split(p.port, c)
        h1_split(p.port, c)
        env.stop(p)
        path = os.path.join(env.dir, "heads.yaml")
        with open(path, "w") as f:
            f.write("limits: {request_header_timeout: 1s}\n")
        q = env.proxy([origin.port], config=path)
        h2_heads(env, q, c)
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
