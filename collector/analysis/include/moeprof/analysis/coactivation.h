// Expert co-activation from recorded router decisions: how often two experts of a layer are
// chosen together for the same token. Experts that fire together are candidates for the
// same rank (their token pairs then need one all-to-all destination instead of two).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "moeprof/store/reader.h"
#include "moeprof/wire/codec.h"

namespace moeprof::analysis {

struct ExpertPair {
  int32_t a = 0, b = 0;  // a < b
  uint64_t count = 0;    // tokens that chose both
  bool operator==(const ExpertPair&) const = default;
};

struct Coactivation {
  uint64_t tokens = 0;                              // tokens seen
  std::map<std::pair<int32_t, int32_t>, uint64_t> pairs;  // (a < b) -> tokens that chose both

  // Adds every token of a batch: each unordered pair of its distinct top-k experts counts
  // once. Negative expert ids (no expert) and repeats within a token are ignored.
  void add(const wire::Routing& routing);
  // Adds another count's tokens and pairs (counts of parts of a window make the window's).
  void merge(const Coactivation& other);
  // The n most frequent pairs, by count descending, then (a, b) ascending.
  std::vector<ExpertPair> top_pairs(size_t n) const;
};

// Per layer, over the window's router decisions (empty when none were recorded). May throw
// store::Error.
std::map<int32_t, Coactivation> coactivation(const store::Reader& reader, const store::Filter& filter);

}  // namespace moeprof::analysis
