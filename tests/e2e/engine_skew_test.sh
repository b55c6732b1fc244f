#!/usr/bin/env bash
# --skew zipf:1.2 makes the expert load uneven: the mean over (step, layer) of max/mean
# expert load (summed over ranks) is larger than without skew.
# usage: engine_skew_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

run() {
  local name=$1
  shift
  expect_exit 0 record "$moeprof" "$name.db" 4 "$engine" --preset deepseek-v3 --layers 4 --steps 5 "$@"
  expect_exit 0 "$moeprof" export "$name.db" --what expert-load --format csv -o "$name.csv"
}
run uniform
run skewed --skew zipf:1.2
python3 - uniform.csv skewed.csv <<'PY' || fail "zipf:1.2 is not more imbalanced than no skew"
import csv, sys
from collections import defaultdict
def imbalance(path, experts=256):
    load = defaultdict(lambda: [0] * experts)
    for r in csv.DictReader(open(path)):
        load[(r["step"], r["layer"])][int(r["expert"])] += int(r["tokens"])
    assert len(load) == 5 * 4, len(load)
    ratios = [max(l) * experts / sum(l) for l in load.values()]
    return sum(ratios) / len(ratios)
uniform, skewed = imbalance(sys.argv[1]), imbalance(sys.argv[2])
print(f"max/mean expert load: no skew {uniform:.2f}, zipf:1.2 {skewed:.2f}")
assert skewed > uniform
PY
echo "PASS"
