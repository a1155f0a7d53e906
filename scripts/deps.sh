#!/usr/bin/env bash
# scripts/deps.sh GROUP... — installs, with apt-get, the Debian packages a
# group needs, and only those not installed yet (quiet when there is nothing
# to do). Groups: build, run, test, bench.
#
# Installs use --no-install-recommends, so each list names what is only
# recommended by what it needs (gcc only recommends libc6-dev, without which
# the compiler cannot link: "cannot find Scrt1.o"). A group is done when
# every package in it is "install ok installed"; that is checked again after
# apt-get, so a failed or partial install is reported, never taken for done.
set -euo pipefail

# build: a C toolchain (gcc, libc6-dev, make, cmake, pkg-config), the
#        libraries, and openssl (scripts/run makes the demo certificate).
# run:   curl, for the request scripts/run prints as the next step; libc-ares2
#        (backend DNS names, docs/backends.md).
# test:  the clients, origins and compilers the tests run: curl, nghttp and
#        h2load (nghttp2-client), libnghttp2 (unit-test oracle), python3 with
#        h2, websockets and yaml, nginx, clang with libFuzzer (libclang-rt-14-dev),
#        prometheus (server and promtool), chromium (the stats page), systemd
#        (systemd-analyze verify of the unit; not started), memcached (the
#        shared ticket keys, run on a loopback port), nodejs and npm (the
#        Kubernetes manifests are validated with an npm package), dnsmasq-base
#        (the DNS server of tests/e2e/test_backend_dns.py, run unprivileged).
pkgs_build="cmake make gcc libc6-dev pkg-config android-libboringssl-dev libevent-dev libyaml-dev libcmocka-dev libc-ares-dev openssl"
pkgs_run="curl libc-ares2"
pkgs_test="curl nghttp2-client libnghttp2-dev python3 python3-h2 python3-websockets python3-yaml nginx clang libclang-rt-14-dev prometheus chromium fonts-dejavu-core systemd memcached nodejs npm dnsmasq-base"
pkgs_bench="nghttp2-client nghttp2-proxy h2o haproxy nginx libnginx-mod-http-echo libhttp-parser-dev gnuplot-nox valgrind"

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -qx "install ok installed"
}

# npm comes with Node.js builds other than Debian's (NodeSource's nodejs
# bundles it and conflicts with Debian's npm): a working npm command is as
# good as the package.
provided() {
    case "$1" in
        npm) command -v npm >/dev/null 2>&1 ;;
        *) return 1 ;;
    esac
}

all=()
for group in "$@"; do
    var="pkgs_$group"
    [ -n "${!var:-}" ] || { echo "deps.sh: unknown group '$group'" >&2; exit 2; }
    for p in ${!var}; do all+=("$p"); done
done
want=()
for p in "${all[@]}"; do installed "$p" || provided "$p" || want+=("$p"); done
[ ${#want[@]} -eq 0 ] && exit 0

echo "installing: ${want[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Packages like nginx start a service on install where an init system runs;
# we start our own instances, so keep Debian's from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
log=$(mktemp /tmp/h2bridge-deps.XXXXXX)
if ! { "${sudo_cmd[@]}" apt-get update -q && "${sudo_cmd[@]}" apt-get install -y -q \
        --no-install-recommends "${want[@]}"; } >"$log" 2>&1; then
    grep -E '^(E|W): ' "$log" | head -20 >&2 || tail -20 "$log" >&2
    echo "deps.sh: apt-get failed (full output: $log)" >&2
    exit 1
fi
missing=()
for p in "${want[@]}"; do installed "$p" || provided "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    tail -20 "$log" >&2
    echo "deps.sh: still not installed after apt-get: ${missing[*]} (full output: $log)" >&2
    exit 1
fi
rm -f "$log"
