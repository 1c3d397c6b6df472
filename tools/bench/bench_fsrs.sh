#!/usr/bin/env bash
# tools/bench/bench_fsrs.sh — issue 6's benchmark: FSRS scheduling, reviews via REST, the due queue.
#
# Three figures, in one run:
#   1. the pure scheduler (bench_fsrs, pinned to one core): card updates per second, against the
#      issue's reference for fsrs-rs, about 0.9 million card updates per second;
#   2. GET /api/v1/reviews/due?limit=20 with one million cards over ten thousand learners
#      (bulk-loaded with SQL generate_series: 70 % in review with due dates spread over -30..+60
#      days, 30 % new), as BENCH_LEARNERS registered learners in turn: requests/s and p99;
#   3. POST /api/v1/reviews end to end (bridge, broker, srs actor, PostgreSQL: read, schedule,
#      one atomic write of card and log, event): reviews/s and p99.
# Both REST runs use wrk with tools/bench/bench_fsrs.lua. The REST figures have no external
# reference in the issue (fsrs-rs is a library); for scale, the same run measures GET /api/v1/me
# with the same tokens (caller verification plus one identity query: the floor of any
# authenticated route).
#
# What it does: builds Release (or uses TUTORD_BUILD_DIR), starts a private PostgreSQL under a
# temporary TUTORD_VAR, migrates, starts tutord on free ports, registers BENCH_LEARNERS users,
# loads the cards, runs the measures, stops everything it started.
#
# Environment: BENCH_DURATION (s per REST measure, default 8), BENCH_CONNECTIONS (16),
# BENCH_THREADS (2), BENCH_LEARNERS (20), BENCH_CARDS_PER_LEARNER (100), BENCH_ALL_LEARNERS
# (10000), BENCH_PURE_SECONDS (2), BENCH_SRS_EXTRA (1), TUTORD_BUILD_DIR.
#
# BENCH_SRS_EXTRA: after the review measure with tutord's one srs worker, start that many more srs
# workers (each its own process, TUTORD_ACTORS=srs, on the same broker and database) and measure
# the reviews again in the same run: what more srs workers (issue 6, "REST reviews are slow")
# give. 0 skips it.
set -euo pipefail
export TD_PROG=bench_fsrs
# shellcheck source-path=SCRIPTDIR/../lib
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR/../lib
. "$(dirname "${BASH_SOURCE[0]}")/../lib/build.sh"
# shellcheck source-path=SCRIPTDIR/../lib
. "$(dirname "${BASH_SOURCE[0]}")/../lib/pg.sh"

duration="${BENCH_DURATION:-8}"
conns="${BENCH_CONNECTIONS:-16}"
threads="${BENCH_THREADS:-2}"
learners="${BENCH_LEARNERS:-20}"
per="${BENCH_CARDS_PER_LEARNER:-100}"
all="${BENCH_ALL_LEARNERS:-10000}"
pure="${BENCH_PURE_SECONDS:-2}"
extra="${BENCH_SRS_EXTRA:-1}"
for v in "$duration" "$conns" "$threads" "$learners" "$per" "$all" "$pure" "$extra"; do
    [[ "$v" =~ ^[0-9]+$ ]] || td_die "BENCH_* values must be whole numbers (got '$v')"
done
[ "$learners" -le "$all" ] || td_die "BENCH_LEARNERS must not exceed BENCH_ALL_LEARNERS"
command -v wrk >/dev/null || td_die "wrk is missing (apt-get install wrk)"

build_dir="${TUTORD_BUILD_DIR:-$TD_ROOT/build/release}"
if [ -z "${TUTORD_BUILD_DIR:-}" ]; then
    td_note "building (Release) into $build_dir"
    build_release "" >/dev/null || td_die "build failed"
fi
for bin in tutord tutorctl bench_fsrs; do
    [ -x "$build_dir/$bin" ] || td_die "$build_dir/$bin is missing"
done

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPUs  load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## 1. the pure scheduler"
taskset -c 0 "$build_dir/bench_fsrs" "$pure"

