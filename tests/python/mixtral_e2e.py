"""End to end: a tiny transformers Mixtral under `moeprof run`, recorded by the Python adapter
with no change to its code, against the ground truth the workload computes from the model's
own router logits.

    python mixtral_e2e.py --moeprof BIN --python PY --workdir DIR

Checks, for --routing full and --routing off:
  - the outputs are bitwise identical to a run without moeprof (the hooks change nothing);
  - per step, layer and expert, the trace's expert load equals the truth's token counts;
  - with routing full the trace's routing rows reproduce every token's top-2 ids, in order,
    and their weights; with routing off there are none;
  - the trace knows the model (mixtral, 4 layers, 8 experts, top-2) and its steps 0..N-1.
Exits 1 with one line per failure.
"""

import argparse
import csv
import io
import json
import os
import subprocess
import sys

STEPS = 3
HERE = os.path.dirname(os.path.abspath(__file__))


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)
        return condition


def run(command, env=None):
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def export(moeprof, db, what):
    return list(csv.DictReader(io.StringIO(run([moeprof, "export", db, "--what", what]).stdout)))


def plain_environment():
    """The environment of a run without moeprof: no adapter on the path, no agent."""
    env = dict(os.environ)
    for name in ("LD_PRELOAD", "PYTHONPATH", "MOEPROF_SOCKET"):
        env.pop(name, None)
    return env


def check_trace(check, moeprof, db, truth, routing):
    label = f"[routing {routing}]"
    info = json.loads(run([moeprof, "info", db, "--json"]).stdout)
    model = info.get("model") or {}
    check.expect((model.get("name"), model.get("num_layers"), model.get("num_experts"), model.get("top_k")) ==
                 ("mixtral", truth["layers"], truth["experts"], truth["top_k"]), f"{label} model in the trace: {model}")

    load = {}
    for row in export(moeprof, db, "expert-load"):
        check.expect(row["rank"] == "0", f"{label} expert load of rank {row['rank']}: one process, rank 0 expected")
        load[(int(row["step"]), int(row["layer"]), int(row["expert"]))] = int(row["tokens"])
    expected = {(s, l, e): n for s, layers in enumerate(truth["steps"]) for l, layer in enumerate(layers)
                for e, n in enumerate(layer["counts"]) if n}
    for key in sorted(set(load) | set(expected)):
        check.expect(load.get(key) == expected.get(key),
                     f"{label} step {key[0]} layer {key[1]} expert {key[2]}: trace {load.get(key)} tokens, "
                     f"router logits say {expected.get(key)}")

    decisions = export(moeprof, db, "routing")
    if routing == "off":
        check.expect(not decisions, f"{label} {len(decisions)} routing rows recorded")
        return
    chosen = {}
    for row in decisions:
        chosen[(int(row["step"]), int(row["layer"]), int(row["token"]), int(row["slot"]))] = (
            int(row["expert"]), float(row["weight"]))
    total = 0
    for s, layers in enumerate(truth["steps"]):
        for l, layer in enumerate(layers):
            for token, (ids, weights) in enumerate(zip(layer["ids"], layer["weights"])):
                for slot, (expert, weight) in enumerate(zip(ids, weights)):
                    total += 1
                    got = chosen.get((s, l, token, slot))
                    if not check.expect(got is not None and got[0] == expert,
                                        f"{label} step {s} layer {l} token {token} slot {slot}: trace {got}, "
                                        f"router logits say expert {expert}"):
                        continue
                    check.expect(abs(got[1] - weight) <= 1e-6 * max(1.0, abs(weight)),
                                 f"{label} step {s} layer {l} token {token} slot {slot}: weight {got[1]} != {weight}")
    check.expect(len(chosen) == total, f"{label} {len(chosen)} routing choices recorded, {total} made")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moeprof", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    path = lambda name: os.path.join(args.workdir, name)  # noqa: E731
    workload = [args.python, os.path.join(HERE, "mixtral_workload.py"), "--steps", str(STEPS)]

    run(workload + ["--logits", path("plain.bin"), "--truth", path("truth.json")], env=plain_environment())
    with open(path("truth.json")) as f:
        truth = json.load(f)
    with open(path("plain.bin"), "rb") as f:
        plain = f.read()

    check = Checker()
    for routing in ("full", "off"):
        db = path(f"mixtral-{routing}.db")
        result = run([args.moeprof, "run", "-f", "-o", db, "--routing", routing, "--"] + workload +
                     ["--logits", path(f"{routing}.bin"), "--truth", path(f"truth-{routing}.json")])
        check.expect("python: " not in result.stderr, f"[routing {routing}] the adapter complained: {result.stderr}")
        with open(path(f"{routing}.bin"), "rb") as f:
            check.expect(f.read() == plain, f"[routing {routing}] the outputs differ from the run without moeprof")
        check_trace(check, args.moeprof, db, truth, routing)

    for failure in check.failures[:50]:
        print("FAILED:", failure)
    if check.failures:
        print(f"{len(check.failures)} failures")
        return 1
    print(f"mixtral e2e: {STEPS} steps x {truth['layers']} layers: expert load, routing and outputs exact "
          f"(routing full and off)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
