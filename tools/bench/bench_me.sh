#!/usr/bin/env bash
# tools/bench/bench_me.sh — issue 3's benchmark: GET /api/v1/me with a valid token under wrk,
# against, in the same run, the ceiling: a bare libwebsockets server (bench_lws_ceiling) answering
# a constant JSON body. Prints requests/s and p99 of both, the ratio, and the commands.
#
# Why: an authenticated request pays for knowing its caller and then for the verb itself. The
# bridge keeps identity's answer per credential (bridges/web/td_authcache.c, dropped by
# PostgreSQL notifications) and identity keeps `me` answers the same way, so a repeated request
# costs one broker round trip and no SQL. The ceiling shows what lws alone can do on this
# machine, so the ratio is the price of the bridge, the broker and identity. Goal: >= 40% of the
# ceiling, p99 < 10 ms.
#
# What it does: builds Release (build/release, as tools/up does; or TUTORD_BUILD_DIR as is),
# starts a private PostgreSQL under a temporary TUTORD_VAR, migrates, starts tutord on free
# ports, registers one user, runs wrk (64 connections, ~10 s, loopback) against both servers,
# then stops everything it started. Besides req/s and p99 it prints each server's CPU time per
# request (user + system of all its threads, from /proc): on a shared machine req/s moves with
# the neighbours' load, CPU per request much less.
#
# Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_WARMUP (s, 2), TUTORD_BUILD_DIR (skip the build and use these binaries).
# BENCH_COMPARE=1 also measures, in the same run, tutord with both caches off
# (TUTORD_AUTHCACHE_MAX=0 TUTORD_IDENTITY_ME_CACHE=0: every request verified in PostgreSQL, as
# before the caches). BENCH_LOGIN=1 also measures POST /api/v1/auth/login (8 connections;
# argon2id-bound by design: the parameters are printed).
# The per-token rate limit is raised for the run (one token from 64 connections is the point
# here, not the limiter): TUTORD_RATE_PER_TOKEN=1000000.
set -euo pipefail
export TD_PROG=bench_me
# shellcheck source-path=SCRIPTDIR/../lib
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR/../lib
. "$(dirname "${BASH_SOURCE[0]}")/../lib/build.sh"
# shellcheck source-path=SCRIPTDIR/../lib
. "$(dirname "${BASH_SOURCE[0]}")/../lib/pg.sh"

duration="${BENCH_DURATION:-10}"
conns="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
warmup="${BENCH_WARMUP:-2}"
for v in "$duration" "$conns" "$threads" "$warmup"; do
    [[ "$v" =~ ^[0-9]+$ ]] || td_die "BENCH_* values must be whole numbers (got '$v')"
done
command -v wrk >/dev/null || td_die "wrk is missing (apt-get install wrk)"

build_dir="${TUTORD_BUILD_DIR:-$TD_ROOT/build/release}"
if [ -z "${TUTORD_BUILD_DIR:-}" ]; then
    td_note "building (Release) into $build_dir"
    build_release "" >/dev/null || td_die "build failed"
fi
for bin in tutord tutorctl bench_lws_ceiling; do
    [ -x "$build_dir/$bin" ] || td_die "$build_dir/$bin is missing"
done

