// The launch-step table: direct-mapped by correlation id, lock-free between launching
// threads and the decoder.
#include "step_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace moeprof::cupti {
namespace {

TEST(StepTable, RemembersUntilALaterIdTakesTheSlot) {
  StepTable table(1000);
  EXPECT_EQ(table.slots(), 1024u);
  table.remember(5, 42);
  table.remember(6, -3);
  EXPECT_EQ(table.find(5), 42);
  EXPECT_EQ(table.find(6), -3);
  EXPECT_EQ(table.find(7), std::nullopt);
  table.remember(5 + 1024, 43);
  EXPECT_EQ(table.find(5), std::nullopt);
  EXPECT_EQ(table.find(5 + 1024), 43);
  table.remember(0, 1);  // CUPTI never uses id 0
  EXPECT_EQ(table.find(0), std::nullopt);
}

// Writers on several threads store step = f(id) while a reader looks ids up: whatever the
// reader finds is the value written for that very id.
TEST(StepTable, AReaderNeverSeesAnotherIdsStep) {
  StepTable table(64);  // small, so writers overwrite slots the reader is reading
  std::atomic<bool> stop{false};
  std::atomic<uint32_t> next{1};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w)
    writers.emplace_back([&] {
      while (!stop.load()) {
        const uint32_t id = next.fetch_add(1);
        table.remember(id, static_cast<int64_t>(id) * 7 + 1);
      }
    });
  // Writers may not have run yet on a busy machine: read once they are going, and keep
  // reading until some lookups have landed (a lookup that finds nothing checks nothing).
  while (next.load() < 1000) std::this_thread::yield();
  uint64_t found = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; i < 2'000'000 || (found < 1000 && std::chrono::steady_clock::now() < deadline); ++i) {
    const uint32_t id = next.load() - 1 - static_cast<uint32_t>(i % 32);
    if (id == 0 || id > next.load()) continue;
    if (const auto step = table.find(id)) {
      ASSERT_EQ(*step, static_cast<int64_t>(id) * 7 + 1) << "id " << id;
      ++found;
    }
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  EXPECT_GT(found, 0u);
}

}  // namespace
}  // namespace moeprof::cupti
