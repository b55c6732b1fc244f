// The routing model of synth: which experts are popular in a layer, how many tokens each
// expert gets, and per-token decisions that add up to exactly those counts.
//
// Counts come first and decisions are built from them (not the other way round) because a
// DeepSeek-V3 step has 8 ranks × 61 layers × 4096 tokens × top-8 = 16 M expert picks: drawing
// each one would make a 10 000-step trace take hours, while counts cost one binomial draw per
// expert. Decisions are only made when asked for (full routing), and then match the counts
// exactly; the counts are the same with or without them.
#pragma once

#include <cstdint>
#include <vector>

#include "moeprof/wire/codec.h"
#include "random.h"

namespace moeprof::synth {

// Expert popularity of one layer: Zipf(skew) over a random ranking of the experts (so each
// layer has its own hot experts), drifting slowly: every kDriftSteps steps some neighbouring
// places in the ranking swap, and the weights move linearly from one ranking to the next.
class LayerPopularity {
 public:
  static constexpr int64_t kDriftSteps = 200;

  LayerPopularity(uint32_t num_experts, uint32_t top_k, double skew, Rng& rng);
  // Inclusion probability of every expert at `step` (the chance that a token picks it among
  // its top-k distinct experts): each ≤ 1, summing to top_k. Steps must not go backwards.
  const std::vector<double>& inclusion(int64_t step);

 private:
  void next_epoch();

  uint32_t top_k_;
  Rng& rng_;
  std::vector<double> zipf_;                     // weight of ranking place r
  std::vector<uint32_t> order_now_, order_next_;  // expert at each place of the two rankings
  std::vector<uint32_t> place_now_, place_next_;  // place of each expert
  int64_t epoch_ = 0;
  std::vector<double> weights_, inclusion_;
  std::vector<uint32_t> by_weight_;
};

// Token counts for `tokens` tokens that each pick top_k distinct experts with the given
// inclusion probabilities: every count ≤ tokens, and they sum to tokens × top_k.
void sample_counts(const std::vector<double>& inclusion, uint32_t tokens, uint32_t top_k, Rng& rng,
                   std::vector<uint32_t>* counts);

// Random per-token decisions (top_k distinct expert ids per token, gate weights descending
// and summing to 1) whose histogram is exactly `counts` (each ≤ tokens, sum tokens × top_k).
void routing_from_counts(const std::vector<uint32_t>& counts, uint32_t tokens, uint32_t top_k, Rng& rng,
                         wire::Routing* routing);

}  // namespace moeprof::synth
