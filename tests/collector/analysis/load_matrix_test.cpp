#include <gtest/gtest.h>

#include <vector>

#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/analysis/load_trend.h"
#include "moeprof/store/writer.h"
#include "trace_fixture.h"

namespace moeprof::analysis {
namespace {

using store::ExpertLoad;

// A trace of 2 layers x 3 experts on 2 ranks, steps 0..3.
class LoadMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("t.db");
    std::string error;
    auto w = store::Writer::create(path_, &error);
    ASSERT_TRUE(w) << error;
    w->set_model({.name = "m", .num_layers = 2, .num_experts = 3, .top_k = 1});
    w->add_expert_load({.rank = 0, .step = 0, .layer = 0, .counts = {1, 2, 3}});
    w->add_expert_load({.rank = 1, .step = 0, .layer = 0, .counts = {10, 20, 30}});
    w->add_expert_load({.rank = 0, .step = 1, .layer = 0, .counts = {4, 0, 0}});
    w->add_expert_load({.rank = 0, .step = 1, .layer = 0, .counts = {4, 0, 0}});  // recorded twice
    w->add_expert_load({.rank = 1, .step = 1, .layer = 1, .counts = {0, 5, 0}});
    w->add_expert_load({.rank = 0, .step = 3, .layer = 1, .counts = {7, 0, 1}});
    w->add_expert_drops({.rank = 1, .step = 0, .layer = 0, .counts = {0, 0, 2}});
    w->add_expert_drops({.rank = 0, .step = 3, .layer = 0, .counts = {1, 0, 3}});
    ASSERT_TRUE(w->finalize({}, &error)) << error;
    reader_ = store::Reader::open(path_, &error);
    ASSERT_TRUE(reader_) << error;
  }
  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<store::Reader> reader_;
};

TEST_F(LoadMatrixTest, SumsRanksStepsAndDuplicateRows) {
  const ExpertLoadMatrix m = expert_load_matrix(*reader_, {});
  ASSERT_EQ(m.num_layers, 2);
  ASSERT_EQ(m.num_experts, 3);
  // Layer 0: {1,2,3} + {10,20,30} + {4,0,0} + {4,0,0} = {19, 22, 33}.
  EXPECT_EQ(m.tokens[0], (std::vector<double>{19, 22, 33}));
  // Layer 1: {0,5,0} + {7,0,1} = {7, 5, 1}.
  EXPECT_EQ(m.tokens[1], (std::vector<double>{7, 5, 1}));
  EXPECT_EQ(sum_over_layers(m), (std::vector<double>{26, 27, 34}));
}

TEST_F(LoadMatrixTest, FiltersByRankAndSteps) {
  // Rank 0 only: layer 0 = {1,2,3} + 2x{4,0,0} = {9,2,3}; layer 1 = {7,0,1}.
  const ExpertLoadMatrix r0 = expert_load_matrix(*reader_, {.rank = 0});
  EXPECT_EQ(r0.tokens[0], (std::vector<double>{9, 2, 3}));
  EXPECT_EQ(r0.tokens[1], (std::vector<double>{7, 0, 1}));
  // Steps [1, 3): layer 0 = 2x{4,0,0}; layer 1 = {0,5,0}.
  const ExpertLoadMatrix s = expert_load_matrix(*reader_, {.step_begin = 1, .step_end = 3});
  EXPECT_EQ(s.tokens[0], (std::vector<double>{8, 0, 0}));
  EXPECT_EQ(s.tokens[1], (std::vector<double>{0, 5, 0}));
}

TEST_F(LoadMatrixTest, EmptyWindowKeepsModelShape) {
  const ExpertLoadMatrix m = expert_load_matrix(*reader_, {.step_begin = 100});
  ASSERT_EQ(m.num_layers, 2);
  ASSERT_EQ(m.num_experts, 3);
  EXPECT_EQ(m.tokens[0], (std::vector<double>{0, 0, 0}));
}

