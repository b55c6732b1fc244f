#!/usr/bin/env bash
# MPI capture: a program written only against MPI runs under `moeprof run` (default --capture
# all); every all-to-all it makes (blocking, non-blocking, w, in place, on a sub-communicator)
# is in the trace with exactly the bytes per peer its own counts and type sizes give, peers as
# world ranks. With --capture api it records none.
# usage: mpi_capture_test.sh MOEPROF MPI_WORKLOAD WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 workload=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"

expect_exit 0 record "$moeprof" mpi.db 4 "$workload" "$work"
concat_truth "$work" mpi > truth.csv
expect_exit 0 "$moeprof" export mpi.db --what a2a --format csv -o a2a.csv
expect_exit 0 "$moeprof" info --json mpi.db
mv out.txt info.json
python3 - truth.csv a2a.csv info.json <<'PY' || fail "the trace's all-to-alls differ from the program's"
import collections, csv, json, sys
truth = sorted((int(r["rank"]), int(r["peer"]), int(r["send_bytes"]), int(r["recv_bytes"]))
               for r in csv.DictReader(open(sys.argv[1])))
rows = list(csv.DictReader(open(sys.argv[2])))
trace = sorted((int(r["rank"]), int(r["peer"]), int(r["send_bytes"]), int(r["recv_bytes"])) for r in rows)
assert trace == truth, (len(trace), len(truth), [t for t in trace if t not in truth][:5], [t for t in truth if t not in trace][:5])
calls = collections.Counter(int(r["rank"]) for r in {(r["rank"], r["start_ns"]): r for r in rows}.values())
assert calls == {0: 7, 1: 7, 2: 7, 3: 7}, calls  # seven all-to-alls per rank
assert all(r["layer"] == "-1" and r["phase"] == "other" for r in rows), rows[0]
info = json.load(open(sys.argv[3]))
assert info["run"]["capture_sources"] == ["mpi"]
# `moeprof info` tells per source what was recorded and dropped: every all-to-all, nothing lost.
assert info["sources"] == [{"source": "mpi", "recorded": sum(calls.values()), "dropped": 0}], info["sources"]
print(f"{len(trace)} peer rows of {sum(calls.values())} all-to-alls match the program's counts")
PY

mkdir api
expect_exit 0 timeout 240 "$moeprof" run --capture api -o api.db -- mpirun -np 4 "$workload" "$work/api"
expect_exit 0 "$moeprof" export api.db --what a2a --format csv -o api.csv
[ "$(wc -l < api.csv)" = 1 ] || fail "--capture api recorded MPI all-to-alls: $(head -3 api.csv)"
echo "PASS"