var="$(mktemp -d /tmp/tutord-bench-XXXXXX)"
chmod 0755 "$var"
export TUTORD_VAR="$var"
tutord_pid=""
ceiling_pid=""
cleanup () {
    local rc=$?
    if [ -n "$ceiling_pid" ]; then
        kill "$ceiling_pid" 2>/dev/null || true
        wait "$ceiling_pid" 2>/dev/null || true
    fi
    if [ -n "$tutord_pid" ] && kill -0 "$tutord_pid" 2>/dev/null; then
        kill -TERM "$tutord_pid" 2>/dev/null || true
        wait "$tutord_pid" 2>/dev/null || true
    fi
    pg_stop >/dev/null 2>&1 || true
    rm -rf -- "$var" 2>/dev/null || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Five distinct free ports on loopback
read -r p_http p_broker p_events p_events_in p_ceiling < <(/usr/bin/python3 - <<'EOF'
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
export TUTORD_HTTP="127.0.0.1:$p_http"
export TUTORD_BROKER="tcp://127.0.0.1:$p_broker"
export TUTORD_EVENTS="tcp://127.0.0.1:$p_events"
export TUTORD_EVENTS_IN="tcp://127.0.0.1:$p_events_in"
export TUTORD_RATE_PER_TOKEN=1000000 TUTORD_RATE_BURST=10000000
export TUTORD_LOG_LEVEL="${TUTORD_LOG_LEVEL:-warn}"
unset TUTORD_ACTORS TUTORD_FAULTS

pg_start >/dev/null
TUTORD_DB="$(pg_conninfo tutord)"
export TUTORD_DB
"$build_dir/tutorctl" migrate >/dev/null 9>&- || td_die "migrations failed"

start_tutord () {
    "$build_dir/tutord" >>"$var/tutord.out" 2>&1 9>&- &
    tutord_pid=$!
    for _ in $(seq 300); do
        [ "$(td_http_status "$TUTORD_HTTP" /health)" = 200 ] && break
        kill -0 "$tutord_pid" 2>/dev/null || { tail -20 "$var/tutord.out" >&2; td_die "tutord exited"; }
        sleep 0.2
    done
    [ "$(td_http_status "$TUTORD_HTTP" /health)" = 200 ] || td_die "tutord is not healthy"
}
stop_tutord () {
    kill -TERM "$tutord_pid" 2>/dev/null || true
    wait "$tutord_pid" 2>/dev/null || true
    tutord_pid=""
}
start_tutord
"$build_dir/bench_lws_ceiling" "$p_ceiling" 9>&- &
ceiling_pid=$!

token="$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.org","password":"bench password 1","name":"Bench"}' \
    "http://$TUTORD_HTTP/api/v1/auth/register" \
    | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" \
    || td_die "could not register the bench user"
status="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://$TUTORD_HTTP/api/v1/me")"
[ "$status" = 200 ] || td_die "GET /api/v1/me answered $status"

