// The little the hot path reads on every call, in one place: whether recording is on, which
// ring pool threads take rings from, the current step and the routing mode.
#pragma once

#include <atomic>
#include <cstdint>

#include "drop_counters.h"

namespace moeprof::agent {

class RingPool;

struct alignas(64) HotState {
  // Set (release) once everything below is in place; checked (acquire) by every entry point.
  std::atomic<bool> enabled{false};
  std::atomic<RingPool*> pool{nullptr};
  std::atomic<int64_t> step{0};
  std::atomic<int32_t> routing_mode{0};       // moeprof_routing_mode
  std::atomic<uint32_t> routing_every{1};     // N of sample:N
};

// Hidden: read on every call, they must not cost a GOT indirection in the shared library.
[[gnu::visibility("hidden")]] extern HotState g_hot;
[[gnu::visibility("hidden")]] extern DropCounters g_drops;

inline bool recording() { return g_hot.enabled.load(std::memory_order_acquire); }

}  // namespace moeprof::agent
