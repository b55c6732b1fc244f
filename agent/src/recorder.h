// The hot path: each call turns one event into a record in the calling thread's ring, or
// drops it and counts the drop. Nothing here locks, allocates or formats; the only system
// calls are gettid() once per thread and waking the flusher when a ring passes half full.
// Every function does nothing while recording is off. Sources other than the C API (NCCL,
// MPI, ...) record through these too, naming themselves in `source`.
#pragma once

#include <cstddef>
#include <cstdint>

#include <initializer_list>

#include "hot_state.h"
#include "moeprof/wire/codec.h"
#include "moeprof/wire/records.h"
#include "ring_records.h"

namespace moeprof::agent {

struct PeerBytesView {
  uint32_t num_peers = 0;
  const int32_t* peers = nullptr;       // null: peers 0 .. num_peers-1
  const uint64_t* send_bytes = nullptr; // null: zeros
  const uint64_t* recv_bytes = nullptr; // null: zeros
};

// A step mark; step_begin also makes `step` the step of every later record.
void record_step(bool begin, int64_t step, wire::Source source);
// kind: kRingExpertCounts (tokens routed) or kRingExpertDrops (tokens dropped over capacity).
void record_expert_counts(RingKind kind, int32_t layer, uint32_t num_experts, const uint32_t* counts,
                          wire::Source source);
// Records only when routing_wanted(); `gate_weights` may be null.
void record_router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens, uint32_t top_k,
                             const int32_t* expert_ids, const float* gate_weights, wire::Source source);
// Spans end now; they started at `start_ticks` (a now_ticks() value).
void record_all_to_all(int64_t start_ticks, int32_t layer, wire::Phase phase, const PeerBytesView& bytes,
                       wire::Source source);
void record_compute_span(int64_t start_ticks, int32_t layer, wire::ComputeKind kind, wire::Source source);
void record_marker(const char* name, size_t name_size, wire::Source source);
// A whole wire record: `fixed` (its var_size already set) followed by the `var` pieces. The
// caller took the times (nanoseconds); the flusher sends the bytes as they are.
void record_wire(wire::Source source, wire::ByteSpan fixed, std::initializer_list<wire::ByteSpan> var);

// The calling thread's kernel thread id (cached per thread).
uint32_t thread_id();
// The step moeprof_step_begin last set.
inline int64_t current_step() { return g_hot.step.load(std::memory_order_relaxed); }

// Whether router decisions of the current step are recorded (routing mode and step).
bool routing_wanted();

// In a forked child: the calling (only) thread forgets its ring and its cached tid, which
// were the parent's.
void forget_thread_ring_after_fork();

}  // namespace moeprof::agent
