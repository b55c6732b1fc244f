#include "instrumentation.h"

namespace moeprof::engine {

void Recorder::topology(int32_t rank, int32_t local_rank, int32_t world_size, const ModelConfig& m) {
  moeprof_topology t{};
  t.struct_size = sizeof t;
  t.rank = rank;
  t.local_rank = local_rank;
  t.world_size = world_size;
  t.ep_size = world_size;
  t.num_layers = m.num_layers;
  t.num_experts = m.num_experts;
  t.top_k = m.top_k;
  t.num_shared_experts = m.num_shared_experts;
  t.hidden_size = m.hidden;
  t.model_name = m.name.c_str();
  moeprof_set_topology(&t);
}

void Recorder::placement(int32_t layer, const ExpertMap& map) {
  std::vector<int32_t> slot_expert, slot_rank;
  for (int32_t e = 0; e < map.num_experts(); ++e)
    for (int32_t rank : map.ranks_of(e)) {
      slot_expert.push_back(e);
      slot_rank.push_back(rank);
    }
  moeprof_set_placement(layer, static_cast<uint32_t>(slot_expert.size()), slot_expert.data(), slot_rank.data());
}

void Recorder::step_begin(int64_t step) {
  step_ = step;
  moeprof_step_begin(step);
}

void Recorder::step_end(int64_t step) { moeprof_step_end(step); }

void Recorder::expert_counts(int32_t layer, std::span<const uint32_t> counts) {
  moeprof_expert_counts(layer, static_cast<uint32_t>(counts.size()), counts.data());
  if (truth_) truth_->expert_counts(step_, layer, counts);
}

void Recorder::expert_drops(int32_t layer, std::span<const uint32_t> dropped) {
  moeprof_expert_drops(layer, static_cast<uint32_t>(dropped.size()), dropped.data());
}

void Recorder::router_decisions(int32_t layer, uint32_t tokens, uint32_t top_k, const int32_t* ids,
                                const float* weights) {
  moeprof_router_decisions(layer, 0, tokens, top_k, ids, weights);
}

void Recorder::all_to_all_end(moeprof_span span, int32_t layer, moeprof_phase phase, std::span<const int32_t> send_rows,
                              std::span<const int32_t> recv_rows, uint64_t row_bytes) {
  send_bytes_.resize(send_rows.size());
  recv_bytes_.resize(recv_rows.size());
  for (size_t p = 0; p < send_rows.size(); ++p) {
    send_bytes_[p] = uint64_t(send_rows[p]) * row_bytes;
    recv_bytes_[p] = uint64_t(recv_rows[p]) * row_bytes;
  }
  moeprof_peer_bytes bytes{};
  bytes.struct_size = sizeof bytes;
  bytes.num_peers = static_cast<uint32_t>(send_rows.size());
  bytes.peers = nullptr;
  bytes.send_bytes = send_bytes_.data();
  bytes.recv_bytes = recv_bytes_.data();
  moeprof_all_to_all_end(span, &bytes);
  if (truth_) truth_->all_to_all(step_, layer, phase, send_bytes_, recv_bytes_);
}

}  // namespace moeprof::engine
