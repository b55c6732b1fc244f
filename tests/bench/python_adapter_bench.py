"""Slowdown of a tiny Mixtral's forward loop under the Python adapter (issue 8).

    moeprof run [--routing full] -- python tests/bench/python_adapter_bench.py [--rounds R]

Run under `moeprof run` with MOEPROF_PYTHON_HOOKS without "routers" (tests/bench/
python_adapter_overhead.sh does that), so that models are not hooked on their own: it builds
two identical models, hooks one with moeprof.attach, and times forward loops of the two in
alternation in this one process, R rounds of N forwards each. Prints the median ms per
forward of each model and their ratio (hooked / plain): one JSON line, or with --label a
table row.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import moeprof  # noqa: E402
from mixtral_workload import batches, build_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--forwards", type=int, default=10)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--sequence", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--label")
    args = parser.parse_args()
    if not moeprof.enabled():
        sys.exit("python_adapter_bench: not recorded; run it under moeprof run")
    torch.set_num_threads(1)
    plain, hooked = build_model(hidden=args.hidden), build_model(hidden=args.hidden)
    moeprof.attach(hooked)
    inputs = batches(args.forwards, batch=args.batch, sequence=args.sequence)
    times = {"plain": [], "hooked": []}
    with torch.no_grad():
        for model in (plain, hooked):  # warm-up
            model(inputs[0])
        for _ in range(args.rounds):
            for name, model in (("plain", plain), ("hooked", hooked)):
                start = time.perf_counter()
                for tokens in inputs:
                    model(tokens)
                times[name].append((time.perf_counter() - start) * 1e3 / args.forwards)
    plain_ms, hooked_ms = statistics.median(times["plain"]), statistics.median(times["hooked"])
    if args.label:
        print(f"{args.label:<14} {plain_ms:>10.3f} {hooked_ms:>10.3f} {hooked_ms / plain_ms:>8.3f}")
    else:
        print(json.dumps({"plain_ms": round(plain_ms, 3), "hooked_ms": round(hooked_ms, 3),
                          "ratio": round(hooked_ms / plain_ms, 4), "tokens_per_forward": args.batch * args.sequence}))


if __name__ == "__main__":
    main()
