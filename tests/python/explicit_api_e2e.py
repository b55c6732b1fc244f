"""End to end: a hand-written expert-parallel MoE (plain torch, 2 gloo processes) instrumented
with moeprof's explicit API only, recorded by `moeprof run --routing full`, checked against the
ground truth each rank of the workload wrote itself.

    explicit_api_e2e.py --moeprof BUILD/bin/moeprof --python BUILD/pyenv/bin/python --workdir DIR

runs tests/python/explicit_api_workload.py (see there for what each layer does) under
`moeprof run` (trace and truth under DIR) and reads the trace only through the CLI:

  (a) expert load  `export --what expert-load` equals the counts of the ids each rank passed to
                   moeprof.record_routing, per (rank, step, layer, expert), exactly
  (b) routing      `export --what routing`: one row per (rank, step, layer, token, slot), its
                   expert the truth's id and its weight within 1e-6 of the truth's
  (c) all-to-alls  `export --what a2a`: per (rank, step, layer), in issue order (start time),
                   the truth's all-to-alls: the counts exchange (phase "other", set by
                   moeprof.phase), the dispatch (guessed "dispatch"), the combine (layer 0:
                   dist.all_to_all, guessed "combine"; layer 1: the moeprof.all_to_all block,
                   phase "combine"); peers 0..1 with the exact send and receive bytes of each,
                   zeros included; end >= start; and per rank, start times in issue order
  (d) async        the async_op=True dispatches are recorded, with their bytes and end >= start
  (e) gathered     each moeprof.all_to_all(phase="combine") block of two all_to_all_single calls
                   is ONE all-to-all whose bytes per peer are the two calls' sums
  (f) compute      `export --format chrome`: one expert compute span per (rank, step, layer),
                   inside its step, after its layer's dispatch began and before its combine
  (g) steps        the Chrome trace's step spans: steps 0..S-1 once each on both ranks and no
                   others; every all-to-all inside its step; `info --json` steps 0..S-1
  (h) processes    `info --json`: ranks 0 and 1 once each (world and EP size 2), the model the
                   workload declared with moeprof.topology, no drops, no adapter notes

Prints one line per failure and exits 1; exits 0 with a summary when all hold.
"""

import collections
import os
import sys
import time

from trace_checks import (Failures, all_to_alls, all_to_alls_by_layer, check_expert_load, check_inside_steps,
                          check_routing, check_run, cli, driver_arguments, export_rows, info_json, read_chrome,
                          record_with_truth, span_of, step_spans)

WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explicit_api_workload.py")
WORLD_SIZE = 2
WEIGHT_TOLERANCE = 1e-6  # the weights are at most 1: an absolute tolerance


def expected_routing(truths):
    """(rank, step, layer) -> the truth's tokens per expert, and -> the truth's (ids, weights)."""
    counts, routing = {}, {}
    for rank, truth in truths.items():
        for entry in truth["routing"]:
            key = rank, entry["step"], entry["layer"]
            counts[key] = entry["counts"]
            routing[key] = (entry["ids"], entry["weights"])
    return counts, routing


def describe(truth):
    return f"{truth['kind']}{' (async)' if truth['async'] else ''}"


