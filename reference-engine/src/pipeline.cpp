// --overlap chunks:N: the batch's chunks move through dispatch, experts and combine as a
// pipeline. While chunk c's experts run, chunk c+1's dispatch and chunk c-1's combine are in
// flight (MPI_Ialltoallv); the shared expert runs while chunk 0 is dispatched.
#include "moe_layer.h"

namespace moeprof::engine {

void MoeLayer::run_pipelined(const LayerStep& step, const LayerWeights& weights) {
  const uint32_t hidden = static_cast<uint32_t>(model_.hidden);
  const size_t n = chunks_.size();
  const auto start_dispatch = [&](size_t c) {
    chunks_[c].prepare_dispatch(hidden);
    chunks_[c].start_dispatch(comm_);
  };
  const auto end_dispatch = [&](size_t c) {
    chunks_[c].wait_dispatch();
    recorder_.all_to_all_end(chunks_[c].dispatch_span, step.layer, MOEPROF_PHASE_DISPATCH, chunks_[c].plan.rows_to_peer,
                             chunks_[c].recv_rows, row_bytes());
  };
  const auto end_combine = [&](size_t c) {
    chunks_[c].wait_combine();
    recorder_.all_to_all_end(chunks_[c].combine_span, step.layer, MOEPROF_PHASE_COMBINE, chunks_[c].recv_rows,
                             chunks_[c].plan.rows_to_peer, row_bytes());
    finish_chunk(step.layer, chunks_[c]);
  };

  // One count exchange for every chunk, inside chunk 0's dispatch.
  chunks_[0].dispatch_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
  std::vector<int32_t> send_counts(size_t(ranks_) * n);
  for (size_t c = 0; c < n; ++c)
    for (size_t p = 0; p < size_t(ranks_); ++p) send_counts[p * n + c] = chunks_[c].plan.rows_to_peer[p];
  const std::vector<int32_t> recv_counts = exchange_row_counts(send_counts, static_cast<int>(n), comm_);
  for (size_t c = 0; c < n; ++c) {
    chunks_[c].recv_rows.resize(size_t(ranks_));
    for (size_t p = 0; p < size_t(ranks_); ++p) chunks_[c].recv_rows[p] = recv_counts[p * n + c];
  }
  start_dispatch(0);
  shared_expert(step.layer, weights);

  for (size_t c = 0; c < n; ++c) {
    end_dispatch(c);
    if (c + 1 < n) {
      chunks_[c + 1].dispatch_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
      start_dispatch(c + 1);
    }
    {
      Recorder::Compute experts(step.layer, MOEPROF_COMPUTE_EXPERT);
      chunks_[c].compute_experts(weights.experts, hidden, scratch_, [&] {
        if (c + 1 < n) chunks_[c + 1].poke();
        if (c > 0) chunks_[c - 1].poke();
      });
    }
    chunks_[c].combine_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_COMBINE);
    chunks_[c].start_combine(hidden, comm_);
    if (c > 0) end_combine(c - 1);
  }
  end_combine(n - 1);
}

}  // namespace moeprof::engine
