#!/usr/bin/env bash
# libmoeprof_nccl.so exports the two profiler tables NCCL looks up and nothing else (it is
# loaded into every NCCL process: no symbol of ours may take the place of the program's).
# usage: exports_test.sh LIBMOEPROF_NCCL
set -euo pipefail
got=$(nm -D --defined-only "$1" | awk '{print $3}' | sort | tr '\n' ' ')
[ "$got" = "ncclProfiler_v4 ncclProfiler_v5 " ] || { echo "FAIL: exports: $got" >&2; exit 1; }
echo PASS
