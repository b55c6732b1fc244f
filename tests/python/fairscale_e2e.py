"""End to end: fairscale MOELayers trained across N processes on gloo, recorded by `moeprof run`,
checked against the ground truth each rank of the workload wrote itself.

    fairscale_e2e.py --moeprof BUILD/bin/moeprof --python BUILD/pyenv/bin/python --world-size N
                     --workdir DIR [--steps S]

runs tests/python/fairscale_workload.py under `moeprof run` (trace and truth under DIR) and
reads the trace only through the CLI's exports:

  (a) expert load   `export --what expert-load` equals every rank's gate counts exactly, per
                    (rank, step, layer, expert)
  (b) all-to-alls   `export --what a2a`: per (rank, step, layer) as many all-to-alls as the
                    truth, in issue order with its phases (dispatch, combine, then "other" for
                    the backward's) and, for every peer 0..N-1, its send and receive bytes
  (c) inside steps  every all-to-all lies within its step's span on its rank (the step spans of
                    `export --format chrome`)
  (d) processes     `info --json`: ranks 0..N-1 once each, children of the mp.spawn launcher
                    (a process of its own, unranked, as are multiprocessing's helpers), world
                    and expert-parallel size N; the model and step range set
  (e) expert spans  the Chrome trace's expert compute spans of rank r are named by the global
                    experts rank r holds (r*L .. r*L+L-1 for L local experts), as the placement

Prints every failure and exits 1; exits 0 with a summary when all hold.
"""

import os
import sys
import time

from trace_checks import (Failures, all_to_alls, all_to_alls_by_layer, check_expert_load, check_inside_steps,
                          check_run, cli, driver_arguments, export_rows, info_json, read_chrome, record_with_truth,
                          step_spans)

WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fairscale_workload.py")


def check_all_to_alls(calls, truths, world_size, fail):
    for (rank, step, layer), expected, recorded in all_to_alls_by_layer(calls, truths):
        where = f"rank {rank} step {step} layer {layer}"
        if len(recorded) != len(expected):
            fail("b", f"{where}: {len(recorded)} all-to-alls recorded, {len(expected)} issued")
        for i, (call, truth) in enumerate(zip(recorded, expected)):
            if call["phase"] != truth["phase"]:
                fail("b", f"{where}: all-to-all {i} has phase {call['phase']}, not {truth['phase']}")
            peers = call["peers"]  # sorted by peer
            if [p for p, _, _ in peers] != list(range(world_size)):
                fail("b", f"{where}: all-to-all {i} has peers {[p for p, _, _ in peers]}, not 0..{world_size - 1}")
                continue
            for peer, send, recv in peers:
                if (send, recv) != (truth["send_bytes"][peer], truth["recv_bytes"][peer]):
                    fail("b", f"{where}: all-to-all {i} ({call['phase']}) peer {peer}: sent {send} / "
                              f"received {recv} bytes recorded, {truth['send_bytes'][peer]} / "
                              f"{truth['recv_bytes'][peer]} moved")


def check_steps(calls, spans, truths, fail):
    for rank, truth in truths.items():
        for step in range(truth["steps"]):
            n = len(spans.get((rank, step), []))
            if n != 1:
                fail("c", f"rank {rank} step {step}: {n} step spans, not 1")
    check_inside_steps(calls, spans, fail, "c")


def check_expert_spans(events, truths, world_size, fail):
    local = truths[0]["num_experts"] // world_size
    for rank in truths:
        names = {e["name"] for r, e in events if r == rank and e.get("cat") == "compute"
                 and e["name"].startswith("expert ")}
        want = {f"expert {rank * local + j}" for j in range(local)}
        if names != want:
            fail("e", f"rank {rank}: expert compute spans named {sorted(names)}, not {sorted(want)}")


def check_info(info, truths, world_size, steps, fail):
    processes = info["processes"]
    ranked = [p for p in processes if p["rank"] >= 0]
    unranked = [p for p in processes if p["rank"] < 0]
    if sorted(p["rank"] for p in ranked) != list(range(world_size)):
        fail("d", f"ranked processes have ranks {sorted(p['rank'] for p in ranked)}, not 0..{world_size - 1}")
    # mp.spawn's parent is recorded too: the only unranked process running the workload itself.
    # Its children are the ranks and multiprocessing's helpers (the resource tracker), unranked.
    launchers = [p for p in unranked if os.path.basename(WORKLOAD) in p["command"]]
    if len(launchers) != 1:
        fail("d", f"{len(launchers)} unranked processes run the workload, not 1 (its launcher)")
    launcher_pid = launchers[0]["pid"] if len(launchers) == 1 else None
    for p in ranked:
        if p["ppid"] != launcher_pid:
            fail("d", f"rank {p['rank']} (pid {p['pid']}) is not a child of the launcher (pid {launcher_pid})")
        if (p["world_size"], p["ep_size"]) != (world_size, world_size):
            fail("d", f"rank {p['rank']}: world size {p['world_size']}, ep size {p['ep_size']}, not {world_size}")
    for p in unranked:
        if p not in launchers and not (p["ppid"] == launcher_pid and "multiprocessing" in p["command"]):
            fail("d", f"unexpected unranked process {p['pid']}: {p['command']}")
    truth = truths[0]
    check_run(info, {"name": "fairscale MOELayer", "num_layers": truth["num_layers"],
                     "num_experts": truth["num_experts"], "top_k": 2, "hidden_size": truth["model_dim"]}, fail, "d")
    if info.get("steps") != {"first": 0, "last": steps - 1}:
        fail("d", f"steps {info.get('steps')}, not 0 .. {steps - 1}")
    return len(processes)


def main():
    args = driver_arguments(world_size=(int, None), steps=(int, 4))
    start = time.monotonic()
    workload = [args.python, WORKLOAD, "--world-size", str(args.world_size), "--steps", str(args.steps)]
    db, truths, _ = record_with_truth(args.moeprof, [], workload, args.world_size, args.steps, args.workdir)

    fail = Failures()
    counts = {(rank, entry["step"], entry["layer"]): entry["counts"]
              for rank, truth in truths.items() for entry in truth["expert_load"]}
    load_rows = check_expert_load(export_rows(args.moeprof, db, "expert-load"), counts, fail, "a")
    a2a_rows = export_rows(args.moeprof, db, "a2a")
    calls = all_to_alls(a2a_rows)
    check_all_to_alls(calls, truths, args.world_size, fail)
    chrome = read_chrome(cli(args.moeprof, "export", db, "--format", "chrome"))
    check_steps(calls, step_spans(chrome), truths, fail)
    check_expert_spans(chrome, truths, args.world_size, fail)
    processes = check_info(info_json(args.moeprof, db), truths, args.world_size, args.steps, fail)
    failures = fail.total()
    if failures:
        print(f"fairscale_e2e: {failures} failures (trace {db})")
        return 1
    print(f"fairscale_e2e: OK: {args.world_size} ranks x {args.steps} steps; {load_rows} expert-load rows and "
          f"{len(calls)} all-to-alls ({len(a2a_rows)} peer rows) exact, all inside their steps; "
          f"{processes} processes; expert spans named by global expert; {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
