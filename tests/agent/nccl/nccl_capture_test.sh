#!/usr/bin/env bash
# NCCL capture end to end: a job of four processes, each the rank of one communicator that
# loads libmoeprof_nccl.so like NCCL 2.28 (nccl_plugin_workload.c), runs under `moeprof run
# --capture nccl`. Its all-to-alls are in the trace with exactly the bytes per peer its own
# counts give (peers as world ranks, layer -1, phase other, the step they started in); the one
# the engine reported itself is there once, as the engine's; collectives and the pipeline's
# send/receive are ranges whose payload carries their bytes; with the v4 table the same;
# with a pool too small for the all-to-alls each of their events is counted as dropped; with
# MOEPROF_NCCL_EVENTS=none or --capture api nothing of NCCL is recorded.
# usage: nccl_capture_test.sh MOEPROF WORKLOAD WORKDIR
source "$(dirname "$0")/../../e2e/lib.sh"
moeprof=$1 workload=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"

# job NAME CAPTURE VERSION [VAR=VALUE...]: four ranks under moeprof run, truth in NAME/.
job() {
  local name=$1 capture=$2 version=$3
  shift 3
  mkdir -p "$name"
  expect_exit 0 env "$@" timeout 120 "$moeprof" run --capture "$capture" -o "$name.db" -- bash -c '
    pids=()
    for r in 0 1 2 3; do RANK=$r WORLD_SIZE=4 "$0" "$1" $r 4 "$2" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || exit 1; done' "$workload" "$name" "$version"
  for what in a2a ranges; do
    expect_exit 0 "$moeprof" export "$name.db" --what "$what" --format csv -o "$name/$what.csv"
  done
  expect_exit 0 "$moeprof" info --json "$name.db"
  mv out.txt "$name/info.json"
  for kind in nccl_a2a nccl_ranges; do
    head -1 "$name/$kind.rank0.csv" > "$name/$kind.csv"
    for r in 0 1 2 3; do tail -n +2 "$name/$kind.rank$r.csv" >> "$name/$kind.csv"; done
  done
}

# check NAME MODE: the trace of job NAME against its truth. MODE: all (everything recorded),
# dropped (all-to-alls dropped for lack of room), none (nothing of NCCL).
check() {
  python3 - "$1" "$2" <<'PY' || fail "job $1 ($2): the trace differs from the workload's truth"
import csv, json, sys
name, mode = sys.argv[1], sys.argv[2]
rows = lambda f: list(csv.DictReader(open(f"{name}/{f}")))
truth = rows("nccl_a2a.csv")
engine = [t for t in truth if t["layer"] != "-1"]
nccl = [t for t in truth if t["layer"] == "-1"]
key = lambda r: (int(r["rank"]), int(r["step"]), int(r["layer"]), r["phase"], int(r["peer"]),
                 int(r["send_bytes"]), int(r["recv_bytes"]))
want = sorted(map(key, engine + (nccl if mode == "all" else [])))
got = sorted(map(key, rows("a2a.csv")))
assert got == want, ("a2a", len(got), len(want), [g for g in got if g not in want][:4], [w for w in want if w not in got][:4])

ranges = [r for r in rows("ranges.csv") if r["source"] == "nccl"]
want_ranges = [] if mode == "none" else sorted(
    (int(t["rank"]), int(t["step"]), t["name"], int(t["peer"]), int(t["bytes"])) for t in rows("nccl_ranges.csv"))
got_ranges = []
for r in ranges:
    payload = json.loads(r["payload"])
    assert r["domain"] == "NCCL" and payload["nranks"] == 4 and payload["world_ranks"] is True, r
    assert payload["comm"] == "0x000000005eed5eed" and payload["comm_name"] == "moe-ep", r
    assert payload["rank"] == int(r["rank"]), r
    got_ranges.append((int(r["rank"]), int(r["step"]), r["name"], payload.get("peer", -1), payload["bytes"]))
assert sorted(got_ranges) == want_ranges, ("ranges", sorted(got_ranges), want_ranges)

info = json.load(open(f"{name}/info.json"))
tally = {s["source"]: s for s in info["sources"]}
nccl_tally = tally.get("nccl", {"recorded": 0, "dropped": 0})
calls = len({(t["rank"], t["step"]) for t in nccl})
recorded = (calls if mode == "all" else 0) + len(want_ranges)
assert nccl_tally["recorded"] == recorded, (nccl_tally, recorded)
# Dropped: every P2P event of every all-to-all NCCL issued (the engine's too: 2 per peer).
dropped = 0 if mode != "dropped" else 2 * 4 * (calls + len({(t["rank"], t["step"]) for t in engine}))
assert nccl_tally["dropped"] == dropped, (nccl_tally, dropped)
print(f"{name}: {len(got)} all-to-all peer rows, {len(got_ranges)} ranges, {nccl_tally} as expected")
PY
}

job v5 nccl v5
check v5 all
job v4 nccl v4
check v4 all
job small nccl v5 MOEPROF_NCCL_POOL=5
check small dropped
job off nccl v5 MOEPROF_NCCL_EVENTS=none
check off none
job api api v5
check api none
echo "PASS"
