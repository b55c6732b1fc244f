#include "clock_alignment.h"

#include <limits>

namespace moeprof::cupti {

std::optional<int64_t> measure_clock_offset(int64_t (*ours)(), bool (*theirs)(uint64_t*), int samples) {
  std::optional<int64_t> offset;
  int64_t narrowest = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < samples; ++i) {
    const int64_t before = ours();
    uint64_t cupti = 0;
    const bool read = theirs(&cupti);
    const int64_t after = ours();
    if (!read || cupti == 0 || after < before || after - before >= narrowest) continue;
    narrowest = after - before;
    offset = before + (after - before) / 2 - static_cast<int64_t>(cupti);
  }
  return offset;
}

}  // namespace moeprof::cupti
