// One chunk of a rank's batch on its way through an MoE layer: dispatch layout, the rows
// sent and received, the expert outputs going back, and the in-flight exchanges.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "dispatch_plan.h"
#include "exchange.h"
#include "expert_ffn.h"
#include "moeprof/moeprof.h"

namespace moeprof::engine {

struct Chunk {
  DispatchPlan plan;
  std::vector<int32_t> recv_rows;  // per peer, known after the count exchange
  std::vector<float> send;         // dispatch rows (normalised token states)
  std::vector<float> recv;
  std::vector<int32_t> recv_expert;  // expert of each received row
  std::vector<float> expert_out;     // expert output of each received row (combine send)
  std::vector<float> combined;       // combine receive: expert outputs, in `plan` row order
  std::unique_ptr<RowsAlltoallv> rows, experts, back;
  moeprof_span dispatch_span{}, combine_span{};
  // Scratch kept from layer to layer (no allocation, no page faults in steady state).
  std::vector<float> grouped_in, grouped_out, pair_order;

  // Fills `send` from the batch's normalised states h.
  void pack(const float* h, uint32_t hidden, uint32_t top_k);
  // Creates the dispatch exchanges once recv_rows is known and sizes the receive buffers.
  void prepare_dispatch(uint32_t hidden);
  void run_dispatch(MPI_Comm comm);
  void start_dispatch(MPI_Comm comm);
  void wait_dispatch();
  // Runs the held experts over the received rows into expert_out.
  void compute_experts(std::span<const FfnWeights> experts, uint32_t hidden, FfnScratch& scratch,
                       const std::function<void()>& between);
  // The combine exchange (mirror of the dispatch).
  void run_combine(uint32_t hidden, MPI_Comm comm);
  void start_combine(uint32_t hidden, MPI_Comm comm);
  void wait_combine();
  // y[token] += sum of weight * expert output over the chunk's pairs, in choice order.
  void weighted_sum(const float* topk_weights, uint32_t hidden, uint32_t top_k, float* y);
  // Lets MPI progress whatever exchange of this chunk is in flight.
  void poke();
};

}  // namespace moeprof::engine
