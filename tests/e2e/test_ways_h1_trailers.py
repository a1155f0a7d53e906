"""e2e: backend trailers reach HTTP/1.1 clients in the last chunk.

/trailers on h2bridge-origin answers chunked with the trailer fields
x-body-sha256 (of the body) and x-origin-trailer: end. Through h2bridge to an
HTTP/1.1 client (cleartext and TLS) the response must stay chunked and end
with those trailers; a Content-Length response has no trailers to carry."""
import hashlib
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402


def raw_get(port, path, tls):
    if tls:
        s = pl.tls_connect(port, alpn=["http/1.1"])
    else:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nTE: trailers\r\n"
               "Connection: close\r\n\r\n" % path).encode())
    return pl.recv_all(s)


def dechunk(body):
    """Returns (payload, trailer lines) of a chunked body; raises on bad framing."""
    out = b""
    while True:
        line, body = body.split(b"\r\n", 1)
        size = int(line.split(b";")[0], 16)
        if size == 0:
            break
        out += body[:size]
        assert body[size:size + 2] == b"\r\n", "chunk not followed by CRLF"
        body = body[size + 2:]
    trailers, rest = body.split(b"\r\n\r\n", 1) if not body.startswith(b"\r\n") else (b"", body[2:])
    assert rest == b"", "bytes after the chunked body: %r" % rest[:40]
    return out, [t for t in trailers.split(b"\r\n") if t]


def main():
    pl.require_binaries()
    env = pl.Env()
    ck = pl.Checker()
    try:
        origin = env.origin("o1")
        tls = env.proxy([origin.port])
        clear_port = pl.free_port()
        env.spawn([pl.BIN, "--listen", "127.0.0.1:%d" % clear_port,
                   "--backend", "127.0.0.1:%d" % origin.port], "proxy-clear")
        pl.wait_port(clear_port, timeout=20)
        want = pl.pattern(1000)
        for name, port, use_tls in (("cleartext", clear_port, False), ("TLS", tls.port, True)):
            data = raw_get(port, "/trailers?n=1000", use_tls)
            head, body = data.split(b"\r\n\r\n", 1)
            ck.check(b"transfer-encoding: chunked" in head.lower(), name + ": response is chunked")
            try:
                payload, trailers = dechunk(body)
            except Exception as e:  # noqa: BLE001
                ck.check(False, "%s: chunked framing: %s" % (name, e))
                continue
            ck.eq(payload, want, name + ": body bytes exact")
            tl = [t.lower() for t in trailers]
            ck.check(("x-body-sha256: " + hashlib.sha256(want).hexdigest()).encode() in tl,
                     name + ": x-body-sha256 trailer forwarded")
            ck.check(b"x-origin-trailer: end" in tl, name + ": x-origin-trailer forwarded")
            # A length-framed response: nothing after the body.
            data = raw_get(port, "/bytes/100", use_tls)
            head, body = data.split(b"\r\n\r\n", 1)
            ck.eq(body, pl.pattern(100), name + ": Content-Length response unchanged")
    finally:
        env.close()
    ck.finish()


if __name__ == "__main__":
    main()
