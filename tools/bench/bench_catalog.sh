#!/usr/bin/env bash
# tools/bench/bench_catalog.sh — issue 4's benchmark: GET /api/v1/courses/{id} (the whole tree of
# the seeded Python course, learner view) under wrk, against, in the same run and on the same
# PostgreSQL with the same rows: the baseline (FastAPI + uvicorn + psycopg2 from Debian,
# tools/bench/baseline/catalog_app.py) and two ceilings (bench_lws_ceiling, a bare libwebsockets
# server answering a constant body: the small JSON of the identity benchmark, and the very tree
# tutord answered, byte for byte -- the fair ceiling for a 79 KB reply). Prints requests/s and
# p99 of all four and the ratios, BENCH_ROUNDS times (each round runs the four one after the
# other), with the load average.
#
# Why: the catalog's tree is the most read thing in tutord; the goal of issue 4 is >= 50x the
# baseline and >= half the ceiling, p99 < 10 ms.
#
# What it does: builds Release (build/release; or uses TUTORD_BUILD_DIR as is), starts a private
# PostgreSQL under a temporary TUTORD_VAR, migrates, starts tutord, seeds seed/python-intro.json
# through the broker, registers one user, starts the baseline (uvicorn, BENCH_BASE_WORKERS
# processes, default 2) on the same database, checks both answer the same tree, runs wrk against
# the three one after the other, then stops everything it started.
#
# Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_WARMUP (s, 2), BENCH_BASE_WORKERS (2), BENCH_ROUNDS (1), TUTORD_BUILD_DIR (skip the build),
# BENCH_MALLOC=tuned (tutord alone runs with glibc's heap kept instead of trimmed and no mmap for
# blocks under 32 MiB: what a mallopt in tutord's main would do; see tools/bench/README.md), BENCH_EXTRA=1
# (also the catalog's ping and the OpenAPI document, to show where the time goes), BENCH_VERBOSE=1.
set -euo pipefail
export TD_PROG=bench_catalog
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
workers="${BENCH_BASE_WORKERS:-2}"
rounds="${BENCH_ROUNDS:-1}"
for v in "$duration" "$conns" "$threads" "$warmup" "$workers" "$rounds"; do
    [[ "$v" =~ ^[0-9]+$ ]] || td_die "BENCH_* values must be whole numbers (got '$v')"
done
command -v wrk >/dev/null || td_die "wrk is missing (apt-get install wrk)"
/usr/bin/python3 -c 'import fastapi, uvicorn, psycopg2' 2>/dev/null \
    || td_die "the baseline needs python3-fastapi python3-uvicorn python3-psycopg2 (apt-get install)"

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
tree_ceiling_pid=""
base_pid=""
cleanup () {
    local rc=$?
    for pid in "$base_pid" "$ceiling_pid" "$tree_ceiling_pid"; do
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
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

# Seven distinct free ports on loopback
read -r p_http p_broker p_events p_events_in p_ceiling p_base p_tree < <(/usr/bin/python3 -c '
import socket
socks = []
for _ in range(7):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))')
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

tutord_env=()
if [ "${BENCH_MALLOC:-}" = tuned ]; then
    tutord_env=(env GLIBC_TUNABLES=glibc.malloc.trim_threshold=67108864:glibc.malloc.top_pad=8388608:glibc.malloc.mmap_threshold=33554432)
fi
"${tutord_env[@]}" "$build_dir/tutord" >"$var/tutord.out" 2>&1 9>&- &
tutord_pid=$!
"$build_dir/bench_lws_ceiling" "$p_ceiling" 9>&- &
ceiling_pid=$!
for _ in $(seq 300); do
    [ "$(td_http_status "$TUTORD_HTTP" /health)" = 200 ] && break
    kill -0 "$tutord_pid" 2>/dev/null || { tail -20 "$var/tutord.out" >&2; td_die "tutord exited"; }
    sleep 0.2
