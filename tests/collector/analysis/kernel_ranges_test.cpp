#include "moeprof/analysis/kernel_ranges.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace moeprof::analysis {
namespace {

store::Range range(int32_t rank, uint32_t tid, int64_t start_ns, int64_t end_ns, std::string name,
                   std::string domain = "", wire::RangeKind kind = wire::RangeKind::kPushPop) {
  store::Range r;
  r.rank = rank;
  r.tid = tid;
  r.start_ns = start_ns;
  r.end_ns = end_ns;
  r.name = std::move(name);
  r.domain = std::move(domain);
  r.kind = kind;
  return r;
}

store::GpuKernel launched(int32_t rank, uint32_t tid, int64_t launch_ns) {
  store::GpuKernel k;
  k.rank = rank;
  k.launch_tid = tid;
  k.launch_ns = launch_ns;
  // Where and when it ran on the GPU plays no part: set it unlike the launch on purpose.
  k.start_ns = launch_ns + 5000;
  k.end_ns = launch_ns + 6000;
  return k;
}

using Paths = std::vector<std::string>;

TEST(KernelRanges, NestedRangesMakeAPathOutermostFirstWithTheirDomains) {
  // Given innermost first, as push/pop ranges are recorded (on pop).
  const std::vector<store::Range> ranges{range(0, 7, 300, 400, "gate"), range(0, 7, 200, 800, "forward", "app"),
                                         range(0, 7, 100, 1000, "step 3")};
  const std::vector<store::GpuKernel> kernels{launched(0, 7, 350), launched(0, 7, 500), launched(0, 7, 900),
                                              launched(0, 7, 50), launched(0, 7, 1500)};
  EXPECT_EQ(kernel_range_paths(ranges, kernels),
            (Paths{"step 3 > app:forward > gate", "step 3 > app:forward", "step 3", "", ""}));
}

TEST(KernelRanges, KernelsKeepTheirOrderWhateverTheirLaunchOrder) {
  const std::vector<store::Range> ranges{range(0, 7, 100, 200, "a"), range(0, 7, 300, 400, "b"),
                                         range(0, 8, 100, 400, "c")};
  const std::vector<store::GpuKernel> kernels{launched(0, 7, 350), launched(0, 8, 150), launched(0, 7, 150),
                                              launched(0, 7, 350), launched(0, 8, 390)};
  EXPECT_EQ(kernel_range_paths(ranges, kernels), (Paths{"b", "c", "a", "b", "c"}));
}

TEST(KernelRanges, OfRangesStartingTogetherTheLongerIsOutside) {
  const std::vector<store::Range> ranges{range(0, 7, 100, 200, "short"), range(0, 7, 100, 500, "long")};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 7, 100), launched(0, 7, 300)}),
            (Paths{"long > short", "long"}));
}

TEST(KernelRanges, RangesWithTheSameStartAndEndKeepTheirInputOrder) {
  const std::vector<store::Range> ranges{range(0, 7, 100, 200, "first"), range(0, 7, 100, 200, "second")};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 7, 150)}), (Paths{"first > second"}));

  // Enough equal ranges, among others to sort past, that an unstable sort would reorder them.
  std::vector<store::Range> many;
  std::string expected;
  for (int i = 0; i < 64; ++i) {
    many.push_back(range(0, 7, 100, 200, std::to_string(i)));
    many.push_back(range(0, 7, 300 - i, 400, "later"));
    expected += (i == 0 ? "" : " > ") + std::to_string(i);
  }
  EXPECT_EQ(kernel_range_paths(many, std::vector{launched(0, 7, 150)}), (Paths{expected}));
}

TEST(KernelRanges, ARangeHoldsItsStartButNotItsEnd) {
  const std::vector<store::Range> ranges{range(0, 7, 100, 200, "r")};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 7, 99), launched(0, 7, 100), launched(0, 7, 199),
                                                   launched(0, 7, 200)}),
            (Paths{"", "r", "r", ""}));
}

TEST(KernelRanges, EmptyAndInvertedRangesHoldNothing) {
  const std::vector<store::Range> ranges{range(0, 7, 100, 100, "empty"), range(0, 7, 300, 50, "inverted")};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 7, 100), launched(0, 7, 60)}), (Paths{"", ""}));
}

TEST(KernelRanges, OnlyRangesOfTheLaunchingRankAndThreadCount) {
  const std::vector<store::Range> ranges{range(0, 7, 0, 1000, "rank 0 tid 7"), range(1, 8, 0, 1000, "rank 1 tid 8")};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(1, 7, 500), launched(0, 8, 500), launched(2, 7, 500),
                                                   launched(0, 7, 500), launched(1, 8, 500)}),
            (Paths{"", "", "", "rank 0 tid 7", "rank 1 tid 8"}));
}

