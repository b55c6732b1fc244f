#!/usr/bin/env bash
# A placement that moves the hottest experts apart lowers the busiest rank's token count
# exactly as predicted. Routing does not depend on placement, so the expert load of a skewed
# run with the default placement predicts, for any placement, how many rows each rank
# receives in each (step, layer); the trace's dispatch bytes must show exactly that.
# usage: engine_placement_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
args=(--preset deepseek-v3 --layers 4 --steps 5 --skew zipf:1.2)

run() {
  local name=$1
  shift
  expect_exit 0 record "$moeprof" "$name.db" 4 "$engine" "${args[@]}" "$@"
  expect_exit 0 "$moeprof" export "$name.db" --what expert-load --format csv -o "$name-load.csv"
  expect_exit 0 "$moeprof" export "$name.db" --what a2a --format csv -o "$name-a2a.csv"
  expect_exit 0 "$moeprof" info --json "$name.db"
  mv out.txt "$name-info.json"
}

run blocks
# Spread the experts: per layer, hottest first, each to the least loaded rank that still has
# room (64 experts per rank, as the default blocks).
python3 - blocks-load.csv <<'PY'
import csv, json, sys
from collections import defaultdict
experts, ranks, layers = 256, 4, 4
total = defaultdict(lambda: [0] * experts)
for r in csv.DictReader(open(sys.argv[1])):
    total[int(r["layer"])][int(r["expert"])] += int(r["tokens"])
entries = []
for layer in range(layers):
    load, held, where = [0] * ranks, [0] * ranks, [None] * experts
    for e in sorted(range(experts), key=lambda e: -total[layer][e]):
        rank = min((r for r in range(ranks) if held[r] < experts // ranks), key=lambda r: load[r])
        where[e] = [rank]
        load[rank] += total[layer][e]
        held[rank] += 1
    entries.append({"layer": layer, "experts": where})
json.dump({"format": "moeprof-placement", "version": 1, "num_experts": experts, "num_ranks": ranks,
           "layers": entries}, open("spread.json", "w"))
PY
run spread --placement spread.json
cmp blocks-load.csv spread-load.csv || fail "the placement changed the routing"

python3 - <<'PY' || fail "the busiest rank's token count is not as predicted"
import csv, json
from collections import defaultdict
experts, ranks = 256, 4
def counts(path):  # global tokens per (step, layer, expert)
    out = defaultdict(lambda: [0] * experts)
    for r in csv.DictReader(open(path)):
        out[(int(r["step"]), int(r["layer"]))][int(r["expert"])] += int(r["tokens"])
    return out
def busiest_predicted(load, rank_of):  # sum over (step, layer) of the most rows one rank receives
    total = 0
    for (step, layer), c in load.items():
        per_rank = [0] * ranks
        for e in range(experts):
            per_rank[rank_of(layer, e)] += c[e]
        total += max(per_rank)
    return total
def busiest_measured(name):
    hidden = json.load(open(f"{name}-info.json"))["model"]["hidden_size"]
    rows = defaultdict(int)
    for r in csv.DictReader(open(f"{name}-a2a.csv")):
        if r["phase"] == "dispatch":
            rows[(int(r["step"]), int(r["layer"]), int(r["rank"]))] += int(r["recv_bytes"])
    per = defaultdict(int)
    for (step, layer, rank), b in rows.items():
        assert b % (hidden * 4) == 0
        per[(step, layer)] = max(per[(step, layer)], b // (hidden * 4))
    return sum(per.values())
load = counts("blocks-load.csv")
spread = {e["layer"]: [r[0] for r in e["experts"]] for e in json.load(open("spread.json"))["layers"]}
predicted_blocks = busiest_predicted(load, lambda layer, e: e * ranks // experts)
predicted_spread = busiest_predicted(load, lambda layer, e: spread[layer][e])
measured_blocks, measured_spread = busiest_measured("blocks"), busiest_measured("spread")
print(f"busiest rank's tokens: blocks {measured_blocks} (predicted {predicted_blocks}), "
      f"spread {measured_spread} (predicted {predicted_spread})")
assert measured_blocks == predicted_blocks
assert measured_spread == predicted_spread
assert predicted_spread < predicted_blocks
PY
echo "PASS"
