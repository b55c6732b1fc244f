// Measuring the offset between the agent's clock and CUPTI's from bracketed readings.
#include "clock_alignment.h"

#include <gtest/gtest.h>

#include <vector>

namespace moeprof::cupti {
namespace {

// A scripted pair of clocks: ours advances by the listed gaps; CUPTI's is ours minus
// 1'000'000'000 at the moment it is read, which sits `lag[i]` after our first reading.
struct Script {
  std::vector<int64_t> widths;  // our reading after minus before, per sample
  std::vector<int64_t> lag;     // when CUPTI is read, after our first reading
  size_t sample = 0;
  bool second = false;
  int64_t now = 5'000'000'000;
};
Script g_script;

int64_t ours() {
  Script& s = g_script;
  if (!s.second) {
    s.second = true;
    return s.now;
  }
  s.second = false;
  const int64_t after = s.now + s.widths[s.sample];
  s.now += 10'000;
  ++s.sample;
  return after;
}

bool theirs(uint64_t* ns) {
  const Script& s = g_script;
  *ns = static_cast<uint64_t>(s.now + s.lag[s.sample] - 1'000'000'000);
  return true;
}

bool broken(uint64_t* ns) {
  *ns = 0;
  return false;
}

TEST(ClockAlignment, TheNarrowestBracketGivesTheOffset) {
  // Sample 2 is the narrowest (width 40, CUPTI read in its middle): offset exactly 1 s.
  // The others are wide and read off-centre, so they would give other offsets.
  g_script = Script{{900, 700, 40, 500}, {100, 600, 20, 10}};
  const std::optional<int64_t> offset = measure_clock_offset(ours, theirs, 4);
  ASSERT_TRUE(offset);
  EXPECT_EQ(*offset, 1'000'000'000);
}

TEST(ClockAlignment, NoOffsetWithoutCuptisClock) {
  g_script = Script{{10, 10}, {5, 5}};
  EXPECT_EQ(measure_clock_offset(ours, broken, 2), std::nullopt);
}

}  // namespace
}  // namespace moeprof::cupti
