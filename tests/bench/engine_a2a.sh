#!/usr/bin/env bash
# Dispatch/combine bandwidth of moe-engine (issue 4): the engine's achieved all-to-all
# bandwidth divided by an MPI_Alltoallv microbenchmark replaying the same byte matrix,
# target >= 0.9, both measured in this run.
#
# 1. `mpirun -np NP moe-engine --preset deepseek-v3 --timing --ground-truth-dir D`: the
#    engine times its blocking dispatch (expert ids + rows) and combine exchanges and prints
#    a2a_GBps = row bytes sent by all ranks / the longest time a rank spent in them; D gets
#    the byte matrix of every exchange (a2a.rank<R>.csv).
# 2. `mpirun -np NP moeprof_alltoallv_bench D/a2a.csv`: replays exactly those exchanges with
#    MPI_Alltoallv (a barrier before each), same bytes / longest-rank-time definition.
# The engine's figure includes the time ranks wait for late peers (no barrier before its
# exchanges: that wait is part of what dispatch/combine costs the engine); the
# microbenchmark's does not. The engine and the microbenchmark alternate REPS times; the
# ratio is of the medians.
#
#   tests/bench/engine_a2a.sh [BUILD_DIR]
# Environment: REPS (default 3), STEPS (default 4), LAYERS (default 16), NP (default 4),
# TOKENS (default 128).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
engine=$build/bin/moe-engine
bench=$build/bin/moeprof_alltoallv_bench
reps=${REPS:-3} steps=${STEPS:-4} layers=${LAYERS:-16} np=${NP:-4} tokens=${TOKENS:-128}
for b in "$engine" "$bench"; do
  [ -x "$b" ] || { echo "engine_a2a: $b not built (needs MPI and OpenBLAS)" >&2; exit 1; }
done
. "$root/scripts/mpirun-env"
work=$(mktemp -d /tmp/moeprof-a2a.XXXXXX)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

echo "engine_a2a: $np ranks, deepseek-v3, $layers layers, $steps steps x $tokens tokens/rank, $reps repetitions"
: >"$work/engine" && : >"$work/micro"
for ((i = 1; i <= reps; i++)); do
  rm -rf "$work/gt"
  timeout 240 mpirun -np "$np" "$engine" --preset deepseek-v3 --steps "$steps" --layers "$layers" --tokens "$tokens" \
    --timing --ground-truth-dir "$work/gt" >"$work/out" 2>&1 ||
    { echo "engine_a2a: moe-engine failed:" >&2; cat "$work/out" >&2; exit 1; }
  e=$(sed -n 's/.*a2a_GBps=\([0-9.]*\).*/\1/p' "$work/out")
  # The ranks' byte matrices under one header (the format of `moeprof export --what a2a`).
  head -1 "$work/gt/a2a.rank0.csv" >"$work/a2a.csv"
  for ((r = 0; r < np; r++)); do tail -n +2 "$work/gt/a2a.rank$r.csv" >>"$work/a2a.csv"; done
  timeout 240 mpirun -np "$np" "$bench" "$work/a2a.csv" --reps 1 >"$work/mout" 2>&1 ||
    { echo "engine_a2a: the microbenchmark failed:" >&2; cat "$work/mout" >&2; exit 1; }
  m=$(sed -n 's/.*GBps=\([0-9.]*\).*/\1/p' "$work/mout")
  [ -n "$e" ] && [ -n "$m" ] || { echo "engine_a2a: no figure" >&2; cat "$work/out" "$work/mout" >&2; exit 1; }
  echo "$e" >>"$work/engine"
  echo "$m" >>"$work/micro"
  echo "  rep $i: engine $e GB/s, MPI_Alltoallv $m GB/s ($(sed -n 's/.*\(exchanges=[0-9]*\).*\(bytes=[0-9]*\).*/\1 \2/p' "$work/mout"))"
done
e=$(median <"$work/engine")
m=$(median <"$work/micro")
awk -v e="$e" -v m="$m" 'BEGIN {
  printf "engine_a2a: median GB/s: engine dispatch+combine %.4f, MPI_Alltoallv replay %.4f\n", e, m
  printf "engine_a2a: engine / microbenchmark = %.4f (target >= 0.9) %s\n", e / m, (e / m >= 0.9 ? "MET" : "NOT MET")
}'
