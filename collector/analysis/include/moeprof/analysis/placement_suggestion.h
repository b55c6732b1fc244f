// Suggests an expert placement that lowers the busiest EP rank, the way DeepSeek's EPLB
// does: per layer, give the redundant slots one by one to the expert with the highest
// load / replicas, then pack the replicas, heaviest first, onto the least-loaded rank that
// still has a free slot and does not hold that expert yet. With nodes, experts are first
// packed onto nodes the same way (balanced load, equal expert counts), then replicated and
// packed onto the ranks of their node, so replicas stay within a node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/placement/placement_file.h"

namespace moeprof::analysis {

struct SuggestionOptions {
  int32_t num_ranks = 0;
  // Extra expert slots per layer. Every rank gets (experts + redundant) / ranks slots, so
  // that sum must divide evenly; an expert gets at most one replica per rank.
  int32_t redundant_per_layer = 0;
  // 0 or 1: flat. More: hierarchical; ranks, experts and redundant must divide by it.
  int32_t num_nodes = 0;
};

// Predicted per-rank load of one layer (from the window's load, replicas splitting tokens
// evenly), before (the input placement) and after (the suggestion).
struct LayerPrediction {
  double busiest_before = 0, busiest_after = 0;            // tokens on the busiest rank
  double balancedness_before = 0, balancedness_after = 0;  // mean rank / busiest rank
  bool kept_input = false;  // the heuristic was not better than the input: the input is kept
};

struct PlacementSuggestion {
  placement::PlacementFile placement;  // every layer of the load listed
  std::vector<LayerPrediction> layers;
  // Over all layers: sum of the layers' busiest ranks (each layer waits for its busiest
  // rank), and sum of mean rank loads / that sum.
  double busiest_before = 0, busiest_after = 0;
  double balancedness_before = 0, balancedness_after = 0;
};

// `input` is the placement the window ran with (nullptr: none recorded); it is only used
// when it is for the same experts and ranks, otherwise "before" is block_placement. A layer
// is never predicted worse than before: where the heuristic's busiest rank would be higher,
// the input layer is kept. false and a one-line `error` for impossible options or an empty
// load.
bool suggest_placement(const ExpertLoadMatrix& load, const SuggestionOptions& options,
                       const placement::PlacementFile* input, PlacementSuggestion* out, std::string* error);

}  // namespace moeprof::analysis
