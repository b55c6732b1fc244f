// --capacity-factor F: each expert takes at most ceil(F * tokens * top_k / experts) pairs of a
// rank's batch; later pairs (in token, then choice order) are dropped: they travel nowhere and
// contribute nothing to the token's output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace moeprof::engine {

inline constexpr uint32_t kUnlimited = std::numeric_limits<uint32_t>::max();

// factor 0: kUnlimited.
uint32_t expert_capacity(double factor, uint32_t tokens, uint32_t top_k, uint32_t num_experts);

// kept[i] = ids[i], or -1 where pair i is over its expert's capacity; dropped[e] (num_experts
// entries, zeroed here) counts expert e's dropped pairs. Returns the number dropped.
uint64_t apply_capacity(const int32_t* ids, size_t num_pairs, uint32_t num_experts, uint32_t capacity, int32_t* kept,
                        uint32_t* dropped);

}  // namespace moeprof::engine
