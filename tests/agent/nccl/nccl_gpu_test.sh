#!/usr/bin/env bash
# NCCL capture on GPUs: a real NCCL program (nccl_gpu_workload.c, every visible GPU a rank of
# one communicator) under `moeprof run --capture nccl`. NCCL loads the plugin's v5 table; the
# trace's all-to-alls have exactly the bytes per peer the program's counts give, and its
# AllReduce (or, on one GPU, its send/receive to itself) is a range with its bytes; nothing is
# dropped. Skipped (77) without a GPU.
# usage: nccl_gpu_test.sh MOEPROF WORKLOAD WORKDIR
source "$(dirname "$0")/../../e2e/lib.sh"
moeprof=$1 workload=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"

code=0
NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT timeout 300 "$moeprof" run --capture nccl -o gpu.db -- "$workload" "$work" \
  >out.txt 2>err.txt || code=$?
if grep -q "^no GPU" out.txt; then
  echo "SKIP: no GPU"
  exit 77
fi
[ "$code" = 0 ] || { cat out.txt err.txt >&2; fail "moeprof run exited $code"; }
grep -q "PROFILER/Plugin: Loaded moeprof (v5)" out.txt err.txt || { cat out.txt >&2; fail "NCCL did not load the plugin's v5 table"; }
expect_exit 0 "$moeprof" export gpu.db --what a2a --format csv -o a2a.csv
expect_exit 0 "$moeprof" export gpu.db --what ranges --format csv -o ranges.csv
expect_exit 0 "$moeprof" info --json gpu.db
mv out.txt info.json
python3 - <<'PY' || fail "the trace differs from the program's truth"
import collections, csv, json
rows = lambda f: list(csv.DictReader(open(f)))
truth = rows("nccl_gpu_a2a.csv")
want = collections.Counter((int(t["peer"]), int(t["send_bytes"]), int(t["recv_bytes"])) for t in truth)
trace = rows("a2a.csv")
got = collections.Counter((int(r["peer"]), int(r["send_bytes"]), int(r["recv_bytes"])) for r in trace)
assert got == want, ("a2a", got, want)
calls = len({(t["call"], t["comm_rank"]) for t in truth})
assert len({r["start_ns"] for r in trace}) == calls or not truth, ("all-to-alls", trace)
assert all(r["layer"] == "-1" and r["phase"] == "other" for r in trace)
want_ranges = collections.Counter((t["name"], int(t["comm_rank"]), int(t["peer"]), int(t["bytes"]))
                                  for t in rows("nccl_gpu_ranges.csv"))
got_ranges = collections.Counter()
for r in rows("ranges.csv"):
    if r["source"] != "nccl":
        continue
    p = json.loads(r["payload"])
    got_ranges[(r["name"], p["rank"], p.get("peer", -1), p["bytes"])] += 1
assert got_ranges == want_ranges, ("ranges", got_ranges, want_ranges)
tally = {s["source"]: s for s in json.load(open("info.json"))["sources"]}
assert tally["nccl"]["dropped"] == 0, tally
print(f"{sum(got.values())} peer rows of {calls} all-to-alls, {sum(got_ranges.values())} ranges match")
PY
echo "PASS"
