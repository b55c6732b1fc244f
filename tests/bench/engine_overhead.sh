#!/usr/bin/env bash
# Agent overhead on moe-engine (issue 4): median step time of `mpirun -np 4 moe-engine
# --preset deepseek-v3` under `moeprof run` (counts only) and under `moeprof run --routing
# full`, each divided by the median step time without the agent, measured in this run.
# Targets: <= 1.01 (counts), <= 1.03 (routing full).
#
# The three configurations run interleaved (none, counts, full, none, ...) REPS times; each
# run prints the median of its steps' wall times (moe-engine --timing: MPI_Wtime between
# barriers, rank 0) and the figure of a configuration is the median over its runs.
#
#   tests/bench/engine_overhead.sh [BUILD_DIR]
# Environment: REPS (default 5), STEPS (default 8), LAYERS (default 16), NP (default 4).
# Exits 0 whatever the ratios (a benchmark reports; it does not judge), non-zero when a run fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
engine=$build/bin/moe-engine
moeprof=$build/bin/moeprof
reps=${REPS:-5} steps=${STEPS:-8} layers=${LAYERS:-16} np=${NP:-4}
for b in "$engine" "$moeprof"; do
  [ -x "$b" ] || { echo "engine_overhead: $b not built (needs MPI and OpenBLAS)" >&2; exit 1; }
done
. "$root/scripts/mpirun-env"
work=$(mktemp -d /tmp/moeprof-overhead.XXXXXX)
trap 'rm -rf "$work"' EXIT

engine_args=(--preset deepseek-v3 --steps "$steps" --layers "$layers" --timing)

# run CONFIG: one run; prints its median step time in ms.
run() {
  local out=$work/out
  case $1 in
    none) timeout 240 mpirun -np "$np" "$engine" "${engine_args[@]}" >"$out" 2>&1 ;;
    counts) timeout 240 "$moeprof" run -f -o "$work/t.db" -- mpirun -np "$np" "$engine" "${engine_args[@]}" >"$out" 2>&1 ;;
    full)
      timeout 240 "$moeprof" run -f -o "$work/t.db" --routing full -- mpirun -np "$np" "$engine" "${engine_args[@]}" \
        >"$out" 2>&1
      ;;
  esac || { echo "engine_overhead: the $1 run failed:" >&2; cat "$out" >&2; exit 1; }
  if [ "$1" != none ] && ! grep -q "agent recording" "$out"; then
    echo "engine_overhead: the $1 run was not recorded by the agent:" >&2
    cat "$out" >&2
    exit 1
  fi
  sed -n 's/.*median_step_ms=\([0-9.]*\).*/\1/p' "$out"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

echo "engine_overhead: $np ranks, deepseek-v3, $layers layers, $steps steps/run, $reps repetitions (interleaved)"
: >"$work/none" && : >"$work/counts" && : >"$work/full"
run none >/dev/null # warm-up (page cache, first MPI start)
for ((i = 1; i <= reps; i++)); do
  for config in none counts full; do
    ms=$(run $config)
    [ -n "$ms" ] || { echo "engine_overhead: no step time from the $config run" >&2; exit 1; }
    echo "$ms" >>"$work/$config"
  done
  echo "  rep $i: none $(tail -1 "$work/none") ms, counts $(tail -1 "$work/counts") ms, full $(tail -1 "$work/full") ms"
done
none=$(median <"$work/none")
counts=$(median <"$work/counts")
full=$(median <"$work/full")
awk -v n="$none" -v c="$counts" -v f="$full" 'BEGIN {
  printf "engine_overhead: median step ms: none %.3f, counts %.3f, routing full %.3f\n", n, c, f
  printf "engine_overhead: counts / none = %.4f (target <= 1.01) %s\n", c / n, (c / n <= 1.01 ? "MET" : "NOT MET")
  printf "engine_overhead: routing full / none = %.4f (target <= 1.03) %s\n", f / n, (f / n <= 1.03 ? "MET" : "NOT MET")
}'
