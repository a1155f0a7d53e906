# shellcheck shell=bash
# bench/lib/common.sh — logging, process bookkeeping and clean-up for
# bench/run. Every process the suite starts is recorded by PID in
# $BENCH_PIDS; bench_cleanup (installed as an EXIT/INT/TERM trap) stops
# each one and its descendants by PID, never by name.

BENCH_PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# descendants PID — every live descendant of PID, children first.
descendants() {
    local kid
    for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$kid"
        echo "$kid"
    done
}

# stop_pid PID [TENTHS] — SIGTERM PID and its descendants, wait up to
# TENTHS tenths of a second (default 30), then SIGKILL whatever is left.
# Quiet if PID is already gone.
stop_pid() {
    local pid=$1 tenths=${2:-30} all p i
    kill -0 "$pid" 2>/dev/null || return 0
    all="$(descendants "$pid") $pid"
    for p in $all; do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < tenths; i++)); do
        local alive=0
        for p in $all; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for p in $all; do kill -KILL "$p" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
}

track() { BENCH_PIDS+=("$1"); }

untrack() {
    local keep=() p
    for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    BENCH_PIDS=("${keep[@]}")
}

bench_cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${BENCH_PIDS[@]}"; do stop_pid "$p"; done
    BENCH_PIDS=()
    [ -n "${BENCH_TMP:-}" ] && [ -d "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
    exit $rc
}

# free_port — prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# render TEMPLATE OUT KEY=VALUE... — copies TEMPLATE to OUT replacing @KEY@.
render() {
    local tpl=$1 out=$2 kv expr=()
    shift 2
    for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
    sed "${expr[@]}" "$tpl" >"$out"
    if grep -q '@[A-Z_]*@' "$out"; then die "unrendered placeholder in $out"; fi
}

# make_cert DIR — one self-signed ECDSA P-256 certificate for every proxy:
# DIR/cert.pem, DIR/key.pem and DIR/combined.pem (cert+key, for HAProxy),
# and DIR/spki.txt, the base64 SHA-256 of its public key, which Chromium
# is told to trust (bench/pageload/chrome.py: H2B_CHROME_SPKI).
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -days 30 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null || die "openssl req failed"
    cat "$1/cert.pem" "$1/key.pem" >"$1/combined.pem"
    openssl x509 -in "$1/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64 >"$1/spki.txt" || die "openssl: no SPKI hash"
}

# http_ok URL SIZE — true when an h2 GET of URL over TLS answers 200 with
# exactly SIZE body bytes.
http_ok() {
    local got
    got=$(curl -sk --http2 --max-time 2 -o /dev/null -w '%{http_code} %{size_download} %{http_version}' "$1" 2>/dev/null) || return 1
    [ "$got" = "200 $2 2" ]
}

# wait_ready PID URL SIZE SECONDS — polls http_ok until it passes; fails
# when PID exits or SECONDS pass.
wait_ready() {
    local pid=$1 url=$2 size=$3 deadline=$((SECONDS + $4))
    while ((SECONDS <= deadline)); do
        kill -0 "$pid" 2>/dev/null || return 1
        http_ok "$url" "$size" && return 0
        sleep 0.1
    done
    return 1
}
