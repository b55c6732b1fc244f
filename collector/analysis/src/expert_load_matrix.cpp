#include "moeprof/analysis/expert_load_matrix.h"

#include <algorithm>

#include "moeprof/analysis/window_summary.h"

namespace moeprof::analysis {

void ExpertLoadMatrix::resize(int32_t layers, int32_t experts) {
  num_layers = std::max(num_layers, layers);
  num_experts = std::max(num_experts, experts);
  tokens.resize(static_cast<size_t>(num_layers));
  for (auto& row : tokens) row.resize(static_cast<size_t>(num_experts), 0.0);
}

namespace {

template <class Count>
void add_row(ExpertLoadMatrix& m, int32_t layer, std::span<const Count> counts) {
  if (layer < 0) return;
  if (layer >= m.num_layers || counts.size() > static_cast<size_t>(m.num_experts))
    m.resize(layer + 1, static_cast<int32_t>(counts.size()));
  auto& row = m.tokens[static_cast<size_t>(layer)];
  for (size_t e = 0; e < counts.size(); ++e) row[e] += static_cast<double>(counts[e]);
}

}  // namespace

void ExpertLoadMatrix::add(int32_t layer, std::span<const uint32_t> counts) { add_row(*this, layer, counts); }
void ExpertLoadMatrix::add(int32_t layer, std::span<const uint64_t> counts) { add_row(*this, layer, counts); }

namespace {

ExpertLoadMatrix sized_for_model(const store::Reader& reader) {
  ExpertLoadMatrix m;
  if (auto model = reader.model()) m.resize(std::max(model->num_layers, 0), std::max(model->num_experts, 0));
  return m;
}

}  // namespace

namespace {

// Sums counts in integers, exactly, and converts to the matrix's doubles once at the end: a
// conversion per count would cost as much as decoding it.
class CountsSum {
 public:
  explicit CountsSum(const ExpertLoadMatrix& shape) { grow(shape.num_layers, shape.num_experts); }
  template <class Count>
  void add(int32_t layer, std::span<const Count> counts) {
    if (layer < 0) return;
    if (layer >= layers_ || counts.size() > experts_) grow(std::max(layers_, layer + 1), std::max(experts_, counts.size()));
    uint64_t* row = sums_.data() + static_cast<size_t>(layer) * experts_;
    for (size_t e = 0; e < counts.size(); ++e) row[e] += counts[e];
  }
  void add_to(ExpertLoadMatrix& m) const {
    m.resize(layers_, static_cast<int32_t>(experts_));
    for (int32_t l = 0; l < layers_; ++l)
      for (size_t e = 0; e < experts_; ++e) m.tokens[static_cast<size_t>(l)][e] += static_cast<double>(sums_[static_cast<size_t>(l) * experts_ + e]);
  }

 private:
  void grow(int32_t layers, size_t experts) {
    std::vector<uint64_t> grown(static_cast<size_t>(layers) * experts, 0);
    for (int32_t l = 0; l < layers_; ++l)
      std::copy_n(sums_.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(l) * experts_), experts_,
                  grown.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(l) * experts));
    sums_ = std::move(grown);
    layers_ = layers;
    experts_ = experts;
  }

  int32_t layers_ = 0;
  size_t experts_ = 0;
  std::vector<uint64_t> sums_;  // [layer * experts_ + expert]
};

// Rows of the filter: whole summarised windows from their summaries, the rest row by row.
ExpertLoadMatrix counts_matrix(const store::Reader& reader, const store::Filter& filter, store::SummaryKind kind) {
  ExpertLoadMatrix m = sized_for_model(reader);
  CountsSum sum(m);
  const SummaryCover cover = summary_cover(reader, filter.step_begin, filter.step_end);
  const auto add_row = [&](const store::ExpertLoad& row) { sum.add<uint32_t>(row.layer, row.counts); };
  for (const store::Filter& f : cover.uncovered(filter)) {
    if (kind == store::SummaryKind::kExpertLoad)
      reader.for_each_expert_load(f, add_row);
    else
      reader.for_each_expert_drops(f, add_row);
  }
  for_each_counts_summary(reader, kind, cover, [&](const store::SummaryRow& row, const std::vector<LayerCounts>& layers) {
    if (filter.rank && row.rank != *filter.rank) return;
    for (const LayerCounts& l : layers)
      if (!filter.layer || l.layer == *filter.layer) sum.add<uint64_t>(l.layer, l.counts);
  });
  sum.add_to(m);
  return m;
}

}  // namespace

ExpertLoadMatrix expert_load_matrix(const store::Reader& reader, const store::Filter& filter) {
  return counts_matrix(reader, filter, store::SummaryKind::kExpertLoad);
}

ExpertLoadMatrix expert_drops_matrix(const store::Reader& reader, const store::Filter& filter) {
  return counts_matrix(reader, filter, store::SummaryKind::kExpertDrops);
}

std::vector<double> sum_over_layers(const ExpertLoadMatrix& matrix) {
  std::vector<double> sum(static_cast<size_t>(matrix.num_experts), 0.0);
  for (const auto& row : matrix.tokens)
    for (size_t e = 0; e < row.size(); ++e) sum[e] += row[e];
  return sum;
}

}  // namespace moeprof::analysis
