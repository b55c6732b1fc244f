// The activity decoder on hand-built buffers, walked by CUPTI's own cuptiActivityGetNextRecord
// (no device needed): kernels joined with their launch call across buffers, in both orders,
// bounded waiting, skipped and invalid records, truncated buffers, steps and clock offsets.
#include "activity_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "activity_buffer.h"
#include "moeprof/moeprof.h"
#include "step_table.h"

namespace moeprof::cupti {
namespace {

using testing::ActivityBuffer;
using testing::CollectingSink;
using testing::KernelSpec;

DecoderOptions small_options() {
  DecoderOptions o;
  o.correlation_slots = 1024;
  o.pending_kernels = 16;
  o.pending_buffers = 2;
  return o;
}

TEST(ActivityDecoder, KernelBeforeItsLaunchInOneBufferIsJoined) {
  // CUPTI reserves the kernel's record at launch and writes the call's when it returns.
  ActivityBuffer b;
  b.kernel({.correlation_id = 5,
            .start = 2000,
            .end = 2600,
            .name = "_Z3fooPf",
            .device = 1,
            .stream = 13,
            .grid = {4, 2, 1},
            .block = {128, 1, 1}})
      .launch(5, 1000, 4242);
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 1u);
  const KernelEvent& k = sink.events[0];
  EXPECT_EQ(k.start_ns, 2000);
  EXPECT_EQ(k.end_ns, 2600);
  EXPECT_EQ(k.launch_ns, 1000);
  EXPECT_EQ(k.launch_tid, 4242u);
  EXPECT_EQ(k.correlation_id, 5u);
  EXPECT_EQ(k.device, 1u);
  EXPECT_EQ(k.stream, 13u);
  EXPECT_EQ(k.grid[0], 4u);
  EXPECT_EQ(k.grid[1], 2u);
  EXPECT_EQ(k.grid[2], 1u);
  EXPECT_EQ(k.block[0], 128u);
  EXPECT_STREQ(k.name, "_Z3fooPf");
  EXPECT_EQ(k.step, MOEPROF_STEP_CURRENT);  // no step table
  EXPECT_EQ(decoder.stats().kernels_joined, 1u);
  EXPECT_EQ(decoder.stats().records, 2u);
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(ActivityDecoder, LaunchInTheNextBufferJoinsThePendingKernel) {
  ActivityBuffer first, second;
  first.kernel({.correlation_id = 9, .start = 500, .end = 900});
  second.launch(9, 100, 77);
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(first.data(), first.size());
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(decoder.pending(), 1u);
  decoder.decode(second.data(), second.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].launch_ns, 100);
  EXPECT_EQ(sink.events[0].launch_tid, 77u);
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(ActivityDecoder, LaunchInAnEarlierBufferIsRemembered) {
  ActivityBuffer first, second;
  first.launch(3, 100, 1).launch(4, 200, 2);
  second.kernel({.correlation_id = 4, .start = 300, .end = 400})
      .kernel({.correlation_id = 3, .start = 250, .end = 260});
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(first.data(), first.size());
  decoder.decode(second.data(), second.size());
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].correlation_id, 4u);
  EXPECT_EQ(sink.events[0].launch_tid, 2u);
  EXPECT_EQ(sink.events[1].launch_ns, 100);
}

TEST(ActivityDecoder, EveryKernelOfAGraphLaunchSharesItsLaunch) {
  ActivityBuffer first, second;
  first.launch(21, 1000, 8, CUPTI_ACTIVITY_KIND_DRIVER).kernel({.correlation_id = 21, .start = 1100, .end = 1200});
  second.kernel({.correlation_id = 21, .start = 1200, .end = 1300})
      .kernel({.correlation_id = 21, .start = 1300, .end = 1400});
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(first.data(), first.size());
  decoder.decode(second.data(), second.size());
  ASSERT_EQ(sink.events.size(), 3u);
  for (const KernelEvent& k : sink.events) {
    EXPECT_EQ(k.launch_ns, 1000);
    EXPECT_EQ(k.launch_tid, 8u);
  }
  EXPECT_EQ(decoder.stats().kernels_joined, 3u);
}

