// Events the agent had to drop, per (source, reason). Bumped by any thread (dropping is the
// slow path, so a shared atomic is fine); the flusher turns changes into Drops records.
#pragma once

#include <atomic>
#include <cstdint>

#include "moeprof/wire/records.h"

namespace moeprof::agent {

inline constexpr int kSourceCount = static_cast<int>(wire::Source::kAgent) + 1;
// The reasons an agent can drop for (kBadFrame, the collector's, is never counted here).
inline constexpr int kReasonCount = static_cast<int>(wire::DropReason::kAdapterFull) + 1;

class DropCounters {
 public:
  void add(wire::Source source, wire::DropReason reason, uint64_t n = 1) {
    counts_[static_cast<int>(source)][static_cast<int>(reason)].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t get(int source, int reason) const {
    return counts_[source][reason].load(std::memory_order_relaxed);
  }
  uint64_t total() const {
    uint64_t sum = 0;
    for (int s = 0; s < kSourceCount; ++s)
      for (int r = 0; r < kReasonCount; ++r) sum += get(s, r);
    return sum;
  }
  // Forked child only (one thread).
  void reset() {
    for (auto& row : counts_)
      for (auto& c : row) c.store(0, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> counts_[kSourceCount][kReasonCount] = {};
};

}  // namespace moeprof::agent
