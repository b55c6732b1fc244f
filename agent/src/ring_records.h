// What the hot path writes into a ring: a RingRecordHeader, one of these bodies, then the
// body's raw arrays (each starting 8-byte aligned). Times are raw clock ticks (clock.h);
// the flusher converts them and transcodes the records into wire records.
#pragma once

#include <cstdint>

#include "ring.h"

namespace moeprof::agent {

enum RingKind : uint8_t {
  // 0 is kPaddingKind
  kRingStepBegin = 1,
  kRingStepEnd = 2,
  kRingExpertCounts = 3,
  kRingRouterDecisions = 4,
  kRingAllToAll = 5,
  kRingComputeSpan = 6,
  kRingMarker = 7,
  kRingExpertDrops = 8,  // RingExpertCounts layout
  kRingWireRecord = 9,   // RingWireRecord: a whole wire record built by the caller
};

struct RingStep {
  int64_t ticks;
  int64_t step;
};

// kRingExpertCounts and kRingExpertDrops. Followed by counts[num_experts] of count_bytes
// each, in the narrowest width that holds every count: uint8_t (decode batches, even
// loads of big batches), uint16_t (one rank's step rarely needs more), else uint32_t.
// No time: the trace keeps none for counts, and reading the clock cost the hot path about
// as much as writing the counts.
struct RingExpertCounts {
  int64_t step;
  int32_t layer;
  uint32_t num_experts;
  uint32_t count_bytes;  // 1, 2 or 4
  uint32_t reserved;
};

// Followed by ids[num_tokens * top_k] of id_bytes each, in the narrowest width that holds
// every id exactly (uint8_t, uint16_t, else int32_t: negative ids keep 4 bytes), then
// (8-aligned) float weights[same] when has_weights.
struct RingRouterDecisions {
  int64_t ticks;
  int64_t step;
  int32_t layer;
  uint32_t token_offset;
  uint32_t num_tokens;
  uint32_t top_k;
  uint32_t has_weights;
  uint32_t id_bytes;  // 1, 2 or 4
};

// Followed by uint64_t send[num_peers], uint64_t recv[num_peers], then int32_t
// peers[num_peers] when has_peers (otherwise the peers are 0 .. num_peers-1).
struct RingAllToAll {
  int64_t start_ticks;
  int64_t end_ticks;
  int64_t step;
  int32_t layer;
  uint32_t tid;
  uint32_t num_peers;
  uint8_t phase;
  uint8_t has_peers;
  uint16_t reserved;
};

struct RingComputeSpan {
  int64_t start_ticks;
  int64_t end_ticks;
  int64_t step;
  int32_t layer;
  uint32_t tid;
  uint32_t kind;
  uint32_t reserved;
};

// Followed by name_size bytes.
struct RingMarker {
  int64_t ticks;
  int64_t step;
  uint32_t tid;
  uint32_t name_size;
};

// Followed by `size` bytes: one complete wire record (fixed part, then its variable part),
// times already CLOCK_MONOTONIC nanoseconds. Adapters that report whole events (moeprof.h,
// API version 3) take their own times, so there is nothing left for the flusher to convert.
struct RingWireRecord {
  uint32_t size;
  uint32_t reserved;
};

static_assert(sizeof(RingExpertCounts) % 8 == 0 && sizeof(RingRouterDecisions) % 8 == 0 &&
              sizeof(RingAllToAll) % 8 == 0 && sizeof(RingComputeSpan) % 8 == 0 && sizeof(RingMarker) % 8 == 0);

// Byte layout of a router-decisions body (shared by writer and reader so they cannot disagree).
// The ids start at the same offset whatever their width.
struct RoutingLayout {
  uint64_t ids_offset;
  uint64_t weights_offset;
  uint64_t body_size;
};
inline RoutingLayout routing_layout(uint64_t num_tokens, uint64_t top_k, uint64_t id_bytes, bool has_weights) {
  const uint64_t n = num_tokens * top_k;
  const uint64_t ids = sizeof(RingRouterDecisions);
  const uint64_t weights = align8(ids + n * id_bytes);
  return {ids, weights, has_weights ? weights + n * sizeof(float) : weights};
}

struct AllToAllLayout {
  uint64_t send_offset;
  uint64_t recv_offset;
  uint64_t peers_offset;
  uint64_t body_size;
};
inline AllToAllLayout all_to_all_layout(uint64_t num_peers, bool has_peers) {
  const uint64_t send = sizeof(RingAllToAll);
  const uint64_t recv = send + num_peers * sizeof(uint64_t);
  const uint64_t peers = recv + num_peers * sizeof(uint64_t);
  return {send, recv, peers, has_peers ? peers + num_peers * sizeof(int32_t) : peers};
}

}  // namespace moeprof::agent
