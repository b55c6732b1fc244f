"""What the end-to-end drivers of this folder share: running the moeprof CLI and reading its
exports, recording a workload that writes its own ground truth, and the checks of a trace
against that truth which do not depend on the workload.

Messages name the driver (the script run, sys.argv[0]); failures are collected by a Failures
and reported per check.
"""

import collections
import csv
import decimal
import io
import json
import os
import shutil
import subprocess
import sys

PROGRAM = os.path.splitext(os.path.basename(sys.argv[0]))[0]
CLI_TIMEOUT_S = 60


def driver_arguments(**extra):
    """The arguments of a driver: --moeprof, --python, --workdir (made here), and `extra`, as
    name=(type, default) with default None meaning required."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--moeprof", required=True, help="the moeprof CLI")
    parser.add_argument("--python", required=True, help="the Python with torch, transformers and fairscale")
    parser.add_argument("--workdir", required=True, help="traces and ground truth go here")
    for name, (kind, default) in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default, required=default is None)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    return args


class Failures:
    """A failure collector: counts per check, prints at most max_reported of each, and the total."""

    def __init__(self, max_reported=20):
        self.max_reported = max_reported
        self.count = collections.Counter()

    def __call__(self, check, message):
        """Records (and prints, below the check's limit) one failure of `check`."""
        self.count[check] += 1
        if self.count[check] <= self.max_reported:
            print(f"FAIL ({check}): {message}", flush=True)

    def expect(self, condition, check, message):
        """Records a failure of `check` unless `condition` holds; returns the condition."""
        if not condition:
            self(check, message)
        return condition

    def total(self):
        """The number of failures, after a line per check for those not printed."""
        for check, n in sorted(self.count.items()):
            if n > self.max_reported:
                print(f"FAIL ({check}): ... {n - self.max_reported} more")
        return sum(self.count.values())


def run_checked(command, env=None, timeout=600):
    """A command's completed process (output captured as text); exits with its output when it fails."""
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        sys.exit(f"{PROGRAM}: {' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def cli(moeprof, *args):
    """The stdout of `moeprof ARGS`; exits with a message and its stderr when it fails."""
    result = subprocess.run([moeprof, *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    if result.returncode != 0:
        sys.exit(f"{PROGRAM}: moeprof {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def export_rows(moeprof, db, what):
    """The rows of `moeprof export DB --what WHAT` (CSV), as dicts of strings by column."""
    return list(csv.DictReader(io.StringIO(cli(moeprof, "export", db, "--what", what))))


def info_json(moeprof, db):
    """`moeprof info DB --json`, parsed."""
    return json.loads(cli(moeprof, "info", db, "--json"))


def plain_environment():
    """The environment of a run without moeprof: no adapter on the path, no agent."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONPATH", "MOEPROF_SOCKET")}


def record_with_truth(moeprof, run_options, workload, world_size, steps, workdir, timeout=240):
    """Records `WORKLOAD --truth-dir DIR` (a command) with `moeprof run RUN_OPTIONS` into
    WORKDIR/trace.db; returns (db, {rank: truth of WORKDIR/truth/rank<R>.json}, the run's stderr).
    Exits when the run fails or a rank's truth is missing or not of that rank, world and steps."""
    db = os.path.join(workdir, "trace.db")
    truth_dir = os.path.join(workdir, "truth")
    shutil.rmtree(truth_dir, ignore_errors=True)  # never check a previous run's truth
    command = [moeprof, "run", "-o", db, "-f", *run_options, "--", *workload, "--truth-dir", truth_dir]
    print(f"{PROGRAM}: " + " ".join(command), flush=True)
    result = subprocess.run(command, timeout=timeout, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    sys.stdout.flush()
    if result.returncode != 0:
        sys.exit(f"{PROGRAM}: the recorded workload exited {result.returncode}")
    truths = {}
    for rank in range(world_size):
        path = os.path.join(truth_dir, f"rank{rank}.json")
        if not os.path.exists(path):
            sys.exit(f"{PROGRAM}: rank {rank} wrote no ground truth ({path})")
        with open(path) as f:
            truth = json.load(f)
        if (truth["rank"], truth["world_size"], truth["steps"]) != (rank, world_size, steps):
            sys.exit(f"{PROGRAM}: rank{rank}.json is of rank {truth['rank']} of {truth['world_size']}, "
                     f"{truth['steps']} steps")
        truths[rank] = truth
    return db, truths, result.stderr


def check_expert_load(rows, counts, fail, check):
    """Fails `check` unless the expert-load rows hold exactly `counts`, {(rank, step, layer):
    [tokens per expert]}: a row per non-zero count and no other. Returns the rows read."""
    want = {}
    for (rank, step, layer), tokens_per_expert in counts.items():
        for expert, tokens in enumerate(tokens_per_expert):
            if tokens:  # the export has a row per non-zero count only
                want[rank, step, layer, expert] = tokens
    got = {}
    for row in rows:
        key = tuple(int(row[k]) for k in ("rank", "step", "layer", "expert"))
        if key in got:
            fail(check, f"rank {key[0]} step {key[1]} layer {key[2]} expert {key[3]}: two rows")
        got[key] = int(row["tokens"])
    for key in sorted(want.keys() | got.keys()):
        if want.get(key) != got.get(key):
            fail(check, f"rank {key[0]} step {key[1]} layer {key[2]} expert {key[3]}: "
                        f"{got.get(key, 'no row')} tokens recorded, {want.get(key, 'none')} routed")
    return len(got)


def check_routing(rows, routing, fail, check, tolerance):
    """Fails `check` unless the routing rows are exactly those of `routing`, {(rank, step, layer):
    (ids, weights) per token, each per slot}: one row per (rank, step, layer, token, slot), its
    expert the id and its weight within tolerance * max(1, |weight|). Returns the rows read."""
    want = {}
    for (rank, step, layer), (ids_per_token, weights_per_token) in routing.items():
        for token, (ids, weights) in enumerate(zip(ids_per_token, weights_per_token)):
            for slot, (expert, weight) in enumerate(zip(ids, weights)):
                want[rank, step, layer, token, slot] = (expert, weight)
    got = {}
    for row in rows:
        key = tuple(int(row[k]) for k in ("rank", "step", "layer", "token", "slot"))
        if key in got:
            fail(check, f"rank {key[0]} step {key[1]} layer {key[2]} token {key[3]} slot {key[4]}: two rows")
        got[key] = (int(row["expert"]), float(row["weight"]) if row["weight"] != "" else None)
    for key in sorted(want.keys() | got.keys()):
        where = f"rank {key[0]} step {key[1]} layer {key[2]} token {key[3]} slot {key[4]}"
        if key not in got or key not in want:
            fail(check, f"{where}: {'no row recorded' if key not in got else 'a row recorded'}, "
                        f"{'routed' if key in want else 'not routed'}")
            continue
        (expert, weight), (want_expert, want_weight) = got[key], want[key]
        if expert != want_expert:
            fail(check, f"{where}: expert {expert} recorded, {want_expert} routed")
        elif weight is None or not abs(weight - want_weight) <= tolerance * max(1.0, abs(want_weight)):
            fail(check, f"{where}: weight {weight} recorded, {want_weight} routed")
    return len(got)


def all_to_alls(rows):
    """The a2a export's rows (one per all-to-all and peer) as all-to-alls, their peers sorted: on
    one rank an all-to-all's rows share its start and end, which no other all-to-all of that rank has."""
    fields = ("rank", "start_ns", "end_ns", "step", "layer")
    calls = {}
    for row in rows:
        key = tuple(int(row[k]) for k in fields) + (row["phase"],)
        calls.setdefault(key, []).append((int(row["peer"]), int(row["send_bytes"]), int(row["recv_bytes"])))
    return [dict(zip(fields + ("phase",), key), peers=sorted(peers)) for key, peers in calls.items()]


def all_to_alls_by_layer(calls, truths):
    """The truth's all-to-alls (in issue order) beside the recorded ones (of all_to_alls, by start
    time), as [((rank, step, layer), expected, recorded)] for every (rank, step, layer) of either."""
    want = collections.defaultdict(list)
    for rank, truth in truths.items():
        for entry in truth["all_to_all"]:
            want[rank, entry["step"], entry["layer"]].append(entry)
    got = collections.defaultdict(list)
    for call in calls:
        got[call["rank"], call["step"], call["layer"]].append(call)
    return [(key, want.get(key, []), sorted(got.get(key, []), key=lambda c: c["start_ns"]))
            for key in sorted(want.keys() | got.keys())]


def check_run(info, want_model, fail, check):
    """Fails `check` unless `info --json` says: the model's fields are want_model's, every process
    exited cleanly, the run exited 0 and was finalized, and no record was dropped."""
    model = info.get("model") or {}
    for field, value in want_model.items():
        if model.get(field) != value:
            fail(check, f"model {field} is {model.get(field)!r}, not {value!r}")
    for p in info["processes"]:
        if not p["clean_exit"]:
            fail(check, f"process {p['pid']} (rank {p['rank']}) did not exit cleanly")
    if info["run"]["exit_code"] != 0 or not info["run"]["finalized"]:
        fail(check, f"run exit code {info['run']['exit_code']}, finalized {info['run']['finalized']}")
    if info["dropped"] != 0:
        fail(check, f"{info['dropped']} records dropped")


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


def span_of(event):
    """A Chrome complete event's (begin_ns, end_ns)."""
    begin = event["ts"] * 1000
    return int(begin), int(begin + event["dur"] * 1000)


def step_spans(events):
    """The step spans of read_chrome's events: (rank, step) -> [(begin_ns, end_ns)], one per span."""
    spans = collections.defaultdict(list)
    for rank, event in events:
        if event.get("cat") == "step":
            spans[rank, int(event["args"]["step"])].append(span_of(event))
    return dict(spans)


def check_inside_steps(calls, spans, fail, check):
    """Fails `check` for every all-to-all (of all_to_alls) not within the first span of its step on its rank."""
    for call in calls:
        span = spans.get((call["rank"], call["step"]))
        if not span:
            fail(check, f"rank {call['rank']}: an all-to-all of step {call['step']}, which has no span")
            continue
        begin, end = span[0]
        if not begin <= call["start_ns"] <= call["end_ns"] <= end:
            fail(check, f"rank {call['rank']} step {call['step']} layer {call['layer']}: {call['phase']} "
                        f"all-to-all [{call['start_ns']}, {call['end_ns']}] outside the step [{begin}, {end}]")