done
[ "$(td_http_status "$TUTORD_HTTP" /health)" = 200 ] || td_die "tutord is not healthy"
"$build_dir/tutorctl" seed "$TD_ROOT/seed/python-intro.json" >"$var/seed.out" 2>&1 9>&- \
    || { tail -5 "$var/seed.out" >&2; td_die "seeding the Python course failed"; }

token="$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.org","password":"bench password 1","name":"Bench"}' \
    "http://$TUTORD_HTTP/api/v1/auth/register" \
    | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" \
    || td_die "could not register the bench user"
course="$(curl -sS -H "Authorization: Bearer $token" \
    "http://$TUTORD_HTTP/api/v1/courses?limit=100&q=Introduction%20to%20Python" \
    | /usr/bin/python3 -c 'import json,sys
print([c["id"] for c in json.load(sys.stdin)["items"] if c["slug"] == "python-intro"][0])')" \
    || td_die "the seeded Python course is not listed"

(cd "$TD_ROOT/tools/bench/baseline" && exec /usr/bin/python3 -m uvicorn catalog_app:app \
    --host 127.0.0.1 --port "$p_base" --workers "$workers" --log-level warning 9>&-) \
    >"$var/baseline.out" 2>&1 &
base_pid=$!
for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer x' \
        "http://127.0.0.1:$p_base/api/v1/courses/$course")" = 200 ] && break
    kill -0 "$base_pid" 2>/dev/null || { tail -20 "$var/baseline.out" >&2; td_die "the baseline exited"; }
    sleep 0.2
done

td_url="http://$TUTORD_HTTP/api/v1/courses/$course"
base_url="http://127.0.0.1:$p_base/api/v1/courses/$course"
ceiling_url="http://127.0.0.1:$p_ceiling/"
# Both answer the same tree: the same modules, lessons and items with the same learner content
/usr/bin/python3 -c '
import json, sys, urllib.request
def get(url):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + sys.argv[3]})
    return json.load(urllib.request.urlopen(req))
a, b = get(sys.argv[1]), get(sys.argv[2])
shape = lambda t: [(m["slug"], [(l["slug"], [(i["slug"], i["content"]) for i in l["items"]])
                                for l in m["lessons"]]) for m in t["modules"]]
assert shape(a) == shape(b), "the trees differ"
n = sum(len(l["items"]) for m in a["modules"] for l in m["lessons"])
print("# tree: %d modules, %d items, %d bytes of JSON" % (len(a["modules"]), n, len(json.dumps(a))))
' "$td_url" "$base_url" "$token" || td_die "tutord and the baseline answer different trees"

# The fair ceiling: lws answering the very bytes tutord answers for the tree
curl -sS -H "Authorization: Bearer $token" -o "$var/tree.json" "$td_url" \
    || td_die "could not save the tree"
"$build_dir/bench_lws_ceiling" "$p_tree" --file "$var/tree.json" 9>&- &
tree_ceiling_pid=$!
tree_url="http://127.0.0.1:$p_tree/"
for _ in $(seq 50); do
    [ "$(curl -s -o /dev/null -w '%{size_download}' "$tree_url")" = "$(stat -c %s "$var/tree.json")" ] && break
    sleep 0.1
done

wrk_cmd () {    # wrk_cmd seconds url [token]
    local cmd=(wrk -t"$threads" -c"$conns" -d"$1s" --latency)
    [ -n "${3:-}" ] && cmd+=(-H "Authorization: Bearer $3")
    "${cmd[@]}" "$2"
}
show_cmd () {
    echo "\$ wrk -t$threads -c$conns -d${duration}s --latency${2:+ -H 'Authorization: Bearer <token>'} $1"
}
if [ "$warmup" -gt 0 ]; then
    wrk_cmd "$warmup" "$td_url" "$token" >/dev/null
    wrk_cmd "$warmup" "$base_url" "$token" >/dev/null
    wrk_cmd "$warmup" "$ceiling_url" >/dev/null
    wrk_cmd "$warmup" "$tree_url" >/dev/null
