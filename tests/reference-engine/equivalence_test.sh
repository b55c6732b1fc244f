#!/usr/bin/env bash
# The expert-parallel result equals a single-rank run of the same model: every rank holds T
# tokens that a single rank with R*T tokens also computes (tokens are made from their global
# index), so the final hidden states must agree within float tolerance, whatever the
# all-to-all mode or the placement (with replicas) of the experts.
# usage: equivalence_test.sh MOE_ENGINE WORKDIR
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../e2e/lib.sh"
source "$here/../e2e/engine_lib.sh"
engine=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"

compare() {
  python3 "$here/compare_outputs.py" "$1" "$2" || fail "$2 differs from $1"
}

# deepseek-v3: sigmoid, group-limited routing, routed scaling, a shared expert.
ds=(--preset deepseek-v3 --layers 4 --steps 2 --seed 11)
expect_exit 0 mpi 1 "$engine" "${ds[@]}" --tokens 128 --dump-output one.txt
expect_exit 0 mpi 4 "$engine" "${ds[@]}" --tokens 32 --dump-output four.txt
grep -q "^moe-engine: deepseek-v3 on 4 ranks, 4 layers, 2 steps x 32 tokens/rank, overlap none" out.txt ||
  fail "summary: $(cat out.txt)"
compare one.txt four.txt
expect_exit 0 mpi 4 "$engine" "${ds[@]}" --tokens 32 --overlap chunks:4 --dump-output chunks.txt
compare one.txt chunks.txt

# Replicas: every third expert on two ranks, the experts scattered over the ranks.
python3 - <<'PY'
import json
experts = [[(e * 5) % 4] + ([(e * 5 + 1) % 4] if e % 3 == 0 else []) for e in range(256)]
doc = {"format": "moeprof-placement", "version": 1, "num_experts": 256, "num_ranks": 4,
       "layers": [{"layer": 1, "experts": [[3 - (e % 4)] for e in range(256)]}],
       "default": {"experts": experts}}
json.dump(doc, open("replicated.json", "w"))
PY
expect_exit 0 mpi 4 "$engine" "${ds[@]}" --tokens 32 --placement replicated.json --dump-output replicated.txt
compare one.txt replicated.txt
expect_exit 0 mpi 4 "$engine" "${ds[@]}" --tokens 32 --placement replicated.json --overlap chunks:3 \
  --dump-output replicated-chunks.txt
compare one.txt replicated-chunks.txt

# Skew with drift and aux-free balancing: the bias follows the global load, the same on 1 and 4 ranks.
knobs=(--skew zipf:1.2 --drift --balance aux-free --steps 3)
expect_exit 0 mpi 1 "$engine" "${ds[@]}" "${knobs[@]}" --tokens 128 --dump-output one-balanced.txt
expect_exit 0 mpi 4 "$engine" "${ds[@]}" "${knobs[@]}" --tokens 32 --overlap chunks:2 --dump-output four-balanced.txt
compare one-balanced.txt four-balanced.txt

# mixtral-8x7b: softmax top-2, no shared expert, 2 ranks.
mx=(--preset mixtral-8x7b --layers 3 --steps 2 --hidden 64 --ffn 96)
expect_exit 0 mpi 1 "$engine" "${mx[@]}" --tokens 96 --dump-output mixtral-one.txt
expect_exit 0 mpi 2 "$engine" "${mx[@]}" --tokens 48 --overlap chunks:2 --dump-output mixtral-two.txt
compare mixtral-one.txt mixtral-two.txt

# The comparison can fail: another seed computes other states.
expect_exit 0 mpi 4 "$engine" --preset deepseek-v3 --layers 4 --steps 2 --seed 12 --tokens 32 --dump-output other.txt
if python3 "$here/compare_outputs.py" one.txt other.txt >compare.txt; then
  fail "outputs of different seeds compare equal: $(cat compare.txt)"
fi
echo "PASS"
