#!/usr/bin/env bash
# The C API workload (4 processes x 4 threads) under `moeprof run`: the trace holds exactly
# what the workload says it recorded: expert load and all-to-all CSVs equal its ground truth,
# row counts of every table match, routing adds up to expert load, nothing dropped.
# usage: workload_test.sh MOEPROF WORKLOAD DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
moeprof=$1 workload=$2 dbtool=$3 work=$4
rm -rf "$work" && mkdir -p "$work/truth" && cd "$work"

expect_exit 0 "$moeprof" run -o run.db --routing sample:2 -- "$workload" --truth truth
grep -q "^moeprof_api_workload: 4 processes x 4 threads.*agent recording" out.txt || fail "workload output: $(cat out.txt)"
grep -q "^moeprof: trace written to run.db: 5 processes" err.txt || fail "summary: $(cat err.txt)"
grep -q " 0 dropped" err.txt || fail "something was dropped: $(cat err.txt)"

expect_exit 0 "$moeprof" check run.db
grep -q "^OK: run.db (schema v[0-9]*, " out.txt || fail "check: $(cat out.txt)"

# Expert load: byte for byte.
expect_exit 0 "$moeprof" export run.db --what expert-load --format csv -o expert-load.csv
[ -s truth/expert-load.csv ] || fail "the workload wrote no ground truth"
cmp expert-load.csv truth/expert-load.csv || { diff expert-load.csv truth/expert-load.csv | head -20 >&2; fail "expert load differs from the ground truth"; }

# All-to-all: the header exactly, start <= end, sorted by rank,start_ns,peer; every other
# column equal to the ground truth (the workload cannot know the times).
expect_exit 0 "$moeprof" export run.db --what a2a --format csv -o a2a.csv
[ "$(head -1 a2a.csv)" = "rank,step,layer,phase,peer,send_bytes,recv_bytes,start_ns,end_ns" ] || fail "a2a header: $(head -1 a2a.csv)"
tail -n +2 a2a.csv | awk -F, '$8 > $9 { print "start after end: " $0; bad = 1 } END { exit bad }' || fail "a2a times"
tail -n +2 a2a.csv | sort -c -t, -k1,1n -k8,8n -k5,5n || fail "a2a rows are not sorted by rank,start_ns,peer"
tail -n +2 a2a.csv | cut -d, -f1-7 | LC_ALL=C sort >a2a.sorted
tail -n +2 truth/a2a.csv | LC_ALL=C sort >truth.sorted
[ -s truth.sorted ] || fail "no all-to-all ground truth"
cmp a2a.sorted truth.sorted || { diff a2a.sorted truth.sorted | head -20 >&2; fail "all-to-all differs from the ground truth"; }

# Every table's row count, processes, drops, the run row.
expect_exit 0 "$moeprof" info --json run.db
mv out.txt info.json
python3 - info.json truth/counts.json <<'PY' || fail "info --json disagrees with the ground truth"
import json, sys
info = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))
problems = []
def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: {got} != {want}")
expect("processes", len(info["processes"]), truth["processes"])
expect("processes row count", info["rows"]["processes"], truth["processes"])
for key in ["steps", "router_decisions", "all_to_all", "compute_spans", "markers", "placements"]:
    expect(key, info["rows"][key], truth[key])
# sample:2 records routing on even steps: 4 ranks x 4 threads x 6 layers x 10 steps
expect("router batches the workload made", truth["router_decisions"], 4 * 4 * 6 * 10)
expect("dropped", info["dropped"], 0)
expect("per source: all recorded through the C API, nothing dropped", info["sources"],
       [{"source": "api", "recorded": truth["api_records"], "dropped": 0}])
expect("drops", [d for d in info["drops"] if d["count"]], [])
expect("clean exits", [p["pid"] for p in info["processes"] if not p["clean_exit"]], [])
expect("ranks of the children", sorted(p["rank"] for p in info["processes"])[1:], [0, 1, 2, 3])
expect("world sizes", sorted(p["world_size"] for p in info["processes"])[1:], [4, 4, 4, 4])
expect("pids unique", len({p["pid"] for p in info["processes"]}), 5)
expect("exit code", info["run"]["exit_code"], 0)
expect("finalized", info["run"]["finalized"], True)
expect("routing mode", info["run"]["routing_mode"], "sample:2")
expect("model", (info["model"]["name"], info["model"]["num_layers"], info["model"]["num_experts"], info["model"]["top_k"]),
       ("api-workload", 6, 16, 2))
expect("steps", info["steps"], {"first": 0, "last": 19})
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY

# Router decisions add up to the expert load of the same (rank, step, layer).
expect_exit 0 "$dbtool" verify-routing run.db

# The human-readable info names the essentials.
expect_exit 0 "$moeprof" info run.db
grep -q "^processes  5" out.txt || fail "info: $(cat out.txt)"
grep -q "^dropped    0" out.txt || fail "info: $(cat out.txt)"

# Outside moeprof run the workload still runs, with the agent inactive.
expect_exit 0 env -u MOEPROF_SOCKET "$workload" --steps 2
grep -q "agent not active" out.txt || fail "standalone workload: $(cat out.txt)"
echo "PASS"
