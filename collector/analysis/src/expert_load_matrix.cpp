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

// Rows of the filter: whole summarised windows from their summaries, the rest row by row.
ExpertLoadMatrix counts_matrix(const store::Reader& reader, const store::Filter& filter, store::SummaryKind kind) {
  ExpertLoadMatrix m = sized_for_model(reader);
  const SummaryCover cover = summary_cover(reader, filter.step_begin, filter.step_end);
  const auto add_row = [&](const store::ExpertLoad& row) { m.add(row.layer, row.counts); };
  for (const store::Filter& f : cover.uncovered(filter)) {
    if (kind == store::SummaryKind::kExpertLoad)
      reader.for_each_expert_load(f, add_row);
    else
      reader.for_each_expert_drops(f, add_row);
  }
  for_each_counts_summary(reader, kind, cover, [&](const store::SummaryRow& row, const std::vector<LayerCounts>& layers) {
    if (filter.rank && row.rank != *filter.rank) return;
    for (const LayerCounts& l : layers)
      if (!filter.layer || l.layer == *filter.layer) m.add(l.layer, l.counts);
  });
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
