#!/usr/bin/env bash
# NVTX capture end to end: a program written against the NVTX 3 headers only runs under
# `moeprof run --capture nvtx`. Every range, mark, category name and payload it made is in the
# trace's ranges as the program itself lists them (its truth.json); the moeprof domain's
# expert counts, router decisions and all-to-all, and NCCL's own ncclAlltoAll range, are in
# the trace's MoE tables; `moeprof info` counts each record under source nvtx. Without
# --capture nvtx the same program records nothing.
# usage: nvtx_capture_test.sh MOEPROF NVTX_WORKLOAD WORKDIR
source "$(dirname "$0")/../../e2e/lib.sh"
moeprof=$1 workload=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"

expect_exit 0 timeout 60 "$moeprof" run --capture nvtx --routing full -o nvtx.db -- "$workload" "$work"
expect_exit 0 "$moeprof" export nvtx.db --what ranges -o ranges.csv
expect_exit 0 "$moeprof" export nvtx.db --what a2a -o a2a.csv
expect_exit 0 "$moeprof" export nvtx.db --what expert-load -o load.csv
expect_exit 0 "$moeprof" info --json nvtx.db
mv out.txt info.json
python3 - truth.json ranges.csv a2a.csv load.csv info.json nvtx.db <<'PY' || fail "the trace differs from what the program did"
import collections, csv, json, sqlite3, sys
truth = [json.loads(line) for line in open(sys.argv[1])]
ranges = list(csv.DictReader(open(sys.argv[2])))
a2a = list(csv.DictReader(open(sys.argv[3])))
load = list(csv.DictReader(open(sys.argv[4])))
info = json.load(open(sys.argv[5]))

def payload(text):
    return json.loads(text) if text else None

want = collections.Counter(
    (t["kind"], t["domain"], t["name"], t["category"], t["category_name"], json.dumps(payload(t["payload"])))
    for t in truth if t["what"] == "range")
got = collections.Counter(
    (r["kind"], r["domain"], r["name"], int(r["category"]), r["category_name"], json.dumps(payload(r["payload"])))
    for r in ranges)
assert got == want, ("missing", want - got, "unexpected", got - want)
assert all(r["source"] == "nvtx" for r in ranges)
# One thread opened everything (the start/end range was ended on another): one tid.
assert len({r["tid"] for r in ranges}) == 1, {r["tid"] for r in ranges}
for r in ranges:
    assert int(r["end_ns"]) >= int(r["start_ns"]), r
    assert (r["kind"] == "mark") == (r["end_ns"] == r["start_ns"]), r
inner = next(r for r in ranges if r["name"] == "inner")
outer = next(r for r in ranges if r["name"] == "outer")
assert inner["color"] == "0xff00aa33" and int(outer["start_ns"]) <= int(inner["start_ns"]) <= int(inner["end_ns"]) <= int(outer["end_ns"])

want_a2a = collections.Counter((t["layer"], t["phase"], t["peer"], t["send"], t["recv"]) for t in truth if t["what"] == "a2a")
got_a2a = collections.Counter((int(r["layer"]), r["phase"], int(r["peer"]), int(r["send_bytes"]), int(r["recv_bytes"])) for r in a2a)
assert got_a2a == want_a2a, ("missing", want_a2a - got_a2a, "unexpected", got_a2a - want_a2a)

counts = next(t for t in truth if t["what"] == "counts")
assert sorted((int(r["layer"]), int(r["expert"]), int(r["tokens"])) for r in load) == \
    [(counts["layer"], e, n) for e, n in enumerate(counts["counts"]) if n], load
routing = next(t for t in truth if t["what"] == "routing")
db = sqlite3.connect(sys.argv[6])
decisions = db.execute("SELECT layer, token_offset, num_tokens, top_k FROM router_decision").fetchall()
assert decisions == [(routing["layer"], 0, routing["tokens"], routing["top_k"])], (decisions, routing)

# Every record the source made: ranges + category namings, expert counts, routing, all-to-alls.
namings = sum(1 for t in truth if t["what"] == "category")
calls = len({(r["start_ns"], r["layer"]) for r in a2a})
recorded = len(ranges) + namings + 1 + 1 + calls
assert info["sources"] == [{"source": "nvtx", "recorded": recorded, "dropped": 0}], (info["sources"], recorded)
print(f"{len(ranges)} ranges, {sum(got_a2a.values())} all-to-all peer rows, {len(load)} expert counts match the program")
PY

mkdir api
expect_exit 0 timeout 60 "$moeprof" run --capture api -o api.db -- "$workload" "$work/api"
expect_exit 0 "$moeprof" export api.db --what ranges -o api.csv
[ "$(wc -l < api.csv)" = 1 ] || fail "--capture api recorded NVTX ranges: $(head -3 api.csv)"
echo "PASS"
