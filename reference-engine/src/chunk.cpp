#include "chunk.h"

#include <cstring>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::engine {

void Chunk::pack(const float* h, uint32_t hidden, uint32_t top_k) {
  send.resize(plan.row_to_pair.size() * hidden);
  kernels::permute_rows_cpu(h, hidden, plan.row_to_pair.data(), static_cast<uint32_t>(plan.row_to_pair.size()), top_k,
                            send.data());
}

void Chunk::prepare_dispatch(uint32_t hidden) {
  rows = std::make_unique<RowsAlltoallv>(plan.rows_to_peer, recv_rows, static_cast<int>(hidden));
  experts = std::make_unique<RowsAlltoallv>(plan.rows_to_peer, recv_rows, 1);
  recv.resize(rows->recv_elements());
  recv_expert.resize(experts->recv_elements());
}

void Chunk::run_dispatch(MPI_Comm comm) {
  experts->run(plan.row_expert.data(), recv_expert.data(), comm);
  rows->run(send.data(), recv.data(), comm);
}

void Chunk::start_dispatch(MPI_Comm comm) {
  experts->start(plan.row_expert.data(), recv_expert.data(), comm);
  rows->start(send.data(), recv.data(), comm);
}

void Chunk::wait_dispatch() {
  experts->wait();
  rows->wait();
}

void Chunk::compute_experts(std::span<const FfnWeights> held, uint32_t hidden, FfnScratch& scratch,
                            const std::function<void()>& between) {
  const ExpertGroups groups = group_by_expert(recv_expert, static_cast<uint32_t>(held.size()));
  const uint32_t n = static_cast<uint32_t>(recv_expert.size());
  grouped_in.resize(size_t(n) * hidden);
  grouped_out.resize(size_t(n) * hidden);
  kernels::permute_rows_cpu(recv.data(), hidden, groups.grouped_to_row.data(), n, 1, grouped_in.data());
  grouped_expert_ffn(held, grouped_in.data(), groups.expert_offsets, grouped_out.data(), scratch, between);
  expert_out.resize(size_t(n) * hidden);
  for (uint32_t g = 0; g < n; ++g)
    std::memcpy(&expert_out[size_t(groups.grouped_to_row[g]) * hidden], &grouped_out[size_t(g) * hidden],
                hidden * sizeof(float));
}

void Chunk::run_combine(uint32_t hidden, MPI_Comm comm) {
  back = std::make_unique<RowsAlltoallv>(recv_rows, plan.rows_to_peer, static_cast<int>(hidden));
  combined.resize(back->recv_elements());
  back->run(expert_out.data(), combined.data(), comm);
}

void Chunk::start_combine(uint32_t hidden, MPI_Comm comm) {
  back = std::make_unique<RowsAlltoallv>(recv_rows, plan.rows_to_peer, static_cast<int>(hidden));
  combined.resize(back->recv_elements());
  back->start(expert_out.data(), combined.data(), comm);
}

void Chunk::wait_combine() { back->wait(); }

void Chunk::weighted_sum(const float* topk_weights, uint32_t hidden, uint32_t top_k, float* y) {
  const size_t n = plan.row_to_pair.size();
  pair_order.resize(n * hidden);
  for (size_t r = 0; r < n; ++r)
    std::memcpy(&pair_order[size_t(plan.row_to_sorted[r]) * hidden], &combined[r * hidden], hidden * sizeof(float));
  kernels::unpermute_rows_cpu(pair_order.data(), hidden, plan.sorted_pairs.data(), static_cast<uint32_t>(n), top_k,
                              topk_weights, y);
}

void Chunk::poke() {
  for (RowsAlltoallv* exchange : {rows.get(), experts.get(), back.get()})
    if (exchange) exchange->poke();
}

}  // namespace moeprof::engine
