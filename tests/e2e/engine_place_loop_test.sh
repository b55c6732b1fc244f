#!/usr/bin/env bash
# The placement loop: record a skewed run, let `moeprof place` suggest a placement with
# redundant slots for the recorded load, run the same skewed model with it, and measure
# (from the dispatch bytes each rank received) that the overload factor went down.
# usage: engine_place_loop_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
args=(--preset deepseek-v3 --layers 4 --steps 4 --skew zipf:1.2)

run() {
  local name=$1
  shift
  expect_exit 0 record "$moeprof" "$name.db" 4 "$engine" "${args[@]}" "$@"
  expect_exit 0 "$moeprof" export "$name.db" --what a2a --format csv -o "$name-a2a.csv"
}

run before
expect_exit 0 "$moeprof" place before.db --ranks 4 --redundant 4 -o suggested.json
grep -q "busiest rank, summed over layers: .* -> .* tokens" out.txt || fail "place printed no prediction"
run after --placement suggested.json
# Impossible requests fail with one line and write nothing.
expect_exit 1 "$moeprof" place before.db --ranks 3 -o bad.json
grep -q "do not divide evenly over 3 ranks" err.txt || fail "unclear error for 3 ranks: $(cat err.txt)"
[ ! -e bad.json ] || fail "a placement was written for an impossible request"
expect_exit 2 "$moeprof" place before.db -o bad.json

# Overload factor as Megatron logs it, measured: per (step, layer) the rows the busiest rank
# received over the mean per rank, weighted by the layer's rows (sum of maxima / sum of means).
python3 - <<'PY' || fail "the suggested placement did not lower the measured overload factor"
import csv
from collections import defaultdict
def overload(name):
    rows = defaultdict(lambda: defaultdict(int))
    for r in csv.DictReader(open(f"{name}-a2a.csv")):
        if r["phase"] == "dispatch":
            rows[(int(r["step"]), int(r["layer"]))][int(r["rank"])] += int(r["recv_bytes"])
    busiest = sum(max(per_rank.values()) for per_rank in rows.values())
    mean = sum(sum(per_rank.values()) / 4 for per_rank in rows.values())
    return busiest / mean
before, after = overload("before"), overload("after")
print(f"measured overload factor: {before:.3f} -> {after:.3f}")
assert after < before
PY
echo "PASS"
