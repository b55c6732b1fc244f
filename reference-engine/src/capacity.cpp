#include "capacity.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace moeprof::engine {

uint32_t expert_capacity(double factor, uint32_t tokens, uint32_t top_k, uint32_t num_experts) {
  if (factor <= 0.0) return kUnlimited;
  // The tiny slack keeps decimal factors exact: 1.1 * 100 * 2 / 2 is 110.00000000000001 in
  // binary and must give 110, not 111.
  const double capacity = std::ceil(factor * tokens * top_k / num_experts - 1e-9);
  return capacity >= double(kUnlimited) ? kUnlimited : static_cast<uint32_t>(std::max(capacity, 0.0));
}

uint64_t apply_capacity(const int32_t* ids, size_t num_pairs, uint32_t num_experts, uint32_t capacity, int32_t* kept,
                        uint32_t* dropped) {
  std::fill_n(dropped, num_experts, 0u);
  std::vector<uint32_t> taken(num_experts, 0);
  uint64_t total = 0;
  for (size_t i = 0; i < num_pairs; ++i) {
    const int32_t e = ids[i];
    kept[i] = e;
    if (e < 0 || uint32_t(e) >= num_experts) {
      kept[i] = -1;
      continue;
    }
    if (taken[size_t(e)] < capacity) {
      ++taken[size_t(e)];
    } else {
      kept[i] = -1;
      ++dropped[e];
      ++total;
    }
  }
  return total;
}

}  // namespace moeprof::engine
