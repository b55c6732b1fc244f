// Capacity planning: the capacity factor an expert-parallel job would need so that few tokens
// are dropped. A batch is one recorded expert-load row (one rank's tokens of one step and
// layer); with capacity factor c every expert of the batch accepts at most c × (the batch's
// assignments ÷ experts) tokens and drops the rest (GShard/Switch-style capacity).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moeprof/store/reader.h"

namespace moeprof::analysis {

// Collects batches and answers "which capacity factor keeps drops at or under a fraction".
// Exact at a resolution of 1/kStepsPerUnit of a capacity factor: loads are binned by
// (tokens ÷ mean) into bins that keep their weighted sums, so drops at a bin boundary are
// exact and the answer is the smallest boundary that meets the target.
class CapacityCurve {
 public:
  static constexpr int32_t kStepsPerUnit = 256;

  void add_batch(std::span<const uint32_t> counts);
  // Adds another curve's batches (curves of parts of a window make the window's curve).
  void merge(const CapacityCurve& other);
  // Assignments (token × expert choices) seen.
  double assignments() const { return assignments_; }
  // Tokens dropped at capacity factor `factor` (rounded down to the resolution).
  double dropped_at(double factor) const;
  // Smallest factor (a multiple of 1/kStepsPerUnit) dropping at most `fraction` of the
  // assignments; 0 with no assignments.
  double factor_for_drop_fraction(double fraction) const;

 private:
  // Per bin k (loads y = tokens ÷ mean in [k, k+1) / kStepsPerUnit): summed mean-weights w
  // and summed w × y, i.e. tokens.
  std::vector<double> weight_, tokens_;
  double assignments_ = 0;
};

// The curve of every expert-load row the filter selects.
CapacityCurve capacity_curve(const store::Reader& reader, const store::Filter& filter);

// Bytes of one SwiGLU routed expert's weights (gate, up and down projections: 3 x hidden x
// ffn weights); 0 when a size is unknown (<= 0).
double expert_weight_bytes(int32_t hidden_size, int32_t expert_ffn, double bytes_per_weight);

}  // namespace moeprof::analysis
