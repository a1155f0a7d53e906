# shellcheck shell=bash
# bench/lib/scenarios.sh — the h2load scenarios and one measured run.
# Needs: BENCH_DIR, BENCH_TMP (with upload.bin), DURATION and WARMUP
# (seconds, integers or decimals), RAW (the TSV being written), IDLE_CONNS.

# shellcheck disable=SC2034 # used by bench/run
SCENARIOS_ALL="small large upload handshake idle"

# TLS 1.3 with one cipher suite for every proxy (--ciphers alone would only
# pin TLS 1.2 suites); TLS 1.2 is pinned too in case a proxy lacks 1.3.
H2LOAD_TLS=(--tls13-ciphers=TLS_AES_128_GCM_SHA256 --ciphers=ECDHE-ECDSA-AES128-GCM-SHA256)

# shellcheck disable=SC2034 # used by bench/run
RAW_HEADER="rep	scenario	proxy	status	requests	seconds	req_per_s	cpu_us_per_req	peak_rss_kb	lat_mean_us	lat_max_us	errors	idle_conns	idle_failed	bytes_per_conn"

# raw_row REP SCENARIO PROXY STATUS [FIELDS...] — appends one TSV row,
# padding missing fields with "-".
raw_row() {
    local row=("$@") i
    for ((i = ${#row[@]}; i < 15; i++)); do row+=("-"); done
    (IFS=$'\t'; echo "${row[*]}") >>"$RAW"
}

ms() { awk -v s="$1" 'BEGIN { printf "%dms", s * 1000 }'; }

# bg_wait OUT CMD... — runs CMD with stdout to OUT as a tracked background
# job and waits for it: a signal to bench/run then interrupts the wait at
# once and the clean-up trap stops CMD and its children by PID.
bg_wait() {
    local out=$1 pid rc=0
    shift
    "$@" >"$out" &
    pid=$!
    track "$pid"
    wait "$pid" || rc=$?
    untrack "$pid"
    return $rc
}

# run_scenario REP SCENARIO PROXY PORT PID — measures one scenario against a
# running proxy and appends its row.
run_scenario() {
    local rep=$1 sc=$2 name=$3 port=$4 pid=$5 url="https://127.0.0.1:$4"
    local out=$BENCH_TMP/measure.out
    local timed=(--warm-up-time="$(ms "$WARMUP")" -D "$(ms "$DURATION")")
    local m=("$BENCH_DIR/measure.py" --pid "$pid" --log "$BENCH_TMP/h2load.log"
             --timeout "$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { print d + w + 30 }')")
    : >"$out"
    case $sc in
    small)  bg_wait "$out" "${m[@]}" --warm-up "$WARMUP" -- h2load "${H2LOAD_TLS[@]}" -c100 -m10 "${timed[@]}" "$url/1k" || true ;;
    large)  bg_wait "$out" "${m[@]}" --warm-up "$WARMUP" -- h2load "${H2LOAD_TLS[@]}" -c10 -m4 "${timed[@]}" "$url/1m" || true ;;
    upload) bg_wait "$out" "${m[@]}" --warm-up "$WARMUP" -- h2load "${H2LOAD_TLS[@]}" -c10 -m4 "${timed[@]}" \
                -d "$BENCH_TMP/upload.bin" "$url/upload" || true ;;
    handshake)
        # 50 concurrent clients, one request each, then the connection
        # closes: every request pays a full TLS 1.3 handshake (h2load does
        # not resume sessions). Repeated for DURATION seconds.
        bg_wait "$out" "${m[@]}" --loop "$DURATION" -- h2load "${H2LOAD_TLS[@]}" -c50 -n50 -m1 "$url/1k" || true ;;
    idle)
        local opened failed alive per cpu secs hwm
        bg_wait "$out" "$BENCH_DIR/idle.py" --port "$port" --pid "$pid" -n "$IDLE_CONNS" \
            --max-seconds "$((IDLE_CONNS / 100 + 20))" || true
        if ! read -r opened failed alive _ _ per cpu secs <"$out"; then
            raw_row "$rep" "$sc" "$name" error; return
        fi
        hwm=$("$BENCH_DIR/proctree.py" "$pid" | awk '{print $3}')
        raw_row "$rep" "$sc" "$name" ok "$opened" "$secs" - "$cpu" "$hwm" - - \
            "$((IDLE_CONNS - alive))" "$alive" "$failed" "$per"
        return ;;
    *) die "unknown scenario '$sc'" ;;
    esac
    local f
    if ! read -r -a f <"$out" || [ ${#f[@]} -ne 8 ]; then
        raw_row "$rep" "$sc" "$name" error; return
    fi
    raw_row "$rep" "$sc" "$name" ok "${f[@]}"
}
