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

import argparse
import collections
import csv
import decimal
import io
import json
import os
import shutil
import subprocess
import sys
import time

WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fairscale_workload.py")
RUN_TIMEOUT_S = 240
MAX_REPORTED = 20  # failures printed per check; the rest are counted


class Failures:
    def __init__(self):
        self.count = collections.Counter()

    def __call__(self, check, message):
        self.count[check] += 1
        if self.count[check] <= MAX_REPORTED:
            print(f"FAIL ({check}): {message}")

    def total(self):
        for check, n in sorted(self.count.items()):
            if n > MAX_REPORTED:
                print(f"FAIL ({check}): ... {n - MAX_REPORTED} more")
        return sum(self.count.values())


def cli(moeprof, *args):
    result = subprocess.run([moeprof, *args], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        sys.exit(f"fairscale_e2e: moeprof {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def export_csv(moeprof, db, what):
    return list(csv.DictReader(io.StringIO(cli(moeprof, "export", db, "--what", what))))


def record(moeprof, python, world_size, steps, workdir):
    db = os.path.join(workdir, "trace.db")
    truth_dir = os.path.join(workdir, "truth")
    shutil.rmtree(truth_dir, ignore_errors=True)  # never check a previous run's truth
    command = [moeprof, "run", "-o", db, "-f", "--", python, WORKLOAD, "--world-size", str(world_size),
               "--steps", str(steps), "--truth-dir", truth_dir]
    print("fairscale_e2e: " + " ".join(command), flush=True)
    result = subprocess.run(command, timeout=RUN_TIMEOUT_S)
    if result.returncode != 0:
        sys.exit(f"fairscale_e2e: the recorded workload exited {result.returncode}")
    truths = {}
    for rank in range(world_size):
        path = os.path.join(truth_dir, f"rank{rank}.json")
        if not os.path.exists(path):
            sys.exit(f"fairscale_e2e: rank {rank} wrote no ground truth ({path})")
        with open(path) as f:
            truths[rank] = json.load(f)
    return db, truths


def check_expert_load(rows, truths, fail):
    want = {}
    for rank, truth in truths.items():
        for entry in truth["expert_load"]:
            for expert, tokens in enumerate(entry["counts"]):
                if tokens:  # the export has a row per non-zero count only
                    want[rank, entry["step"], entry["layer"], expert] = tokens
    got = {}
    for row in rows:
        key = tuple(int(row[k]) for k in ("rank", "step", "layer", "expert"))
        if key in got:
            fail("a", f"rank {key[0]} step {key[1]} layer {key[2]} expert {key[3]}: two rows")
        got[key] = int(row["tokens"])
    for key in sorted(want.keys() | got.keys()):
        if want.get(key) != got.get(key):
            fail("a", f"rank {key[0]} step {key[1]} layer {key[2]} expert {key[3]}: "
                      f"{got.get(key, 'no row')} tokens recorded, {want.get(key, 'none')} routed")
    return len(got)


def all_to_alls(rows):
    """The export's rows (one per all-to-all and peer), as all-to-alls: on one rank an
    all-to-all's rows share its start and end, which no other all-to-all of that rank has."""
    fields = ("rank", "start_ns", "end_ns", "step", "layer")
    calls = {}
    for row in rows:
        key = tuple(int(row[k]) for k in fields) + (row["phase"],)
        calls.setdefault(key, []).append((int(row["peer"]), int(row["send_bytes"]), int(row["recv_bytes"])))
    return [dict(zip(fields + ("phase",), key), peers=peers) for key, peers in calls.items()]


def check_all_to_alls(calls, truths, world_size, fail):
    want = collections.defaultdict(list)
    for rank, truth in truths.items():
        for entry in truth["all_to_all"]:
            want[rank, entry["step"], entry["layer"]].append(entry)
    got = collections.defaultdict(list)
    for call in calls:
        got[call["rank"], call["step"], call["layer"]].append(call)
    for key in sorted(want.keys() | got.keys()):
        rank, step, layer = key
        where = f"rank {rank} step {step} layer {layer}"
        expected, recorded = want.get(key, []), sorted(got.get(key, []), key=lambda c: c["start_ns"])
        if len(recorded) != len(expected):
            fail("b", f"{where}: {len(recorded)} all-to-alls recorded, {len(expected)} issued")
        for i, (call, truth) in enumerate(zip(recorded, expected)):
            if call["phase"] != truth["phase"]:
                fail("b", f"{where}: all-to-all {i} has phase {call['phase']}, not {truth['phase']}")
            peers = sorted(call["peers"])
            if [p for p, _, _ in peers] != list(range(world_size)):
                fail("b", f"{where}: all-to-all {i} has peers {[p for p, _, _ in peers]}, not 0..{world_size - 1}")
                continue
            for peer, send, recv in peers:
                if (send, recv) != (truth["send_bytes"][peer], truth["recv_bytes"][peer]):
                    fail("b", f"{where}: all-to-all {i} ({call['phase']}) peer {peer}: sent {send} / "
                              f"received {recv} bytes recorded, {truth['send_bytes'][peer]} / "
                              f"{truth['recv_bytes'][peer]} moved")


def read_chrome(chrome):
    """The Chrome trace's complete events of ranked processes, as (rank, event). Its ts and dur
    are microseconds with nanosecond decimals: read as decimals, they convert back exactly."""
    events = json.loads(chrome, parse_float=decimal.Decimal)["traceEvents"]
    ranks = {}  # Chrome pid -> rank, from the "rank N" process names
    for event in events:
        if event.get("ph") == "M" and event.get("name") == "process_name":
            name = event["args"]["name"]
            if name.startswith("rank "):
                ranks[event["pid"]] = int(name.split()[1])
    return [(ranks[e["pid"]], e) for e in events if e.get("ph") == "X" and e["pid"] in ranks]


def step_spans(events):
    """(rank, step) -> [(begin_ns, end_ns)], one per span of that step."""
    spans = {}
    for rank, event in events:
        if event.get("cat") == "step":
            key = rank, int(event["args"]["step"])
            begin = event["ts"] * 1000
            spans.setdefault(key, []).append((int(begin), int(begin + event["dur"] * 1000)))
    return spans


def check_inside_steps(calls, spans, truths, fail):
    for rank, truth in truths.items():
        for step in range(truth["steps"]):
            n = len(spans.get((rank, step), []))
            if n != 1:
                fail("c", f"rank {rank} step {step}: {n} step spans, not 1")
    for call in calls:
        span = spans.get((call["rank"], call["step"]))
        if not span:
            fail("c", f"rank {call['rank']}: an all-to-all of step {call['step']}, which has no span")
            continue
        begin, end = span[0]
        if not begin <= call["start_ns"] <= call["end_ns"] <= end:
            fail("c", f"rank {call['rank']} step {call['step']} layer {call['layer']}: {call['phase']} "
                      f"all-to-all [{call['start_ns']}, {call['end_ns']}] outside the step [{begin}, {end}]")


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
    for p in processes:
        if not p["clean_exit"]:
            fail("d", f"process {p['pid']} (rank {p['rank']}) did not exit cleanly")
    truth = truths[0]
    want_model = {"name": "fairscale MOELayer", "num_layers": truth["num_layers"],
                  "num_experts": truth["num_experts"], "top_k": 2, "hidden_size": truth["model_dim"]}
    model = info.get("model") or {}
    for field, value in want_model.items():
        if model.get(field) != value:
            fail("d", f"model {field} is {model.get(field)!r}, not {value!r}")
    if info.get("steps") != {"first": 0, "last": steps - 1}:
        fail("d", f"steps {info.get('steps')}, not 0 .. {steps - 1}")
    if info["run"]["exit_code"] != 0 or not info["run"]["finalized"]:
        fail("d", f"run exit code {info['run']['exit_code']}, finalized {info['run']['finalized']}")
    if info["dropped"] != 0:
        fail("d", f"{info['dropped']} records dropped")
    return len(processes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moeprof", required=True, help="the moeprof CLI")
    parser.add_argument("--python", required=True, help="the Python with torch and fairscale")
    parser.add_argument("--world-size", type=int, required=True)
    parser.add_argument("--workdir", required=True, help="trace and ground truth go here")
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    start = time.monotonic()
    os.makedirs(args.workdir, exist_ok=True)
    db, truths = record(args.moeprof, args.python, args.world_size, args.steps, args.workdir)
    for rank, truth in truths.items():
        if (truth["rank"], truth["world_size"], truth["steps"]) != (rank, args.world_size, args.steps):
            sys.exit(f"fairscale_e2e: rank{rank}.json is of rank {truth['rank']} of {truth['world_size']}, "
                     f"{truth['steps']} steps")

    fail = Failures()
    load_rows = check_expert_load(export_csv(args.moeprof, db, "expert-load"), truths, fail)
    a2a_rows = export_csv(args.moeprof, db, "a2a")
    calls = all_to_alls(a2a_rows)
    check_all_to_alls(calls, truths, args.world_size, fail)
    chrome = read_chrome(cli(args.moeprof, "export", db, "--format", "chrome"))
    check_inside_steps(calls, step_spans(chrome), truths, fail)
    check_expert_spans(chrome, truths, args.world_size, fail)
    processes = check_info(json.loads(cli(args.moeprof, "info", db, "--json")), truths, args.world_size,
                           args.steps, fail)
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
