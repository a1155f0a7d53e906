#!/usr/bin/env bash
# curl --http2 through h2bridge to h2bridge-origin: GET/HEAD/POST/PUT with
# bodies of 0 B, 1 KiB and 10 MiB (SHA-256 compared), chunked uploads, 204;
# and the command line: --help, --version, -t with a good and a bad key.
set -uo pipefail
: "${H2B_BIN:?}" "${H2B_ORIGIN:?}"
dir=$(mktemp -d /tmp/h2b-curl-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
pass=0 fail=0
check() { # check WHAT GOT WANT
    if [ "$2" == "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: got '$2', want '$3'"; fi
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$dir/other.pem" 2>/dev/null

# Command line.
check "--version" "$("$H2B_BIN" --version | cut -d' ' -f1)" "h2bridge"
"$H2B_BIN" --help | grep -q -- "--backend HOST:PORT"; check "--help lists --backend" "$?" "0"
out=$("$H2B_BIN" -t --listen 127.0.0.1:1 --cert "$dir/cert.pem" --key "$dir/key.pem" --backend 127.0.0.1:2)
check "-t with a good pair" "$out" "configuration OK"
out=$("$H2B_BIN" -t --listen 127.0.0.1:1 --cert "$dir/cert.pem" --key "$dir/other.pem" --backend 127.0.0.1:2 2>&1)
check "-t exit status with a key that does not match" "$?" "1"
grep -q "private key does not match the certificate" <<<"$out"; check "-t names the mismatch" "$?" "0"
"$H2B_BIN" --workers 0 >/dev/null 2>&1; check "--workers 0 refused" "$?" "2"

op=$(free_port); pp=$(free_port)
"$H2B_ORIGIN" --listen 127.0.0.1:$op >"$dir/origin.log" 2>&1 & pids+=($!)
"$H2B_BIN" --listen 127.0.0.1:$pp --cert "$dir/cert.pem" --key "$dir/key.pem" --backend 127.0.0.1:$op \
    --workers 2 >"$dir/proxy.log" 2>&1 & pids+=($!)
wait_port $op && wait_port $pp || { echo "FAIL: servers did not start"; cat "$dir"/*.log; exit 1; }
url=https://127.0.0.1:$pp
c() { curl -sk --http2 --max-time 60 "$@"; }

check "GET / (h2)" "$(c -o /dev/null -w '%{http_code} %{http_version}' $url/)" "200 2"
for n in 0 1024 10485760; do
    head -c $n /dev/urandom >"$dir/body"
    want=$(sha256sum <"$dir/body" | cut -c1-64)
    check "GET /bytes/$n" "$(c -o /dev/null -w '%{http_code} %{size_download}' $url/bytes/$n)" "200 $n"
    check "HEAD /bytes/$n" "$(c -I $url/bytes/$n | tr -d '\r' | grep -i '^content-length' | cut -d' ' -f2)" "$n"
    for m in POST PUT; do
        got=$(c -X $m --data-binary @"$dir/body" $url/echo | sha256sum | cut -c1-64)
        check "$m /echo $n (content-length)" "$got" "$want"
        got=$(c -X $m -H 'Transfer-Encoding: chunked' --data-binary @"$dir/body" $url/echo | sha256sum | cut -c1-64)
        check "$m /echo $n (no content-length)" "$got" "$want"
    done
done
check "204" "$(c -o /dev/null -w '%{http_code} %{size_download}' $url/status/204)" "204 0"
check "proxy alive" "$(kill -0 ${pids[1]} && echo yes)" "yes"
[ $fail -eq 0 ] || { tail -20 "$dir/proxy.log"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
