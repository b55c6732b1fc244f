#!/usr/bin/env bash
# moe-engine --backend cuda (one rank per GPU; EP = 1 on a single GPU) under
# `moeprof run --capture api,cupti,nccl,nvtx`: expert load equals the engine's ground truth
# byte for byte, every all-to-all of the ground truth is in the trace with its bytes per peer,
# the GPU kernels are recorded and the MoE ones classified as compute (gate: top-k gating;
# expert: the grouped SwiGLU), all spans lie inside their steps; with --overlap none and
# chunks:3, whose outputs must agree. Skipped (exit 77) without a GPU.
# usage: engine_cuda_test.sh MOEPROF MOE_ENGINE DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/engine_lib.sh"
moeprof=$1 engine=$2 dbtool=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
# The GPUs this process may use: CUDA_VISIBLE_DEVICES when set, else all that nvidia-smi lists.
if [ -n "${CUDA_VISIBLE_DEVICES+x}" ]; then
  gpus=$(tr ',' '\n' <<<"$CUDA_VISIBLE_DEVICES" | grep -c .)
else
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
fi
if [ "${gpus:-0}" -eq 0 ]; then
  echo "engine_cuda_test: no GPU (nvidia-smi lists none): skipped"
  exit 77
fi
np=$(( gpus < 4 ? gpus : 4 )) layers=4 steps=3

# check_run OVERLAP: one recorded run in the folder OVERLAP, checked.
check_run() {
  local overlap=$1
  mkdir -p "$work/$overlap" && cd "$work/$overlap"

  expect_exit 0 timeout 240 "$moeprof" run -o t.db --capture api,cupti,nccl,nvtx -- mpirun -np "$np" "$engine" \
    --backend cuda --overlap "$overlap" --preset deepseek-v3 --layers $layers --steps $steps --ground-truth-dir gt \
    --dump-output output.txt
  grep -q "^moe-engine: deepseek-v3 on $np ranks, $layers layers, $steps steps x .* (agent recording)" out.txt ||
    fail "engine summary: $(cat out.txt)"
  expect_exit 0 "$moeprof" check t.db

  expect_exit 0 "$moeprof" export t.db --what expert-load -o expert-load.csv
  concat_truth gt expert-load >truth-expert-load.csv
  cmp expert-load.csv truth-expert-load.csv ||
    { diff expert-load.csv truth-expert-load.csv | head >&2; fail "expert load differs from the ground truth"; }

  # Every all-to-all the engine made, with its bytes per peer (capture sources may add their
  # own views of the same NCCL traffic; the engine's records must all be there).
  expect_exit 0 "$moeprof" export t.db --what a2a -o a2a.csv
  tail -n +2 a2a.csv | awk -F, '$6 != 0 || $7 != 0' | cut -d, -f1-7 | LC_ALL=C sort -u >a2a.sorted
  concat_truth gt a2a | tail -n +2 | LC_ALL=C sort -u >truth-a2a.sorted
  missing=$(LC_ALL=C comm -13 a2a.sorted truth-a2a.sorted | head -5)
  [ -z "$missing" ] || fail "all-to-alls of the ground truth missing from the trace: $missing"

  # GPU kernels, classified.
  expect_exit 0 "$moeprof" export t.db --what kernels -o kernels.csv
  [ "$(tail -n +2 kernels.csv | wc -l)" -gt 0 ] || fail "no GPU kernels recorded"
  for kind in gate expert; do
    grep -q ",$kind," kernels.csv || fail "no GPU kernel classified as $kind: $(cut -d, -f8 kernels.csv | sort -u | head)"
  done
  expect_exit 0 "$dbtool" spans-in-steps t.db
  echo "engine_cuda_test: --overlap $overlap, $np GPU ranks, $(tail -n +2 kernels.csv | wc -l) kernels, expert load and all-to-alls exact"
}

check_run none
check_run chunks:3
# The pipeline changes when things run, not what they compute (same routing; the expert
# GEMMs see fewer rows per call, so only rounding may differ).
python3 "$(dirname "$0")/../reference-engine/compare_outputs.py" "$work/none/output.txt" "$work/chunks:3/output.txt" ||
  fail "--overlap chunks:3 changed the engine's output"
