#!/bin/sh
#  bench_sandbox.sh — the sandbox benchmark of issue 5 in one command (run as root, on a quiet
#  machine for figures worth quoting): builds Release into build/bench-rel and runs
#  bench_sandbox with the given options (default -n 100 -t 5): floor, bubblewrap and tutord's
#  one-shot runs (prepared box, and made on the spot) interleaved in rounds, p50/p99 over the
#  floor, sessions per test, throughput on 2 threads, load averages at start and end.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${TUTORD_BENCH_BUILD:-$here/build/bench-rel}"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bench_sandbox >/dev/null
if [ "$#" -eq 0 ]; then
    set -- -n 100 -t 5
fi
exec "$build/bench_sandbox" "$@"
