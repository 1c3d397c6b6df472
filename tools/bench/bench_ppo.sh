#!/bin/bash
# bench_ppo.sh — issue 9's benchmark: PPO solving CartPole-v1, tutord's C trainer (one thread)
# against the same PPO written with PyTorch (tools/bench/baseline/ppo_torch.py, Debian's
# python3-torch), same hyperparameters, same "solved" rule (every 10 updates, 100 greedy
# episodes, solved at a mean of 475; evaluation time excluded on both sides), seeds interleaved
# in the same run. PyTorch runs twice per seed: on one thread (as tutord) and on one thread per
# core, unless BENCH_PPO_TORCH_THREADS says otherwise ("default" is PyTorch's own choice, printed
# in the header: on the 2-vCPU VM of these figures it is 1).
#
# usage: tools/bench/bench_ppo.sh [BUILD_DIR (Release)] [SEEDS...]
#   BENCH_PPO_TORCH_THREADS="1 $(nproc)"  the PyTorch variants (PPO_TORCH_THREADS of each)
#   BENCH_PPO_ISA=default|avx2|avx512     force tutord's kernels (default: the best the CPU has)
# Prints every run, a markdown table, and per PyTorch variant the median time to solve, the
# ratio, and the median training steps per second; the load average before and after.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build/release}"
shift || true
seeds=("${@:-1 2 3}")
read -r -a seeds <<< "${seeds[*]}"
read -r -a variants <<< "${BENCH_PPO_TORCH_THREADS:-1 $(nproc)}"
[ -x "$build/bench_ppo" ] || { echo "bench_ppo: build it first: cmake --build $build --target bench_ppo" >&2; exit 1; }
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || { echo "bench_ppo: needs python3-torch and python3-numpy (apt-get install python3-torch python3-numpy)" >&2; exit 1; }
torch_default="$(/usr/bin/python3 -c 'import torch; print(torch.get_num_threads())')"
echo "# $0 $build ${seeds[*]}   ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); torch threads: ${variants[*]}, its default $torch_default)"
lines=()
for s in "${seeds[@]}"; do
    lines+=("$("$build/bench_ppo" "$s")")
    echo "${lines[-1]}"
    for v in "${variants[@]}"; do
        lines+=("$(PPO_TORCH_THREADS="$v" /usr/bin/python3 "$here/baseline/ppo_torch.py" "$s")")
        echo "${lines[-1]}"
    done
done
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
# the table, then medians over the seeds that solved, and each PyTorch variant's ratio
printf '%s\n' "${lines[@]}" | awk '
    { who = $1; delete v; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      rows[NR] = sprintf("| %s | %s | %s | %s | %s | %s |", v["seed"], who, v["solved"], v["steps"], v["train_s"], v["steps_per_s"])
      if (!(who in seen)) { seen[who] = 1; order[++nw] = who }
      if (v["solved"] == "True") { n[who]++; t[who, n[who]] = v["train_s"]; sps[who, n[who]] = v["steps_per_s"] } }
    function median(who, arr,   k, j, tmp, a) { for (k = 1; k <= n[who]; k++) a[k] = arr[who, k];
      for (k = 1; k <= n[who]; k++) for (j = k + 1; j <= n[who]; j++) if (a[j] + 0 < a[k] + 0) { tmp = a[k]; a[k] = a[j]; a[j] = tmp }
      return a[int((n[who] + 1) / 2)] }
    END { print ""; print "| seed | who | solved | steps | train s | steps/s |"; print "|---|---|---|---|---|---|"
      for (r = 1; r <= NR; r++) print rows[r]
      print ""
      if (!n["tutord"]) { print "# tutord never solved"; exit }
      ct = median("tutord", t)
      for (w = 1; w <= nw; w++) { who = order[w]; if (who == "tutord") continue
        if (!n[who]) { printf "# %s never solved\n", who; continue }
        tt = median(who, t)
        printf "# median time to solve: tutord %.3f s, %s %.2f s: %.1fx faster\n", ct, who, tt, tt / ct
        printf "# median training steps/s: tutord %d, %s %d (%.1fx)\n", median("tutord", sps), who, median(who, sps), median("tutord", sps) / median(who, sps) } }'
