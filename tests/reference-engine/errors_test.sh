#!/usr/bin/env bash
# Bad input on 4 ranks: one line from moe-engine naming the problem, a non-zero exit, no hang
# (mpi() turns a hang into exit 124). --help and --list-presets print once and succeed.
# usage: errors_test.sh MOE_ENGINE WORKDIR
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../e2e/lib.sh"
source "$here/../e2e/engine_lib.sh"
engine=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"

# expect_engine_error MESSAGE ARGS...: mpirun reports the failure; exactly one line of ours.
expect_engine_error() {
  local message=$1
  shift
  local got=0
  mpi 4 "$engine" --layers 2 --steps 1 "$@" >out.txt 2>err.txt || got=$?
  [ "$got" != 0 ] && [ "$got" != 124 ] || { cat err.txt >&2; fail "'$*' exited $got"; }
  [ "$(grep -c '^moe-engine: ' err.txt)" = 1 ] || { cat err.txt >&2; fail "'$*': expected one moe-engine line"; }
  grep -q "^moe-engine: .*$message" err.txt || { cat err.txt >&2; fail "'$*': no '$message'"; }
  ! grep -q "^moe-engine: deepseek" out.txt || fail "'$*' ran anyway"
}

expect_engine_error "unknown option '--bogus'" --bogus
expect_engine_error "unknown preset 'gpt-2'" --preset gpt-2
expect_engine_error "bad value '0' for --steps" --steps 0
expect_engine_error "bad value 'zipf:-1' for --skew" --skew zipf:-1
expect_engine_error "needs at least as many --tokens" --tokens 4 --overlap chunks:8
expect_engine_error "bad value 'gpu' for --backend" --backend gpu
# Without a usable GPU (or a build without CUDA), --backend cuda says why before any work.
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect_engine_error "--backend cuda: " --backend cuda
fi
expect_engine_error "missing.json: cannot open: No such file or directory" --placement missing.json
echo '{"format": "moeprof-placement", "version": 1,' >broken.json
expect_engine_error "broken.json: not JSON: parse error" --placement broken.json
python3 -c '
import json
def doc(experts, ranks, rows):
    return {"format": "moeprof-placement", "version": 1, "num_experts": experts, "num_ranks": ranks,
            "default": {"experts": rows}}
json.dump(doc(256, 2, [[e % 2] for e in range(256)]), open("two-ranks.json", "w"))
json.dump(doc(8, 4, [[e % 4] for e in range(8)]), open("eight-experts.json", "w"))
json.dump(doc(256, 4, [[e % 4] for e in range(255)]), open("short.json", "w"))
json.dump(doc(256, 4, [[e % 5] for e in range(256)]), open("rank5.json", "w"))
d = doc(256, 4, [[0]] * 256); d["version"] = 2; json.dump(d, open("v2.json", "w"))
d = doc(256, 4, [[0]] * 256); del d["default"]; d["layers"] = [{"layer": 0, "experts": [[0]] * 256}]
json.dump(d, open("layer0-only.json", "w"))
'
expect_engine_error "two-ranks.json: made for 2 ranks, the run has 4" --placement two-ranks.json
expect_engine_error "eight-experts.json: made for 8 experts, the run has 256" --placement eight-experts.json
expect_engine_error "short.json: \"default\": expert 255 is missing" --placement short.json
expect_engine_error "rank5.json: \"default\": expert 4: rank 4 out of range (num_ranks is 4)" --placement rank5.json
expect_engine_error "v2.json: placement file version 2 is not supported" --placement v2.json
expect_engine_error "layer0-only.json: layer 1 has no placement" --placement layer0-only.json

expect_exit 0 mpi 4 "$engine" --help
[ "$(grep -c '^usage: ' out.txt)" = 1 ] || fail "--help: $(cat out.txt)"
expect_exit 0 mpi 4 "$engine" --list-presets
[ "$(grep -c '^deepseek-v3 ' out.txt)" = 1 ] || fail "--list-presets: $(cat out.txt)"
[ "$(grep -c '^mixtral-8x7b ' out.txt)" = 1 ] || fail "--list-presets: $(cat out.txt)"
echo "PASS"
