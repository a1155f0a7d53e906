#!/usr/bin/env bash
# DESIGN.md: hpack uses libc only; core uses hpack; config uses libyaml and
# core. Fail if the hpack or core archives reference libevent, BoringSSL or
# libyaml, or if hpack references core. Inside core, the frame codec and the
# pieces it shares with the engine (error codes, budgets, time) are leaves:
# they include no core header above them (SRC_DIR is the source root).
set -u
hpack=$1 core=$2 config=$3 src=${4:-}
bad=0
forbidden='^(event_|evbuffer_|bufferevent_|evhttp_|evutil_|evconnlistener_|SSL_|EVP_|BIO_|X509_|CRYPTO_|ERR_|RAND_|OPENSSL_|PEM_|yaml_)'
check() { # archive, extra-pattern, label
    local syms
    syms=$(nm -u "$1" | awk '{print $2}' | sort -u | grep -E "$2" || true)
    if [ -n "$syms" ]; then
        echo "FAIL: $3 references forbidden symbols:"; echo "$syms" | sed 's/^/  /'
        bad=1
    else
        echo "ok: $3"
    fi
}
check "$hpack" "$forbidden|^hb_|^h1_|^h2_|^cfg_|^px_" "hpack (libc only)"
check "$core" "$forbidden|^cfg_|^px_" "core (libc + hpack)"
check "$config" "^(event_|evbuffer_|bufferevent_|evhttp_|SSL_|EVP_|BIO_|X509_)|^px_" "config (libc, libyaml, core)"
if [ -n "$src" ]; then
    leaf_ok='^core/(h2_frame|h2_errors|h2_budget|h2_prio|time)\.h$'
    for f in h2_frame.h h2_frame.c h2_errors.h h2_errors.c h2_budget.h h2_budget.c h2_prio.h h2_prio.c; do
        above=$(sed -nE 's/^#include "([^"]+)".*/\1/p' "$src/core/$f" | grep -vE "$leaf_ok" || true)
        if [ -n "$above" ]; then
            echo "FAIL: core/$f (a leaf of the codec) includes: $above"; bad=1
        else
            echo "ok: core/$f is a leaf"
        fi
    done
fi
exit $bad
