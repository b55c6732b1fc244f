#include "popularity.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace moeprof::synth {

LayerPopularity::LayerPopularity(uint32_t num_experts, uint32_t top_k, double skew, Rng& rng)
    : top_k_(top_k),
      rng_(rng),
      zipf_(num_experts),
      order_now_(num_experts),
      place_now_(num_experts),
      place_next_(num_experts),
      weights_(num_experts),
      inclusion_(num_experts),
      by_weight_(num_experts) {
  for (uint32_t r = 0; r < num_experts; ++r) zipf_[r] = std::pow(static_cast<double>(r) + 1.0, -skew);
  std::iota(order_now_.begin(), order_now_.end(), 0u);
  rng_.shuffle(order_now_.begin(), order_now_.end());
  order_next_ = order_now_;
  next_epoch();
}

// The next ranking is the current one with num_experts / 8 random neighbour swaps.
void LayerPopularity::next_epoch() {
  order_now_ = order_next_;
  const uint32_t n = static_cast<uint32_t>(order_next_.size());
  if (n > 1)
    for (uint32_t i = 0; i < std::max(1u, n / 8); ++i) {
      const uint32_t r = rng_.below(n - 1);
      std::swap(order_next_[r], order_next_[r + 1]);
    }
  for (uint32_t r = 0; r < n; ++r) {
    place_now_[order_now_[r]] = r;
    place_next_[order_next_[r]] = r;
  }
}

const std::vector<double>& LayerPopularity::inclusion(int64_t step) {
  while (step / kDriftSteps > epoch_) {
    next_epoch();
    ++epoch_;
  }
  const double f = static_cast<double>(step % kDriftSteps) / kDriftSteps;
  const size_t n = weights_.size();
  double total = 0.0;
  for (size_t e = 0; e < n; ++e) {
    weights_[e] = (1.0 - f) * zipf_[place_now_[e]] + f * zipf_[place_next_[e]];
    total += weights_[e];
  }
  // Proportional to weight, except that no expert can be picked by more than every token:
  // the heaviest experts are capped at 1 one by one and the rest share what is left.
  const size_t capped_candidates = std::min<size_t>(top_k_, n);
  std::iota(by_weight_.begin(), by_weight_.end(), 0u);
  std::partial_sort(by_weight_.begin(), by_weight_.begin() + capped_candidates, by_weight_.end(),
                    [&](uint32_t a, uint32_t b) { return weights_[a] > weights_[b]; });
  double remaining_k = top_k_;
  size_t capped = 0;
  while (capped < capped_candidates && remaining_k * weights_[by_weight_[capped]] >= total) {
    total -= weights_[by_weight_[capped]];
    remaining_k -= 1.0;
    ++capped;
  }
  for (size_t e = 0; e < n; ++e) inclusion_[e] = total > 0.0 ? remaining_k * weights_[e] / total : 0.0;
  for (size_t i = 0; i < capped; ++i) inclusion_[by_weight_[i]] = 1.0;
  return inclusion_;
}

void sample_counts(const std::vector<double>& inclusion, uint32_t tokens, uint32_t top_k, Rng& rng,
                   std::vector<uint32_t>* counts) {
  const size_t n = inclusion.size();
  counts->assign(n, 0);
  // Experts every token picks get every token; the other picks are a multinomial over the
  // rest, drawn as a chain of conditional binomials.
  uint64_t picks_left = static_cast<uint64_t>(tokens) * top_k;
  double mass_left = 0.0;
  for (size_t e = 0; e < n; ++e) {
    if (inclusion[e] >= 1.0) {
      (*counts)[e] = tokens;
      picks_left -= tokens;
    } else {
      mass_left += inclusion[e];
    }
  }
  size_t last_open = n;
  for (size_t e = 0; e < n; ++e)
    if (inclusion[e] < 1.0 && inclusion[e] > 0.0) last_open = e;
  for (size_t e = 0; e < n && picks_left > 0; ++e) {
    if (inclusion[e] >= 1.0 || inclusion[e] <= 0.0) continue;
    const double p = e == last_open || mass_left <= inclusion[e] ? 1.0 : inclusion[e] / mass_left;
    const uint64_t c = rng.binomial(picks_left, p);
    (*counts)[e] = static_cast<uint32_t>(std::min<uint64_t>(c, UINT32_MAX));
    picks_left -= (*counts)[e];
    mass_left -= inclusion[e];
  }
  // No expert can get a token twice: move any excess to random experts that have room.
  uint64_t excess = 0;
  for (uint32_t& c : *counts)
    if (c > tokens) {
      excess += c - tokens;
      c = tokens;
    }
  while (excess > 0) {
    uint32_t& c = (*counts)[rng.below(static_cast<uint32_t>(n))];
    if (c < tokens) {
      ++c;
      --excess;
    }
  }
}

void routing_from_counts(const std::vector<uint32_t>& counts, uint32_t tokens, uint32_t top_k, Rng& rng,
                         wire::Routing* routing) {
  const size_t picks = static_cast<size_t>(tokens) * top_k;
  // Lay the experts' picks out in a random expert order, each expert's picks contiguous, and
  // give token j the picks at j, j + tokens, j + 2·tokens, ...: as no expert has more than
  // `tokens` picks, a token never gets the same expert twice.
  std::vector<uint32_t> expert_order(counts.size());
  std::iota(expert_order.begin(), expert_order.end(), 0u);
  rng.shuffle(expert_order.begin(), expert_order.end());
  std::vector<int32_t> layout;
  layout.reserve(picks);
  for (uint32_t e : expert_order) layout.insert(layout.end(), counts[e], static_cast<int32_t>(e));
  std::vector<uint32_t> token_of(tokens);
  std::iota(token_of.begin(), token_of.end(), 0u);
  rng.shuffle(token_of.begin(), token_of.end());

  routing->num_tokens = tokens;
  routing->top_k = top_k;
  routing->expert_ids.resize(picks);
  routing->gate_weights.resize(picks);
  std::vector<double> gates(top_k);
  for (uint32_t j = 0; j < tokens; ++j) {
    int32_t* ids = routing->expert_ids.data() + static_cast<size_t>(token_of[j]) * top_k;
    for (uint32_t i = 0; i < top_k; ++i) ids[i] = layout[j + static_cast<size_t>(i) * tokens];
    rng.shuffle(ids, ids + top_k);
    double sum = 0.0;
    for (double& g : gates) sum += g = rng.exponential();
    std::sort(gates.begin(), gates.end(), std::greater<>());
    float* weights = routing->gate_weights.data() + static_cast<size_t>(token_of[j]) * top_k;
    for (uint32_t i = 0; i < top_k; ++i) weights[i] = static_cast<float>(gates[i] / sum);
  }
}

}  // namespace moeprof::synth
