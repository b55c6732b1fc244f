#!/usr/bin/env python3
"""compare_outputs.py A B: two moe-engine --dump-output files hold the same tokens, each value
equal within float tolerance (|a - b| <= 1e-4 * (1 + |b|)). Exit 0 when they do, 1 (with
the largest difference) when not."""
import sys


def read(path):
    with open(path) as f:
        header = f.readline().split()
        if header[:2] != ["moe-engine-output", "v1"]:
            sys.exit(f"{path}: not a moe-engine output dump")
        rows = [line.split() for line in f]
    return header, rows


def main():
    (header_a, rows_a), (header_b, rows_b) = read(sys.argv[1]), read(sys.argv[2])
    if header_a != header_b or len(rows_a) != len(rows_b):
        print(f"different shapes: {header_a} x {len(rows_a)} rows, {header_b} x {len(rows_b)} rows")
        return 1
    worst, where, values = 0.0, None, 0
    for row_a, row_b in zip(rows_a, rows_b):
        if row_a[:2] != row_b[:2] or len(row_a) != len(row_b):
            print(f"rows differ in step/token: {row_a[:2]} vs {row_b[:2]}")
            return 1
        for a, b in zip(map(float, row_a[2:]), map(float, row_b[2:])):
            excess = abs(a - b) / (1.0 + abs(b))
            values += 1
            if excess > worst:
                worst, where = excess, (row_a[0], row_a[1], a, b)
    print(f"{len(rows_a)} (step, token) rows, {values} values: largest relative difference {worst:.3g}"
          + (f" (step {where[0]} token {where[1]}: {where[2]} vs {where[3]})" if where else ""))
    return 0 if values > 0 and worst <= 1e-4 else 1


sys.exit(main())
