#include "recorder.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "clock.h"
#include "hot_state.h"
#include "moeprof/moeprof.h"
#include "ring_pool.h"
#include "ring_records.h"
#include "wake.h"

namespace moeprof::agent {
namespace {

using wire::DropReason;

// Trivially constructed and destroyed, so reaching it costs a plain TLS access. Initial-exec
// spares the shared library a __tls_get_addr call per event; its 32 bytes fit the static TLS
// that glibc keeps spare for libraries loaded with dlopen (Python's ctypes loads the agent so).
struct ThreadSlot {
  RingPool* pool;
  Ring* ring;
  uint32_t tid;
  uint32_t failed_claims;
  bool exiting;
};
[[gnu::tls_model("initial-exec")]] constinit thread_local ThreadSlot t_slot{};

// Touched only when a thread claims a ring: its destructor, run at thread exit, retires the
// ring so the flusher drains it and returns it to the pool.
struct RingReleaser {
  bool armed = false;
  ~RingReleaser() {
    ThreadSlot& t = t_slot;
    if (t.ring != nullptr) t.pool->retire(t.ring);
    t.ring = nullptr;
    t.exiting = true;  // this thread_local is gone: no more claims from this thread
  }
};
thread_local RingReleaser t_releaser;

[[gnu::noinline, gnu::cold]] Ring* claim_ring(RingPool* pool, wire::Source source) {
  ThreadSlot& t = t_slot;
  if (pool == nullptr) return nullptr;
  if (t.exiting) {
    g_drops.add(source, DropReason::kNoRing);
    return nullptr;
  }
  if (t.pool == pool) {
    // An earlier claim found the pool exhausted: retry now and then, not on every event
    // (threads that exit give rings back).
    if ((++t.failed_claims & 1023u) != 0) {
      g_drops.add(source, DropReason::kNoRing);
      return nullptr;
    }
  } else if (t.ring != nullptr) {
    t.pool->retire(t.ring);  // a ring of the pool of an earlier moeprof_init
    t.ring = nullptr;
  }
  if (t.tid == 0) t.tid = static_cast<uint32_t>(syscall(SYS_gettid));
  t.pool = pool;
  t.ring = pool->claim();
  if (t.ring == nullptr) {
    g_drops.add(source, DropReason::kNoRing);
    return nullptr;
  }
  t_releaser.armed = true;
  return t.ring;
}

inline Ring* thread_ring(wire::Source source) {
  RingPool* pool = g_hot.pool.load(std::memory_order_relaxed);
  ThreadSlot& t = t_slot;
  if (t.pool == pool && t.ring != nullptr) [[likely]]
    return t.ring;
  return claim_ring(pool, source);
}

// Reserves a record of `body_size` bytes in the thread's ring, lets `fill` write the body,
// publishes it; or counts why it could not.
template <class Fill>
inline void emit(wire::Source source, RingKind kind, uint64_t body_size, Fill&& fill) {
  Ring* ring = thread_ring(source);
  if (ring == nullptr) return;
  const uint64_t size = align8(sizeof(RingRecordHeader) + body_size);
  if (size > ring->max_record_size()) [[unlikely]] {
    g_drops.add(source, DropReason::kTooLarge);
    return;
  }
  const Ring::Reservation r = ring->reserve(size);
  if (r.ptr == nullptr) [[unlikely]] {
    g_drops.add(source, DropReason::kRingFull);
    return;
  }
  new (r.ptr) RingRecordHeader{static_cast<uint32_t>(size), kind, static_cast<uint8_t>(source), 0};
  fill(r.ptr + sizeof(RingRecordHeader));
  if (ring->commit(r)) [[unlikely]]
    wake::signal();
}

// Constructs a record body in the ring memory itself. (Copying a struct built on the stack
// makes the compiler store fields piecewise and reload them as wider words, a store-
// forwarding stall that cost more than the rest of the call.)
template <class T, class... Fields>
inline void put(uint8_t* at, Fields... fields) {
  new (at) T{fields...};
}

inline int64_t current_step() { return g_hot.step.load(std::memory_order_relaxed); }


}  // namespace

void record_step(bool begin, int64_t step, wire::Source source) {
  if (!recording()) return;
  const int64_t ticks = now_ticks();
  if (begin) g_hot.step.store(step, std::memory_order_relaxed);
  emit(source, begin ? kRingStepBegin : kRingStepEnd, sizeof(RingStep),
       [&](uint8_t* body) { put<RingStep>(body, ticks, step); });
}

void record_expert_counts(RingKind kind, int32_t layer, uint32_t num_experts, const uint32_t* counts,
                          wire::Source source) {
  if (!recording()) return;
  const int64_t ticks = now_ticks();
  const uint64_t counts_size = uint64_t{num_experts} * sizeof(uint32_t);
  emit(source, kind, sizeof(RingExpertCounts) + counts_size, [&](uint8_t* body) {
    put<RingExpertCounts>(body, ticks, current_step(), layer, num_experts);
    std::memcpy(body + sizeof(RingExpertCounts), counts, counts_size);
  });
}

bool routing_wanted() {
  if (!recording()) return false;
  switch (g_hot.routing_mode.load(std::memory_order_relaxed)) {
    case MOEPROF_ROUTING_FULL:
      return true;
    case MOEPROF_ROUTING_SAMPLE:
      return current_step() % g_hot.routing_every.load(std::memory_order_relaxed) == 0;
    default:
      return false;
  }
}

void record_router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens, uint32_t top_k,
                             const int32_t* expert_ids, const float* gate_weights, wire::Source source) {
  if (!routing_wanted()) return;
  const int64_t ticks = now_ticks();
  const uint64_t n = uint64_t{num_tokens} * top_k;
  const RoutingLayout layout = routing_layout(num_tokens, top_k, gate_weights != nullptr);
  emit(source, kRingRouterDecisions, layout.body_size, [&](uint8_t* body) {
    put<RingRouterDecisions>(body, ticks, current_step(), layer, token_offset, num_tokens, top_k,
                             uint32_t{gate_weights != nullptr}, uint32_t{0});
    std::memcpy(body + layout.ids_offset, expert_ids, n * sizeof(int32_t));
    if (gate_weights != nullptr) std::memcpy(body + layout.weights_offset, gate_weights, n * sizeof(float));
  });
}

