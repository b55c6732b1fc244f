"""End to end: what `moeprof run` and `moeprof info` say when there is nothing MoE to record.

    python notes_e2e.py --moeprof BIN --python PY --workdir DIR

  - MOEPROF_DISABLE=1: the tiny Mixtral runs as without moeprof (exit 0, same outputs, no
    adapter output) and `moeprof info` notes that no process reported;
  - a dense transformers model (Llama): runs, exit 0; info notes that no MoE events were
    recorded and the adapter's own note that it found no MoE layer in the model;
  - bad adapter settings: one line saying so, and the program runs on unrecorded by the adapter.
Exits 1 with one line per failure.
"""

import os
import subprocess
import sys

from trace_checks import Failures, driver_arguments, info_json, plain_environment

HERE = os.path.dirname(os.path.abspath(__file__))
DENSE = """
import torch
from transformers import LlamaConfig, LlamaForCausalLM
config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=1)
with torch.no_grad():
    print(LlamaForCausalLM(config)(torch.randint(0, 64, (1, 4))).logits.shape[-1])
"""


def run(command, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=300)


def main():
    args = driver_arguments()
    path = lambda name: os.path.join(args.workdir, name)  # noqa: E731
    mixtral = [args.python, os.path.join(HERE, "mixtral_workload.py"), "--steps", "2"]
    fail = Failures()
    plain = subprocess.run(mixtral + ["--logits", path("plain.bin")], env=plain_environment(), timeout=300)
    fail.expect(plain.returncode == 0, "plain", "the plain Mixtral run failed")

    # A disabled agent.
    db = path("disabled.db")
    result = run([args.moeprof, "run", "-f", "-o", db, "--"] + mixtral + ["--logits", path("disabled.bin")],
                 env={"MOEPROF_DISABLE": "1"})
    fail.expect(result.returncode == 0, "disabled", f"exit {result.returncode}: {result.stderr}")
    fail.expect("python:" not in result.stderr, "disabled", f"the adapter spoke: {result.stderr}")
    with open(path("plain.bin"), "rb") as a, open(path("disabled.bin"), "rb") as b:
        fail.expect(a.read() == b.read(), "disabled", "outputs differ from the run without moeprof")
    notes = [n["text"] for n in info_json(args.moeprof, db)["notes"]]
    fail.expect(any("no process reported" in n for n in notes), "disabled", f"notes {notes}")

    # A model the adapter finds no MoE layer in.
    db = path("dense.db")
    result = run([args.moeprof, "run", "-f", "-o", db, "--", args.python, "-c", DENSE])
    fail.expect(result.returncode == 0 and result.stdout.strip() == "64", "dense",
                f"{result.returncode} {result.stderr}")
    notes = info_json(args.moeprof, db)["notes"]
    fail.expect(any(n["source"] is None and "no MoE events were recorded" in n["text"] for n in notes), "dense",
                f"no trace note in {notes}")
    fail.expect(any(n["source"] == "python" and "no MoE layer found in LlamaModel (llama)" in n["text"] for n in notes),
                "dense", f"no adapter note in {notes}")
    text = run([args.moeprof, "info", db]).stdout
    fail.expect("python: no MoE layer found" in text, "dense", f"the text of info lacks the note:\n{text}")

    # Bad settings of the adapter.
    db = path("settings.db")
    result = run([args.moeprof, "run", "-f", "-o", db, "--"] + mixtral, env={"MOEPROF_PYTHON_STEP": "epoch"})
    fail.expect(result.returncode == 0, "bad settings", f"exit {result.returncode}")
    fail.expect(result.stderr.count("MOEPROF_PYTHON_STEP: 'epoch'") == 1, "bad settings", f"stderr {result.stderr}")

    failures = fail.total()
    if failures:
        print(f"notes e2e: {failures} failures")
        return 1
    print("notes e2e: disabled agent, dense model and bad settings are noted; the programs ran unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
