#!/usr/bin/env bash
# The workload is killed with SIGKILL mid-run: moeprof exits 137 (the workload's), the trace
# passes `moeprof check`, and it holds every step the workload recorded a while before the
# kill, each with exactly its tokens. The agent flushes every MOEPROF_FLUSH_MS (50 ms by
# default), which bounds what a SIGKILL can lose; the test waits 20 intervals (1 s) so that a
# loaded CI machine does not make it flaky, and reports how many later steps were kept too.
# usage: sigkill_test.sh MOEPROF STEADY_WORKLOAD WORKDIR
source "$(dirname "$0")/lib.sh"
moeprof=$1 workload=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
flush_ms=50

"$moeprof" run -o t.db -- "$workload" --period-ms 5 >progress.txt 2>err.txt &
runner=$!
for _ in $(seq 200); do  # up to 10 s for the first 20 steps
  grep -q '^recorded step 20$' progress.txt 2>/dev/null && break
  sleep 0.05
done
grep -q '^recorded step 20$' progress.txt || { kill "$runner"; fail "the workload did not start: $(cat err.txt)"; }
# The last step recorded now is flushed well before 20 intervals later (the workload goes on).
safe=$(grep -c '^recorded step' progress.txt)
safe=$((safe - 1))
sleep "$(awk -v ms=$((20 * flush_ms)) 'BEGIN {print ms / 1000}')"
pkill -KILL -f "^$workload --period-ms 5" || fail "no workload to kill"
got=0
wait "$runner" || got=$?
[ "$got" = 137 ] || fail "moeprof run exited $got, expected 137 (the workload's SIGKILL): $(cat err.txt)"

expect_exit 0 "$moeprof" check t.db
expect_exit 0 "$moeprof" export t.db --what expert-load -o load.csv
# rank,step,layer,expert,tokens: step s holds s + 1 tokens of expert 0 in layer 0.
awk -F, -v safe="$safe" 'NR > 1 && $4 == 0 && $3 == 0 { tokens[$2] = $5 }
  END { for (s = 0; s <= safe; ++s) if (tokens[s] != s + 1) { print "step " s ": " tokens[s] " tokens"; bad = 1 }
        exit bad }' load.csv || fail "steps recorded before the kill are missing or wrong"
last=$(tail -1 progress.txt | awk '{print $3}')
echo "sigkill_test: steps 0..$safe recorded >= $((20 * flush_ms)) ms before SIGKILL are all in the trace;" \
  "$(($(wc -l <load.csv) - 1)) of the $((last + 1)) steps recorded were kept"
