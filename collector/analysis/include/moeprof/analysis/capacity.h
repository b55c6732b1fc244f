// Capacity planning: the capacity factor an expert-parallel job would need so that few tokens
// are dropped. A batch is one recorded expert-load row (one rank's tokens of one step and
// layer); with capacity factor c every expert of the batch accepts at most c × (the batch's
// assignments ÷ experts) tokens and drops the rest (GShard/Switch-style capacity).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "moeprof/store/reader.h"

namespace moeprof::analysis {

// Collects batches and answers "which capacity factor keeps drops at or under a fraction".
// Loads are binned by y = tokens ÷ mean into bins that keep their weighted sums, so drops
// at a bin boundary are exact and the answer is the smallest boundary that meets the
// target. Bin boundaries are multiples of 1/kStepsPerUnit below 4, of 1/16 below 16, of 1/4
// below 64 and whole numbers above: about 1.5 % of the factor or finer everywhere, and a
// bounded number of bins, so a curve is small enough to keep per window of a trace.
class CapacityCurve {
 public:
  static constexpr int32_t kStepsPerUnit = 64;
  // The bin holding y (>= 0), and the lower boundary of a bin.
  static size_t bin_of(double y);
  static double boundary(size_t bin);

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

  // The non-empty bins (for storing a curve) and a way to add one back.
  struct Bin {
    size_t index = 0;
    double weight = 0;  // summed means of the batches of the loads in the bin
    double tokens = 0;  // summed loads
  };
  std::vector<Bin> bins() const;
  void add_bin(const Bin& bin);

 private:
  void grow(size_t bins);
  // Per bin k (loads y in [boundary(k), boundary(k + 1))): summed mean-weights w and
  // summed w × y, i.e. tokens.
  std::vector<double> weight_, tokens_;
  double assignments_ = 0;
};

// The curve of every expert-load row the filter selects.
CapacityCurve capacity_curve(const store::Reader& reader, const store::Filter& filter);

// Bytes of one SwiGLU routed expert's weights (gate, up and down projections: 3 x hidden x
// ffn weights); 0 when a size is unknown (<= 0).
double expert_weight_bytes(int32_t hidden_size, int32_t expert_ffn, double bytes_per_weight);

}  // namespace moeprof::analysis
