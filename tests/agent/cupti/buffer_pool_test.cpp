// The activity buffer pool: fixed buffers, taken and given back without locks.
#include "buffer_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace moeprof::cupti {
namespace {

TEST(BufferPool, HandsOutEachBufferOnceUntilItComesBack) {
  BufferPool pool(1000, 4);
  ASSERT_TRUE(pool.valid());
  EXPECT_EQ(pool.buffer_bytes(), 1000u);
  std::set<uint8_t*> taken;
  for (int i = 0; i < 4; ++i) {
    uint8_t* b = pool.take();
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 8, 0u) << "CUPTI needs 8-byte alignment";
    b[0] = 1;
    b[pool.buffer_bytes() - 1] = 2;  // the whole buffer is ours (ASan checks)
    taken.insert(b);
  }
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_EQ(pool.take(), nullptr);
  EXPECT_EQ(pool.refused(), 1u);
  uint8_t* back = *taken.begin();
  pool.give_back(back);
  EXPECT_EQ(pool.free_buffers(), 1u);
  EXPECT_EQ(pool.take(), back);
}

TEST(BufferPool, SizesAreRoundedAndCountsCapped) {
  BufferPool odd(1001, 100);
  EXPECT_EQ(odd.buffer_bytes(), 1008u);
  EXPECT_EQ(odd.count(), BufferPool::kMaxBuffers);
  EXPECT_EQ(odd.free_buffers(), 64u);
  BufferPool none(1024, 0);
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.take(), nullptr);
}

TEST(BufferPool, ForeignPointersAreIgnored) {
  BufferPool pool(64, 2);
  uint8_t* a = pool.take();
  uint8_t other[64];
  pool.give_back(other);
  pool.give_back(a + 8);  // inside a buffer, not its start
  pool.give_back(nullptr);
  EXPECT_EQ(pool.free_buffers(), 1u);
  pool.give_back(a);
  EXPECT_EQ(pool.free_buffers(), 2u);
}

TEST(BufferPool, ThreadsNeverShareABuffer) {
  BufferPool pool(64, 8);
  std::map<uint8_t*, size_t> index;  // each buffer's number, learnt before the threads run
  for (size_t i = 0; i < 8; ++i) index[pool.take()] = i;
  for (const auto& [buffer, i] : index) pool.give_back(buffer);
  ASSERT_EQ(index.size(), 8u);
  std::atomic<int> owners[8] = {};
  std::atomic<bool> shared{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        uint8_t* b = pool.take();
        if (b == nullptr) continue;
        std::atomic<int>& owner = owners[index.at(b)];
        if (owner.fetch_add(1) != 0) shared = true;
        owner.fetch_sub(1);
        pool.give_back(b);
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(shared.load());
  EXPECT_EQ(pool.free_buffers(), 8u);
}

}  // namespace
}  // namespace moeprof::cupti
