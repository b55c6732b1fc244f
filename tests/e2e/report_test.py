#!/usr/bin/env python3
"""report_test.py MOEPROF SCHEMA WORKDIR: `moeprof report` of a synthetic trace. The JSON
validates against schemas/report.schema.json; its per-layer tokens and drift agree with
`moeprof export --what expert-load` (a different code path over the same trace), its memory
per rank with the model's published sizes; the Markdown, HTML and PDF show the same numbers;
the HTML is self-contained with well-formed SVG charts; the PDF renders; a layer/step window
narrows the report. Exit 77 (skipped) without Python's jsonschema or poppler's tools."""
import csv
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

try:
    import jsonschema
except ImportError:
    print("jsonschema is not installed: skipped")
    sys.exit(77)
if not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
    print("poppler-utils (pdftotext, pdftoppm) is not installed: skipped")
    sys.exit(77)

moeprof, schema_path, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
db = os.path.join(work, "t.db")
if os.path.exists(db):
    os.remove(db)


def run(*args):
    return subprocess.run([moeprof, *args], check=True, capture_output=True, text=True).stdout


run("synth", "--shape", "mixtral-8x7b", "--ranks", "4", "--steps", "6", "--tokens", "512", "--skew", "zipf:1.2",
    "--routing", "-o", db)
report = json.loads(run("report", db, "--format", "json", "-o", "-"))
schema = json.load(open(schema_path))
jsonschema.Draft202012Validator.check_schema(schema)
errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(report)]
if errors:
    sys.exit(f"the report does not validate: {errors[:5]}")

tokens = {}
per_step = {}  # (layer, step) -> [tokens per expert]
for row in csv.DictReader(run("export", db, "--what", "expert-load").splitlines()):
    layer, step, expert = int(row["layer"]), int(row["step"]), int(row["expert"])
    tokens[layer] = tokens.get(layer, 0) + int(row["tokens"])
    per_step.setdefault((layer, step), [0] * 8)[expert] += int(row["tokens"])
got = {layer["layer"]: layer["tokens"] for layer in report["layers"]}
if got != tokens:
    sys.exit(f"per-layer tokens differ from the CSV export: {got} vs {tokens}")
if len(got) != 32:
    sys.exit(f"expected the 32 layers of mixtral-8x7b, got {len(got)}")

# Drift: total variation distance between the expert shares of steps 0-2 and 3-5.
for layer in report["layers"]:
    halves = []
    for steps in (range(0, 3), range(3, 6)):
        summed = [sum(per_step[(layer["layer"], s)][e] for s in steps) for e in range(8)]
        halves.append([x / sum(summed) for x in summed])
    drift = 0.5 * sum(abs(a - b) for a, b in zip(*halves))
    if abs(layer["drift"] - drift) > 1e-9:
        sys.exit(f"layer {layer['layer']} drift {layer['drift']} != {drift} from the CSV export")
    if sum(layer["tokens_per_expert"]) != layer["tokens"] or sum(layer["tokens_per_rank"]) != layer["tokens"]:
        sys.exit(f"layer {layer['layer']}: tokens per expert or per rank do not add up to its tokens")
    # Every token of the router decisions chose top-2 experts: tokens = 2 x routed tokens.
    if layer["routed_tokens"] * 2 != layer["tokens"]:
        sys.exit(f"layer {layer['layer']}: {layer['routed_tokens']} routed tokens for {layer['tokens']} assignments")
    pairs = layer["top_pairs"]
    if not 1 <= len(pairs) <= 5 or any(p["tokens"] > layer["routed_tokens"] for p in pairs) or \
            [p["tokens"] for p in pairs] != sorted((p["tokens"] for p in pairs), reverse=True):
        sys.exit(f"layer {layer['layer']}: implausible co-activation pairs {pairs}")

# Rank x rank volume: the dispatch bytes of the all-to-all CSV export, summed per (rank, peer).
volume = [[0] * 4 for _ in range(4)]
for row in csv.DictReader(run("export", db, "--what", "a2a", "--format", "csv").splitlines()):
    if row["phase"] == "dispatch":
        volume[int(row["rank"])][int(row["peer"])] += int(row["send_bytes"])
if report["dispatch_volume"] != {"ranks": 4, "bytes": volume}:
    sys.exit(f"dispatch volume {report['dispatch_volume']} != {volume} from the CSV export")
if sum(map(sum, volume)) == 0:
    sys.exit("the trace dispatched nothing: the volume check means nothing")

# Per-rank communication: the ranks add up to the summary's, and a rank's union of
# all-to-all time is at most the summed durations of its events in the CSV export.
events = set()
for row in csv.DictReader(run("export", db, "--what", "a2a", "--format", "csv").splitlines()):
    events.add((int(row["rank"]), row["step"], row["layer"], row["phase"], int(row["start_ns"]), int(row["end_ns"])))
ranks = report["ranks"]
if [r["rank"] for r in ranks] != [0, 1, 2, 3]:
    sys.exit(f"per-rank communication for ranks {[r['rank'] for r in ranks]}")
if sum(r["comm_ns"] for r in ranks) != report["summary"]["comm_ns"] or \
        sum(r["exposed_comm_ns"] for r in ranks) != report["summary"]["exposed_comm_ns"]:
    sys.exit("per-rank communication does not add up to the summary's")
for r in ranks:
    summed = sum(e[5] - e[4] for e in events if e[0] == r["rank"])
    if not 0 < r["comm_ns"] <= summed or r["overlapped_ns"] > r["comm_ns"]:
        sys.exit(f"rank {r['rank']}: comm {r['comm_ns']} ns against {summed} ns of all-to-all events")

