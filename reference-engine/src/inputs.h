// The tokens entering the first MoE layer, a function of (seed, step, global token index)
// only: rank r of R with T tokens holds global tokens [r*T, (r+1)*T), so a run on R ranks
// computes the same tokens as a run on one rank with R*T tokens.
#pragma once

#include <cstdint>

namespace moeprof::engine {

// x: tokens x hidden, standard normal entries.
void make_tokens(uint64_t seed, int64_t step, int64_t first_token, uint32_t tokens, uint32_t hidden, float* x);

}  // namespace moeprof::engine
