// NVTX category names (nvtxNameCategory), which the trace keeps as range rows of kind
// kCategoryName: a range's category number resolved to the name its domain gave it. One
// place for the exports and the viewer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "moeprof/store/rows.h"

namespace moeprof::analysis {

class RangeCategoryNames {
 public:
  explicit RangeCategoryNames(const std::vector<store::Range>& ranges);

  // The name category `range.category` had in the range's rank and domain when the range
  // started (the last naming at or before it; the first naming when all came later); empty
  // when it was never named.
  const std::string& name_of(const store::Range& range) const;

 private:
  using Key = std::tuple<int32_t, std::string, uint32_t>;  // rank, domain, category
  std::map<Key, std::vector<std::pair<int64_t, std::string>>> namings_;  // by time
};

}  // namespace moeprof::analysis