TEST_F(LoadMatrixTest, DropsPerExpert) {
  // Layer 0: {0,0,2} + {1,0,3} = {1,0,5}; layer 1 has none.
  const ExpertLoadMatrix d = expert_drops_matrix(*reader_, {});
  EXPECT_EQ(d.tokens[0], (std::vector<double>{1, 0, 5}));
  EXPECT_EQ(d.tokens[1], (std::vector<double>{0, 0, 0}));
}

TEST_F(LoadMatrixTest, SeriesPerStepOfOneLayer) {
  const LoadSeries s = load_series(*reader_, {}, 0);
  EXPECT_EQ(s.steps, (std::vector<int64_t>{0, 1}));
  ASSERT_EQ(s.tokens.size(), 2u);
  EXPECT_EQ(s.tokens[0], (std::vector<double>{11, 22, 33}));
  EXPECT_EQ(s.tokens[1], (std::vector<double>{8, 0, 0}));
}

TEST(LoadTrend, DriftAndCollapseBetweenHalves) {
  // 5 steps; earlier = steps 0,1; later = steps 3,4; step 2 ignored.
  LoadSeries s;
  s.num_experts = 3;
  s.steps = {0, 1, 2, 3, 4};
  s.tokens = {{50, 30, 20}, {50, 30, 20}, {0, 0, 999}, {79, 1, 20}, {79, 1, 20}};
  const LoadTrend t = load_trend(s, 0.1);
  ASSERT_TRUE(t.defined);
  // Earlier shares .5 .3 .2 (100/200 ...), later .79 .01 .2.
  EXPECT_NEAR(t.earlier_share[1], 0.3, 1e-12);
  EXPECT_NEAR(t.later_share[1], 0.01, 1e-12);
  // TVD = 0.5 * (.29 + .29 + 0) = 0.29.
  EXPECT_NEAR(t.drift, 0.29, 1e-12);
  // Expert 1: 0.01 < 0.1 * 0.3 -> collapsed; expert 0 grew, expert 2 steady.
  EXPECT_EQ(t.collapsed, std::vector<int32_t>{1});
}

TEST(LoadTrend, FromHalvesSummedElsewhere) {
  // The halves of the test above, already summed: the same trend.
  const std::vector<double> earlier{100, 60, 40}, later{158, 2, 40};
  const LoadTrend t = load_trend(earlier, later, 0.1);
  ASSERT_TRUE(t.defined);
  EXPECT_NEAR(t.drift, 0.29, 1e-12);
  EXPECT_EQ(t.collapsed, std::vector<int32_t>{1});
  // A half without tokens, or halves of different experts: undefined.
  EXPECT_FALSE(load_trend(std::vector<double>{0, 0}, std::vector<double>{1, 2}).defined);
  EXPECT_FALSE(load_trend(std::vector<double>{1, 2}, std::vector<double>{1, 2, 3}).defined);
}

TEST(LoadTrend, SteadyLoadHasNoDrift) {
  LoadSeries s;
  s.num_experts = 2;
  s.steps = {0, 1};
  s.tokens = {{3, 1}, {6, 2}};
  const LoadTrend t = load_trend(s);
  ASSERT_TRUE(t.defined);
  EXPECT_NEAR(t.drift, 0, 1e-12);
  EXPECT_TRUE(t.collapsed.empty());
}

TEST(LoadTrend, UndefinedWithoutTwoStepsOrTokens) {
  LoadSeries one;
  one.num_experts = 2;
  one.steps = {0};
  one.tokens = {{1, 1}};
  EXPECT_FALSE(load_trend(one).defined);
  LoadSeries zeros;
  zeros.num_experts = 2;
  zeros.steps = {0, 1};
  zeros.tokens = {{0, 0}, {1, 1}};
  const LoadTrend t = load_trend(zeros);
  EXPECT_FALSE(t.defined);
  EXPECT_DOUBLE_EQ(t.drift, 0);
  EXPECT_TRUE(t.collapsed.empty());
}

}  // namespace
}  // namespace moeprof::analysis
