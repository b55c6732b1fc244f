#include "moeprof/analysis/range_categories.h"

#include <algorithm>

namespace moeprof::analysis {

RangeCategoryNames::RangeCategoryNames(const std::vector<store::Range>& ranges) {
  for (const store::Range& r : ranges)
    if (r.kind == wire::RangeKind::kCategoryName) namings_[Key{r.rank, r.domain, r.category}].emplace_back(r.start_ns, r.name);
  for (auto& [key, namings] : namings_)
    std::stable_sort(namings.begin(), namings.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

const std::string& RangeCategoryNames::name_of(const store::Range& range) const {
  static const std::string kNone;
  if (range.category == 0 || range.kind == wire::RangeKind::kCategoryName) return kNone;
  const auto it = namings_.find(Key{range.rank, range.domain, range.category});
  if (it == namings_.end()) return kNone;
  const auto& namings = it->second;
  // The last naming at or before the range's start.
  auto after = std::upper_bound(namings.begin(), namings.end(), range.start_ns,
                                [](int64_t t, const auto& naming) { return t < naming.first; });
  return after == namings.begin() ? namings.front().second : std::prev(after)->second;
}

}  // namespace moeprof::analysis
