#!/bin/bash
# bench_ppo.sh — issue 9's benchmark: PPO solving CartPole-v1, tutord's C trainer against the same
# PPO written with PyTorch (tools/bench/baseline/ppo_torch.py, Debian's python3-torch), same
# hyperparameters, same "solved" rule, seeds interleaved in the same run.
#
# usage: tools/bench/bench_ppo.sh [BUILD_DIR (Release)] [SEEDS...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build/release}"
shift || true
seeds=("${@:-1 2 3}")
read -r -a seeds <<< "${seeds[*]}"
[ -x "$build/bench_ppo" ] || { echo "bench_ppo: build it first: cmake --build $build --target bench_ppo" >&2; exit 1; }
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || { echo "bench_ppo: needs python3-torch and python3-numpy (apt-get install python3-torch python3-numpy)" >&2; exit 1; }
echo "# $0 $build ${seeds[*]}   ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
c_lines=() t_lines=()
for s in "${seeds[@]}"; do
    c_lines+=("$("$build/bench_ppo" "$s")")
    t_lines+=("$(/usr/bin/python3 "$here/baseline/ppo_torch.py" "$s")")
    echo "${c_lines[-1]}"
    echo "${t_lines[-1]}"
done
# medians of training wall time over the seeds that solved, and the ratio
printf '%s\n' "${c_lines[@]}" "${t_lines[@]}" | awk '
    { split($0, f, " "); who = f[1]; for (i = 2; i <= NF; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
      if (v["solved"] == "True") { n[who]++; t[who, n[who]] = v["train_s"]; sps[who, n[who]] = v["steps_per_s"] } }
    function median(who, arr,   k, j, tmp, a) { for (k = 1; k <= n[who]; k++) a[k] = arr[who, k];
      for (k = 1; k <= n[who]; k++) for (j = k + 1; j <= n[who]; j++) if (a[j] + 0 < a[k] + 0) { tmp = a[k]; a[k] = a[j]; a[j] = tmp }
      return a[int((n[who] + 1) / 2)] }
    END { if (!n["tutord"] || !n["torch"]) { print "# not every side solved"; exit }
      ct = median("tutord", t); tt = median("torch", t)
      printf "# median time to solve: tutord %.2f s, torch %.2f s: %.1fx faster\n", ct, tt, tt / ct
      printf "# median training steps/s: tutord %d, torch %d\n", median("tutord", sps), median("torch", sps) }'
