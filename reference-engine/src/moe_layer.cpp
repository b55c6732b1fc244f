#include "moe_layer.h"

#include <algorithm>

#include "capacity.h"
#include "moeprof/kernels/moe_kernels.h"
#include "router.h"

namespace moeprof::engine {

MoeLayer::MoeLayer(const ModelConfig& model, MPI_Comm comm, Recorder& recorder)
    : model_(model), comm_(comm), recorder_(recorder) {
  MPI_Comm_size(comm, &ranks_);
}

uint64_t MoeLayer::forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map,
                           std::vector<float>& x, std::span<uint32_t> counts) {
  const uint64_t dropped = route_batch(step, weights, map, x, counts);
  if (step.chunks == 0)
    run_blocking(step, weights);
  else
    run_pipelined(step, weights);
  Recorder::Compute residual(step.layer, MOEPROF_COMPUTE_OTHER);
  const bool shared = !weights.shared.empty();
  for (size_t i = 0; i < x.size(); ++i) x[i] = (shared ? x[i] + shared_out_[i] : x[i]) + y_[i];
  return dropped;
}

uint64_t MoeLayer::route_batch(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map,
                               const std::vector<float>& x, std::span<uint32_t> counts) {
  const uint32_t hidden = static_cast<uint32_t>(model_.hidden), k = static_cast<uint32_t>(model_.top_k),
                 experts = static_cast<uint32_t>(model_.num_experts);
  tokens_ = static_cast<uint32_t>(x.size() / hidden);
  const size_t pairs = size_t(tokens_) * k;
  uint64_t dropped_total = 0;
  {
    Recorder::Compute gate(step.layer, MOEPROF_COMPUTE_GATE);
    h_.resize(x.size());
    rms_norm(x.data(), tokens_, hidden, h_.data());
    topk_ids_.resize(pairs);
    topk_weights_.resize(pairs);
    route(model_, weights.router, h_.data(), tokens_, step.logit_bias, step.selection_bias, logits_, topk_ids_.data(),
          topk_weights_.data());
    kernels::expert_histogram_cpu(topk_ids_.data(), pairs, experts, counts.data());
    kept_ids_.resize(pairs);
    dropped_.resize(experts);
    dropped_total = apply_capacity(topk_ids_.data(), pairs, experts, step.capacity, kept_ids_.data(), dropped_.data());
    const uint32_t num_chunks = static_cast<uint32_t>(std::max(step.chunks, 1));
    chunks_.resize(num_chunks);
    for (uint32_t c = 0; c < num_chunks; ++c) {
      const uint32_t begin = uint32_t(uint64_t(tokens_) * c / num_chunks);
      const uint32_t end = uint32_t(uint64_t(tokens_) * (c + 1) / num_chunks);
      chunks_[c].plan = plan_dispatch(kept_ids_, k, begin, end, step.global_first_token, map, ranks_);
      chunks_[c].pack(h_.data(), hidden, k);
    }
  }
  recorder_.expert_counts(step.layer, counts);
  if (step.capacity != kUnlimited) recorder_.expert_drops(step.layer, dropped_);
  if (step.record_routing) recorder_.router_decisions(step.layer, tokens_, k, topk_ids_.data(), topk_weights_.data());
  y_.assign(x.size(), 0.0f);
  return dropped_total;
}

void MoeLayer::shared_expert(int32_t layer, const LayerWeights& weights) {
  if (weights.shared.empty()) return;
  Recorder::Compute span(layer, MOEPROF_COMPUTE_SHARED_EXPERT);
  shared_out_.resize(h_.size());
  swiglu_ffn(weights.shared, h_.data(), tokens_, shared_out_.data(), scratch_);
}

// Combine of a chunk whose exchange completed: the weighted sum of its expert outputs.
void MoeLayer::finish_chunk(int32_t layer, Chunk& chunk) {
  Recorder::Compute span(layer, MOEPROF_COMPUTE_OTHER);
  chunk.weighted_sum(topk_weights_.data(), static_cast<uint32_t>(model_.hidden), static_cast<uint32_t>(model_.top_k),
                     y_.data());
}

void MoeLayer::run_blocking(const LayerStep& step, const LayerWeights& weights) {
  const uint32_t hidden = static_cast<uint32_t>(model_.hidden);
  Chunk& chunk = chunks_[0];
  shared_expert(step.layer, weights);

  moeprof_span span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
  chunk.recv_rows = exchange_row_counts(chunk.plan.rows_to_peer, 1, comm_);
  chunk.prepare_dispatch(hidden);
  double t0 = step.timing ? MPI_Wtime() : 0.0;
  chunk.run_dispatch(comm_);
  if (step.timing) {
    timing_.seconds += MPI_Wtime() - t0;
    timing_.dispatch_seconds += MPI_Wtime() - t0;
    timing_.send_bytes += chunk.rows->send_elements() * sizeof(float);
    ++timing_.exchanges;
  }
  recorder_.all_to_all_end(span, step.layer, MOEPROF_PHASE_DISPATCH, chunk.plan.rows_to_peer, chunk.recv_rows,
                           row_bytes());
  {
    Recorder::Compute experts(step.layer, MOEPROF_COMPUTE_EXPERT);
    chunk.compute_experts(weights.experts, hidden, scratch_, {});
  }
  span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_COMBINE);
  t0 = step.timing ? MPI_Wtime() : 0.0;
  chunk.run_combine(hidden, comm_);
  if (step.timing) {
    timing_.seconds += MPI_Wtime() - t0;
    timing_.send_bytes += chunk.back->send_elements() * sizeof(float);
    ++timing_.exchanges;
  }
  recorder_.all_to_all_end(span, step.layer, MOEPROF_PHASE_COMBINE, chunk.recv_rows, chunk.plan.rows_to_peer,
                           row_bytes());
  finish_chunk(step.layer, chunk);
}

}  // namespace moeprof::engine
