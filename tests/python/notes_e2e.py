"""End to end: what `moeprof run` and `moeprof info` say when there is nothing MoE to record.

    python notes_e2e.py --moeprof BIN --python PY --workdir DIR

  - MOEPROF_DISABLE=1: the tiny Mixtral runs as without moeprof (exit 0, same outputs, no
    adapter output) and `moeprof info` notes that no process reported;
  - a dense transformers model (Llama): runs, exit 0; info notes that no MoE events were
    recorded and the adapter's own note that it found no MoE layer in the model;
  - bad adapter settings: one line saying so, and the program runs on unrecorded by the adapter.
Exits 1 with one line per failure.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DENSE = """
import torch
from transformers import LlamaConfig, LlamaForCausalLM
config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=1)
with torch.no_grad():
    print(LlamaForCausalLM(config)(torch.randint(0, 64, (1, 4))).logits.shape[-1])
"""
failures = []


def expect(condition, message):
    if not condition:
        failures.append(message)


def run(command, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=300)


def info(moeprof, db):
    result = run([moeprof, "info", db, "--json"])
    expect(result.returncode == 0, f"moeprof info {db}: {result.stderr}")
    return json.loads(result.stdout) if result.returncode == 0 else {"notes": []}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moeprof", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    path = lambda name: os.path.join(args.workdir, name)  # noqa: E731
    mixtral = [args.python, os.path.join(HERE, "mixtral_workload.py"), "--steps", "2"]
    plain_env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONPATH", "MOEPROF_SOCKET")}
    plain = subprocess.run(mixtral + ["--logits", path("plain.bin")], env=plain_env, timeout=300)
    expect(plain.returncode == 0, "the plain Mixtral run failed")

    # A disabled agent.
    db = path("disabled.db")
    result = run([args.moeprof, "run", "-f", "-o", db, "--"] + mixtral + ["--logits", path("disabled.bin")],
                 env={"MOEPROF_DISABLE": "1"})
    expect(result.returncode == 0, f"disabled: exit {result.returncode}: {result.stderr}")
    expect("python:" not in result.stderr, f"disabled: the adapter spoke: {result.stderr}")
    with open(path("plain.bin"), "rb") as a, open(path("disabled.bin"), "rb") as b:
        expect(a.read() == b.read(), "disabled: outputs differ from the run without moeprof")
    notes = [n["text"] for n in info(args.moeprof, db)["notes"]]
    expect(any("no process reported" in n for n in notes), f"disabled: notes {notes}")

    # A model the adapter finds no MoE layer in.
    db = path("dense.db")
    result = run([args.moeprof, "run", "-f", "-o", db, "--", args.python, "-c", DENSE])
    expect(result.returncode == 0 and result.stdout.strip() == "64", f"dense: {result.returncode} {result.stderr}")
    notes = info(args.moeprof, db)["notes"]
    expect(any(n["source"] is None and "no MoE events were recorded" in n["text"] for n in notes),
           f"dense: no trace note in {notes}")
    expect(any(n["source"] == "python" and "no MoE layer found in LlamaModel (llama)" in n["text"] for n in notes),
           f"dense: no adapter note in {notes}")
    text = run([args.moeprof, "info", db]).stdout
    expect("python: no MoE layer found" in text, f"dense: the text of info lacks the note:\n{text}")

    # Bad settings of the adapter.
    db = path("settings.db")
    result = run([args.moeprof, "run", "-f", "-o", db, "--"] + mixtral, env={"MOEPROF_PYTHON_STEP": "epoch"})
    expect(result.returncode == 0, f"bad settings: exit {result.returncode}")
    expect(result.stderr.count("MOEPROF_PYTHON_STEP: 'epoch'") == 1, f"bad settings: stderr {result.stderr}")

    for failure in failures:
        print("FAILED:", failure)
    if failures:
        return 1
    print("notes e2e: disabled agent, dense model and bad settings are noted; the programs ran unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
