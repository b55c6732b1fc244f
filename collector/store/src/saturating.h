// Differences of nanosecond times that may be any int64 (a corrupt or hostile trace): clamped
// to the int64 range instead of overflowing, shared by the writer and the reader.
#pragma once

#include <cstdint>
#include <limits>

namespace moeprof::store {

inline int64_t saturating_sub(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return a > b ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

}  // namespace moeprof::store
