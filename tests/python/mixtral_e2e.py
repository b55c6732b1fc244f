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

import json
import os
import sys

from trace_checks import (Failures, check_expert_load, check_routing, driver_arguments, export_rows, info_json,
                          plain_environment, run_checked)

STEPS = 3
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_REPORTED = 50  # failures printed per check; the rest are counted
WEIGHT_TOLERANCE = 1e-6  # times max(1, |weight|)


def check_trace(fail, moeprof, db, truth, routing):
    label = f"routing {routing}"
    model = info_json(moeprof, db).get("model") or {}
    fail.expect((model.get("name"), model.get("num_layers"), model.get("num_experts"), model.get("top_k")) ==
                ("mixtral", truth["layers"], truth["experts"], truth["top_k"]), label, f"model in the trace: {model}")

    # One process, rank 0: (0, step, layer) -> what the router logits say of that layer.
    layers = {(0, s, l): layer for s, step_layers in enumerate(truth["steps"]) for l, layer in enumerate(step_layers)}
    counts = {key: layer["counts"] for key, layer in layers.items()}
    check_expert_load(export_rows(moeprof, db, "expert-load"), counts, fail, f"{label}: expert load")
    chosen = {key: (layer["ids"], layer["weights"]) for key, layer in layers.items()} if routing == "full" else {}
    check_routing(export_rows(moeprof, db, "routing"), chosen, fail, f"{label}: routing", WEIGHT_TOLERANCE)


def main():
    args = driver_arguments()
    path = lambda name: os.path.join(args.workdir, name)  # noqa: E731
    workload = [args.python, os.path.join(HERE, "mixtral_workload.py"), "--steps", str(STEPS)]

    run_checked(workload + ["--logits", path("plain.bin"), "--truth", path("truth.json")], env=plain_environment())
    with open(path("truth.json")) as f:
        truth = json.load(f)
    with open(path("plain.bin"), "rb") as f:
        plain = f.read()

    fail = Failures(MAX_REPORTED)
    for routing in ("full", "off"):
        db = path(f"mixtral-{routing}.db")
        result = run_checked([args.moeprof, "run", "-f", "-o", db, "--routing", routing, "--"] + workload +
                             ["--logits", path(f"{routing}.bin"), "--truth", path(f"truth-{routing}.json")])
        fail.expect("python: " not in result.stderr, f"routing {routing}", f"the adapter complained: {result.stderr}")
        with open(path(f"{routing}.bin"), "rb") as f:
            fail.expect(f.read() == plain, f"routing {routing}", "the outputs differ from the run without moeprof")
        check_trace(fail, args.moeprof, db, truth, routing)

    failures = fail.total()
    if failures:
        print(f"mixtral e2e: {failures} failures")
        return 1
    print(f"mixtral e2e: {STEPS} steps x {truth['layers']} layers: expert load, routing and outputs exact "
          f"(routing full and off)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
