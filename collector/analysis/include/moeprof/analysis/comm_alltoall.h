// All-to-all time, volume and achieved bandwidth per (layer, phase), and the rank × rank
// volume matrix.
//
// Bytes a rank "sends" to itself (its own tokens for its own experts) are part of the
// dispatched volume, so they count in bytes_sent and in the matrix diagonal, but they never
// cross the network, so achieved bandwidth uses network_bytes_sent, which leaves them out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <optional>
#include <vector>

#include "moeprof/store/reader.h"
#include "moeprof/store/rows.h"

namespace moeprof::analysis {

struct AllToAllStats {
  int32_t layer = 0;
  wire::Phase phase = wire::Phase::kDispatch;
  int64_t count = 0;                // events: one per rank per collective
  int64_t total_ns = 0;             // sum of event durations over ranks
  uint64_t bytes_sent = 0;          // sum of per-peer send bytes, self included
  uint64_t network_bytes_sent = 0;  // the same without bytes to self
  // network_bytes_sent per second of all-to-all time: each rank's achieved send bandwidth,
  // averaged over ranks weighted by their time. 0 when total_ns is 0.
  double bandwidth_bytes_per_s() const;
  bool operator==(const AllToAllStats&) const = default;
};

// Sums events, or stats of other parts of a window, per (layer, phase).
class AllToAllStatsAccumulator {
 public:
  void add(const store::AllToAllEvent& e);
  void add(const AllToAllStats& part);
  // One entry per (layer, phase) present, in (layer, phase) order.
  std::vector<AllToAllStats> finish() const;

 private:
  std::map<std::pair<int32_t, wire::Phase>, AllToAllStats> stats_;
};

// One entry per (layer, phase) present, in (layer, phase) order.
std::vector<AllToAllStats> all_to_all_stats(const std::vector<store::AllToAllEvent>& events);
// The same over a trace window. Throws store::Error.
std::vector<AllToAllStats> all_to_all_stats(const store::Reader& reader, const store::Filter& filter);

// Bytes sent from rank `from` to rank `to`, summed over events, for ranks 0..size-1 (size =
// one more than the largest rank or peer seen). Events of an unknown rank (< 0) and peers
// < 0 are left out.
struct VolumeMatrix {
  int32_t size = 0;
  std::vector<uint64_t> bytes;  // row-major: bytes[from * size + to]
  uint64_t at(int32_t from, int32_t to) const { return bytes[static_cast<size_t>(from) * size + to]; }
};

// Sums events (of one phase, when given), or bytes of other parts of a window.
class VolumeMatrixAccumulator {
 public:
  explicit VolumeMatrixAccumulator(std::optional<wire::Phase> phase = std::nullopt) : phase_(phase) {}
  void add(const store::AllToAllEvent& e);
  // Bytes from `from` to `to` in `phase` (left out when the accumulator keeps another phase).
  void add(int32_t from, int32_t to, wire::Phase phase, uint64_t bytes);
  VolumeMatrix finish() const;
  // The sums so far, row by row: (from, to) -> bytes.
  const std::map<std::pair<int32_t, int32_t>, uint64_t>& cells() const { return bytes_; }

 private:
  std::optional<wire::Phase> phase_;
  int32_t size_ = 0;
  std::map<std::pair<int32_t, int32_t>, uint64_t> bytes_;
};

// Of all events, or of one phase only (dispatch and combine move the same tokens back and
// forth, so the sum of both counts each token twice).
VolumeMatrix volume_matrix(const std::vector<store::AllToAllEvent>& events,
                           std::optional<wire::Phase> phase = std::nullopt);
// Over a trace window: whole summarised windows from their summaries (window_summary.h) unless
// the filter has a time window, the rest from rows. Throws store::Error.
VolumeMatrix volume_matrix(const store::Reader& reader, const store::Filter& filter,
                           std::optional<wire::Phase> phase = std::nullopt);

}  // namespace moeprof::analysis