var="$(mktemp -d /tmp/tutord-bench-XXXXXX)"
chmod 0755 "$var"
export TUTORD_VAR="$var"
tutord_pid=""
extra_pids=()
cleanup () {
    local rc=$?
    for pid in "${extra_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
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

read -r p_http p_broker p_events p_events_in < <(/usr/bin/python3 - <<'PY'
import socket
socks = []
for _ in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
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
"$build_dir/tutord" >"$var/tutord.out" 2>&1 9>&- &
tutord_pid=$!
for _ in $(seq 300); do
    [ "$(td_http_status "$TUTORD_HTTP" /health)" = 200 ] && break
    kill -0 "$tutord_pid" 2>/dev/null || { tail -20 "$var/tutord.out" >&2; td_die "tutord exited"; }
    sleep 0.2
done
[ "$(td_http_status "$TUTORD_HTTP" /health)" = 200 ] || td_die "tutord is not healthy"

# The learners: registered through the API (tokens), then 1M cards by SQL over all learners,
# the first $learners synthetic ids being the registered users' ids.
: >"$var/users"
for i in $(seq 1 "$learners"); do
    curl -sS -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"bench$i@example.org\",\"password\":\"bench password 1\",\"name\":\"B$i\"}" \
        "http://$TUTORD_HTTP/api/v1/auth/register" \
        | /usr/bin/python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["user"]["id"], b["token"])' \
        >>"$var/users" || td_die "could not register bench learner $i"
done
t_load=$(date +%s.%N)
pg_psql tutord -v all="$all" -v per="$per" <<'SQL'
INSERT INTO srs_cards (user_id, deck, front, back, state, step, stability, difficulty, due,
                       last_review, reps, created_at)
SELECT 'bench-' || u, 'default', 'front ' || n, 'back ' || n,
       CASE WHEN n % 10 < 3 THEN 1 ELSE 2 END,
       CASE WHEN n % 10 < 3 THEN 0 ELSE -1 END,
       CASE WHEN n % 10 < 3 THEN 0 ELSE 0.5 + random () * 120 END,
       CASE WHEN n % 10 < 3 THEN 0 ELSE 1 + random () * 9 END,
       now () + (random () * 90 - 30) * interval '1 day',
       CASE WHEN n % 10 < 3 THEN NULL ELSE now () - (random () * 60 + 31) * interval '1 day' END,
       CASE WHEN n % 10 < 3 THEN 0 ELSE 1 + (random () * 10)::int END,
       now () - interval '100 days'
FROM generate_series (0, :all - 1) u, generate_series (0, :per - 1) n;
SQL
i=0
while read -r uid _; do
    pg_psql tutord -c "UPDATE srs_cards SET user_id = '$uid' WHERE user_id = 'bench-$i'" >/dev/null
    i=$((i + 1))
done <"$var/users"
pg_psql tutord -c "ANALYZE srs_cards" >/dev/null
t_loaded=$(date +%s.%N)
cards="$(pg_psql tutord -Atc "SELECT count (*) FROM srs_cards")"
owners="$(pg_psql tutord -Atc "SELECT count (DISTINCT user_id) FROM srs_cards")"
# "<token> <card id>" for every card of the registered learners
while read -r uid tok; do
    pg_psql tutord -Atc "SELECT '$tok ' || id FROM srs_cards WHERE user_id = '$uid'"
done <"$var/users" >"$var/pairs"
export BENCH_FSRS_FILE="$var/pairs"
lua="$TD_ROOT/tools/bench/bench_fsrs.lua"

rps () { awk '/^Requests\/sec:/ { print $2 }' <<<"$1"; }
p99_ms () {
    awk '$1 == "99%" {
        v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000
        printf "%.2f", v }' <<<"$1"
}
p50_ms () { sed 's/^ *50%/99%/;t;d' <<<"$1" | { read -r l || true; p99_ms "$l"; }; }
errors () { awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' <<<"$1"; }

echo "## 2. GET /api/v1/reviews/due: $cards cards over $owners learners (loaded in $(awk -v a="$t_load" -v b="$t_loaded" 'BEGIN{printf "%.1f", b-a}') s)"
due_cmd=(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$lua" "http://$TUTORD_HTTP")
echo "\$ BENCH_FSRS_MODE=due ${due_cmd[*]}"
BENCH_FSRS_MODE=due wrk -t"$threads" -c"$conns" -d2s -s "$lua" "http://$TUTORD_HTTP" >/dev/null
due_out="$(BENCH_FSRS_MODE=due "${due_cmd[@]}")"
# one connection: the latency of the queue itself, without queueing behind other requests
due1_cmd=(wrk -t1 -c1 -d"${duration}s" --latency -s "$lua" "http://$TUTORD_HTTP")
echo "\$ BENCH_FSRS_MODE=due ${due1_cmd[*]}"
due1_out="$(BENCH_FSRS_MODE=due "${due1_cmd[@]}")"
echo "## 3. POST /api/v1/reviews end to end ($(wc -l <"$var/pairs") cards of $learners learners)"
rev_cmd=("${due_cmd[@]}")
echo "\$ BENCH_FSRS_MODE=review ${rev_cmd[*]}"
rev_out="$(BENCH_FSRS_MODE=review "${rev_cmd[@]}")"
rev2_out=""
if [ "$extra" -gt 0 ]; then
    # more srs workers: each its own process on the same broker and database
    for i in $(seq 1 "$extra"); do
        mkdir -p "$var/srs-$i"
        TUTORD_VAR="$var/srs-$i" TUTORD_ACTORS=srs "$build_dir/tutord" >"$var/srs-$i.out" 2>&1 9>&- &
        extra_pids+=($!)
    done
    want=$((extra + 1))
    for _ in $(seq 100); do
        got="$(/usr/bin/python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "http://$TUTORD_HTTP/metrics" \
               | sed -n 's/^tutord_broker_workers{service="srs"} \([0-9]*\)$/\1/p')"
        [ "${got:-0}" -ge "$want" ] && break
        sleep 0.2
    done
    [ "${got:-0}" -ge "$want" ] || td_die "the extra srs workers did not register ($got of $want)"
    echo "\$ ($extra more srs processes: TUTORD_ACTORS=srs) BENCH_FSRS_MODE=review ${rev_cmd[*]}"
    rev2_out="$(BENCH_FSRS_MODE=review "${rev_cmd[@]}")"
fi
logged="$(pg_psql tutord -Atc "SELECT count (*) FROM srs_reviews")"
me_out="$(BENCH_FSRS_MODE=me "${due_cmd[@]}")"

printf '%-34s %12s %10s %10s  %s\n' "target" "req/s" "p50 ms" "p99 ms" "errors"
printf '%-34s %12s %10s %10s  %s\n' "GET /api/v1/reviews/due" "$(rps "$due_out")" \
    "$(p50_ms "$due_out")" "$(p99_ms "$due_out")" "$(errors "$due_out")"
printf '%-34s %12s %10s %10s  %s\n' "GET /api/v1/reviews/due (1 conn)" "$(rps "$due1_out")" \
    "$(p50_ms "$due1_out")" "$(p99_ms "$due1_out")" "$(errors "$due1_out")"
printf '%-34s %12s %10s %10s  %s\n' "POST /api/v1/reviews" "$(rps "$rev_out")" \
    "$(p50_ms "$rev_out")" "$(p99_ms "$rev_out")" "$(errors "$rev_out")"
[ -z "$rev2_out" ] || printf '%-34s %12s %10s %10s  %s\n' "POST /api/v1/reviews, $((extra + 1)) srs" \
    "$(rps "$rev2_out")" "$(p50_ms "$rev2_out")" "$(p99_ms "$rev2_out")" "$(errors "$rev2_out")"
printf '%-34s %12s %10s %10s  %s\n' "GET /api/v1/me (for scale)" "$(rps "$me_out")" \
    "$(p50_ms "$me_out")" "$(p99_ms "$me_out")" "$(errors "$me_out")"
echo "review log rows written: $logged"
if [ -n "${BENCH_VERBOSE:-}" ]; then
    echo "--- wrk due"; echo "$due_out"
    echo "--- wrk review"; echo "$rev_out"
fi
