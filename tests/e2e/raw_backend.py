"""A small HTTP/1.1 backend for the e2e tests, written for them: it records
the exact bytes it receives.

RawBackend(pp=True) expects every connection to begin with a PROXY protocol
header (v1 or v2, parsed exactly as the specification says: the v1 line's
fields, the v2 signature, version/command, family, lengths and every TLV,
PP2_TYPE_SSL with its client bits, verify field and sub-TLVs); a malformed
one is recorded as an error and the connection closed. Then (or at once
with pp=False) it serves HTTP/1.1 keep-alive: each request head (and a
Content-Length or chunked body) is answered 200 with a JSON body saying
which connection it came on, that connection's parsed PROXY header and the
request head as received (raw bytes, latin-1). A request for /respond?...
is answered with the response header lines given in the X-Respond request
header ("Name: value" joined by "|"), names in the case given.

It runs an asyncio loop in a thread on 127.0.0.1; stop() ends it. Every
connection is kept in .conns (id, peer, pp, requests, closed), readable
from the test's thread.
"""
import asyncio
import json
import socket
import struct
import threading

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
TLV_NAMES = {0x01: "alpn", 0x02: "authority", 0x03: "crc32c", 0x04: "noop",
             0x05: "unique_id", 0x20: "ssl", 0x30: "netns"}
SSL_SUB = {0x21: "version", 0x22: "cn", 0x23: "cipher", 0x24: "sig_alg", 0x25: "key_alg"}


class PPError(Exception):
    pass


def parse_tlvs(b, names):
    out = []
    i = 0
    while i < len(b):
        if len(b) - i < 3:
            raise PPError("TLV header cut at %d" % i)
        t = b[i]
        n = int.from_bytes(b[i + 1:i + 3], "big")
        if len(b) - i - 3 < n:
            raise PPError("TLV 0x%02x length %d past the end" % (t, n))
        out.append((names.get(t, "0x%02x" % t), b[i + 3:i + 3 + n]))
        i += 3 + n
    return out


def parse_v2(hdr):
    """hdr: the whole v2 header (16 + len bytes)."""
    vc, fam = hdr[12], hdr[13]
    if vc >> 4 != 2:
        raise PPError("version %d" % (vc >> 4))
    cmd = vc & 0xF
    if cmd not in (0, 1):
        raise PPError("command %d" % cmd)
    body = hdr[16:]
    res = {"version": 2, "command": "PROXY" if cmd else "LOCAL", "tlvs": {}}
    if fam == 0x11:
        if len(body) < 12:
            raise PPError("TCP4 body %d < 12" % len(body))
        res.update(src=socket.inet_ntop(socket.AF_INET, body[0:4]),
                   dst=socket.inet_ntop(socket.AF_INET, body[4:8]),
                   sport=int.from_bytes(body[8:10], "big"),
                   dport=int.from_bytes(body[10:12], "big"), family="TCP4")
        rest = body[12:]
    elif fam == 0x21:
        if len(body) < 36:
            raise PPError("TCP6 body %d < 36" % len(body))
        res.update(src=socket.inet_ntop(socket.AF_INET6, body[0:16]),
                   dst=socket.inet_ntop(socket.AF_INET6, body[16:32]),
                   sport=int.from_bytes(body[32:34], "big"),
                   dport=int.from_bytes(body[34:36], "big"), family="TCP6")
        rest = body[36:]
    elif fam == 0x00:
        res["family"] = "UNSPEC"
        rest = body
    else:
        raise PPError("family/protocol 0x%02x" % fam)
    if cmd == 0 and fam != 0x00:
        pass  # LOCAL may carry addresses; they are to be ignored
    for name, v in parse_tlvs(rest, TLV_NAMES):
        if name in res["tlvs"]:
            raise PPError("TLV %s twice" % name)
        if name == "ssl":
            if len(v) < 5:
                raise PPError("PP2_TYPE_SSL length %d < 5" % len(v))
            sub = {}
            for sn, sv in parse_tlvs(v[5:], SSL_SUB):
                sub[sn] = sv.decode("latin-1")
            res["tlvs"]["ssl"] = {"client": v[0], "verify": struct.unpack(">I", v[1:5])[0],
                                  "sub": sub}
        else:
            res["tlvs"][name] = v.decode("latin-1")
    return res