TEST(ActivityDecoder, TheOutermostCallOfOneIdIsTheLaunch) {
  // A driver call inside the runtime call, under the same id, ends (and is written) first.
  ActivityBuffer b;
  b.kernel({.correlation_id = 6, .start = 900, .end = 950})
      .launch(6, 520, 3, CUPTI_ACTIVITY_KIND_DRIVER)
      .launch(6, 500, 3, CUPTI_ACTIVITY_KIND_RUNTIME);
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].launch_ns, 500);
}

TEST(ActivityDecoder, AKernelWaitsAtMostPendingBuffersForItsLaunch) {
  ActivityBuffer with_kernel, unrelated, late_launch;
  with_kernel.kernel({.correlation_id = 40, .start = 10, .end = 20});
  unrelated.memcpy_record(41);
  late_launch.launch(40, 5, 9);
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);  // pending_buffers = 2
  decoder.decode(with_kernel.data(), with_kernel.size());
  decoder.decode(unrelated.data(), unrelated.size());
  EXPECT_TRUE(sink.events.empty()) << "one later buffer: still waiting";
  decoder.decode(unrelated.data(), unrelated.size());
  ASSERT_EQ(sink.events.size(), 1u) << "two later buffers without its launch: sent without it";
  EXPECT_EQ(sink.events[0].launch_ns, 0);
  EXPECT_EQ(sink.events[0].launch_tid, 0u);
  decoder.decode(late_launch.data(), late_launch.size());
  EXPECT_EQ(sink.events.size(), 1u) << "a kernel is sent once";
  EXPECT_EQ(decoder.stats().kernels_unjoined, 1u);
  EXPECT_EQ(decoder.stats().launches_unmatched, 0u) << "the launch is still in its slot";
}

TEST(ActivityDecoder, AFullPendingPoolSendsItsOldestKernelWithoutLaunch) {
  DecoderOptions options = small_options();
  options.pending_kernels = 3;
  ActivityBuffer kernels, launches;
  for (uint32_t id = 1; id <= 4; ++id) kernels.kernel({.correlation_id = id, .start = 100 * id, .end = 100 * id + 50});
  for (uint32_t id = 1; id <= 4; ++id) launches.launch(id, 10 * id, id);
  CollectingSink sink;
  ActivityDecoder decoder(options, &sink);
  decoder.decode(kernels.data(), kernels.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].correlation_id, 1u);
  EXPECT_EQ(sink.events[0].launch_ns, 0);
  EXPECT_EQ(decoder.pending(), 3u);
  decoder.decode(launches.data(), launches.size());
  ASSERT_EQ(sink.events.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(sink.events[i].correlation_id, i + 1) << "oldest first";
    EXPECT_EQ(sink.events[i].launch_ns, static_cast<int64_t>(10 * (i + 1)));
  }
  EXPECT_EQ(decoder.stats().kernels_joined, 3u);
  EXPECT_EQ(decoder.stats().kernels_unjoined, 1u);
}

TEST(ActivityDecoder, ALaunchReplacedInItsSlotIsCountedAndItsKernelGoesWithoutIt) {
  DecoderOptions options = small_options();
  options.correlation_slots = 1024;
  ActivityBuffer launches, kernel;
  launches.launch(7, 70, 1).launch(7 + 1024, 80, 2);  // the same slot
  kernel.kernel({.correlation_id = 7, .start = 100, .end = 200});
  CollectingSink sink;
  ActivityDecoder decoder(options, &sink);
  decoder.decode(launches.data(), launches.size());
  EXPECT_EQ(decoder.stats().launches_unmatched, 1u);
  decoder.decode(kernel.data(), kernel.size());
  decoder.finish();
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].launch_ns, 0);
}

