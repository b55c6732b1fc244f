// The ring pool: claiming, exhaustion, retiring and recycling, and many producer threads
// with one drainer (the flusher's situation) losing nothing.
#include "ring_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace moeprof::agent {
namespace {

std::unique_ptr<RingPool> make_pool(uint32_t rings, uint64_t bytes) {
  std::string error;
  auto pool = RingPool::create(rings, bytes, &error);
  EXPECT_NE(pool, nullptr) << error;
  return pool;
}

TEST(RingPool, RoundsRingSizeUpToAPowerOfTwo) {
  auto pool = make_pool(2, 5000);
  EXPECT_EQ(pool->ring_bytes(), 8192u);
  EXPECT_EQ(pool->ring(1).capacity(), 8192u);
}

TEST(RingPool, ClaimsUntilExhaustedAndRecyclesOnlyAfterRelease) {
  auto pool = make_pool(3, 4096);
  Ring* a = pool->claim();
  Ring* b = pool->claim();
  Ring* c = pool->claim();
  ASSERT_TRUE(a && b && c);
  EXPECT_TRUE(a != b && b != c && a != c);
  EXPECT_EQ(pool->claim(), nullptr);
  EXPECT_EQ(pool->high_water(), 3u);
  pool->retire(b);
  EXPECT_EQ(pool->state(1), RingPool::kRetired);
  EXPECT_EQ(pool->claim(), nullptr);  // retired rings still hold records to drain
  pool->release(1);
  EXPECT_EQ(pool->claim(), b);
}

TEST(RingPool, ResetAfterForkFreesEveryRingAndForgetsItsRecords) {
  auto pool = make_pool(2, 4096);
  Ring* a = pool->claim();
  const Ring::Reservation r = a->reserve(64);
  const RingRecordHeader header{64, 1, 0, 0};
  std::memcpy(r.ptr, &header, sizeof header);
  a->commit(r);
  pool->claim();
  EXPECT_EQ(pool->records_written(), 1u);
  pool->reset_after_fork();
  EXPECT_EQ(pool->high_water(), 0u);
  EXPECT_EQ(pool->records_written(), 0u);
  EXPECT_EQ(pool->state(0), RingPool::kFree);
  EXPECT_EQ(pool->ring(0).published(), 0u);
  EXPECT_NE(pool->claim(), nullptr);
  EXPECT_NE(pool->claim(), nullptr);
}

// Eight producers, each in its own ring, and one drainer walking the pool like the flusher:
// every record arrives once, in order per producer; a producer that finds its ring full
// counts a drop, and received + dropped is exactly what was produced.
TEST(RingPool, ManyProducersOneDrainerLoseNothingUncounted) {
  constexpr int kThreads = 8;
  constexpr uint64_t kPerThread = 50'000;
  auto pool = make_pool(kThreads, 4096);
  std::atomic<int> finished{0};
  std::vector<uint64_t> dropped(kThreads, 0);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      Ring* ring = pool->claim();
      ASSERT_NE(ring, nullptr);
      for (uint64_t seq = 0; seq < kPerThread; ++seq) {
        const uint64_t size = 24 + 8 * (seq % 5);
        const Ring::Reservation r = ring->reserve(size);
        if (r.ptr == nullptr) {
          ++dropped[t];
          if (seq % 64 == 0) std::this_thread::yield();
          continue;
        }
        const RingRecordHeader header{static_cast<uint32_t>(size), 1, static_cast<uint8_t>(t), 0};
        std::memcpy(r.ptr, &header, sizeof header);
        std::memcpy(r.ptr + sizeof header, &seq, sizeof seq);
        ring->commit(r);
      }
      pool->retire(ring);
      finished.fetch_add(1);
    });
  }
  std::vector<uint64_t> received(kThreads, 0), last_seq(kThreads, UINT64_MAX);
  int released = 0;
  while (released < kThreads) {
    const bool all_done = finished.load() == kThreads;
    for (uint32_t i = 0; i < pool->high_water(); ++i) {
      const RingPool::State state = pool->state(i);
      if (state == RingPool::kFree) continue;
      pool->ring(i).consume(pool->ring(i).published(), [&](const RingRecordHeader& h, const uint8_t* body) {
        uint64_t seq;
        std::memcpy(&seq, body, sizeof seq);
        ASSERT_LT(h.source, kThreads);
        if (last_seq[h.source] != UINT64_MAX) {
          ASSERT_GT(seq, last_seq[h.source]);
        }
        last_seq[h.source] = seq;
        ++received[h.source];
      });
      if (state == RingPool::kRetired) {
        pool->release(i);
        ++released;
      }
    }
    ASSERT_TRUE(!all_done || released == kThreads) << "a retired ring was never seen";
  }
  for (auto& p : producers) p.join();
  uint64_t total_received = 0, total_dropped = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(received[t] + dropped[t], kPerThread) << "thread " << t;
    total_received += received[t];
    total_dropped += dropped[t];
  }
  EXPECT_EQ(pool->records_written(), total_received);
  EXPECT_EQ(total_received + total_dropped, kThreads * kPerThread);
}

}  // namespace
}  // namespace moeprof::agent
