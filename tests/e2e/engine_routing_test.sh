#!/usr/bin/env bash
# `moeprof run --routing full`: every (rank, step, layer) has router decisions whose expert
# ids add up to the recorded expert load, with DeepSeek-V3's gate weights (normalised, times
# the routed scaling 2.5) per token; without --routing nothing is recorded.
# usage: engine_routing_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 dbtool=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
args=(--preset deepseek-v3 --layers 4 --steps 5 --skew zipf:0.8 --overlap chunks:2)

expect_exit 0 timeout 240 "$moeprof" run --routing full -o full.db -- mpirun -np 4 "$engine" "${args[@]}"
grep -q " 0 dropped" err.txt || fail "something was dropped: $(cat err.txt)"
expect_exit 0 "$dbtool" verify-routing full.db 2.5
grep -q "^80 router batches over 80 (rank, step, layer): 0 mismatches, 0 tokens with bad weights" out.txt ||
  fail "routing: $(cat out.txt)"

expect_exit 0 record "$moeprof" off.db 4 "$engine" "${args[@]}"
expect_exit 0 "$moeprof" info --json off.db
[ "$(json_field out.txt 'j["rows"]["router_decisions"]')" = 0 ] || fail "routing recorded without --routing"
[ "$(json_field out.txt 'j["rows"]["expert_load"]')" = 80 ] || fail "expert load rows: $(cat out.txt)"
[ "$(json_field out.txt 'j["run"]["capture_sources"]')" = "['api']" ] || fail "capture sources: $(cat out.txt)"
echo "PASS"
