// Tokens per EP rank under a placement, and the overload factor Megatron logs: the busiest
// rank's tokens over the perfect-balance share (total / ranks).
//
// An expert with R replicas gives each replica 1/R of its tokens: the engine sends a token to
// replica (global token index mod R) (schemas/placement.md), which spreads tokens evenly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/placement/placement_file.h"
#include "moeprof/store/rows.h"

namespace moeprof::analysis {

// Contiguous blocks: expert e on rank floor(e * ranks / experts) (the engine's default,
// layer 0 of the example in schemas/placement.md).
placement::ExpertRanks block_placement(int32_t num_experts, int32_t num_ranks);

// Tokens per rank of one layer. Experts the placement does not cover (or ranks out of
// range) add their tokens to *unplaced when given, and to no rank.
std::vector<double> rank_tokens(std::span<const double> expert_tokens, const placement::ExpertRanks& placement,
                                int32_t num_ranks, double* unplaced = nullptr);

// max / (sum / ranks); 0 when there are no ranks or no tokens.
double overload_factor(std::span<const double> rank_tokens);
// sum / ranks / max = 1 / overload factor; 0 when there are no ranks or no tokens.
double rank_balancedness(std::span<const double> rank_tokens);

struct RankLoad {
  int32_t num_ranks = 0;
  std::vector<std::vector<double>> per_layer;  // [layer][rank]
  std::vector<double> overload_per_layer;      // [layer]
  std::vector<double> unplaced_per_layer;      // [layer]: tokens of experts with no rank
  std::vector<double> summed;                  // [rank], all layers
  double overload_summed = 0;                  // overload factor of `summed`
  std::vector<int64_t> expert_slots;           // [rank]: expert weights held, all layers (replicas too)
};

// Layers the placement file does not cover (no entry, no default) use block_placement.
RankLoad rank_load(const ExpertLoadMatrix& load, const placement::PlacementFile& placement);

// The placement the trace recorded (placement rows). Several ranks report the same layer:
// the first report of each layer is used. num_ranks = the largest rank named + 1, at least
// `min_ranks`; layers without rows are left out (so rank_load uses block placement for
// them); experts with no slot get no rank (their tokens count as unplaced).
placement::PlacementFile placement_from_trace(const std::vector<store::LayerPlacement>& rows, int32_t num_experts,
                                              int32_t min_ranks = 0);

}  // namespace moeprof::analysis