TEST(KernelRanges, StartEndRangesCountAndMayOverlapWithoutNesting) {
  const std::vector<store::Range> ranges{range(0, 7, 0, 100, "load", "io", wire::RangeKind::kStartEnd),
                                         range(0, 7, 50, 150, "decode", "", wire::RangeKind::kStartEnd)};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 7, 75), launched(0, 7, 120)}),
            (Paths{"io:load > decode", "decode"}));
}

TEST(KernelRanges, MarksAndUnknownKindsAreIgnored) {
  // A mark is recorded with end == start, but one with an extent must be ignored as well.
  const std::vector<store::Range> ranges{range(0, 7, 0, 1000, "outer"),
                                         range(0, 7, 100, 900, "mark", "", wire::RangeKind::kMark),
                                         range(0, 7, 100, 900, "future", "", static_cast<wire::RangeKind>(3))};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 7, 500)}), (Paths{"outer"}));
}

TEST(KernelRanges, AnUnknownLaunchHasNoPath) {
  // Ranges on thread 0 and at time 0 that would contain the launch if 0 were a real value.
  const std::vector<store::Range> ranges{range(0, 0, -100, 1000, "tid 0"), range(0, 7, -100, 1000, "tid 7")};
  EXPECT_EQ(kernel_range_paths(ranges, std::vector{launched(0, 0, 500), launched(0, 7, 0), launched(0, 7, 500)}),
            (Paths{"", "", "tid 7"}));
}

TEST(KernelRanges, NoRangesOrNoKernels) {
  EXPECT_EQ(kernel_range_paths({}, std::vector{launched(0, 7, 500)}), (Paths{""}));
  EXPECT_TRUE(kernel_range_paths(std::vector{range(0, 7, 0, 10, "r")}, {}).empty());
}

// The path by definition: every range of the launching thread that contains the launch,
// sorted by (start, longer first, input order), checked one range at a time.
Paths brute_force_paths(const std::vector<store::Range>& ranges, const std::vector<store::GpuKernel>& kernels) {
  Paths out;
  for (const store::GpuKernel& k : kernels) {
    std::vector<size_t> containing;
    for (size_t i = 0; i < ranges.size(); ++i) {
      const store::Range& r = ranges[i];
      const bool counts = r.kind == wire::RangeKind::kPushPop || r.kind == wire::RangeKind::kStartEnd;
      if (k.launch_tid != 0 && k.launch_ns != 0 && counts && r.rank == k.rank && r.tid == k.launch_tid &&
          r.start_ns <= k.launch_ns && k.launch_ns < r.end_ns)
        containing.push_back(i);
    }
    std::sort(containing.begin(), containing.end(), [&](size_t a, size_t b) {
      if (ranges[a].start_ns != ranges[b].start_ns) return ranges[a].start_ns < ranges[b].start_ns;
      if (ranges[a].end_ns != ranges[b].end_ns) return ranges[a].end_ns > ranges[b].end_ns;
      return a < b;
    });
    std::string path;
    for (size_t i : containing) {
      if (!path.empty()) path += " > ";
      path += ranges[i].domain.empty() ? ranges[i].name : ranges[i].domain + ":" + ranges[i].name;
    }
    out.push_back(path);
  }
  return out;
}

TEST(KernelRanges, RandomTracesMatchABruteForceReference) {
  int empty_paths = 0, nested_paths = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 random(seed);
    const auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(random); };
    // Few ranks, threads and time points, so ranges share starts and ends and launches fall
    // on their boundaries; kinds include marks and an unknown kind; some threads are 0.
    std::vector<store::Range> ranges;
    const int range_count = static_cast<int>(uniform(0, 200));
    for (int i = 0; i < range_count; ++i) {
      const int64_t start = uniform(-5, 60);
      ranges.push_back(range(static_cast<int32_t>(uniform(0, 2)), static_cast<uint32_t>(uniform(0, 3)), start,
                             start + uniform(-2, 40), "r" + std::to_string(i), uniform(0, 2) == 0 ? "d" : "",
                             static_cast<wire::RangeKind>(uniform(0, 3))));
    }
    std::vector<store::GpuKernel> kernels;
    const int kernel_count = static_cast<int>(uniform(0, 300));
    for (int i = 0; i < kernel_count; ++i)
      kernels.push_back(launched(static_cast<int32_t>(uniform(0, 2)), static_cast<uint32_t>(uniform(0, 3)),
                                 uniform(-5, 100)));
    const Paths expected = brute_force_paths(ranges, kernels);
    EXPECT_EQ(kernel_range_paths(ranges, kernels), expected);
    for (const std::string& path : expected) {
      if (path.empty()) ++empty_paths;
      if (path.find(" > ") != std::string::npos) ++nested_paths;
    }
  }
  // The traces were not trivial: kernels outside every range and kernels under nested ranges.
  EXPECT_GT(empty_paths, 0);
  EXPECT_GT(nested_paths, 0);
}

}  // namespace
}  // namespace moeprof::analysis
