#!/usr/bin/env bash
# The Python adapter's cost on a tiny transformers Mixtral (4 layers, 8 experts, top-2, 256
# tokens per forward, hidden size 32, then 256; issue 8): forward time of a hooked model over
# an identical unhooked one in the same process (tests/bench/python_adapter_bench.py), for
#   counts            expert counts only (--routing off, no compute spans)
#   counts+spans      counts and gate/expert compute spans (the default hooks)
#   routing full      counts, spans and every router decision (--routing full)
#
#   tests/bench/python_adapter_overhead.sh [BUILD_DIR]
# Exits 0 whatever the ratios (a benchmark reports), non-zero when a run fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
python=$build/pyenv/bin/python
moeprof=$build/bin/moeprof
[ -x "$python" ] || { echo "python_adapter_overhead: no $python (scripts/python-env)" >&2; exit 1; }
work=$(mktemp -d /tmp/moeprof-pybench.XXXXXX)
trap 'rm -rf "$work"' EXIT

for hidden in 32 256; do
  echo "hidden size $hidden"
  printf '%-14s %10s %10s %8s\n' config plain_ms hooked_ms ratio
  for config in counts counts+spans "routing full"; do
    case $config in
      counts) hooks=none routing=off ;;
      counts+spans) hooks=compute routing=off ;;
      "routing full") hooks=compute routing=full ;;
    esac
    MOEPROF_PYTHON_HOOKS=$hooks "$moeprof" run -f -o "$work/t.db" --routing "$routing" -- \
      "$python" "$here/python_adapter_bench.py" --hidden "$hidden" --label "$config" 2>"$work/err" ||
      { echo "python_adapter_overhead: the $config run failed:" >&2; cat "$work/err" >&2; exit 1; }
  done
done
