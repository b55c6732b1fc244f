#include "moeprof/analysis/comm_intervals.h"

#include <algorithm>

namespace moeprof::analysis {

void IntervalUnion::add(int64_t start_ns, int64_t end_ns) {
  if (end_ns <= start_ns) return;
  if (sorted_ && !spans_.empty()) {
    Interval& last = spans_.back();
    if (start_ns >= last.start_ns) {
      if (start_ns <= last.end_ns) {
        last.end_ns = std::max(last.end_ns, end_ns);
        return;
      }
    } else {
      sorted_ = false;
    }
  }
  spans_.push_back({start_ns, end_ns});
}

std::span<const Interval> IntervalUnion::merged() {
  if (!sorted_) {
    spans_ = merge_intervals(std::move(spans_));
    sorted_ = true;
  }
  return spans_;
}

int64_t IntervalUnion::length() { return merged_length(merged()); }

std::vector<Interval> merge_intervals(std::vector<Interval> spans) {
  std::erase_if(spans, [](const Interval& s) { return s.end_ns <= s.start_ns; });
  std::sort(spans.begin(), spans.end(), [](const Interval& a, const Interval& b) { return a.start_ns < b.start_ns; });
  std::vector<Interval> out;
  for (const Interval& s : spans) {
    if (!out.empty() && s.start_ns <= out.back().end_ns) {
      out.back().end_ns = std::max(out.back().end_ns, s.end_ns);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

int64_t union_length(std::vector<Interval> spans) { return merged_length(merge_intervals(std::move(spans))); }

int64_t merged_length(std::span<const Interval> merged) {
  int64_t total = 0;
  for (const Interval& s : merged) total += s.end_ns - s.start_ns;
  return total;
}

namespace {

// Calls fn(start, end) for each non-empty piece of a ∩ b, in time order.
template <class Fn>
void for_each_intersection(std::span<const Interval> a, std::span<const Interval> b, Fn&& fn) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const int64_t lo = std::max(a[i].start_ns, b[j].start_ns);
    const int64_t hi = std::min(a[i].end_ns, b[j].end_ns);
    if (hi > lo) fn(lo, hi);
    // The interval ending first cannot meet anything further in the other list.
    if (a[i].end_ns < b[j].end_ns) ++i; else ++j;
  }
}

}  // namespace

int64_t intersection_length(std::span<const Interval> a, std::span<const Interval> b) {
  int64_t total = 0;
  for_each_intersection(a, b, [&](int64_t lo, int64_t hi) { total += hi - lo; });
  return total;
}

std::vector<Interval> intersect_intervals(std::span<const Interval> a, std::span<const Interval> b) {
  std::vector<Interval> out;
  for_each_intersection(a, b, [&](int64_t lo, int64_t hi) { out.push_back({lo, hi}); });
  return out;
}

std::vector<Interval> clip_intervals(std::span<const Interval> merged, int64_t begin_ns, int64_t end_ns) {
  std::vector<Interval> out;
  for (const Interval& s : merged) {
    const Interval c{std::max(s.start_ns, begin_ns), std::min(s.end_ns, end_ns)};
    if (c.end_ns > c.start_ns) out.push_back(c);
  }
  return out;
}

}  // namespace moeprof::analysis
