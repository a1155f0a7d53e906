"""e2e: listeners[].tcp_notsent_lowat bounds what waits unsent in the
kernel behind a client connection (docs/http2.md, "The socket's queue").

A client that opens the windows to 2^31-1 and asks for 16 MiB, then stops
reading with a small receive buffer, lets the proxy write as much as its
socket takes. The server side's send queue (/proc/net/tcp tx_queue: bytes
written and not yet acknowledged, that is in flight plus unsent) is read
for that connection:

- with `tcp_notsent_lowat: 16KiB` it stays within the low-water mark plus
  one pass of writes (the engine's 64 KiB output chunk, the TLS socket
  buffer's 32 KiB) and the client's small window;
- without it (the default: the kernel's own) it grows past 512 KiB (Linux
  grows the send buffer with the congestion window), which is why the key
  exists: bytes there are past the HTTP/2 scheduler.
"""
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
env = pl.Env()
t = pl.Checker()

BIG = 16 * 1024 * 1024
RCVBUF = 16 * 1024


def start(origin, name, lowat_line):
    port = pl.free_port()
    path = os.path.join(env.dir, name + ".yaml")
    with open(path, "w") as f:
        f.write("listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "%s"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "upstreams:\n  o: {servers: [\"127.0.0.1:%d\"]}\n"
                "routes:\n  - {upstream: o}\n"
                % (port, lowat_line, env.cert, env.key, origin.port))
    p = env.spawn([pl.BIN, "-c", path, "--workers", "1"], name)
    pl.wait_port(port, p, timeout=20)
    p.port = port
    return p


def tx_queue(server_port, client_port):
    """The server side's tx_queue for the connection, or None."""
    want_local = "%04X" % server_port
    want_remote = "%04X" % client_port
    with open("/proc/net/tcp") as f:
        next(f)
        for ln in f:
            fields = ln.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if local.endswith(":" + want_local) and remote.endswith(":" + want_remote):
                return int(queues.split(":")[0], 16)
    return None


def stalled_queue(port):
    """Largest server-side send queue seen while a client that asked for
    BIG bytes reads nothing (sampled for a second after it stops)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)  # before connect: the window
    raw.settimeout(10)
    raw.connect(("127.0.0.1", port))
    client_port = raw.getsockname()[1]  # wrap_socket detaches raw
    s = pl.tls_context(["h2"]).wrap_socket(raw, server_hostname="localhost")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1})
    conn.increment_flow_control_window(2**31 - 1 - 65535)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                            (":authority", "localhost"), (":path", "/bytes/%d" % BIG)],
                      end_stream=True)
    s.sendall(conn.data_to_send())
    # From here on nothing is read: the proxy writes until its socket is full.
    most = 0
    deadline = time.time() + 1.5
    while time.time() < deadline:
        q = tx_queue(port, client_port)
        if q is not None:
            most = max(most, q)
        time.sleep(0.05)
    s.close()
    return most


try:
    origin = env.origin()
    lowered = start(origin, "proxy-lowat", "    tcp_notsent_lowat: 16KiB\n")
    kernel = start(origin, "proxy-default", "")
    q_default = stalled_queue(lowered.port)
    q_zero = stalled_queue(kernel.port)
    print("send queue behind a client that stopped reading: 16 KiB mark %d B, default %d B"
          % (q_default, q_zero))
    # Low-water mark 16 KiB + one pass (64 KiB engine chunk + 32 KiB TLS
    # buffer, the kernel takes a pass whole once it is below the mark) + the
    # client's window (about twice SO_RCVBUF on Linux) + one TLS record.
    bound = 16 * 1024 + 96 * 1024 + 2 * RCVBUF + 32 * 1024
    t.check(0 < q_default <= bound,
            "tcp_notsent_lowat 16KiB: send queue %d <= %d" % (q_default, bound))
    t.check(q_zero > 512 * 1024,
            "no tcp_notsent_lowat (the kernel's default): send queue %d > 512 KiB" % q_zero)
    t.check(q_zero > 4 * q_default, "the key makes a difference (%d vs %d)" % (q_zero, q_default))
except Exception:
    env.dump_logs()
    raise
finally:
    env.close()
t.finish()
