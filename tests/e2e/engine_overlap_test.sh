#!/usr/bin/env bash
# --overlap chunks:4 hides communication behind compute: per rank, the share of all-to-all
# time that is also inside compute spans is larger than with --overlap none.
# usage: engine_overlap_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 dbtool=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

for mode in none chunks:4; do
  expect_exit 0 record "$moeprof" "$mode.db" 4 "$engine" --preset deepseek-v3 --layers 4 --steps 5 \
    --overlap "$mode"
  grep -q "overlap $mode: .*(agent recording)" out.txt || fail "engine summary: $(cat out.txt)"
  expect_exit 0 "$dbtool" overlap "$mode.db"
  mv out.txt "$mode.csv"
  cat "$mode.csv"
done
python3 - none.csv chunks:4.csv <<'PY' || fail "overlap is not larger with chunks:4"
import csv, sys
def fractions(path):
    return {int(r["rank"]): float(r["fraction"]) for r in csv.DictReader(open(path))}
none, chunks = fractions(sys.argv[1]), fractions(sys.argv[2])
assert sorted(none) == sorted(chunks) == [0, 1, 2, 3], (none, chunks)
mean = lambda f: sum(f.values()) / len(f)
print(f"overlap fraction: none {mean(none):.3f}, chunks:4 {mean(chunks):.3f}")
assert all(chunks[r] > none[r] for r in none), (none, chunks)
assert mean(chunks) > mean(none)
PY
echo "PASS"