def parse_v1(line):
    """line: the whole v1 line, CRLF included."""
    if not line.endswith(b"\r\n") or len(line) > 107:
        raise PPError("v1 line not CRLF-terminated within 107 bytes")
    parts = line[:-2].decode("ascii").split(" ")
    if parts[0] != "PROXY":
        raise PPError("v1 does not start with PROXY")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return {"version": 1, "command": "UNKNOWN"}
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise PPError("v1 fields: %r" % parts)
    fam = socket.AF_INET if parts[1] == "TCP4" else socket.AF_INET6
    for a in parts[2:4]:
        socket.inet_pton(fam, a)
    for p in parts[4:6]:
        if not p.isdigit() or (len(p) > 1 and p[0] == "0") or int(p) > 65535:
            raise PPError("v1 port %r" % p)
    return {"version": 1, "command": "PROXY", "family": parts[1], "src": parts[2],
            "dst": parts[3], "sport": int(parts[4]), "dport": int(parts[5])}


class RawBackend:
    def __init__(self, pp=False):
        self.pp = pp
        self.conns = []
        self.errors = []
        self.loop = asyncio.new_event_loop()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        self.sock = s
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("raw backend did not start")

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)

        async def start():
            self.server = await asyncio.start_server(self._conn, sock=self.sock)
        self.loop.run_until_complete(start())
        ready.set()
        self.loop.run_forever()
        self.server.close()
        self.loop.run_until_complete(self.server.wait_closed())
        self.loop.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _read_pp(self, r):
        first = await r.readexactly(5)
        if first == b"PROXY":
            line = first + await r.readuntil(b"\r\n")
            return parse_v1(line)
        head = first + await r.readexactly(7)
        if head != V2_SIG:
            raise PPError("neither a v1 line nor the v2 signature: %r" % head)
        head += await r.readexactly(4)
        n = int.from_bytes(head[14:16], "big")
        return parse_v2(head + await r.readexactly(n))

    async def _body(self, r, head):
        low = head.lower()
        for line in low.split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                return await r.readexactly(int(line.split(b":", 1)[1]))
            if line.startswith(b"transfer-encoding:") and b"chunked" in line:
                body = b""
                while True:
                    size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
                    body += await r.readexactly(size + 2)
                    if size == 0:
                        while (await r.readuntil(b"\r\n")) != b"\r\n":
                            pass
                        return body[:-2]
        return b""

    async def _conn(self, r, w):
        rec = {"id": len(self.conns), "peer": w.get_extra_info("peername")[:2], "pp": None,
               "requests": [], "closed": False}
        self.conns.append(rec)
        try:
            if self.pp:
                rec["pp"] = await self._read_pp(r)
            while True:
                head = await r.readuntil(b"\r\n\r\n")
                body = await self._body(r, head)
                rec["requests"].append(head)
                await self._answer(w, rec, head, body)
        except PPError as e:
            self.errors.append("conn %d: %s" % (rec["id"], e))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            rec["closed"] = True
            w.close()

    async def _answer(self, w, rec, head, body):
        target = head.split(b" ", 2)[1]
        extra = b""
        if target.startswith(b"/respond"):
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"x-respond:"):
                    for h in line.split(b":", 1)[1].strip().split(b"|"):
                        extra += h + b"\r\n"
            out = b"ok"
        else:
            out = json.dumps({"conn": rec["id"], "nreq": len(rec["requests"]), "pp": rec["pp"],
                              "head": head.decode("latin-1"), "body": len(body)}).encode()
        w.write(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(out) + out)
        await w.drain()