TEST(ActivityDecoder, FinishSendsWhatStillWaits) {
  ActivityBuffer b;
  b.kernel({.correlation_id = 11, .start = 1, .end = 2}).kernel({.correlation_id = 12, .start = 3, .end = 4});
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  EXPECT_TRUE(sink.events.empty());
  decoder.finish();
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].correlation_id, 11u);
  EXPECT_EQ(sink.events[1].correlation_id, 12u);
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(ActivityDecoder, KernelsWithoutTimesAreDroppedAndCounted) {
  ActivityBuffer b;
  b.kernel({.correlation_id = 1, .start = 0, .end = 0})
      .kernel({.correlation_id = 2, .start = 10, .end = 5})
      .launch(2, 1, 1);
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].correlation_id, 2u);
  EXPECT_EQ(sink.events[0].end_ns, 10) << "an end before the start is clamped";
  EXPECT_EQ(decoder.stats().kernels_untimed, 1u);
  EXPECT_EQ(decoder.stats().kernels, 2u);
}

TEST(ActivityDecoder, RecordsOfOtherKindsAreSkipped) {
  ActivityBuffer b;
  b.memcpy_record(1)
      .kernel({.correlation_id = 2, .start = 5, .end = 6, .kind = CUPTI_ACTIVITY_KIND_KERNEL})
      .memcpy_record(3)
      .launch(2, 4, 1, CUPTI_ACTIVITY_KIND_INTERNAL_LAUNCH_API);
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].launch_ns, 4);
  EXPECT_EQ(decoder.stats().other_records, 2u);
  EXPECT_EQ(decoder.stats().records, 4u);
  EXPECT_EQ(decoder.stats().invalid_buffers, 0u);
}

TEST(ActivityDecoder, AnInvalidRecordEndsTheWalkAndIsCounted) {
  ActivityBuffer b;
  b.kernel({.correlation_id = 1, .start = 5, .end = 6})
      .launch(1, 2, 1)
      .invalid_record()
      .kernel({.correlation_id = 2, .start = 7, .end = 8});
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  decoder.finish();
  ASSERT_EQ(sink.events.size(), 1u) << "the kernel after the invalid record is not reached";
  EXPECT_EQ(sink.events[0].correlation_id, 1u);
  EXPECT_EQ(decoder.stats().invalid_buffers, 1u);
  EXPECT_EQ(decoder.stats().records, 2u);
}

TEST(ActivityDecoder, ATruncatedBufferYieldsItsWholeRecordsOnly) {
  ActivityBuffer b;
  b.launch(1, 2, 1)
      .kernel({.correlation_id = 1, .start = 5, .end = 6})
      .kernel({.correlation_id = 1, .start = 7, .end = 9});
  for (size_t cut : {b.offset(2) + 8, b.size() - 1}) {
    CollectingSink sink;
    ActivityDecoder decoder(small_options(), &sink);
    decoder.decode(b.data(), cut);
    decoder.finish();
    ASSERT_EQ(sink.events.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(sink.events[0].start_ns, 5);
    EXPECT_EQ(decoder.stats().records, 2u);
  }
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), 0);
  decoder.decode(nullptr, 100);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(decoder.stats().records, 0u);
}

TEST(ActivityDecoder, ADeviceSideLaunchGoesOutAtOnce) {
  ActivityBuffer b;
  b.kernel({.correlation_id = 0, .start = 5, .end = 6});
  CollectingSink sink;
  ActivityDecoder decoder(small_options(), &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(decoder.pending(), 0u);
  EXPECT_EQ(sink.events[0].launch_ns, 0);
}

TEST(ActivityDecoder, ClockOffsetAndThreadIdsApply) {
  DecoderOptions options = small_options();
  options.clock_offset_ns = -1'000'000;
  options.thread_ids_are_tids = false;
  ActivityBuffer b;
  b.kernel({.correlation_id = 3, .start = 5'000'000, .end = 6'000'000}).launch(3, 4'000'000, 99);
  CollectingSink sink;
  ActivityDecoder decoder(options, &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].start_ns, 4'000'000);
  EXPECT_EQ(sink.events[0].end_ns, 5'000'000);
  EXPECT_EQ(sink.events[0].launch_ns, 3'000'000);
  EXPECT_EQ(sink.events[0].launch_tid, 0u) << "pthread ids are no thread ids";
}

