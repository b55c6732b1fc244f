#include "balance.h"

#include <numeric>

namespace moeprof::engine {

void update_aux_free_bias(std::span<float> bias, std::span<const uint64_t> load, float gamma) {
  if (load.empty()) return;
  // Compared as load[e] * E against the total: no rounding of the mean.
  const uint64_t total = std::accumulate(load.begin(), load.end(), uint64_t{0});
  const uint64_t experts = load.size();
  for (size_t e = 0; e < load.size() && e < bias.size(); ++e) {
    const uint64_t scaled = load[e] * experts;
    if (scaled < total)
      bias[e] += gamma;
    else if (scaled > total)
      bias[e] -= gamma;
  }
}

}  // namespace moeprof::engine
