#!/usr/bin/env bash
# tests/e2e/test_origin.sh — h2bridge-origin end to end, with curl and a raw
# socket client: every endpoint byte-exact, keep-alive reuse, pipelining,
# header case and order in /inspect, trailers, strict request parsing, a
# 100 MiB streamed /echo under a memory bound, and graceful exit on SIGTERM.
#
# env: H2B_ORIGIN (the binary), H2B_SANITIZE=1 for an ASan build (the peak-RSS
# bound is then relaxed: ASan's shadow memory and quarantine add tens of MiB
# that are not the origin's buffering; see rss_limit below).
set -u
ORIGIN=${H2B_ORIGIN:?H2B_ORIGIN must name the h2bridge-origin binary}
PY=/usr/bin/python3
[ -x "$ORIGIN" ] || { echo "FAIL setup: $ORIGIN is not executable"; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0
passes=0
ok() { echo "PASS $1"; passes=$((passes + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fails=$((fails + 1)); }
check() { # check NAME COMMAND... — passes when the command succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

if [ "${H2B_SANITIZE:-0}" = 1 ] || [ "${H2B_SANITIZE:-}" = ON ]; then
    sanitize=1
    # Keep ASan's quarantine small so freed buffers are reused as they would
    # be without it; the bound still proves nothing near 100 MiB is held.
    export ASAN_OPTIONS="quarantine_size_mb=8:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    rss_limit_kb=$((60 * 1024))
else
    sanitize=0
    rss_limit_kb=$((30 * 1024))
fi

# ---- start the origin on a free loopback port (found by trying) ----------
port=""
for attempt in $(seq 1 25); do
    try=$((20000 + (RANDOM * 7 + attempt) % 40000))
    "$ORIGIN" --listen "127.0.0.1:$try" --id e2e-origin --verbose --grace 3000 \
        2>"$tmp/origin.log" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$tmp/origin.log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null && grep -q "listening on" "$tmp/origin.log"; then
        port=$try
        break
    fi
    wait "$pid" 2>/dev/null
    pid=""
done
[ -n "$port" ] || { echo "FAIL setup: could not start the origin"; cat "$tmp/origin.log"; exit 1; }
base="http://127.0.0.1:$port"
echo "origin pid $pid on port $port (sanitize=$sanitize)"
CURL=(curl -sS --max-time 60)

# ---- a raw HTTP/1.1 client and the byte pattern, for Python snippets ------
cat >"$tmp/h1.py" <<'EOF'
import hashlib, socket

def pattern(n):
    """Byte i = (31*i + 7*(i >> 8) + 3*(i >> 16) + 7) mod 256 (docs/origin.md)."""
    base = bytes((lo * 31) & 255 for lo in range(256))
    tables = [bytes((x + k) & 255 for x in range(256)) for k in range(256)]
    out = bytearray()
    hi = 0
    while len(out) < n:
        out += base.translate(tables[(hi * 7 + (hi >> 8) * 3 + 7) & 255])
        hi += 1
    return bytes(out[:n])

def sha(b):
    return hashlib.sha256(b).hexdigest()

class Reader:
    def __init__(self, sock):
        self.s, self.buf, self.eof = sock, b"", False
    def fill(self):
        d = self.s.recv(65536)
        if not d:
            self.eof = True
        self.buf += d
        return bool(d)
    def line(self):
        while b"\r\n" not in self.buf:
            if not self.fill():
                raise EOFError("eof in a line")
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def take(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise EOFError("eof in a body")
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

def response(r, head=False):
    """One response, strictly parsed: (status, [(name, value)], body, trailers)."""
    st = r.line().split(b" ", 2)
    assert st[0] == b"HTTP/1.1", st
    status = int(st[1])
    hdrs = []
    while True:
        l = r.line()
        if not l:
            break
        n, v = l.split(b":", 1)
        hdrs.append((n.decode(), v.strip().decode()))
    low = {n.lower(): v for n, v in hdrs}
    body, trailers = b"", []
    if head or status < 200 or status in (204, 304):
        pass
    elif low.get("transfer-encoding") == "chunked":
        while True:
            size = int(r.line().split(b";")[0], 16)
            if size == 0:
                break
            body += r.take(size)
            assert r.take(2) == b"\r\n", "chunk not followed by CRLF"
        while True:
            l = r.line()
            if not l:
                break
            n, v = l.split(b":", 1)
            trailers.append((n.decode(), v.strip().decode()))
    elif "content-length" in low:
        body = r.take(int(low["content-length"]))
    else:
        while r.fill():
            pass
        body, r.buf = r.buf, b""
    return status, hdrs, body, trailers

def exchange(port, data, count=1, head=False):
    """Sends data, reads count final responses (1xx are collected too)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(data)
    r = Reader(s)
    out = []
    while len([x for x in out if x[0] >= 200]) < count:
        out.append(response(r, head))
    # Is the connection still open? (a short wait for EOF)
    s.settimeout(0.3)
    try:
        closed = r.fill() is False and r.eof
    except socket.timeout:
        closed = False
    s.close()
    return out, closed, r.buf
EOF
pyrun() { # pyrun NAME — runs a Python snippet (stdin) that exits 0 on success
    local name=$1 out
    if out=$(cd "$tmp" && PORT=$port OPID=$pid RSS_LIMIT_KB=$rss_limit_kb "$PY" - 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}
hdr() { # hdr FILE NAME — the value of header NAME in a curl -D dump
    tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -1
}

# ---- / and /page ------------------------------------------------------------
"${CURL[@]}" -D "$tmp/h" -o "$tmp/b" "$base/"
check "/ is HTML" grep -q '<h1>h2bridge-origin</h1>' "$tmp/b"
check "/ has X-Origin-Id" test "$(hdr "$tmp/h" X-Origin-Id)" = e2e-origin
check "/ Content-Type" test "$(hdr "$tmp/h" Content-Type)" = "text/html; charset=utf-8"
check "/ Content-Length" test "$(hdr "$tmp/h" Content-Length)" = "$(stat -c %s "$tmp/b")"

"${CURL[@]}" -o "$tmp/b" "$base/page?n=100"
check "/page?n=100 links 100 subresources" test "$(grep -o '/asset/[0-9]*\.\(png\|css\|js\)' "$tmp/b" | sort -u | wc -l)" = 100
for a in 0.png:image/png 1.css:text/css 2.js:text/javascript; do
    "${CURL[@]}" -D "$tmp/h" -o "$tmp/b" "$base/asset/${a%%:*}"
    ct=$(hdr "$tmp/h" Content-Type)
    check "/asset/${a%%:*} is ${a#*:}" test "${ct%%;*}" = "${a#*:}" -a -s "$tmp/b"
done
check "/asset/9.png starts with the PNG signature" \
    test "$("${CURL[@]}" "$base/asset/9.png" | head -c 8 | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
check "/asset/x.gif is 404" test "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$base/asset/3.gif")" = 404

# ---- /bytes/N and /chunked/N: byte-exact ---------------------------------------
for n in 0 1 255 256 65537 1048576 3000001; do
    want=$(N=$n "$PY" -c "import os,sys; sys.path.insert(0,'$tmp'); from h1 import *; print(sha(pattern(int(os.environ['N']))))")
    "${CURL[@]}" -D "$tmp/h" -o "$tmp/b" "$base/bytes/$n"
    check "/bytes/$n sha256" test "$(sha256sum <"$tmp/b" | cut -d' ' -f1)" = "$want"
    check "/bytes/$n Content-Length" test "$(hdr "$tmp/h" Content-Length)" = "$n"
    "${CURL[@]}" -D "$tmp/h" -o "$tmp/b" "$base/chunked/$n"
    check "/chunked/$n sha256" test "$(sha256sum <"$tmp/b" | cut -d' ' -f1)" = "$want"
    check "/chunked/$n is chunked" test "$(hdr "$tmp/h" Transfer-Encoding)" = chunked
done
pyrun "/chunked/100000 framing is valid HTTP/1.1 (raw client)" <<'EOF'
import os; from h1 import *
[(st, h, body, tr)], closed, rest = exchange(int(os.environ["PORT"]), b"GET /chunked/100000 HTTP/1.1\r\nHost: x\r\n\r\n")
assert st == 200 and body == pattern(100000) and not closed and rest == b"", (st, len(body), closed)
EOF
"${CURL[@]}" -I -o /dev/null -D "$tmp/h" "$base/bytes/1000"
check "HEAD /bytes/1000 has Content-Length 1000" test "$(hdr "$tmp/h" Content-Length)" = 1000
check "/bytes/abc is 400" test "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$base/bytes/abc")" = 400

# ---- /trailers -------------------------------------------------------------------
pyrun "/trailers sends a chunked body and its trailers" <<'EOF'
import os; from h1 import *
[(st, h, body, tr)], closed, rest = exchange(int(os.environ["PORT"]), b"GET /trailers?n=50000 HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n")
assert st == 200 and dict(h).get("Trailer") == "X-Body-Sha256, X-Origin-Trailer", h
assert body == pattern(50000), len(body)
assert tr == [("X-Body-Sha256", sha(body)), ("X-Origin-Trailer", "end")], tr
EOF
"${CURL[@]}" --raw -o "$tmp/b" "$base/trailers?n=10"
want=$("$PY" -c "import sys; sys.path.insert(0,'$tmp'); from h1 import *
b = pattern(10)
print(sha(b'a\\r\\n' + b + b'\\r\\n0\\r\\nX-Body-Sha256: ' + sha(b).encode() + b'\\r\\nX-Origin-Trailer: end\\r\\n\\r\\n'))")
check "/trailers?n=10 with curl --raw is byte-exact, trailers included" \
    test "$(sha256sum <"$tmp/b" | cut -d' ' -f1)" = "$want"

# ---- /echo, /inspect ---------------------------------------------------------------
printf 'hello, echo' >"$tmp/small"
check "/echo small body" test "$("${CURL[@]}" --data-binary @"$tmp/small" "$base/echo")" = "hello, echo"
check "/echo chunked request" test "$(printf 'abc' | "${CURL[@]}" -T - -X POST "$base/echo")" = abc
check "/echo without a body is empty" test -z "$("${CURL[@]}" "$base/echo")"
pyrun "/inspect keeps header order, case and repeats; hashes the body" <<'EOF'
import json, os; from h1 import *
req = (b"POST /inspect?q=1 HTTP/1.1\r\nHost: h.example\r\nX-Mixed-Case: A b\r\nx-lower:  b  \r\n"
       b"X-Dup: 1\r\nX-Dup: 2\r\nX-Bin: \xe9t\xe9\r\nContent-Length: 3\r\n\r\nabc")
[(st, h, body, tr)], closed, rest = exchange(int(os.environ["PORT"]), req)
j = json.loads(body)
assert st == 200 and dict(h)["Content-Type"] == "application/json", (st, h)
assert j["method"] == "POST" and j["target"] == "/inspect?q=1" and j["version"] == "HTTP/1.1", j
want = [["Host", "h.example"], ["X-Mixed-Case", "A b"], ["x-lower", "b"], ["X-Dup", "1"],
        ["X-Dup", "2"], ["X-Bin", "\u00e9t\u00e9"], ["Content-Length", "3"]]
assert j["headers"] == want, j["headers"]
assert j["body_length"] == 3 and j["body_sha256"] == sha(b"abc"), j
EOF
pyrun "/inspect with a chunked body and trailers" <<'EOF'
import json, os; from h1 import *
req = (b"PUT /inspect HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n")
[(st, h, body, tr)], closed, rest = exchange(int(os.environ["PORT"]), req)
j = json.loads(body)
assert j["body_length"] == 11 and j["body_sha256"] == sha(b"hello world"), j
EOF

# ---- /delay, /status, /headers, /close ------------------------------------------------
t0=$(date +%s%N)
body=$("${CURL[@]}" "$base/delay/300")
ms=$((($(date +%s%N) - t0) / 1000000))
check "/delay/300 waits >= 300 ms ($ms ms)" test "$ms" -ge 300 -a "$body" = "delayed 300 ms"
for code in 200 201 302 404 418 500 503 599; do
    check "/status/$code" test "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$base/status/$code")" = "$code"
done
pyrun "/status/204 and /status/304 are bodiless; /status/103 is interim" <<'EOF'
import os; from h1 import *
port = int(os.environ["PORT"])
rs, closed, rest = exchange(port, b"GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n", 2)
assert [r[0] for r in rs] == [204, 304] and rest == b"" and not closed, rs
assert not any(n.lower() == "content-length" for n, v in rs[0][1]), rs[0][1]
rs, closed, rest = exchange(port, b"GET /status/103 HTTP/1.1\r\nHost: x\r\n\r\n")
assert [r[0] for r in rs] == [103, 200], rs
EOF
check "/status/99 is 400" test "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$base/status/99")" = 400
"${CURL[@]}" -D "$tmp/h" -o /dev/null "$base/headers?n=50&size=100"
check "/headers?n=50&size=100" test "$(tr -d '\r' <"$tmp/h" | grep -cE '^X-Fill-[0-9]+: [a-z]{100}$')" = 50
check "/headers beyond --max-resp-head is 400" \
    test "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$base/headers?n=100000&size=1000")" = 400
pyrun "/close answers Connection: close and closes" <<'EOF'
import os; from h1 import *
rs, closed, rest = exchange(int(os.environ["PORT"]), b"GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
assert rs[0][0] == 200 and ("Connection", "close") in rs[0][1] and rs[0][2] == b"closing\n", rs
assert closed and rest == b"", (closed, rest)
# RFC 9112 §9.6: requests already sent behind /close must not turn the close
# into a reset that destroys the response (the origin half-closes, lingers)
rs, closed, rest = exchange(int(os.environ["PORT"]), b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 20000)
assert rs[0][0] == 200 and rs[0][2] == b"closing\n" and closed, rs
EOF

# ---- keep-alive reuse and pipelining ---------------------------------------------------
urls=()
for i in $(seq 1 49); do urls+=("$base/bytes/$i"); done
urls+=("$base/inspect")
opens0=$(grep -c ' open ' "$tmp/origin.log")
"${CURL[@]}" -v "${urls[@]}" >"$tmp/ka" 2>"$tmp/ka.err"
opens1=$(grep -c ' open ' "$tmp/origin.log")
check "keep-alive: 50 requests, curl reused its connection 49 times" \
    test "$(grep -c 'Re-using existing connection' "$tmp/ka.err")" = 49
check "keep-alive: the origin accepted exactly one connection for them" test $((opens1 - opens0)) = 1
check "keep-alive: /inspect was request 50 on its connection" grep -q '"conn_request":50,' "$tmp/ka"
pyrun "pipelining: three requests in one write, three responses in order" <<'EOF'
import os; from h1 import *
req = b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in (10, 70000, 3))
rs, closed, rest = exchange(int(os.environ["PORT"]), req, 3)
assert [r[2] for r in rs] == [pattern(10), pattern(70000), pattern(3)] and not closed, [len(r[2]) for r in rs]
EOF
pyrun "HTTP/1.0: close by default, keep-alive on request" <<'EOF'
import os; from h1 import *
port = int(os.environ["PORT"])
rs, closed, rest = exchange(port, b"GET /bytes/5 HTTP/1.0\r\n\r\n")
assert rs[0][2] == pattern(5) and closed, (rs, closed)
rs, closed, rest = exchange(port, b"GET /chunked/5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
assert rs[0][2] == pattern(5) and closed, (rs, closed)  # no chunked in 1.0: close-delimited
rs, closed, rest = exchange(port, b"GET /bytes/5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
assert rs[0][2] == pattern(5) and not closed and ("Connection", "keep-alive") in rs[0][1], (rs, closed)
EOF

# ---- strict request parsing: exact status codes -------------------------------------------
pyrun "bad requests get the exact status and a close" <<'EOF'
import os; from h1 import *
port = int(os.environ["PORT"])
cases = [
    (b"GET / HTTP/1.1\r\n\r\n", 400),                                   # no Host (RFC 9112 §3.2)
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),              # two Hosts
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),                        # space before colon
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", 400),      # obs-fold
    (b"GET / HTTP/1.1\nHost: a\r\n\r\n", 400),                           # bare LF
    (b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /inspect HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417),
    (b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: 1\r\n" * 200 + b"\r\n", 431),
]
for req, want in cases:
    rs, closed, rest = exchange(port, req)
    assert rs[0][0] == want and closed, (req[:60], rs[0][0], want, closed)
rs, closed, rest = exchange(port, b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
assert rs[0][0] == 404 and not closed, rs  # a routing miss keeps the connection
rs, closed, rest = exchange(port, b"\r\nGET http://a.example/bytes/4 HTTP/1.1\r\nHost: a.example\r\n\r\n")
assert rs[0][0] == 200 and rs[0][2] == pattern(4), rs  # leading CRLF, absolute-form
EOF

# ---- 100 MiB streamed through /echo under a memory bound ----------------------------------
big=$((100 * 1024 * 1024))
"$PY" -c "
import os, sys
sys.path.insert(0, '$tmp')
from h1 import pattern
block = os.urandom(1 << 20)
with open('$tmp/big', 'wb') as f:
    for i in range(100):
        f.write(block[i:] + block[:i])
"
want=$(sha256sum <"$tmp/big" | cut -d' ' -f1)
t0=$(date +%s)
got=$("${CURL[@]}" --max-time 300 -T "$tmp/big" -X POST -D "$tmp/h" "$base/echo" | sha256sum | cut -d' ' -f1)
check "/echo 100 MiB with Content-Length: sha256 matches ($(($(date +%s) - t0)) s)" test "$got" = "$want"
check "/echo 100 MiB answered with Content-Length" test "$(hdr "$tmp/h" Content-Length)" = "$big"
got=$(cat "$tmp/big" | "${CURL[@]}" --max-time 300 -T - -X POST -D "$tmp/h" "$base/echo" | sha256sum | cut -d' ' -f1)
check "/echo 100 MiB chunked: sha256 matches" test "$got" = "$want"
check "/echo chunked request answered chunked" test "$(hdr "$tmp/h" Transfer-Encoding)" = chunked
got=$("${CURL[@]}" --max-time 300 -T "$tmp/big" -X PUT "$base/inspect")
check "/inspect hashes a 100 MiB body" grep -q "\"body_length\":$big,\"body_sha256\":\"$want\"" <<<"$got"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
check "origin peak RSS ${hwm} kB < ${rss_limit_kb} kB after 300 MiB streamed" test "${hwm:-999999999}" -lt "$rss_limit_kb"

# ---- back-pressure: a peer that does not read --------------------------------------------
pyrun "a client that never reads its 1 GiB /bytes response: the origin stays small" <<'EOF'
import os, socket, time
pid = int(os.environ["OPID"]); limit = int(os.environ["RSS_LIMIT_KB"])
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET /bytes/1073741824 HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(1.0)
rss = int([l.split()[1] for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS")][0])
s.close()
assert rss < limit, (rss, limit)
EOF
pyrun "/echo with a client that never reads: the origin stops reading the upload" <<'EOF'
import os, socket
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
s.settimeout(2.0)
sent, block = 0, b"x" * 65536
try:
    while sent < (1 << 30):
        sent += s.send(block)
except socket.timeout:
    pass
s.close()
# socket buffers on both sides plus --out-high (256 KiB): far below 64 MiB
assert sent < (64 << 20), sent
EOF

pyrun "pipelined requests from a client that never reads: the origin stays small" <<'EOF'
import os, socket, time
pid = int(os.environ["OPID"]); limit = int(os.environ["RSS_LIMIT_KB"])
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
# ~1500 requests for ~600 KB pages each: ~900 MB if answers were queued freely
s.sendall(b"GET /page?n=10000 HTTP/1.1\r\nHost: x\r\n\r\n" * 1500)
time.sleep(1.0)
rss = int([l.split()[1] for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS")][0])
s.close()
assert rss < limit, (rss, limit)
EOF
# ---- graceful exit: SIGTERM lets an in-flight response finish ---------------------------
# an idle keep-alive connection: it must be closed at once, not waited for
PORT=$port "$PY" -c "
import os, socket, time
s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), timeout=20)
s.sendall(b'GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n')
s.recv(4096)
open('$tmp/idle.ready', 'w').close()
while s.recv(4096):
    pass
open('$tmp/idle', 'w').write('%.3f' % time.monotonic())
" &
ipid=$!
for _ in $(seq 1 100); do [ -e "$tmp/idle.ready" ] && break; sleep 0.05; done
opens0=$(grep -c ' open ' "$tmp/origin.log")
"${CURL[@]}" -o "$tmp/late" "$base/delay/700" &
cpid=$!
for _ in $(seq 1 100); do # until the origin has accepted the connection
    [ "$(grep -c ' open ' "$tmp/origin.log")" -gt "$opens0" ] && break
    sleep 0.05
done
sleep 0.2
t_term=$("$PY" -c 'import time; print(time.monotonic())') # CLOCK_MONOTONIC, system-wide
kill -TERM "$pid"
wait "$cpid"
crc=$?
wait "$pid"
orc=$?
pid=""
check "SIGTERM: the in-flight /delay/700 still completed" test "$crc" = 0 -a "$(cat "$tmp/late")" = "delayed 700 ms"
check "SIGTERM: the origin exited 0" test "$orc" = 0
wait "$ipid"
idle_s=$("$PY" -c "print('%.2f' % (float(open('$tmp/idle').read()) - $t_term))" 2>/dev/null)
check "SIGTERM: an idle keep-alive connection was closed at once (${idle_s:-never} s; grace is 3 s)" \
    "$PY" -c "import sys; sys.exit(not float('${idle_s:-99}') < 1.5)"
check "no sanitizer report in the origin's log" \
    bash -c "! grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' '$tmp/origin.log'"
check "one log line per request (--verbose)" grep -q '"GET /delay/700" 200' "$tmp/origin.log"

echo "test_origin: $passes passed, $fails failed"
if [ "$fails" -ne 0 ]; then
    echo "--- origin log (last 30 lines) ---"
    tail -30 "$tmp/origin.log"
    exit 1
fi