void record_all_to_all(int64_t start_ticks, int32_t layer, wire::Phase phase, const PeerBytesView& bytes,
                       wire::Source source) {
  if (!recording()) return;
  const int64_t end_ticks = now_ticks();
  const uint32_t n = bytes.num_peers;
  const AllToAllLayout layout = all_to_all_layout(n, bytes.peers != nullptr);
  emit(source, kRingAllToAll, layout.body_size, [&](uint8_t* body) {
    put<RingAllToAll>(body, start_ticks, end_ticks, current_step(), layer, t_slot.tid, n, static_cast<uint8_t>(phase),
                      uint8_t{bytes.peers != nullptr}, uint16_t{0});
    const size_t array_size = size_t{n} * sizeof(uint64_t);
    if (bytes.send_bytes != nullptr) std::memcpy(body + layout.send_offset, bytes.send_bytes, array_size);
    else std::memset(body + layout.send_offset, 0, array_size);
    if (bytes.recv_bytes != nullptr) std::memcpy(body + layout.recv_offset, bytes.recv_bytes, array_size);
    else std::memset(body + layout.recv_offset, 0, array_size);
    if (bytes.peers != nullptr) std::memcpy(body + layout.peers_offset, bytes.peers, size_t{n} * sizeof(int32_t));
  });
}

void record_compute_span(int64_t start_ticks, int32_t layer, wire::ComputeKind kind, wire::Source source) {
  if (!recording()) return;
  const int64_t end_ticks = now_ticks();
  emit(source, kRingComputeSpan, sizeof(RingComputeSpan), [&](uint8_t* body) {
    put<RingComputeSpan>(body, start_ticks, end_ticks, current_step(), layer, t_slot.tid, uint32_t{static_cast<uint8_t>(kind)},
                         uint32_t{0});
  });
}

void record_marker(const char* name, size_t name_size, wire::Source source) {
  if (!recording()) return;
  const int64_t ticks = now_ticks();
  emit(source, kRingMarker, sizeof(RingMarker) + name_size, [&](uint8_t* body) {
    put<RingMarker>(body, ticks, current_step(), t_slot.tid, static_cast<uint32_t>(name_size));
    std::memcpy(body + sizeof(RingMarker), name, name_size);
  });
}

void forget_thread_ring_after_fork() { t_slot = ThreadSlot{}; }

}  // namespace moeprof::agent
