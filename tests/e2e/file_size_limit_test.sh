#!/usr/bin/env bash
# The trace outgrows the file size limit (ulimit -f). Before the workload starts (a limit
# smaller than the empty trace): one line saying so, exit 2, no file left behind. While the
# workload runs: moeprof is not killed by SIGXFSZ, says the trace is incomplete and why,
# exits with the workload's code; the workload finishes all its work, and the trace kept so
# far passes `moeprof check`.
# usage: file_size_limit_test.sh MOEPROF API_WORKLOAD DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
moeprof=$1 workload=$2 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

# 200 KiB: not even the empty trace fits (a write starting at the limit raises SIGXFSZ,
# which would kill moeprof and leave a broken file were it not ignored).
got=0
(ulimit -f 200 && exec "$moeprof" run -o t.db -- true) >out.txt 2>err.txt || got=$?
[ "$got" = 2 ] || { cat err.txt >&2; fail "moeprof run with a 200 KiB limit exited $got, expected 2"; }
[ "$(grep -c . err.txt)" = 1 ] && grep -q "^moeprof: run: t.db: cannot commit the trace schema: " err.txt ||
  fail "expected one line naming the trace: $(cat err.txt)"
! ls t.db* >/dev/null 2>&1 || fail "files left behind: $(ls t.db*)"

# 4 MiB: the first batches fit, the whole run (about 9 MiB of trace) does not.
got=0
(ulimit -f 4096 && exec "$moeprof" run -o t.db -- "$workload" --steps 1000) >out.txt 2>err.txt || got=$?
[ "$got" = 0 ] || { cat err.txt >&2; fail "moeprof run exited $got (the workload exits 0)"; }
grep -q "^moeprof_api_workload: .* steps .*agent recording" out.txt || fail "the workload did not finish: $(cat out.txt)"
grep -q "^moeprof: the trace t.db is incomplete: t.db: " err.txt || fail "no incomplete-trace message: $(cat err.txt)"
[ "$(stat -c %s t.db)" -le $((4096 * 1024)) ] || fail "t.db outgrew the limit"
expect_exit 0 "$moeprof" check t.db
grep -q "^OK: t.db" out.txt || fail "check: $(cat out.txt)"
# The kept part is a readable trace with events in it.
expect_exit 0 "$moeprof" info --json t.db
python3 -c 'import json,sys; i=json.load(open("out.txt")); sys.exit(0 if i["rows"]["compute_spans"] > 0 else 1)' ||
  fail "no events kept: $(cat out.txt)"
# The workload itself keeps SIGXFSZ's default action (moeprof ignores it only for itself).
expect_exit 0 "$moeprof" run -o ignored.db -- grep '^SigIgn:' /proc/self/status
ignored=$(awk '{print $2}' out.txt)
[ $(( 0x$ignored & (1 << 24) )) = 0 ] || fail "the workload starts with SIGXFSZ ignored (SigIgn $ignored)"

echo "file_size_limit_test: trace stopped at $(stat -c %s t.db) bytes, still valid; workload unharmed"
