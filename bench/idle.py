#!/usr/bin/python3
"""Idle-connection memory probe for bench/run.

Opens N TLS connections (ALPN h2) to HOST:PORT, completes the HTTP/2
connection preface on each (client preface + SETTINGS, waits for the
server's SETTINGS, acknowledges it) and then holds them all open without a
single request. It samples the proxy's process tree (proctree.py) before
and after, and prints one tab-separated line:

  opened failed alive rss_before_kb rss_after_kb bytes_per_conn cpu_us_per_conn seconds

bytes_per_conn = (rss_after - rss_before) / alive, the RSS growth an idle
h2 connection costs; cpu_us_per_conn covers handshake + preface.
Standard library only (run it with /usr/bin/python3).
"""
import argparse
import errno
import resource
import select
import selectors
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import proctree  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS_EMPTY = struct.pack(">I", 0)[1:] + bytes([4, 0]) + struct.pack(">I", 0)
SETTINGS_ACK = struct.pack(">I", 0)[1:] + bytes([4, 1]) + struct.pack(">I", 0)


class Conn:
    """One connection's way to "idle": connect, handshake, preface, SETTINGS.

    A hand-rolled non-blocking state machine on selectors (asyncio's SSL
    transport keeps a 256 KiB buffer per connection and is slow to set up;
    this one costs the client little more than OpenSSL's own state)."""

    def __init__(self, ctx, addr):
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.raw.setblocking(False)
        err = self.raw.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, "connect")
        self.sock = ctx.wrap_socket(self.raw, server_hostname="localhost",
                                    do_handshake_on_connect=False)
        self.state = "handshake"
        self.inbuf = b""

    def step(self):
        """Advances; returns the selector events it waits for, or 0 when done."""
        if self.state == "handshake":
            try:
                self.sock.do_handshake()
            except ssl.SSLWantReadError:
                return selectors.EVENT_READ
            except ssl.SSLWantWriteError:
                return selectors.EVENT_WRITE
            if self.sock.selected_alpn_protocol() != "h2":
                raise ConnectionError("ALPN h2 not selected")
            self.sock.send(PREFACE + SETTINGS_EMPTY)  # small: fits the socket buffer
            self.state = "settings"
        while True:  # state "settings": read frames until the server's SETTINGS
            try:
                data = self.sock.recv(16384)
            except ssl.SSLWantReadError:
                return selectors.EVENT_READ
            if not data:
                raise ConnectionError("closed during preface")
            self.inbuf += data
            while len(self.inbuf) >= 9:
                length = int.from_bytes(self.inbuf[0:3], "big")
                ftype, flags = self.inbuf[3], self.inbuf[4]
                if len(self.inbuf) < 9 + length:
                    break
                self.inbuf = self.inbuf[9 + length:]
                if ftype == 7:
                    raise ConnectionError("GOAWAY during preface")
                if ftype == 4 and not flags & 1:
                    self.sock.send(SETTINGS_ACK)
                    self.inbuf = b""
                    self.state = "idle"
                    return 0


def open_all(args, ctx):
    """Opens args.n connections, args.concurrency at a time; returns
    (idle connections, failures)."""
    sel = selectors.DefaultSelector()
    addr = (args.host, args.port)
    done, failed, started, pending = [], 0, 0, 0
    deadline = {}
    give_up = time.monotonic() + args.max_seconds
    while started < args.n or pending:
        if time.monotonic() > give_up:
            failed += args.n - started  # a stalled server: stop opening more
            started = args.n
        while started < args.n and pending < args.concurrency:
            started += 1
            try:
                c = Conn(ctx, addr)
            except OSError:
                failed += 1
                continue
            sel.register(c.sock, selectors.EVENT_WRITE, c)
            deadline[c] = time.monotonic() + args.timeout
            pending += 1
        for key, _ in sel.select(timeout=0.5):
            c = key.data
            try:
                want = c.step()
            except (OSError, ConnectionError, ValueError):
                want = -1
            if want > 0:
                sel.modify(c.sock, want, c)
                continue
            sel.unregister(c.sock)
            pending -= 1
            del deadline[c]
            if want == 0:
                done.append(c)
            else:
                failed += 1
                c.sock.close()
        now = time.monotonic()
        for c in [c for c, t in deadline.items() if t < now]:
            sel.unregister(c.sock)
            c.sock.close()
            del deadline[c]
            pending -= 1
            failed += 1
    sel.close()
    return done, failed


def still_open(conns):
    """Connections the server has not closed: poll(2) with a zero timeout
    reports hang-up or error on the closed ones (a server may also have
    sent a frame; that alone is not a close)."""
    poller = select.poll()
    for c in conns:
        poller.register(c.sock.fileno(), select.POLLRDHUP)
    closed = sum(1 for _, ev in poller.poll(0)
                 if ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR))
    return len(conns) - closed


def run(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    pids = proctree.tree_pids(args.pid)
    rss0, cpu0 = proctree.rss_kb(pids), proctree.cpu_us(pids)
    t0 = time.monotonic()
    conns, failed = open_all(args, ctx)
    secs = time.monotonic() - t0
    time.sleep(args.settle)
    pids = proctree.tree_pids(args.pid)
    rss1, cpu1 = proctree.rss_kb(pids), proctree.cpu_us(pids)
    alive = still_open(conns)
    per_conn = (rss1 - rss0) * 1024 / alive if alive else 0
    cpu_per = (cpu1 - cpu0) / len(conns) if conns else 0
    print(f"{len(conns)}\t{failed}\t{alive}\t{rss0}\t{rss1}\t{per_conn:.0f}\t"
          f"{cpu_per:.1f}\t{secs:.2f}")
    for c in conns:
        c.sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="proxy's root PID")
    p.add_argument("-n", type=int, default=10000, help="connections to hold")
    p.add_argument("--concurrency", type=int, default=64,
                   help="handshakes in flight at once")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds one connection may take to reach idle")
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="stop opening connections after this long")
    p.add_argument("--settle", type=float, default=1.0,
                   help="seconds to wait before sampling RSS")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.n + 64), hard))
    run(args)


if __name__ == "__main__":
    main()
