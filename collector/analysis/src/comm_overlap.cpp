#include "moeprof/analysis/comm_overlap.h"

#include <algorithm>
#include <limits>
#include <map>

#include "moeprof/analysis/comm_intervals.h"

namespace moeprof::analysis {

namespace {

double ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0; }

struct Unions {
  IntervalUnion comm, compute;
};

struct RankUnions {
  Unions total;
  std::map<int32_t, Unions> layers;
  IntervalUnion steps;
};

OverlapStats stats(Unions& u, int64_t step_ns) {
  OverlapStats s;
  s.comm_ns = u.comm.length();
  s.compute_ns = u.compute.length();
  s.overlapped_ns = intersection_length(u.comm.merged(), u.compute.merged());
  s.exposed_comm_ns = s.comm_ns - s.overlapped_ns;
  s.step_ns = step_ns;
  return s;
}

}  // namespace

struct OverlapAccumulator::State {
  int64_t begin, end;
  std::map<int32_t, RankUnions> ranks;
  Interval clip(int64_t start_ns, int64_t end_ns) const { return {std::max(start_ns, begin), std::min(end_ns, end)}; }
};

OverlapAccumulator::OverlapAccumulator(const store::Filter& window)
    : state_(new State{window.time_begin_ns.value_or(std::numeric_limits<int64_t>::min()),
                       window.time_end_ns.value_or(std::numeric_limits<int64_t>::max()),
                       {}}) {}
OverlapAccumulator::~OverlapAccumulator() = default;
OverlapAccumulator::OverlapAccumulator(OverlapAccumulator&&) noexcept = default;
OverlapAccumulator& OverlapAccumulator::operator=(OverlapAccumulator&&) noexcept = default;

void OverlapAccumulator::add(const store::AllToAllEvent& e) {
  RankUnions& r = state_->ranks[e.rank];
  const Interval span = state_->clip(e.start_ns, e.end_ns);
  r.total.comm.add(span);
  r.layers[e.layer].comm.add(span);
}

void OverlapAccumulator::add(const store::ComputeSpan& s) {
  RankUnions& r = state_->ranks[s.rank];
  const Interval span = state_->clip(s.start_ns, s.end_ns);
  r.total.compute.add(span);
  r.layers[s.layer].compute.add(span);
}

void OverlapAccumulator::add(const store::StepSpan& s) { state_->ranks[s.rank].steps.add(state_->clip(s.start_ns, s.end_ns)); }

std::vector<RankOverlap> OverlapAccumulator::finish() {
  std::vector<RankOverlap> out;
  for (auto& [rank, r] : state_->ranks) {
    RankOverlap ro;
    ro.rank = rank;
    const int64_t step_ns = r.steps.length();
    ro.total = stats(r.total, step_ns);
    for (auto& [layer, u] : r.layers) ro.layers.push_back({layer, stats(u, step_ns)});
    out.push_back(std::move(ro));
  }
  return out;
}

void RankOverlap::merge(const RankOverlap& other) {
  total += other.total;
  std::vector<LayerOverlap> merged;
  merged.reserve(layers.size() + other.layers.size());
  auto a = layers.cbegin();
  auto b = other.layers.cbegin();
  while (a != layers.cend() || b != other.layers.cend()) {
    if (b == other.layers.cend() || (a != layers.cend() && a->layer < b->layer)) {
      merged.push_back(*a++);
    } else if (a == layers.cend() || b->layer < a->layer) {
      merged.push_back(*b++);
    } else {
      merged.push_back(*a++);
      merged.back().stats += (b++)->stats;
    }
  }
  layers = std::move(merged);
}

double OverlapStats::overlap() const { return ratio(overlapped_ns, comm_ns); }
double OverlapStats::comm_share() const { return ratio(comm_ns, step_ns); }
double OverlapStats::exposed_share() const { return ratio(exposed_comm_ns, step_ns); }

OverlapStats& OverlapStats::operator+=(const OverlapStats& other) {
  comm_ns += other.comm_ns;
  compute_ns += other.compute_ns;
  overlapped_ns += other.overlapped_ns;
  exposed_comm_ns += other.exposed_comm_ns;
  step_ns += other.step_ns;
  return *this;
}

std::vector<RankOverlap> compute_overlap(const std::vector<store::AllToAllEvent>& all_to_alls,
                                         const std::vector<store::ComputeSpan>& compute,
                                         const std::vector<store::StepSpan>& steps, const store::Filter& window) {
  OverlapAccumulator acc(window);
  for (const auto& e : all_to_alls) acc.add(e);
  for (const auto& s : compute) acc.add(s);
  for (const auto& s : steps) acc.add(s);
  return acc.finish();
}

std::vector<RankOverlap> compute_overlap(const store::Reader& reader, const store::Filter& filter) {
  OverlapAccumulator acc(filter);
  reader.for_each_all_to_all(filter, [&](const store::AllToAllEvent& e) { acc.add(e); });
  reader.for_each_compute_span(filter, [&](const store::ComputeSpan& s) { acc.add(s); });
  for (const auto& s : reader.steps(filter)) acc.add(s);
  return acc.finish();
}

std::vector<LayerOverlap> overlap_by_layer(const std::vector<RankOverlap>& ranks) {
  std::map<int32_t, OverlapStats> sums;
  int64_t step_ns = 0;
  for (const auto& r : ranks) {
    step_ns += r.total.step_ns;
    for (const auto& l : r.layers) sums[l.layer] += l.stats;
  }
  std::vector<LayerOverlap> out;
  for (auto& [layer, s] : sums) {
    s.step_ns = step_ns;  // every rank's step time, also of ranks without this layer
    out.push_back({layer, s});
  }
  return out;
}

OverlapStats overlap_total(const std::vector<RankOverlap>& ranks) {
  OverlapStats total;
  for (const auto& r : ranks) total += r.total;
  return total;
}

}  // namespace moeprof::analysis
