#!/usr/bin/env python3
"""report_test.py MOEPROF SCHEMA WORKDIR: `moeprof report` of a synthetic trace. The JSON
validates against schemas/report.schema.json; its per-layer tokens equal the sums of
`moeprof export --what expert-load` (a different code path over the same trace); the
Markdown shows the same per-layer numbers; a layer/step window narrows it. Exit 77 (skipped)
without Python's jsonschema."""
import csv
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("jsonschema is not installed: skipped")
    sys.exit(77)

moeprof, schema_path, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
db = os.path.join(work, "t.db")
if os.path.exists(db):
    os.remove(db)


def run(*args):
    return subprocess.run([moeprof, *args], check=True, capture_output=True, text=True).stdout


run("synth", "--shape", "mixtral-8x7b", "--ranks", "4", "--steps", "6", "--tokens", "512", "--skew", "zipf:1.2",
    "-o", db)
report = json.loads(run("report", db, "--format", "json", "-o", "-"))
schema = json.load(open(schema_path))
jsonschema.Draft202012Validator.check_schema(schema)
errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(report)]
if errors:
    sys.exit(f"the report does not validate: {errors[:5]}")

tokens = {}
for row in csv.DictReader(run("export", db, "--what", "expert-load").splitlines()):
    tokens[int(row["layer"])] = tokens.get(int(row["layer"]), 0) + int(row["tokens"])
got = {layer["layer"]: layer["tokens"] for layer in report["layers"]}
if got != tokens:
    sys.exit(f"per-layer tokens differ from the CSV export: {got} vs {tokens}")
if len(got) != 32:
    sys.exit(f"expected the 32 layers of mixtral-8x7b, got {len(got)}")

md = run("report", db, "--format", "md", "-o", "-")
for layer in report["layers"]:
    for key in ("imbalance", "gini", "capacity_factor", "overload_factor"):
        text = f"{layer[key]:.4f}"
        if text not in md:
            sys.exit(f"layer {layer['layer']} {key} {text} is not in the Markdown report")
if f"{report['summary']['imbalance']:.4f}" not in md:
    sys.exit("the summary imbalance is not in the Markdown report")

window = json.loads(run("report", db, "-o", "-", "--layers", "2-3,7", "--steps", "1:3"))
if [layer["layer"] for layer in window["layers"]] != [2, 3, 7]:
    sys.exit(f"--layers 2-3,7 gave layers {[layer['layer'] for layer in window['layers']]}")
if (window["window"]["first_step"], window["window"]["last_step"]) != (1, 2):
    sys.exit(f"--steps 1:3 gave steps {window['window']['first_step']}..{window['window']['last_step']}")

bad = subprocess.run([moeprof, "report", db, "--format", "docx", "-o", "-"], capture_output=True, text=True)
if bad.returncode == 0 or bad.stderr.count("\n") != 1:
    sys.exit(f"a bad format must fail with one line: rc {bad.returncode}, {bad.stderr!r}")
print("report: ok")
