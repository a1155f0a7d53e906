# shellcheck shell=bash
# bench/lib/proxies.sh — start the origin and each proxy under test.
# Needs: BENCH_DIR (bench/), BENCH_TMP (scratch dir with cert.pem, key.pem,
# combined.pem, www/), ORIGIN_PORT, H2B_BIN. Each start_* runs its server in
# the foreground as a background job, records the PID (track) and sets
# PROXY_PID; the caller checks readiness and stops it with stop_proxy.

# shellcheck disable=SC2034 # used by bench/run
PROXIES_ALL="nghttpx h2o haproxy nginx h2bridge"

start_origin() {
    mkdir -p "$BENCH_TMP/origin-tmp"
    render "$BENCH_DIR/conf/origin-nginx.conf" "$BENCH_TMP/origin.conf" \
        DIR="$BENCH_TMP" ORIGIN_PORT="$ORIGIN_PORT"
    nginx -c "$BENCH_TMP/origin.conf" -p "$BENCH_TMP" -e "$BENCH_TMP/origin-error.log" \
        >"$BENCH_TMP/origin.out" 2>&1 &
    ORIGIN_PID=$!
    track "$ORIGIN_PID"
    local deadline=$((SECONDS + 5)) got
    while ((SECONDS <= deadline)); do
        kill -0 "$ORIGIN_PID" 2>/dev/null || break
        got=$(curl -s --max-time 2 -o /dev/null -w '%{http_code} %{size_download}' \
            "http://127.0.0.1:$ORIGIN_PORT/1k" 2>/dev/null) || got=
        [ "$got" = "200 1024" ] && return 0
        sleep 0.1
    done
    cat "$BENCH_TMP/origin.out" "$BENCH_TMP/origin-error.log" >&2 2>/dev/null
    die "origin nginx did not start"
}

# proxy_cmd NAME PORT — prints nothing, sets the array PCMD to the command
# line that runs proxy NAME on PORT in the foreground.
proxy_cmd() {
    local name=$1 port=$2 t=$BENCH_TMP
    local subst=(DIR="$t" PORT="$port" ORIGIN_PORT="$ORIGIN_PORT"
                 CERT="$t/cert.pem" KEY="$t/key.pem" PEM="$t/combined.pem")
    case $name in
    nghttpx)
        render "$BENCH_DIR/conf/nghttpx.conf" "$t/nghttpx.conf" "${subst[@]}"
        PCMD=(nghttpx --conf="$t/nghttpx.conf") ;;
    h2o)
        render "$BENCH_DIR/conf/h2o.yaml" "$t/h2o.yaml" "${subst[@]}"
        PCMD=(h2o -c "$t/h2o.yaml") ;;
    haproxy)
        render "$BENCH_DIR/conf/haproxy.cfg" "$t/haproxy.cfg" "${subst[@]}"
        PCMD=(haproxy -db -f "$t/haproxy.cfg") ;;
    nginx)
        mkdir -p "$t/nginx-proxy-tmp"
        render "$BENCH_DIR/conf/nginx-proxy.conf" "$t/nginx-proxy.conf" "${subst[@]}"
        PCMD=(nginx -c "$t/nginx-proxy.conf" -p "$t" -e "$t/nginx-proxy-error.log") ;;
    h2bridge|h2bridge-base)
        # The quick-start command line of the proxy runtime (issue 6);
        # h2bridge-base is the same command with the baseline binary.
        local bin=$H2B_BIN
        [ "$name" = h2bridge-base ] && bin=$H2B_BASE_BIN
        PCMD=("$bin" --listen "127.0.0.1:$port" --cert "$t/cert.pem"
              --key "$t/key.pem" --backend "127.0.0.1:$ORIGIN_PORT" --workers 1)
        # bench/run --access-log: the access log on the h2bridge row only.
        if [ "$name" = h2bridge ] && [ -n "${H2B_ALOG_CFG:-}" ]; then
            PCMD+=(-c "$H2B_ALOG_CFG")
        # bench/pageload/run --h2b-config (H2B_PAGELOAD_CFG): a configuration
        # on the h2bridge row only (e.g. early hints), the base row without.
        elif [ "$name" = h2bridge ] && [ -n "${H2B_PAGELOAD_CFG:-}" ]; then
            PCMD+=(-c "$H2B_PAGELOAD_CFG")
        fi ;;
    *) die "unknown proxy '$name'" ;;
    esac
}

# start_proxy NAME PORT — starts it and waits until an h2 GET of /1k through
# it works: 3 s for h2bridge (its runtime may not exist yet), 10 s for the
# peers. Returns 1 (process stopped) when it never gets ready.
start_proxy() {
    local name=$1 port=$2 wait=10
    [ "$name" = h2bridge ] && wait=3
    if [ "$name" = h2bridge ] && [ ! -x "$H2B_BIN" ]; then
        log "h2bridge: no binary at $H2B_BIN"
        return 1
    fi
    if [ "$name" = h2bridge-base ] && [ ! -x "${H2B_BASE_BIN:-}" ]; then
        log "h2bridge-base: no binary at ${H2B_BASE_BIN:-(H2B_BASE_BIN unset)}"
        return 1
    fi
    proxy_cmd "$name" "$port"
    "${PCMD[@]}" >"$BENCH_TMP/$name.out" 2>&1 &
    PROXY_PID=$!
    track "$PROXY_PID"
    if wait_ready "$PROXY_PID" "https://127.0.0.1:$port/1k" 1024 "$wait"; then
        return 0
    fi
    if kill -0 "$PROXY_PID" 2>/dev/null; then
        log "$name: no correct answer to an h2 GET within ${wait}s; last output:"
    else
        log "$name: exited at start-up; last output:"
    fi
    tail -n 5 "$BENCH_TMP/$name.out" >&2
    stop_proxy
    return 1
}

stop_proxy() {
    [ -n "${PROXY_PID:-}" ] || return 0
    # Its figures are taken: 1 s of grace is enough (nghttpx and h2o take
    # ~2 s to wind down on SIGTERM).
    stop_pid "$PROXY_PID" 10
    untrack "$PROXY_PID"
    PROXY_PID=
}