# Utilisation: tokens / (capacity factor x mean tokens per expert), the busiest expert's is
# its imbalance / the capacity factor.
for layer in report["layers"]:
    mean = layer["tokens"] / len(layer["tokens_per_expert"])
    expected = [t / (layer["capacity_factor"] * mean) for t in layer["tokens_per_expert"]]
    if any(abs(a - b) > 1e-9 for a, b in zip(layer["utilisation"], expected)) or \
            abs(max(layer["utilisation"]) - layer["imbalance"] / layer["capacity_factor"]) > 1e-9:
        sys.exit(f"layer {layer['layer']}: utilisation {layer['utilisation']} != {expected}")

# Block placement: each of 4 ranks holds 32 layers x 8 experts / 4 = 64 experts of Mixtral's
# published size (3 x hidden 4096 x ffn 14336 bf16 weights).
summary = report["summary"]
expected_bytes = 64 * 3 * 4096 * 14336 * 2
if summary["expert_slots_per_rank"] != [64] * 4 or summary["expert_weight_bytes_per_rank"] != [expected_bytes] * 4:
    sys.exit(f"memory per rank {summary['expert_slots_per_rank']} {summary['expert_weight_bytes_per_rank']}")
# The suggested placement moves experts between ranks, never tokens out of the layer: the
# ranks' tokens after it add up to the same total, and its busiest rank is not busier.
after = summary["placement"]["tokens_per_rank_after"]
if len(after) != 4 or abs(sum(after) - sum(summary["tokens_per_rank"])) > 1e-6 * sum(after):
    sys.exit(f"tokens per rank after the suggested placement {after} against {summary['tokens_per_rank']}")
if summary["placement"]["busiest_after"] > summary["placement"]["busiest_before"]:
    sys.exit(f"the suggestion made the busiest rank busier: {summary['placement']}")
if len(report["over_time"]) != 6 or [p["first_step"] for p in report["over_time"]] != list(range(6)):
    sys.exit(f"load over time should have the 6 steps: {report['over_time']}")


def key_numbers(r):
    """The numbers every human-readable format must show, as they print them."""
    out = [r["summary"][k] for k in ("imbalance", "gini", "overload_factor", "capacity_factor", "drift")]
    for layer in r["layers"]:
        out += [layer[k] for k in ("imbalance", "gini", "capacity_factor", "overload_factor", "drift")]
        out += [p["tokens"] for p in layer["top_pairs"]]
    return [f"{v:.4f}" if isinstance(v, float) else str(v) for v in out]


def check_shows_numbers(name, text):
    missing = [n for n in key_numbers(report) if n not in text]
    if missing:
        sys.exit(f"the {name} report lacks {len(missing)} numbers of the JSON, e.g. {missing[:5]}")

check_shows_numbers("Markdown", run("report", db, "--format", "md", "-o", "-"))

html_path = os.path.join(work, "report.html")
run("report", db, "--format", "html", "-o", html_path)
page = open(html_path, encoding="utf-8").read()
check_shows_numbers("HTML", page)
html.parser.HTMLParser().feed(page)
svgs = re.findall(r"<svg.*?</svg>", page, re.S)
if len(svgs) < 3:
    sys.exit(f"expected the heatmap, load-over-time and rank charts, found {len(svgs)} SVGs")
for svg in svgs:
    ElementTree.fromstring(svg)  # well-formed, or this raises
outside = [u for u in re.findall(r"(?:src|href)=\"([^\"]*)\"|url\(([^)]*)\)", page) if any(u)]
if outside or "<script" in page:
    sys.exit(f"the HTML report is not self-contained: {outside[:3]}")
if page.count("<rect") < 32 * 8:
    sys.exit("the heatmap does not have a cell per layer and expert")

pdf_path = os.path.join(work, "report.pdf")
run("report", db, "--format", "pdf", "-o", pdf_path)
if not open(pdf_path, "rb").read(5) == b"%PDF-":
    sys.exit("the PDF report does not start like a PDF")
check_shows_numbers("PDF", subprocess.run(["pdftotext", "-layout", pdf_path, "-"], check=True, capture_output=True,
                                          text=True).stdout)
png_prefix = os.path.join(work, "page")
if os.path.exists(png_prefix + ".png"):
    os.remove(png_prefix + ".png")
subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", pdf_path, png_prefix], check=True)
if not os.path.exists(png_prefix + ".png") or os.path.getsize(png_prefix + ".png") < 2000:
    sys.exit("pdftoppm did not render the PDF's first page")

window = json.loads(run("report", db, "-o", "-", "--layers", "2-3,7", "--steps", "1:3"))
if [layer["layer"] for layer in window["layers"]] != [2, 3, 7]:
    sys.exit(f"--layers 2-3,7 gave layers {[layer['layer'] for layer in window['layers']]}")
if (window["window"]["first_step"], window["window"]["last_step"]) != (1, 2):
    sys.exit(f"--steps 1:3 gave steps {window['window']['first_step']}..{window['window']['last_step']}")

bad = subprocess.run([moeprof, "report", db, "--format", "docx", "-o", "-"], capture_output=True, text=True)
if bad.returncode == 0 or bad.stderr.count("\n") != 1:
    sys.exit(f"a bad format must fail with one line: rc {bad.returncode}, {bad.stderr!r}")
print("report: ok")
