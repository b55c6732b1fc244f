// How much of each rank's all-to-all time is hidden behind compute (HTA's overlap:
// time computing while communicating ÷ time communicating), how much is exposed, and
// both as shares of step time; per rank, and per layer on that rank.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "moeprof/store/reader.h"
#include "moeprof/store/rows.h"

namespace moeprof::analysis {

struct OverlapStats {
  int64_t comm_ns = 0;        // union of all-to-all spans
  int64_t compute_ns = 0;     // union of compute spans
  int64_t overlapped_ns = 0;  // |comm ∩ compute|
  int64_t exposed_comm_ns = 0;  // comm_ns - overlapped_ns
  int64_t step_ns = 0;        // union of the rank's step spans
  // overlapped ÷ comm; 0 without communication.
  double overlap() const;
  // comm ÷ step and exposed ÷ step; 0 without step spans.
  double comm_share() const;
  double exposed_share() const;
  // Sums the ns fields (for totals over ranks; the ratios then weight ranks by time).
  OverlapStats& operator+=(const OverlapStats& other);
  bool operator==(const OverlapStats&) const = default;
};

struct LayerOverlap {
  int32_t layer = 0;
  // All-to-all and compute spans of this layer only; step_ns is the rank's whole step
  // time, so shares say how much of the step this layer's communication costs.
  OverlapStats stats;
};

struct RankOverlap {
  int32_t rank = -1;
  OverlapStats total;               // spans of every layer
  std::vector<LayerOverlap> layers;  // by layer; layers with all-to-all or compute spans
  // Adds the stats of another part of the same rank's time (exact when the parts do not
  // overlap in time: unions of disjoint parts add up).
  void merge(const RankOverlap& other);
};

// Takes spans one at a time (any order; start order keeps memory small) and turns them
// into per-rank overlap. With a time window set in `window`, spans are clipped to it.
class OverlapAccumulator {
 public:
  explicit OverlapAccumulator(const store::Filter& window = {});
  ~OverlapAccumulator();
  OverlapAccumulator(OverlapAccumulator&&) noexcept;
  OverlapAccumulator& operator=(OverlapAccumulator&&) noexcept;
  void add(const store::AllToAllEvent& e);
  void add(const store::ComputeSpan& s);
  void add(const store::StepSpan& s);
  // Per rank, in rank order.
  std::vector<RankOverlap> finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Per rank (in rank order) over the given rows. Rows may come in any order; with a time
// window set in `window`, spans are clipped to it (the step and layer fields of `window`
// are not applied here: pass rows already selected by them).
std::vector<RankOverlap> compute_overlap(const std::vector<store::AllToAllEvent>& all_to_alls,
                                         const std::vector<store::ComputeSpan>& compute,
                                         const std::vector<store::StepSpan>& steps,
                                         const store::Filter& window = {});

// The same, streaming the rows of `filter` from a trace. Throws store::Error.
std::vector<RankOverlap> compute_overlap(const store::Reader& reader, const store::Filter& filter);

// Sums over ranks: per layer (step_ns = the step time of all ranks, including ranks
// without that layer), and in total. These are the per-layer report numbers.
std::vector<LayerOverlap> overlap_by_layer(const std::vector<RankOverlap>& ranks);
OverlapStats overlap_total(const std::vector<RankOverlap>& ranks);

}  // namespace moeprof::analysis
