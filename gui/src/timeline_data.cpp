#include "timeline_data.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

namespace moeprof::gui {
namespace {

// The steps [begin, end) of the selection that fit the budget, judged by the trace's mean
// spans per step (per rank when one rank is shown).
std::pair<int64_t, int64_t> steps_within_budget(const store::Reader& reader, const LoadSelection& selection,
                                                const std::pair<int64_t, int64_t>& trace_steps, size_t budget) {
  const int64_t begin = std::max(selection.step_begin.value_or(trace_steps.first), trace_steps.first);
  const int64_t end = std::min(selection.step_end.value_or(trace_steps.second + 1), trace_steps.second + 1);
  const store::TableCounts counts = reader.counts();
  double per_step = static_cast<double>(counts.compute_spans + counts.all_to_all) /
                    static_cast<double>(trace_steps.second - trace_steps.first + 1);
  if (selection.rank) per_step /= static_cast<double>(std::max<size_t>(1, reader.ranks().size()));
  const double fit = per_step > 0 ? static_cast<double>(budget) / per_step : static_cast<double>(end - begin);
  return {begin, std::min(end, begin + std::max<int64_t>(1, static_cast<int64_t>(fit)))};
}

void add_span(TimelineLane& lane, const TimelineSpan& span) {
  lane.spans.push_back(span);
  lane.longest_ns = std::max(lane.longest_ns, span.end_ns - span.start_ns);
}

}  // namespace

TimelinePtr load_timeline(const store::Reader& reader, const LoadSelection& selection, size_t span_budget) {
  auto t = std::make_shared<Timeline>();
  t->selection = selection;
  store::Filter f;
  f.rank = selection.rank;
  f.step_begin = selection.step_begin;
  f.step_end = selection.step_end;
  if (const auto trace_steps = reader.step_range()) {
    const auto [begin, end] = steps_within_budget(reader, selection, *trace_steps, span_budget);
    if (end <= begin) return t;
    t->cut = end < selection.step_end.value_or(trace_steps->second + 1);
    f.step_begin = begin;
    f.step_end = end;
    t->steps = std::make_pair(begin, end - 1);
  }

  std::map<int32_t, RankTimeline> ranks;
  const auto rank = [&](int32_t r) -> RankTimeline& {
    RankTimeline& lanes = ranks[r];
    lanes.rank = r;
    return lanes;
  };
  std::unordered_map<std::string, int64_t> name_ids;
  reader.for_each_compute_span(f, [&](const store::ComputeSpan& s) {
    int64_t name = -1;
    if (!s.name.empty()) {
      auto [it, inserted] = name_ids.try_emplace(s.name, static_cast<int64_t>(t->names.size()));
      if (inserted) t->names.push_back(s.name);
      name = it->second;
    }
    add_span(rank(s.rank).compute, {s.start_ns, s.end_ns, s.step, name, s.layer, static_cast<uint8_t>(s.kind)});
  });
  reader.for_each_all_to_all(f, [&](const store::AllToAllEvent& e) {
    int64_t sent = 0;
    for (const wire::PeerBytes& p : e.peers) sent += static_cast<int64_t>(p.send_bytes);
    add_span(rank(e.rank).comm, {e.start_ns, e.end_ns, e.step, sent, e.layer, static_cast<uint8_t>(e.phase)});
  });
  for (const store::StepSpan& s : reader.steps(f)) rank(s.rank).step_starts.emplace_back(s.step, s.start_ns);

  t->begin_ns = std::numeric_limits<int64_t>::max();
  t->end_ns = std::numeric_limits<int64_t>::min();
  for (auto& [r, lanes] : ranks) {
    analysis::IntervalUnion compute, comm;
    for (TimelineLane* lane : {&lanes.compute, &lanes.comm}) {
      // The reader streams a rank's spans in start order; a span list written out of order
      // by a late chunk is sorted here.
      std::stable_sort(lane->spans.begin(), lane->spans.end(),
                       [](const TimelineSpan& a, const TimelineSpan& b) { return a.start_ns < b.start_ns; });
      analysis::IntervalUnion& u = lane == &lanes.compute ? compute : comm;
      for (const TimelineSpan& s : lane->spans) {
        u.add(s.start_ns, s.end_ns);
        t->begin_ns = std::min(t->begin_ns, s.start_ns);
        t->end_ns = std::max(t->end_ns, s.end_ns);
      }
      t->span_count += lane->spans.size();
    }
    lanes.overlap = analysis::intersect_intervals(comm.merged(), compute.merged());
    std::sort(lanes.step_starts.begin(), lanes.step_starts.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    t->ranks.push_back(std::move(lanes));
  }
  if (t->span_count == 0) t->begin_ns = t->end_ns = 0;
  return t;
}

}  // namespace moeprof::gui
