// Spans and counts travel through chunk rows: whatever the chunk boundaries, the reader must
// hand back exactly the events written, in its promised order, and filter them exactly.
// Ground truth is the list of events written, sorted and filtered here by brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "test_files.h"

namespace moeprof::store {
namespace {

struct Written {
  ComputeSpan span;
  size_t order;  // position in the write sequence
};

class ChunkedSpans : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("t.db");
    auto w = Writer::create(path_, nullptr);
    ASSERT_TRUE(w);
    std::mt19937_64 rng(11);
    // 3 ranks x 2000 spans: several chunks per rank (256 entries each); starts jitter
    // backwards so chunks overlap in time; some spans last long; some share a start.
    for (size_t i = 0; i < 6000; ++i) {
      ComputeSpan s;
      s.rank = static_cast<int32_t>(i % 3);
      s.step = static_cast<int64_t>(i / 300);
      s.layer = static_cast<int32_t>(i % 7);
      s.kind = static_cast<wire::ComputeKind>(i % 5);
      s.tid = static_cast<uint32_t>(100 + i % 4);
      s.start_ns = static_cast<int64_t>(i / 3) * 1000 - static_cast<int64_t>(rng() % 5000);
      if (i % 97 == 0) s.start_ns = written_.empty() ? 0 : written_.back().span.start_ns;
      s.end_ns = s.start_ns + (i % 50 == 0 ? 300'000 : static_cast<int64_t>(rng() % 2000));
      s.name = i % 2 ? "experts" : "";
      w->add_compute_span(s);
      written_.push_back({s, i});
      ExpertLoad load{s.rank, s.step, s.layer, {static_cast<uint32_t>(i), 1, 2}};
      w->add_expert_load(load);
      loads_.push_back({load, i});
      if (i % 1000 == 999) {
        ASSERT_TRUE(w->commit()) << w->error();  // chunks cut by commits too
      }
    }
    ASSERT_TRUE(w->finalize(RunInfo{})) << w->error();
    std::string error;
    reader_ = Reader::open(path_, &error);
    ASSERT_TRUE(reader_) << error;
  }

  // The spans the filter selects, in the reader's promised order.
  std::vector<ComputeSpan> expected(const Filter& f) const {
    std::vector<Written> picked;
    for (const Written& w : written_) {
      const ComputeSpan& s = w.span;
      if ((f.rank && s.rank != *f.rank) || (f.layer && s.layer != *f.layer) ||
          (f.step_begin && s.step < *f.step_begin) || (f.step_end && s.step >= *f.step_end) ||
          (f.time_end_ns && s.start_ns >= *f.time_end_ns) ||
          (f.time_begin_ns && !(s.end_ns > *f.time_begin_ns || s.start_ns >= *f.time_begin_ns)))
        continue;
      picked.push_back(w);
    }
    std::stable_sort(picked.begin(), picked.end(), [](const Written& a, const Written& b) {
      return std::tie(a.span.rank, a.span.start_ns, a.order) < std::tie(b.span.rank, b.span.start_ns, b.order);
    });
    std::vector<ComputeSpan> out;
    for (const Written& w : picked) out.push_back(w.span);
    return out;
  }

  std::vector<ComputeSpan> read(const Filter& f) const {
    std::vector<ComputeSpan> out;
    reader_->for_each_compute_span(f, [&](const ComputeSpan& s) { out.push_back(s); });
    return out;
  }

  testing::TempDir dir_;
  std::string path_;
  std::vector<Written> written_;
  std::vector<std::pair<ExpertLoad, size_t>> loads_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(ChunkedSpans, EverySpanComesBackInRankStartWrittenOrder) {
  EXPECT_EQ(read({}), expected({}));
  EXPECT_EQ(reader_->counts().compute_spans, 6000);
}

TEST_F(ChunkedSpans, FiltersSelectExactlyTheMatchingSpans) {
  const std::vector<Filter> filters = {
      Filter{.rank = 1},
      Filter{.layer = 4},
      Filter{.step_begin = 3, .step_end = 7},
      Filter{.time_begin_ns = 500'000, .time_end_ns = 520'000},
      Filter{.rank = 2, .time_begin_ns = 100'000, .time_end_ns = 100'500},
      Filter{.time_begin_ns = 1'999'000},
      Filter{.time_end_ns = 0},
      Filter{.rank = 0, .layer = 2, .step_begin = 1, .step_end = 2, .time_begin_ns = 0, .time_end_ns = 400'000},
  };
  for (size_t i = 0; i < filters.size(); ++i) {
    SCOPED_TRACE(i);
    const auto want = expected(filters[i]);
    EXPECT_EQ(read(filters[i]), want);
    if (i < 6) {
      EXPECT_FALSE(want.empty());  // the filter is not vacuous
    }
  }
}

TEST_F(ChunkedSpans, CountsComeBackInStepLayerRankWrittenOrder) {
  auto want = loads_;
  std::stable_sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.step, a.first.layer, a.first.rank, a.second) <
           std::tie(b.first.step, b.first.layer, b.first.rank, b.second);
  });
  std::vector<ExpertLoad> got;
  reader_->for_each_expert_load({}, [&](const ExpertLoad& l) { got.push_back(l); });
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i].first) << i;
  got.clear();
  reader_->for_each_expert_load(Filter{.rank = 2, .layer = 3, .step_begin = 5, .step_end = 9},
                                [&](const ExpertLoad& l) { got.push_back(l); });
  size_t matching = 0;
  for (const auto& [l, order] : want)
    if (l.rank == 2 && l.layer == 3 && l.step >= 5 && l.step < 9) {
      ASSERT_EQ(got.at(matching++), l);
    }
  EXPECT_EQ(got.size(), matching);
  EXPECT_GT(matching, 0u);
}

TEST_F(ChunkedSpans, TheTraceChecksClean) { EXPECT_EQ(reader_->check(), std::vector<std::string>{}); }

}  // namespace
}  // namespace moeprof::store
