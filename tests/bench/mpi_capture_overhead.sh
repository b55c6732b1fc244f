#!/usr/bin/env bash
# MPI capture overhead (issue 7): the same all-to-all loop under `moeprof run --capture api`
# (agent loaded, MPI not interposed) and `--capture all` (libmoeprof_mpi.so interposing and
# recording every call), alternated 3 times; prints the cost per intercepted call and the
# slowdown of the loop. One rank measures the cost of a call itself; more ranks on a small
# machine add what the flusher and the collector take from the ranks' cores.
# usage: tests/bench/mpi_capture_overhead.sh BUILD_DIR [RANKS] [CALLS]
set -euo pipefail
build=$(cd "$1" && pwd)
ranks=${2:-4} calls=${3:-20000}
cd "$(dirname "$0")/../.."
. scripts/mpirun-env
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
per_call() {  # per_call CAPTURE: seconds per call of one run
  "$build/bin/moeprof" run --capture "$1" -f -o "$work/t.db" -- mpirun -np "$ranks" "$build/bin/moeprof_mpi_capture_loop" "$calls" \
    2>/dev/null | sed -n 's/.*seconds_per_call=//p'
}
api=() all=()
for _ in 1 2 3; do
  api+=("$(per_call api)")
  all+=("$(per_call all)")
done
python3 - "${api[*]}" "${all[*]}" <<'PY'
import statistics, sys
api, full = ([float(x) for x in a.split()] for a in sys.argv[1:3])
a, f = statistics.median(api), statistics.median(full)
print(f"mpi capture: {a * 1e9:.0f} ns per all-to-all without, {f * 1e9:.0f} ns with: "
      f"{(f - a) * 1e9:.0f} ns per intercepted call, slowdown x{f / a:.3f} (medians of 3)")
PY
