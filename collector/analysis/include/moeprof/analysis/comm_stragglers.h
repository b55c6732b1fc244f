// Stragglers: the rank every other rank waits for in an all-to-all.
//
// An all-to-all cannot finish before its last participant starts, so in each collective
// instance the rank that starts latest holds the others up. An instance is the n-th event
// with the same (step, layer, phase) on each rank (n counted in start order per rank).
// Per instance, the latest-starting rank is "last" and causes a wait of
// sum over the other ranks of (latest start − their start). Ties for latest go to the lowest
// rank; an instance where every rank starts together (no wait) has no straggler, and
// instances seen on one rank only are not counted.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "moeprof/store/reader.h"
#include "moeprof/store/rows.h"

namespace moeprof::analysis {

struct RankStraggling {
  int32_t rank = -1;
  int64_t instances = 0;       // instances (on two or more ranks) it took part in
  int64_t times_last = 0;      // instances where it was the straggler
  int64_t wait_caused_ns = 0;  // total wait of the other ranks in those instances
  bool operator==(const RankStraggling&) const = default;
};

struct Stragglers {
  int64_t instances = 0;              // collective instances seen on two or more ranks
  std::vector<RankStraggling> ranks;  // every participating rank, in rank order
  // Adds the stragglers of other instances (another window of steps).
  void merge(const Stragglers& other);
  bool operator==(const Stragglers&) const = default;
};

// An event as find_stragglers needs it: without its peer bytes (cheap to keep many).
store::AllToAllEvent without_peers(const store::AllToAllEvent& e);

// Events in any order; optionally one phase only.
Stragglers find_stragglers(const std::vector<store::AllToAllEvent>& events,
                           std::optional<wire::Phase> phase = std::nullopt);
// Over a trace window (the Reader streams events in (rank, start) order). Throws store::Error.
Stragglers find_stragglers(const store::Reader& reader, const store::Filter& filter,
                           std::optional<wire::Phase> phase = std::nullopt);

}  // namespace moeprof::analysis
