#include "recorder.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "clock.h"
#include "hot_state.h"
#include "moeprof/moeprof.h"
#include "narrow.h"
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

// Reserves a record of at most `max_body_size` bytes in the thread's ring, lets `fill` write
// the body and return its actual size, publishes it; or counts why it could not. A body
// whose size is known only once written (narrowed arrays) is judged too large, or the ring
// too full, by its largest size.
template <class Fill>
inline void emit_upto(wire::Source source, RingKind kind, uint64_t max_body_size, Fill&& fill) {
  Ring* ring = thread_ring(source);
  if (ring == nullptr) return;
  const uint64_t size = align8(sizeof(RingRecordHeader) + max_body_size);
  if (size > ring->max_record_size()) [[unlikely]] {
    g_drops.add(source, DropReason::kTooLarge);
    return;
  }
  Ring::Reservation r = ring->reserve(size);
  if (r.ptr == nullptr) [[unlikely]] {
    g_drops.add(source, DropReason::kRingFull);
    return;
  }
  const uint64_t used = align8(sizeof(RingRecordHeader) + fill(r.ptr + sizeof(RingRecordHeader)));
  new (r.ptr) RingRecordHeader{static_cast<uint32_t>(used), kind, static_cast<uint8_t>(source), 0};
  r.shrink(size - used);
  if (ring->commit(r)) [[unlikely]]
    wake::signal();
}

// A record whose body is `body_size` bytes.
template <class Fill>
inline void emit(wire::Source source, RingKind kind, uint64_t body_size, Fill&& fill) {
  emit_upto(source, kind, body_size, [&](uint8_t* body) {
    fill(body);
    return body_size;
  });
}

// Constructs a record body in the ring memory itself. (Copying a struct built on the stack
// makes the compiler store fields piecewise and reload them as wider words, a store-
// forwarding stall that cost more than the rest of the call.)
template <class T, class... Fields>
inline void put(uint8_t* at, Fields... fields) {
  new (at) T{fields...};
}

// Writes `values` in the narrowest width that holds them all exactly (1, 2 or 4 bytes) and
// returns it. Expert ids come here as uint32_t: a negative one is >= 2^31 and keeps 4 bytes.
// A too-wide array costs little: the kernels give up at its first too-wide block.
inline uint32_t put_narrowest(uint8_t* at, const uint32_t* values, uint64_t n) {
  if (g_narrow.to_u8(values, n, at)) return sizeof(uint8_t);
  if (g_narrow.to_u16(values, n, reinterpret_cast<uint16_t*>(at))) return sizeof(uint16_t);
  std::memcpy(at, values, n * sizeof(uint32_t));
  return sizeof(uint32_t);
}

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
  const uint64_t max_counts_size = uint64_t{num_experts} * sizeof(uint32_t);
  emit_upto(source, kind, sizeof(RingExpertCounts) + max_counts_size, [&](uint8_t* body) {
    const uint32_t count_bytes = put_narrowest(body + sizeof(RingExpertCounts), counts, num_experts);
    put<RingExpertCounts>(body, current_step(), layer, num_experts, count_bytes, uint32_t{0});
    return sizeof(RingExpertCounts) + uint64_t{num_experts} * count_bytes;
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
  const bool has_weights = gate_weights != nullptr;
  const RoutingLayout widest = routing_layout(num_tokens, top_k, sizeof(int32_t), has_weights);
  emit_upto(source, kRingRouterDecisions, widest.body_size, [&](uint8_t* body) {
    const uint32_t id_bytes = put_narrowest(body + widest.ids_offset, reinterpret_cast<const uint32_t*>(expert_ids), n);
    const RoutingLayout layout = routing_layout(num_tokens, top_k, id_bytes, has_weights);
    put<RingRouterDecisions>(body, ticks, current_step(), layer, token_offset, num_tokens, top_k, uint32_t{has_weights},
                             id_bytes);
    if (has_weights) std::memcpy(body + layout.weights_offset, gate_weights, n * sizeof(float));
    return layout.body_size;
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

void record_wire(wire::Source source, wire::ByteSpan fixed, std::initializer_list<wire::ByteSpan> var) {
  if (!recording()) return;
  uint64_t size = fixed.size();
  for (const wire::ByteSpan piece : var) size += piece.size();
  emit(source, kRingWireRecord, sizeof(RingWireRecord) + size, [&](uint8_t* body) {
    put<RingWireRecord>(body, static_cast<uint32_t>(size), uint32_t{0});
    uint8_t* at = body + sizeof(RingWireRecord);
    std::memcpy(at, fixed.data(), fixed.size());
    at += fixed.size();
    for (const wire::ByteSpan piece : var) {
      if (!piece.empty()) std::memcpy(at, piece.data(), piece.size());
      at += piece.size();
    }
  });
}

uint32_t thread_id() {
  ThreadSlot& t = t_slot;
  if (t.tid == 0) t.tid = static_cast<uint32_t>(syscall(SYS_gettid));
  return t.tid;
}

void forget_thread_ring_after_fork() { t_slot = ThreadSlot{}; }

}  // namespace moeprof::agent
