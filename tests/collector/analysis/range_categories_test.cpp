// NVTX category names resolved for ranges: by rank, domain and time.
#include "moeprof/analysis/range_categories.h"

#include <gtest/gtest.h>

namespace moeprof::analysis {
namespace {

store::Range naming(int32_t rank, std::string domain, uint32_t category, int64_t at, std::string name) {
  store::Range r;
  r.rank = rank;
  r.domain = std::move(domain);
  r.category = category;
  r.start_ns = r.end_ns = at;
  r.name = std::move(name);
  r.kind = wire::RangeKind::kCategoryName;
  return r;
}

store::Range range(int32_t rank, std::string domain, uint32_t category, int64_t start) {
  store::Range r;
  r.rank = rank;
  r.domain = std::move(domain);
  r.category = category;
  r.start_ns = start;
  r.end_ns = start + 5;
  return r;
}

TEST(RangeCategoryNames, TheNameInForceWhenTheRangeStarted) {
  // Given out of time order, as a trace of several threads may hold them.
  const std::vector<store::Range> ranges = {naming(0, "d", 1, 300, "second"), naming(0, "d", 1, 100, "first"),
                                            naming(0, "other", 1, 0, "other domain"),
                                            naming(1, "d", 1, 0, "other rank")};
  const RangeCategoryNames names(ranges);
  EXPECT_EQ(names.name_of(range(0, "d", 1, 50)), "first");  // before any naming: the first
  EXPECT_EQ(names.name_of(range(0, "d", 1, 100)), "first");
  EXPECT_EQ(names.name_of(range(0, "d", 1, 299)), "first");
  EXPECT_EQ(names.name_of(range(0, "d", 1, 300)), "second");
  EXPECT_EQ(names.name_of(range(0, "other", 1, 300)), "other domain");
  EXPECT_EQ(names.name_of(range(1, "d", 1, 300)), "other rank");
  EXPECT_EQ(names.name_of(range(2, "d", 1, 300)), "");  // never named there
  EXPECT_EQ(names.name_of(range(0, "d", 2, 300)), "");
  EXPECT_EQ(names.name_of(range(0, "d", 0, 300)), "");  // category 0: none
  EXPECT_EQ(names.name_of(ranges[0]), "");              // a naming names nothing itself
}

}  // namespace
}  // namespace moeprof::analysis