fi

rps () { awk '/^Requests\/sec:/ { print $2 }' <<<"$1"; }
p99_ms () {
    awk '$1 == "99%" {
        v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000
        printf "%.2f", v }' <<<"$1"
}
errors () { awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' <<<"$1"; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
tree_bytes="$(stat -c %s "$var/tree.json")"
echo "# tutord: $build_dir/tutord (Release${BENCH_MALLOC:+, malloc $BENCH_MALLOC}); baseline: uvicorn --workers $workers; tree $tree_bytes bytes"
show_cmd "$td_url" token
show_cmd "$base_url" token
show_cmd "$ceiling_url"
show_cmd "$tree_url"
for round in $(seq "$rounds"); do
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    td_out="$(wrk_cmd "$duration" "$td_url" "$token")"
    base_out="$(wrk_cmd "$duration" "$base_url" "$token")"
    ceiling_out="$(wrk_cmd "$duration" "$ceiling_url")"
    tree_out="$(wrk_cmd "$duration" "$tree_url")"
    td_rps="$(rps "$td_out")"; base_rps="$(rps "$base_out")"
    ceiling_rps="$(rps "$ceiling_out")"; tree_rps="$(rps "$tree_out")"
    echo "# round $round/$rounds $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPUs  load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-34s %12s %10s  %s\n' "target" "req/s" "p99 ms" "errors"
    printf '%-34s %12s %10s  %s\n' "tutord GET /courses/{id}" "$td_rps" "$(p99_ms "$td_out")" "$(errors "$td_out")"
    printf '%-34s %12s %10s  %s\n' "FastAPI baseline" "$base_rps" "$(p99_ms "$base_out")" "$(errors "$base_out")"
    printf '%-34s %12s %10s  %s\n' "lws ceiling, small body" "$ceiling_rps" "$(p99_ms "$ceiling_out")" "$(errors "$ceiling_out")"
    printf '%-34s %12s %10s  %s\n' "lws ceiling, the same tree" "$tree_rps" "$(p99_ms "$tree_out")" "$(errors "$tree_out")"
    echo "tutord / baseline:            $(ratio "$td_rps" "$base_rps")   goal >= 50"
    echo "tutord / ceiling (small):     $(ratio "$td_rps" "$ceiling_rps")"
    echo "tutord / ceiling (same tree): $(ratio "$td_rps" "$tree_rps")   goal >= 0.50, p99 < 10 ms"
done
if [ -n "${BENCH_EXTRA:-}" ]; then
    # Where the time goes: the same path without the tree (bridge, token, broker, catalog
    # actor, no SQL), and the bridge alone answering the OpenAPI document (~100 KB, no actor)
    # and a one-item course through the same route (what does not depend on the tree's size)
    small="$("$build_dir/tutorctl" call --auth '{"kind": "system"}' catalog course.upsert \
        '{"org_slug": null, "slug": "bench-small", "title": "Small", "status": "published",
          "modules": [{"slug": "mod", "title": "M", "lessons": [{"slug": "les", "title": "L",
          "items": [{"slug": "item", "kind": "material", "title": "I",
                     "content": {"blocks": [{"type": "markdown", "text": "Hi"}]}}]}]}]}' 9>&- \
        | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["body"]["id"])')"
    for path in "/api/v1/courses/$small" /api/v1/services/catalog/ping /api/v1/openapi.json; do
        echo "--- with token $path"
        wrk_cmd "$duration" "http://$TUTORD_HTTP$path" "$token" | grep -E "Requests/sec|99%"
    done
fi
if [ -n "${BENCH_VERBOSE:-}" ]; then
    echo "--- wrk tutord"; echo "$td_out"
    echo "--- wrk baseline"; echo "$base_out"
    echo "--- wrk ceiling"; echo "$ceiling_out"
    echo "--- wrk ceiling, same tree"; echo "$tree_out"
fi
