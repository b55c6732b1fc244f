// Interval arithmetic on half-open [start, end) nanosecond spans: the base of the
// communication metrics (time communicating, time computing, time doing both).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace moeprof::analysis {

struct Interval {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  bool operator==(const Interval&) const = default;
};

// Collects spans into their union: sorted, disjoint intervals with gaps between them
// (touching spans [a, b) and [b, c) become [a, c)); empty or inverted spans add nothing.
// Spans arriving in start order (as the Reader streams them) merge as they come, so memory
// stays proportional to the number of gaps, not the number of spans.
class IntervalUnion {
 public:
  void add(int64_t start_ns, int64_t end_ns);
  void add(const Interval& span) { add(span.start_ns, span.end_ns); }
  // The union, merged; valid until the next add.
  std::span<const Interval> merged();
  int64_t length();

 private:
  std::vector<Interval> spans_;
  bool sorted_ = true;  // spans_ is already merged
};

// Union of arbitrary spans, in start order, disjoint and non-touching.
std::vector<Interval> merge_intervals(std::vector<Interval> spans);
// Total length of arbitrary spans, overlaps counted once.
int64_t union_length(std::vector<Interval> spans);
// Length of a merged list (as returned by merge_intervals).
int64_t merged_length(std::span<const Interval> merged);
// Length of the intersection of two merged lists: time covered by both.
int64_t intersection_length(std::span<const Interval> a, std::span<const Interval> b);
// The intersection of two merged lists itself, merged: where both cover the time (the
// viewer shades it as overlap).
std::vector<Interval> intersect_intervals(std::span<const Interval> a, std::span<const Interval> b);
// The part of a merged list inside [begin_ns, end_ns).
std::vector<Interval> clip_intervals(std::span<const Interval> merged, int64_t begin_ns, int64_t end_ns);

}  // namespace moeprof::analysis
