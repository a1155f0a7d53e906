#!/usr/bin/env bash
# tests/e2e/test_config_check.sh — `h2bridge -t -c FILE` validates a
# configuration as `nginx -t` does: "configuration OK" and status 0, or every
# error as "file:line:column: expected …, found …" and status 1.
# env: H2B_BIN (the h2bridge binary), H2B_SOURCE_DIR (the repository root).
# SKIPs (exit 0, saying so) when the binary does not accept -t yet.
set -u
src=${H2B_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${H2B_BIN:-}
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "SKIP: H2B_BIN is not an executable h2bridge binary ('$bin')"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Does this binary know -t? An unknown option gives the usage and status 2.
"$bin" -t -c "$src/config/examples/minimal.yaml" >"$tmp/probe" 2>&1
probe=$?
if [ $probe -eq 2 ] && ! grep -q "configuration OK" "$tmp/probe"; then
    echo "SKIP: $bin does not accept -t -c yet (status 2):"
    sed 's/^/  /' "$tmp/probe"
    exit 0
fi

fails=0
check() { # name, condition-status
    if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}

for f in demo minimal multi-host access-log; do
    out=$("$bin" -t -c "$src/config/examples/$f.yaml" 2>&1)
    st=$?
    [ $st -eq 0 ] && [ "$out" = "configuration OK" ]
    check "examples/$f.yaml: configuration OK, status 0 (got $st: $out)" $?
done

b="$src/tests/config/data/broken.yaml"
out=$("$bin" -t -c "$b" 2>&1)
st=$?
want="$b:3:5: expected a known key in listeners[0] (did you mean \"port\"?), found \"prot\"
$b:9:15: expected the name of a defined upstream (did you mean \"api\"?), found \"apx\"
$b:11:22: expected a duration from 100ms to 10m (like \"250ms\", \"5s\", \"1m\") for limits.handshake_timeout, found \"5x\""
[ $st -eq 1 ] && [ "$out" = "$want" ]
check "broken.yaml: every error with its position, status 1" $?
if [ $st -ne 1 ] || [ "$out" != "$want" ]; then
    echo "  status $st, output:"; echo "$out" | sed 's/^/  | /'
fi

# The access log and the admin listener, once reserved, are real now: no
# warning for either.
cat >"$tmp/reserved.yaml" <<'EOF'
listeners:
  - address: "127.0.0.1:8443"
logging:
  access_log: "-"
admin:
  address: "127.0.0.1:9901"
EOF
out=$("$bin" -t -c "$tmp/reserved.yaml" --backend 127.0.0.1:8081 2>&1)
st=$?
[ $st -eq 0 ] && [ "$out" = "configuration OK" ]
check "access_log and admin: status 0, no warning (got $st: $out)" $?

# An access log template with an unknown field: the error is at the field,
# inside the string (plain and quoted scalars), for every bad template.
cat >"$tmp/template.yaml" <<'EOF'
listeners:
  - address: "127.0.0.1:8443"
logging:
  access_log: access.log
  access_log_format: template
  access_log_template: "${client_addr} ${stauts} $$ ${path}"
EOF
out=$("$bin" -t -c "$tmp/template.yaml" --backend 127.0.0.1:8081 2>&1)
st=$?
want="$tmp/template.yaml:6:42: expected a field name (time, client_addr, status, … see docs/observability.md), found \"stauts\" in logging.access_log_template"
[ $st -eq 1 ] && [ "$out" = "$want" ]
check "access_log_template: unknown field at its column, status 1 (got $st: $out)" $?
sed -i 's/access_log_template: .*/access_log_template: ${status} $x/' "$tmp/template.yaml"
out=$("$bin" -t -c "$tmp/template.yaml" --backend 127.0.0.1:8081 2>&1)
st=$?
want="$tmp/template.yaml:6:34: expected \"\${field}\" or \"\$\$\" after '\$' in logging.access_log_template"
[ $st -eq 1 ] && [ "$out" = "$want" ]
check "access_log_template: a stray \$ at its column (got $st: $out)" $?
sed -i 's/access_log_template: .*/access_log_template: "${status} ${method} $$"/' "$tmp/template.yaml"
out=$("$bin" -t -c "$tmp/template.yaml" --backend 127.0.0.1:8081 2>&1)
st=$?
[ $st -eq 0 ] && [ "$out" = "configuration OK" ]
check "access_log_template: a good one is OK (got $st: $out)" $?

# A ticket key file of a wrong size: the error is at the key.
head -c 50 /dev/urandom >"$tmp/ticket.key"
cat >"$tmp/ticket.yaml" <<EOF
listeners:
  - address: "127.0.0.1:8443"
    tls:
      certificates: [{cert: $src/config/examples/certs/localhost.crt, key: $src/config/examples/certs/localhost.key}]
      ticket_key_file: ticket.key
EOF
out=$("$bin" -t -c "$tmp/ticket.yaml" --backend 127.0.0.1:8081 2>&1)
st=$?
want="$tmp/ticket.yaml:5:24: expected a usable ticket key file, found: $tmp/ticket.key: expected one to 8 keys of 48 or 80 bytes, found a file of 50 bytes"
[ $st -eq 1 ] && [ "$out" = "$want" ]
check "ticket_key_file of 50 bytes: status 1, the error at the key (got $st: $out)" $?

out=$("$bin" -t -c "$tmp/missing.yaml" 2>&1)
st=$?
[ $st -eq 1 ] && echo "$out" | grep -qF "$tmp/missing.yaml: expected a readable configuration file, found No such file or directory"
check "a missing file: status 1 and the reason" $?

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all config check tests passed"
