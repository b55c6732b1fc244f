#!/usr/bin/env bash
# Report time on a big trace (issue 5's target: <= 2 s for 10k steps of a DeepSeek-V3 shape,
# 61 layers x 256 experts, 8 ranks). Writes the trace with `moeprof synth` (counts, all-to-all
# and compute spans; zipf 1.2 skew), then times `moeprof report --format json` on the whole
# trace and on a 100-step window, and prints the trace's size. The baseline is the same
# trace written without window summaries (`--no-summaries`), which the report reads event by
# event: the ratio is the summaries' gain.
#
#   tests/bench/report_time.sh [BUILD_DIR]
# Environment: STEPS (default 10000), RANKS (default 8).
# Exits 0 whatever the times (a benchmark reports; it does not judge).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
moeprof=$build/bin/moeprof
steps=${STEPS:-10000} ranks=${RANKS:-8}
[ -x "$moeprof" ] || { echo "report_time: $moeprof not built" >&2; exit 1; }
work=$(mktemp -d /tmp/moeprof-report.XXXXXX)
trap 'rm -rf "$work"' EXIT

seconds() {  # seconds COMMAND...: wall seconds of one run, to the millisecond
  local t0 t1 ms
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

synth_s=$(seconds "$moeprof" synth --shape deepseek-v3 --ranks "$ranks" --steps "$steps" --skew zipf:1.2 \
  -o "$work/big.db")
echo "report_time: synth of $steps steps x $ranks ranks: ${synth_s} s, $(du -m "$work/big.db" | cut -f1) MiB"
whole_s=$(seconds "$moeprof" report "$work/big.db" --format json -o "$work/whole.json")
echo "report_time: whole trace: ${whole_s} s (target <= 2 s)"
window_s=$(seconds "$moeprof" report "$work/big.db" --format json --steps 0:100 -o "$work/window.json")
echo "report_time: steps 0:100: ${window_s} s"
"$moeprof" synth --shape deepseek-v3 --ranks "$ranks" --steps "$steps" --skew zipf:1.2 --no-summaries \
  -o "$work/rows.db" >/dev/null
echo "report_time: $(du -m "$work/big.db" | cut -f1) MiB with summaries, $(du -m "$work/rows.db" | cut -f1) MiB without"
rows_s=$(seconds "$moeprof" report "$work/rows.db" --format json -o "$work/rows.json")
echo "report_time: whole trace without summaries: ${rows_s} s (ratio with/without: $(awk -v a="$whole_s" -v b="$rows_s" 'BEGIN { printf "%.3f", a / b }'))"
cmp -s "$work/whole.json" "$work/rows.json" && echo "report_time: both reports are identical" ||
  echo "report_time: the reports DIFFER"
