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

// Accumulates the unions of every rank, then turns them into stats.
class Accumulator {
 public:
  explicit Accumulator(const store::Filter& window)
      : begin_(window.time_begin_ns.value_or(std::numeric_limits<int64_t>::min())),
        end_(window.time_end_ns.value_or(std::numeric_limits<int64_t>::max())) {}

  void add(const store::AllToAllEvent& e) {
    RankUnions& r = ranks_[e.rank];
    r.total.comm.add(clip(e.start_ns, e.end_ns));
    r.layers[e.layer].comm.add(clip(e.start_ns, e.end_ns));
  }
  void add(const store::ComputeSpan& s) {
    RankUnions& r = ranks_[s.rank];
    r.total.compute.add(clip(s.start_ns, s.end_ns));
    r.layers[s.layer].compute.add(clip(s.start_ns, s.end_ns));
  }
  void add(const store::StepSpan& s) { ranks_[s.rank].steps.add(clip(s.start_ns, s.end_ns)); }

  std::vector<RankOverlap> finish() {
    std::vector<RankOverlap> out;
    for (auto& [rank, r] : ranks_) {
      RankOverlap ro;
      ro.rank = rank;
      const int64_t step_ns = r.steps.length();
      ro.total = stats(r.total, step_ns);
      for (auto& [layer, u] : r.layers) ro.layers.push_back({layer, stats(u, step_ns)});
      out.push_back(std::move(ro));
    }
    return out;
  }

 private:
  Interval clip(int64_t start_ns, int64_t end_ns) const { return {std::max(start_ns, begin_), std::min(end_ns, end_)}; }

  static OverlapStats stats(Unions& u, int64_t step_ns) {
    OverlapStats s;
    s.comm_ns = u.comm.length();
    s.compute_ns = u.compute.length();
    s.overlapped_ns = intersection_length(u.comm.merged(), u.compute.merged());
    s.exposed_comm_ns = s.comm_ns - s.overlapped_ns;
    s.step_ns = step_ns;
    return s;
  }

  int64_t begin_, end_;
  std::map<int32_t, RankUnions> ranks_;
};

}  // namespace

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
  Accumulator acc(window);
  for (const auto& e : all_to_alls) acc.add(e);
  for (const auto& s : compute) acc.add(s);
  for (const auto& s : steps) acc.add(s);
  return acc.finish();
}

std::vector<RankOverlap> compute_overlap(const store::Reader& reader, const store::Filter& filter) {
  Accumulator acc(filter);
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