TEST(ActivityDecoder, TheStepIsTheOneRememberedAtLaunch) {
  StepTable steps(1024);
  steps.remember(30, 4);
  steps.remember(31, 5);
  DecoderOptions options = small_options();
  options.steps = &steps;
  ActivityBuffer b;
  b.kernel({.correlation_id = 31, .start = 1, .end = 2})
      .kernel({.correlation_id = 30, .start = 3, .end = 4})
      .kernel({.correlation_id = 32, .start = 5, .end = 6})
      .launch(30, 1, 1)
      .launch(31, 1, 1)
      .launch(32, 1, 1);
  CollectingSink sink;
  ActivityDecoder decoder(options, &sink);
  decoder.decode(b.data(), b.size());
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(sink.events[0].step, 5);
  EXPECT_EQ(sink.events[1].step, 4);
  EXPECT_EQ(sink.events[2].step, MOEPROF_STEP_CURRENT);
  EXPECT_EQ(decoder.stats().kernels_without_step, 1u);
}

// Many kernels whose launch records land up to `pending_buffers` buffers before or after
// them, records shuffled within each buffer: every kernel comes out exactly once, with its
// own launch. The truth is what the generator put in, not what the decoder computes.
TEST(ActivityDecoder, ShuffledRecordsAcrossBuffersAllJoinTheirOwnLaunch) {
  std::mt19937 rng(12345);
  constexpr int kBuffers = 60, kKernels = 3000;
  DecoderOptions options;
  options.correlation_slots = 8192;
  options.pending_kernels = 4096;
  options.pending_buffers = 3;
  struct Truth {
    uint64_t start, launch;
    uint32_t tid;
    int kernel_buffer, launch_buffer;
  };
  std::map<uint32_t, Truth> truth;
  std::uniform_int_distribution<int> buffer_of(0, kBuffers - 1), shift(-3, 3);
  for (uint32_t id = 1; id <= kKernels; ++id) {
    const int kb = buffer_of(rng);
    const int lb = std::clamp(kb + shift(rng), 0, kBuffers - 1);
    truth[id] = {1'000'000 + 10ull * id, 1000ull * id, 100 + id % 17, kb, lb};
  }
  struct Item {
    bool kernel;
    uint32_t id;
  };
  std::vector<std::vector<Item>> items(kBuffers);
  for (const auto& [id, t] : truth) {
    items[t.kernel_buffer].push_back({true, id});
    items[t.launch_buffer].push_back({false, id});
  }
  CollectingSink sink;
  ActivityDecoder decoder(options, &sink);
  for (auto& list : items) {
    std::shuffle(list.begin(), list.end(), rng);
    ActivityBuffer b;
    for (const Item& item : list) {
      const Truth& t = truth[item.id];
      if (item.kernel)
        b.kernel({.correlation_id = item.id, .start = t.start, .end = t.start + 5});
      else
        b.launch(item.id, t.launch, t.tid);
    }
    decoder.decode(b.data(), b.size());
  }
  decoder.finish();
  ASSERT_EQ(sink.events.size(), truth.size());
  std::map<uint32_t, int> seen;
  for (const KernelEvent& k : sink.events) {
    ++seen[k.correlation_id];
    const Truth& t = truth.at(k.correlation_id);
    EXPECT_EQ(k.start_ns, static_cast<int64_t>(t.start));
    EXPECT_EQ(k.launch_ns, static_cast<int64_t>(t.launch)) << "id " << k.correlation_id;
    EXPECT_EQ(k.launch_tid, t.tid);
  }
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << "id " << id;
  EXPECT_EQ(decoder.stats().kernels_joined, static_cast<uint64_t>(kKernels));
  EXPECT_EQ(decoder.stats().kernels_unjoined, 0u);
  EXPECT_EQ(decoder.stats().launches, static_cast<uint64_t>(kKernels));
}

}  // namespace
}  // namespace moeprof::cupti
