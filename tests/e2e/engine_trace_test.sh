#!/usr/bin/env bash
# moe-engine on NP ranks under `moeprof run`: the trace holds exactly what the engine says it
# did. Expert load equals its ground truth byte for byte, all-to-all bytes equal it per call
# and peer, every all-to-all and compute span lies inside its step, nothing is dropped.
# usage: engine_trace_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR PRESET NP
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 dbtool=$3 work=$4 preset=$5 np=$6
rm -rf "$work" && mkdir -p "$work" && cd "$work"
layers=4 steps=5

expect_exit 0 record "$moeprof" t.db "$np" "$engine" --preset "$preset" --layers $layers --steps $steps \
  --ground-truth-dir gt
grep -q "^moe-engine: $preset on $np ranks, $layers layers, $steps steps x .* (agent recording)" out.txt ||
  fail "engine summary: $(cat out.txt)"
grep -q "^moeprof: trace written to t.db: .* 0 dropped" err.txt || fail "moeprof summary: $(cat err.txt)"
expect_exit 0 "$moeprof" check t.db

# Expert load: the concatenated ground truth, byte for byte.
expect_exit 0 "$moeprof" export t.db --what expert-load --format csv -o expert-load.csv
concat_truth gt expert-load >truth-expert-load.csv
[ "$(wc -l <truth-expert-load.csv)" -gt $((np * layers * steps)) ] || fail "too little ground truth"
cmp expert-load.csv truth-expert-load.csv ||
  { diff expert-load.csv truth-expert-load.csv | head >&2; fail "expert load differs from the ground truth"; }

# All-to-all: one row per call and peer; the ground truth leaves out peers with no bytes.
expect_exit 0 "$moeprof" export t.db --what a2a --format csv -o a2a.csv
tail -n +2 a2a.csv | awk -F, '$6 != 0 || $7 != 0' | cut -d, -f1-7 | LC_ALL=C sort >a2a.sorted
concat_truth gt a2a | tail -n +2 | LC_ALL=C sort >truth-a2a.sorted
# Every layer of every step has a dispatch and a combine on every rank.
[ "$(cut -d, -f1-4 truth-a2a.sorted | sort -u | wc -l)" = $((np * steps * layers * 2)) ] || fail "missing all-to-alls"
cmp a2a.sorted truth-a2a.sorted ||
  { diff a2a.sorted truth-a2a.sorted | head >&2; fail "all-to-all bytes differ from the ground truth"; }

expect_exit 0 "$dbtool" spans-in-steps t.db
cat out.txt

expect_exit 0 "$moeprof" info --json t.db
python3 - out.txt "$preset" "$np" $layers $steps <<'PY' || fail "info --json: $(cat out.txt)"
import json, sys
info = json.load(open(sys.argv[1]))
preset, np, layers, steps = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
problems = []
def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: {got} != {want}")
model = info["model"]
expect("model", (model["name"], model["num_layers"]), (preset, layers))
ranks = sorted(p["rank"] for p in info["processes"] if p["rank"] >= 0)
expect("ranks", ranks, list(range(np)))
engine = [p for p in info["processes"] if p["rank"] >= 0]
expect("world and EP sizes", {(p["world_size"], p["ep_size"]) for p in engine}, {(np, np)})
expect("clean exits", all(p["clean_exit"] for p in engine), True)
expect("steps", info["steps"], {"first": 0, "last": steps - 1})
expect("step rows", info["rows"]["steps"], np * steps)
expect("placements", info["rows"]["placements"] > 0, True)
expect("dropped", info["dropped"], 0)
expect("exit code", info["run"]["exit_code"], 0)
if problems:
    sys.exit("\n".join(problems))
PY
echo "PASS"