def check_all_to_alls(calls, truths, fail):
    """(c), (d), (e). Returns (async ones checked, gathered ones checked)."""
    async_ok = gathered_ok = 0
    for (rank, step, layer), expected, recorded in all_to_alls_by_layer(calls, truths):
        world = truths[rank]["world_size"] if rank in truths else 2
        where = f"rank {rank} step {step} layer {layer}"
        if len(recorded) != len(expected):
            fail("c", f"{where}: {len(recorded)} all-to-alls recorded ({', '.join(c['phase'] for c in recorded)}), "
                      f"{len(expected)} issued ({', '.join(describe(t) for t in expected)})")
        for i, (call, truth) in enumerate(zip(recorded, expected)):
            what = f"{where}: all-to-all {i} ({describe(truth)})"
            check = "d" if truth["async"] else "e" if truth["kind"] == "combine_gathered" else "c"
            ok = True
            if call["phase"] != truth["phase"]:
                fail(check, f"{what} has phase {call['phase']}, not {truth['phase']}")
                ok = False
            if call["end_ns"] < call["start_ns"]:
                fail(check, f"{what} ends at {call['end_ns']}, before its start {call['start_ns']}")
                ok = False
            peers = [p for p, _, _ in call["peers"]]
            if peers != list(range(world)):
                fail(check, f"{what} has peers {peers}, not 0..{world - 1}")
                continue
            for peer, send, recv in call["peers"]:
                if (send, recv) != (truth["send_bytes"][peer], truth["recv_bytes"][peer]):
                    fail(check, f"{what} peer {peer}: sent {send} / received {recv} bytes recorded, "
                                f"{truth['send_bytes'][peer]} / {truth['recv_bytes'][peer]} moved")
                    ok = False
            if truth["kind"] == "combine_gathered":
                parts = truth["parts"]
                for side in ("send_bytes", "recv_bytes"):  # the truth's sum is of its parts
                    if [sum(p[side][peer] for p in parts) for peer in range(world)] != truth[side]:
                        sys.exit(f"explicit_api_e2e: rank{rank}.json: {what}: {side} is not its parts' sum")
                in_block = [c for c in recorded if c["phase"] == "combine"]
                if len(in_block) != 1:
                    fail("e", f"{where}: {len(in_block)} combine all-to-alls recorded for the one "
                              f"moeprof.all_to_all block of {len(parts)} calls")
                    ok = False
            if ok and truth["async"]:
                async_ok += 1
            if ok and truth["kind"] == "combine_gathered":
                gathered_ok += 1
    issued = [t for truth in truths.values() for t in truth["all_to_all"]]
    want_async = sum(t["async"] for t in issued)
    want_gathered = sum(t["kind"] == "combine_gathered" for t in issued)
    if want_async == 0:
        fail("d", "the workload issued no async all-to-all")
    if want_gathered == 0:
        fail("e", "the workload made no gathered moeprof.all_to_all block")
    # Issue order across layers and steps: by start time, each rank's (step, layer) never goes back.
    for rank in truths:
        order = [(c["step"], c["layer"]) for c in sorted((c for c in calls if c["rank"] == rank),
                                                          key=lambda c: c["start_ns"])]
        for before, after in zip(order, order[1:]):
            if after < before:
                fail("c", f"rank {rank}: an all-to-all of step {after[0]} layer {after[1]} starts after one of "
                          f"step {before[0]} layer {before[1]}")
                break
    return async_ok, want_async, gathered_ok, want_gathered


def check_steps(spans, calls, truths, info, steps, fail):
    for key in sorted(spans.keys() | {(rank, step) for rank in truths for step in range(steps)}):
        n = len(spans.get(key, []))
        if n != 1 or key[0] not in truths or not 0 <= key[1] < steps:
            fail("g", f"rank {key[0]} step {key[1]}: {n} step spans, not {1 if 0 <= key[1] < steps else 0}")
    check_inside_steps(calls, spans, fail, "g")
    if info.get("steps") != {"first": 0, "last": steps - 1}:
        fail("g", f"info: steps {info.get('steps')}, not 0 .. {steps - 1}")


