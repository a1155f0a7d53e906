#!/usr/bin/env bash
# DESIGN.md: hpack uses libc only; core uses hpack; config uses libyaml and
# core. Fail if the hpack or core archives reference libevent, BoringSSL or
# libyaml, or if hpack references core.
set -u
hpack=$1 core=$2 config=$3
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
exit $bad
