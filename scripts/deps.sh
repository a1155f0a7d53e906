#!/usr/bin/env bash
# scripts/deps.sh GROUP... — installs, with apt-get, the Debian packages a
# group needs, and only those not installed yet (quiet when there is nothing
# to do). Groups: build, test, bench.
set -euo pipefail

pkgs_build="cmake make gcc pkg-config android-libboringssl-dev libevent-dev libyaml-dev libcmocka-dev openssl"
pkgs_test="curl nghttp2-client libnghttp2-dev python3 python3-h2 python3-yaml nginx clang libclang-rt-14-dev"
pkgs_bench="nghttp2-client nghttp2-proxy h2o haproxy nginx libnginx-mod-http-echo libhttp-parser-dev gnuplot-nox valgrind"

want=()
for group in "$@"; do
    var="pkgs_$group"
    [ -n "${!var:-}" ] || { echo "deps.sh: unknown group '$group'" >&2; exit 2; }
    for p in ${!var}; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            want+=("$p")
        fi
    done
done
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
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
