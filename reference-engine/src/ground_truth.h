// The engine's own record of what it reported, kept apart from the agent so tests can
// compare the trace with it: DIR/expert-load.rank<R>.csv and DIR/a2a.rank<R>.csv.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "moeprof/moeprof.h"

namespace moeprof::engine {

class GroundTruth {
 public:
  explicit GroundTruth(int32_t rank) : rank_(rank) {}
  // Rows for the non-zero counts, in (step, layer, expert) order as the calls come.
  void expert_counts(int64_t step, int32_t layer, std::span<const uint32_t> counts);
  // One row per peer with non-zero bytes.
  void all_to_all(int64_t step, int32_t layer, moeprof_phase phase, std::span<const uint64_t> send_bytes,
                  std::span<const uint64_t> recv_bytes);
  // Writes both files (through temporary files renamed into place). false and a one-line
  // `error` when that fails.
  bool write(const std::string& dir, std::string* error) const;

 private:
  int32_t rank_;
  std::string expert_load_ = "rank,step,layer,expert,tokens\n";
  std::string a2a_ = "rank,step,layer,phase,peer,send_bytes,recv_bytes\n";
};

}  // namespace moeprof::engine
