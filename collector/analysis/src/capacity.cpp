#include "moeprof/analysis/capacity.h"

#include <algorithm>
#include <cmath>

namespace moeprof::analysis {

void CapacityCurve::add_batch(std::span<const uint32_t> counts) {
  uint64_t total = 0;
  uint32_t largest = 0;
  for (uint32_t c : counts) {
    total += c;
    largest = std::max(largest, c);
  }
  if (total == 0) return;
  const double mean = static_cast<double>(total) / static_cast<double>(counts.size());
  const auto bin_of = [&](uint32_t c) { return static_cast<size_t>(static_cast<double>(c) / mean * kStepsPerUnit); };
  // Sized once for the largest count, so the loop below only adds.
  if (const size_t top = bin_of(largest); top >= weight_.size()) {
    weight_.resize(top + 1, 0.0);
    tokens_.resize(top + 1, 0.0);
  }
  for (uint32_t c : counts) {
    if (c == 0) continue;
    const size_t bin = bin_of(c);
    weight_[bin] += mean;
    tokens_[bin] += c;
  }
  assignments_ += static_cast<double>(total);
}

void CapacityCurve::merge(const CapacityCurve& other) {
  if (other.weight_.size() > weight_.size()) {
    weight_.resize(other.weight_.size(), 0.0);
    tokens_.resize(other.tokens_.size(), 0.0);
  }
  for (size_t k = 0; k < other.weight_.size(); ++k) {
    weight_[k] += other.weight_[k];
    tokens_[k] += other.tokens_[k];
  }
  assignments_ += other.assignments_;
}

double CapacityCurve::dropped_at(double factor) const {
  // Loads in bins at or above the factor's bin lose (load - capacity); those below lose none.
  const auto first = static_cast<size_t>(std::max(0.0, std::floor(factor * kStepsPerUnit)));
  const double c = static_cast<double>(first) / kStepsPerUnit;
  double dropped = 0;
  for (size_t k = first; k < weight_.size(); ++k) dropped += tokens_[k] - c * weight_[k];
  return std::max(0.0, dropped);
}

double CapacityCurve::factor_for_drop_fraction(double fraction) const {
  if (assignments_ == 0) return 0;
  const double allowed = fraction * assignments_;
  // Walk down from the top bin: drops at boundary k are sum over bins >= k of tokens - k/S w.
  double weight_above = 0, tokens_above = 0;
  for (size_t k = weight_.size(); k-- > 0;) {
    weight_above += weight_[k];
    tokens_above += tokens_[k];
    const double c = static_cast<double>(k) / kStepsPerUnit;
    if (tokens_above - c * weight_above > allowed * (1 + 1e-12)) return static_cast<double>(k + 1) / kStepsPerUnit;
  }
  return 0;
}

CapacityCurve capacity_curve(const store::Reader& reader, const store::Filter& filter) {
  CapacityCurve curve;
  reader.for_each_expert_load(filter, [&](const store::ExpertLoad& load) { curve.add_batch(load.counts); });
  return curve;
}

double expert_weight_bytes(int32_t hidden_size, int32_t expert_ffn, double bytes_per_weight) {
  if (hidden_size <= 0 || expert_ffn <= 0 || bytes_per_weight <= 0) return 0;
  return 3.0 * hidden_size * expert_ffn * bytes_per_weight;
}

}  // namespace moeprof::analysis
