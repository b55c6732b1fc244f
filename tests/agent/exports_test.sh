#!/usr/bin/env bash
# A capture library exports exactly the entry points its host looks up and nothing else (it
# is loaded into arbitrary processes: no symbol of ours may take the place of the program's).
# usage: exports_test.sh LIBRARY SYMBOL...
set -euo pipefail
lib=$1
shift
got=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort | tr '\n' ' ')
want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
[ "$got" = "$want" ] || { echo "FAIL: $lib exports '$got', expected '$want'" >&2; exit 1; }
echo PASS
