"""A misbehaving HTTP/1.1 backend for the e2e tests (issue 16).

    bad_backend.py PORT MODE [DELAY_MS]

MODE: `503` answers every request 503 (keep-alive) after DELAY_MS; `200`
answers 200 (keep-alive, `X-Origin-Id: slow`) after DELAY_MS: a slow but
working backend; `close`
closes the connection when a request head arrives; `hang` reads requests and
never answers. Each request head is logged as "REQ <request line>" on stdout,
so a test counts what the backend received.
"""
import socket
import sys
import threading
import time

port, mode = int(sys.argv[1]), sys.argv[2]
delay = int(sys.argv[3]) / 1000.0 if len(sys.argv) > 3 else 0.0
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(256)
lock = threading.Lock()


def serve(c):
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                return
            buf += d
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                with lock:  # one line per request, never two threads in one line
                    sys.stdout.write("REQ %s\n" % head.split(b"\r\n")[0].decode())
                    sys.stdout.flush()
                if mode == "close":
                    c.close()
                    return
                if mode == "hang":
                    continue
                if delay:
                    time.sleep(delay)
                if mode == "200":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                              b"X-Origin-Id: slow\r\n\r\nslow\n")
                    continue
                c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n"
                          b"X-Origin-Id: bad\r\n\r\nbad\n")
    except OSError:
        pass


while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
