#!/usr/bin/env bash
# CUPTI capture end to end (needs a GPU; exit 77 = skipped without one): a CUDA program with
# named kernels runs under `moeprof run --capture cupti`; the trace's GPU kernels equal the
# launches the program noted itself: the same kernels and counts per step, each with its
# launching thread and a launch time inside the program's own bracket of the launch call,
# the kernel running between its launch and the step's synchronisation (clocks aligned), the
# compute kind its name gives, graph kernels sharing their launch's correlation id, and
# nothing dropped. MOEPROF_KERNEL_KINDS changes the kinds; bad syntax is one line. Under
# Nsight Systems (when installed) the source backs off without failing the program.
# usage: cupti_capture_test.sh MOEPROF CUPTI_WORKLOAD WORKDIR
source "$(dirname "$0")/../../e2e/lib.sh"
moeprof=$1 workload=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"

code=0
"$workload" alone.csv >out.txt 2>err.txt || code=$?
if [ "$code" = 77 ]; then
  echo "SKIP: $(cat err.txt)"
  exit 77
fi
[ "$code" = 0 ] || { cat err.txt >&2; fail "the workload alone exited $code"; }

check_trace() {  # DB TRUTH EXPECTED_KINDS_JSON
  expect_exit 0 "$moeprof" export "$1" --what kernels --format csv -o kernels.csv
  expect_exit 0 "$moeprof" info --json "$1"
  mv out.txt info.json
  python3 - kernels.csv "$2" info.json "$3" <<'PY' || fail "the trace's GPU kernels differ from the program's launches ($1)"
import collections, csv, json, re, sys
kernels = list(csv.DictReader(open(sys.argv[1])))
truth = list(csv.DictReader(open(sys.argv[2])))
info = json.load(open(sys.argv[3]))
kinds = json.loads(sys.argv[4])  # base name -> [compute_kind, layer]
launches = [t for t in truth if t["kind"] == "launch"]
synced = {int(t["step"]): int(t["before_ns"]) for t in truth if t["kind"] == "synced"}

def base(name):  # "moe_expert_ffn_kernel(float*, int)", "void scale_kernel<4>(float*, int)"
    return re.match(r"(?:void )?([A-Za-z_]\w*)", name).group(1)

# The same kernels, as many per (name, step) as the program launched.
got = collections.Counter((base(k["name"]), int(k["step"])) for k in kernels)
want = collections.Counter((t["name"], int(t["step"])) for t in launches)
assert got == want, (sorted((got - want).items()), sorted((want - got).items()))
assert any(k["name"] == "void scale_kernel<4>(float*, int)" for k in kernels), "names are demangled"

# Each kernel joined with its own launch: pair them per (name, thread, step, graph launch) in
# time order; the launch time lies inside the program's bracket of the call.
by_launch = collections.defaultdict(list)
for t in launches:
    by_launch[(t["name"], int(t["tid"]), int(t["step"]))].append(t)
traced = collections.defaultdict(list)
for k in kernels:
    traced[(base(k["name"]), int(k["launch_tid"]), int(k["step"]))].append(k)
assert set(traced) == set(by_launch), (set(traced) ^ set(by_launch))
for key, ts in by_launch.items():
    ks = sorted(traced[key], key=lambda k: int(k["launch_ns"]))
    ts = sorted(ts, key=lambda t: int(t["before_ns"]))
    assert len(ks) == len(ts), key
    for k, t in zip(ks, ts):
        launch, start, end = int(k["launch_ns"]), int(k["start_ns"]), int(k["end_ns"])
        assert int(t["before_ns"]) <= launch <= int(t["after_ns"]), ("launch outside its call", key, k, t)
        assert launch <= start <= end <= synced[int(k["step"])], ("kernel outside launch..sync", key, k)
        assert [k["compute_kind"], int(k["layer"])] == kinds[key[0]], (key, k["compute_kind"], k["layer"])

# Direct launches have their own correlation ids; a graph launch's kernels share one.
ids = collections.Counter(int(k["correlation_id"]) for k in kernels)
graph_kernels = sum(1 for t in launches if t["graph"] != "0")
assert sorted(n for n in ids.values() if n > 1) == [3] * (graph_kernels // 3), ids.most_common(4)
assert len(ids) == len(launches) - graph_kernels + graph_kernels // 3

cupti = [s for s in info["sources"] if s["source"] == "cupti"]
assert cupti == [{"source": "cupti", "recorded": len(kernels), "dropped": 0}], info["sources"]
assert all(s["dropped"] == 0 for s in info["sources"]), info["sources"]
# A kernel with a compute kind is also a compute span (the workload reports none itself).
assert info["rows"]["compute_spans"] == sum(1 for k in kernels if k["compute_kind"]), info["rows"]
print(f"{len(kernels)} GPU kernels match the program's launches")
PY
}

defaults='{"moe_topk_gating_kernel": ["gate", -1], "moe_expert_ffn_kernel": ["expert", -1],
           "flash_attention_fwd_kernel": ["attention", -1], "saxpy_plain": ["", -1], "scale_kernel": ["", -1]}'
expect_exit 0 timeout 240 "$moeprof" run --capture cupti -o k.db -- "$workload" truth.csv
grep -q "GPU kernels will not be recorded" err.txt && fail "the source did not start: $(cat err.txt)"
check_trace k.db truth.csv "$defaults"

# Kinds from MOEPROF_KERNEL_KINDS, before the defaults: saxpy becomes layer 7's expert work.
custom=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["saxpy_plain"]=["expert",7]; print(json.dumps(d))' "$defaults")
expect_exit 0 env MOEPROF_KERNEL_KINDS='+expert:7=*saxpy*' timeout 240 "$moeprof" run --capture cupti -o custom.db -- \
  "$workload" custom.csv
check_trace custom.db custom.csv "$custom"

# Bad syntax: one line, and the defaults.
expect_exit 0 env MOEPROF_KERNEL_KINDS='expert' timeout 240 "$moeprof" run --capture cupti -o bad.db -- "$workload" bad.csv
[ "$(grep -c 'MOEPROF_KERNEL_KINDS' err.txt)" = 1 ] || fail "bad MOEPROF_KERNEL_KINDS: $(cat err.txt)"
check_trace bad.db bad.csv "$defaults"

# Another tool holding CUPTI: the program still succeeds; moeprof either leaves the hook to
# it or the source says it backs off.
if command -v nsys >/dev/null; then
  expect_exit 0 timeout 240 nsys profile --trace=cuda -o nsys_run --force-overwrite true \
    "$moeprof" run --capture cupti -o nsys.db -- "$workload" nsys.csv
  if ! grep -q "CUPTI is in use by another tool" err.txt; then
    grep -qi "CUDA_INJECTION64_PATH" err.txt || fail "under nsys neither moeprof nor the source stepped aside: $(cat err.txt)"
  fi
  expect_exit 0 "$moeprof" export nsys.db --what kernels --format csv -o nsys_kernels.csv
  [ "$(wc -l < nsys_kernels.csv)" = 1 ] || fail "kernels recorded while nsys held CUPTI"
else
  echo "nsys not installed: back-off under Nsight Systems not checked"
fi
echo "PASS"
