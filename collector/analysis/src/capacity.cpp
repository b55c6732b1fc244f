#include "moeprof/analysis/capacity.h"

#include <algorithm>
#include <cmath>

namespace moeprof::analysis {

namespace {

// Bins per unit of y (the finest resolution) and where each coarser resolution starts, in
// those units: 1/64 below 4, 1/16 below 16, 1/4 below 64, 1 above.
constexpr uint64_t kUnits = CapacityCurve::kStepsPerUnit;
constexpr uint64_t kQuarterFrom = 4 * kUnits, kSixteenthFrom = 16 * kUnits, kWholeFrom = 64 * kUnits;
constexpr size_t kFirstQuarterBin = kQuarterFrom;  // each later bin spans 4 units
constexpr size_t kFirstSixteenthBin = kFirstQuarterBin + (kSixteenthFrom - kQuarterFrom) / 4;  // 16 units
constexpr size_t kFirstWholeBin = kFirstSixteenthBin + (kWholeFrom - kSixteenthFrom) / 16;     // 64 units

inline size_t bin_of_units(uint64_t u) {
  if (u < kQuarterFrom) return u;
  if (u < kSixteenthFrom) return kFirstQuarterBin + (u - kQuarterFrom) / 4;
  if (u < kWholeFrom) return kFirstSixteenthBin + (u - kSixteenthFrom) / 16;
  return kFirstWholeBin + (u - kWholeFrom) / 64;
}

}  // namespace

size_t CapacityCurve::bin_of(double y) {
  // Far beyond any expert count: saturate instead of overflowing the conversion.
  return bin_of_units(static_cast<uint64_t>(std::clamp(y * kUnits, 0.0, 1e15)));
}

double CapacityCurve::boundary(size_t bin) {
  uint64_t units = bin;
  if (bin >= kFirstWholeBin)
    units = kWholeFrom + (bin - kFirstWholeBin) * 64;
  else if (bin >= kFirstSixteenthBin)
    units = kSixteenthFrom + (bin - kFirstSixteenthBin) * 16;
  else if (bin >= kFirstQuarterBin)
    units = kQuarterFrom + (bin - kFirstQuarterBin) * 4;
  return static_cast<double>(units) / kUnits;
}

void CapacityCurve::grow(size_t bins) {
  if (bins <= weight_.size()) return;
  weight_.resize(bins, 0.0);
  tokens_.resize(bins, 0.0);
}

void CapacityCurve::add_batch(std::span<const uint32_t> counts) {
  uint64_t total = 0;
  uint32_t largest = 0;
  for (uint32_t c : counts) {
    total += c;
    largest = std::max(largest, c);
  }
  if (total == 0) return;
  const double mean = static_cast<double>(total) / static_cast<double>(counts.size());
  // Units (1/kStepsPerUnit of y) of one token. y <= number of experts, so units fit easily.
  const double units_per_token = static_cast<double>(counts.size()) * kUnits / static_cast<double>(total);
  // Sized once for the largest count, so the loop below only adds.
  grow(bin_of_units(static_cast<uint64_t>(largest * units_per_token)) + 1);
  for (uint32_t c : counts) {
    if (c == 0) continue;
    const size_t bin = bin_of_units(static_cast<uint64_t>(c * units_per_token));
    weight_[bin] += mean;
    tokens_[bin] += c;
  }
  assignments_ += static_cast<double>(total);
}

void CapacityCurve::merge(const CapacityCurve& other) {
  grow(other.weight_.size());
  for (size_t k = 0; k < other.weight_.size(); ++k) {
    weight_[k] += other.weight_[k];
    tokens_[k] += other.tokens_[k];
  }
  assignments_ += other.assignments_;
}

std::vector<CapacityCurve::Bin> CapacityCurve::bins() const {
  std::vector<Bin> out;
  for (size_t k = 0; k < weight_.size(); ++k)
    if (tokens_[k] != 0) out.push_back({k, weight_[k], tokens_[k]});
  return out;
}

void CapacityCurve::add_bin(const Bin& bin) {
  grow(bin.index + 1);
  weight_[bin.index] += bin.weight;
  tokens_[bin.index] += bin.tokens;
  assignments_ += bin.tokens;  // every assignment is in some bin (zero loads add nothing)
}

double CapacityCurve::dropped_at(double factor) const {
  // Loads in bins at or above the factor's bin lose (load - capacity); those below lose none.
  const size_t first = bin_of(std::max(0.0, factor));
  const double c = boundary(first);
  double dropped = 0;
  for (size_t k = first; k < weight_.size(); ++k) dropped += tokens_[k] - c * weight_[k];
  return std::max(0.0, dropped);
}

double CapacityCurve::factor_for_drop_fraction(double fraction) const {
  if (assignments_ == 0) return 0;
  const double allowed = fraction * assignments_;
  // Walk down from the top bin: drops at boundary(k) are the sum over bins >= k of
  // tokens - boundary(k) × weight.
  double weight_above = 0, tokens_above = 0;
  for (size_t k = weight_.size(); k-- > 0;) {
    weight_above += weight_[k];
    tokens_above += tokens_[k];
    if (tokens_above - boundary(k) * weight_above > allowed * (1 + 1e-12)) return boundary(k + 1);
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