me_url="http://$TUTORD_HTTP/api/v1/me"
ceiling_url="http://127.0.0.1:$p_ceiling/"
me_cmd=(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -H "Authorization: Bearer $token" "$me_url")
ceiling_cmd=(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$ceiling_url")

# Warm up both (connections, caches, PostgreSQL plans), then measure
if [ "$warmup" -gt 0 ]; then
    wrk -t"$threads" -c"$conns" -d"${warmup}s" -H "Authorization: Bearer $token" "$me_url" >/dev/null
    wrk -t"$threads" -c"$conns" -d"${warmup}s" "$ceiling_url" >/dev/null
fi
# CPU time (user + system, all threads) a process has used, in clock ticks
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
me_cpu0="$(cpu_ticks "$tutord_pid")"
me_out="$("${me_cmd[@]}")"
me_cpu1="$(cpu_ticks "$tutord_pid")"
ceiling_cpu0="$(cpu_ticks "$ceiling_pid")"
ceiling_out="$("${ceiling_cmd[@]}")"
ceiling_cpu1="$(cpu_ticks "$ceiling_pid")"

# "Requests/sec:  12345.67" and the "99%  1.23ms" latency line (wrk prints us, ms or s)
rps () { awk '/^Requests\/sec:/ { print $2 }' <<<"$1"; }
p99_ms () {
    awk '$1 == "99%" {
        v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000
        printf "%.2f", v }' <<<"$1"
}
errors () { awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' <<<"$1"; }
hits () { curl -s "http://$TUTORD_HTTP/metrics" | awk '/^tutord_authcache_lookups_total/ { printf "%s ", $0 }'; }
me_rps="$(rps "$me_out")"; ceiling_rps="$(rps "$ceiling_out")"
me_p99="$(p99_ms "$me_out")"; ceiling_p99="$(p99_ms "$ceiling_out")"
ratio="$(awk -v a="$me_rps" -v b="$ceiling_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
# Server CPU per request (us): less sensitive than req/s to what else runs on the machine
hz="$(getconf CLK_TCK)"
us_per_req () {
    awk -v t0="$1" -v t1="$2" -v hz="$hz" -v rps="$3" -v d="$duration" \
        'BEGIN { n = rps * d; printf "%.1f", (n > 0 ? (t1 - t0) / hz * 1e6 / n : 0) }'
}
me_cpu="$(us_per_req "$me_cpu0" "$me_cpu1" "$me_rps")"
ceiling_cpu="$(us_per_req "$ceiling_cpu0" "$ceiling_cpu1" "$ceiling_rps")"

redact () { sed "s/Bearer [^ ]*/Bearer <token>/"; }
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPUs  load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tutord: $build_dir/tutord (Release), TUTORD_RATE_PER_TOKEN=1000000"
echo "\$ ${me_cmd[*]}" | redact
echo "\$ ${ceiling_cmd[*]}"
printf '%-22s %12s %10s %12s  %s\n' "target" "req/s" "p99 ms" "CPU us/req" "errors"
printf '%-22s %12s %10s %12s  %s\n' "GET /api/v1/me" "$me_rps" "$me_p99" "$me_cpu" \
    "$(errors "$me_out")"
printf '%-22s %12s %10s %12s  %s\n' "lws ceiling" "$ceiling_rps" "$ceiling_p99" "$ceiling_cpu" \
    "$(errors "$ceiling_out")"
echo "ratio (me / ceiling): $ratio   goal: >= 0.40, p99 < 10 ms"
echo "principal cache: $(hits)"
if [ -n "${BENCH_COMPARE:-}" ]; then
    # The same binary with both caches off: what every request cost before them
    stop_tutord
    TUTORD_AUTHCACHE_MAX=0 TUTORD_IDENTITY_ME_CACHE=0 start_tutord
    wrk -t"$threads" -c"$conns" -d"${warmup}s" -H "Authorization: Bearer $token" "$me_url" >/dev/null
    off_out="$("${me_cmd[@]}")"
    printf '%-22s %12s %10s  %s\n' "me, caches off" "$(rps "$off_out")" "$(p99_ms "$off_out")" \
        "$(errors "$off_out")"
    stop_tutord
    start_tutord
fi
if [ -n "${BENCH_LOGIN:-}" ]; then
    # Sign-in: argon2id at the configured cost, one identity worker
    lua="$var/login.lua"
    cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.org","password":"bench password 1"}'
LUA
    login_out="$(wrk -t2 -c8 -d"${duration}s" --timeout 30s --latency -s "$lua" "http://$TUTORD_HTTP/api/v1/auth/login")"
    echo "\$ wrk -t2 -c8 -d${duration}s --timeout 30s --latency -s login.lua http://$TUTORD_HTTP/api/v1/auth/login"
    printf '%-22s %12s %10s  %s\n' "POST login" "$(rps "$login_out")" "$(p99_ms "$login_out")" \
        "$(errors "$login_out")"
    echo "argon2id: TUTORD_ARGON2_OPSLIMIT=${TUTORD_ARGON2_OPSLIMIT:-2} TUTORD_ARGON2_MEMLIMIT_KIB=${TUTORD_ARGON2_MEMLIMIT_KIB:-65536}"
fi
if [ -n "${BENCH_EXTRA:-}" ]; then
    # Where the time goes: the bridge and broker alone (anonymous ping, no SQL), and one
    # verification plus a ping (one SQL query)
    for path in /api/v1/services/identity/ping; do
        echo "--- anonymous $path"
        wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "http://$TUTORD_HTTP$path" \
            | grep -E "Requests/sec|99%"
        echo "--- with token $path"
        wrk -t"$threads" -c"$conns" -d"${duration}s" --latency \
            -H "Authorization: Bearer $token" "http://$TUTORD_HTTP$path" | grep -E "Requests/sec|99%"
    done
fi
if [ -n "${BENCH_VERBOSE:-}" ]; then
    echo "--- wrk GET /api/v1/me"; echo "$me_out"
    echo "--- wrk ceiling"; echo "$ceiling_out"
fi