def check_compute(events, spans, calls, truths, fail):
    want = collections.Counter()
    for rank, truth in truths.items():
        for entry in truth["compute"]:
            want[rank, entry["step"], entry["layer"]] += 1
    got = collections.defaultdict(list)
    for rank, event in events:
        if event.get("cat") == "compute":
            args = event["args"]
            if args.get("kind") != "expert":
                fail("f", f"rank {rank}: a compute span of kind {args.get('kind')} ({event['name']})")
                continue
            got[rank, int(args["step"]), int(args["layer"])].append(span_of(event))
    phases = collections.defaultdict(dict)  # (rank, step, layer) -> phase -> start_ns
    for call in calls:
        phases[call["rank"], call["step"], call["layer"]][call["phase"]] = call["start_ns"]
    for key in sorted(want.keys() | got.keys()):
        rank, step, layer = key
        where = f"rank {rank} step {step} layer {layer}"
        if len(got.get(key, [])) != want.get(key, 0):
            fail("f", f"{where}: {len(got.get(key, []))} expert compute spans recorded, {want.get(key, 0)} made")
        for begin, end in got.get(key, []):
            step_span = spans.get((rank, step))
            if not step_span or not step_span[0][0] <= begin <= end <= step_span[0][1]:
                fail("f", f"{where}: expert compute span [{begin}, {end}] outside its step {step_span}")
            dispatch, combine = phases[key].get("dispatch"), phases[key].get("combine")
            if dispatch is None or combine is None or not dispatch <= begin <= end <= combine:
                fail("f", f"{where}: expert compute span [{begin}, {end}] not between the layer's dispatch "
                          f"start {dispatch} and combine start {combine}")
    return sum(len(v) for v in got.values())


def check_info(info, truths, fail, run_stderr):
    processes = info["processes"]
    ranked = sorted(p["rank"] for p in processes if p["rank"] >= 0)
    if ranked != sorted(truths):
        fail("h", f"ranked processes have ranks {ranked}, not {sorted(truths)}")
    for p in processes:
        if p["rank"] >= 0 and (p["world_size"], p["ep_size"]) != (2, 2):
            fail("h", f"rank {p['rank']}: world size {p['world_size']}, ep size {p['ep_size']}, not 2")
    truth = truths[0]
    check_run(info, {"name": truth["model_name"], "num_layers": truth["num_layers"],
                     "num_experts": truth["num_experts"], "top_k": truth["top_k"],
                     "hidden_size": truth["hidden_size"]}, fail, "h")
    if info["run"]["routing_mode"] != "full":
        fail("h", f"routing mode {info['run']['routing_mode']}, not full")
    for note in info.get("notes", []):
        fail("h", f"note in the trace: {note}")
    for line in run_stderr.splitlines():
        if line.startswith("moeprof: python:"):
            fail("h", f"the adapter complained: {line}")
    return len(processes)


def main():
    args = driver_arguments(steps=(int, 3))
    start = time.monotonic()
    db, truths, run_stderr = record_with_truth(args.moeprof, ["--routing", "full"],
                                               [args.python, WORKLOAD, "--steps", str(args.steps)],
                                               WORLD_SIZE, args.steps, args.workdir)

    fail = Failures()
    counts, routing = expected_routing(truths)
    load_rows = check_expert_load(export_rows(args.moeprof, db, "expert-load"), counts, fail, "a")
    routing_rows = check_routing(export_rows(args.moeprof, db, "routing"), routing, fail, "b", WEIGHT_TOLERANCE)
    a2a_rows = export_rows(args.moeprof, db, "a2a")
    calls = all_to_alls(a2a_rows)
    async_ok, async_n, gathered_ok, gathered_n = check_all_to_alls(calls, truths, fail)
    info = info_json(args.moeprof, db)
    events = read_chrome(cli(args.moeprof, "export", db, "--format", "chrome"))
    spans = step_spans(events)
    check_steps(spans, calls, truths, info, args.steps, fail)
    compute_spans = check_compute(events, spans, calls, truths, fail)
    processes = check_info(info, truths, fail, run_stderr)
    failures = fail.total()
    if failures:
        print(f"explicit_api_e2e: {failures} failures (trace {db})")
        return 1
    print(f"explicit_api_e2e: OK: 2 ranks x {args.steps} steps x {truths[0]['num_layers']} layers; "
          f"{load_rows} expert-load rows and {routing_rows} routing rows exact; {len(calls)} all-to-alls "
          f"({len(a2a_rows)} peer rows) exact in layer, phase, bytes and order, {async_ok}/{async_n} async, "
          f"{gathered_ok}/{gathered_n} gathered blocks as one; {compute_spans} expert compute spans; "
          f"{len(spans)} step spans; {processes} processes; {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
