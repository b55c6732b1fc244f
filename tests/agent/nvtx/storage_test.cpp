// Where open ranges wait for their end: a thread's stack, the start/end pool, the serialised
// form, and the NCCL communicator table.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "domains.h"
#include "nccl_communicators.h"
#include "open_range.h"
#include "range_stack.h"
#include "start_end_pool.h"

namespace moeprof::nvtx {
namespace {

TEST(OpenRange, RoundTripsNamePayloadAndPeers) {
  Domain d{"x", DomainRole::kPlain};
  OpenRangeHeader h;
  h.start_ns = 42;
  h.domain = &d;
  h.layer = 3;
  h.num_peers = 3;
  const int32_t peers[3] = {4, 9, 1};
  const uint64_t send[3] = {1, 2, 3}, recv[3] = {7, 8, 9};
  OpenRangeParts parts{"name", "{\"a\":1}", peers, send, recv};
  alignas(8) unsigned char buffer[512];
  ASSERT_GE(sizeof buffer, open_range_size(h, parts));
  ASSERT_FALSE(write_open_range(buffer, open_range_size(h, parts) - 1, h, parts));
  ASSERT_TRUE(write_open_range(buffer, sizeof buffer, h, parts));
  const OpenRangeView v = read_open_range(buffer);
  EXPECT_EQ(v.header.start_ns, 42);
  EXPECT_EQ(v.header.domain, &d);
  EXPECT_EQ(v.parts.name, "name");
  EXPECT_EQ(v.parts.name.data()[4], '\0');  // C strings for the agent
  EXPECT_EQ(v.parts.payload, "{\"a\":1}");
  EXPECT_EQ(v.parts.payload.data()[7], '\0');
  ASSERT_EQ(v.header.num_peers, 3u);
  EXPECT_EQ(std::vector<int32_t>(v.parts.peers, v.parts.peers + 3), std::vector<int32_t>(peers, peers + 3));
  EXPECT_EQ(std::vector<uint64_t>(v.parts.recv_bytes, v.parts.recv_bytes + 3), std::vector<uint64_t>(recv, recv + 3));
  // Without a peer list: peers are implied, none stored.
  parts.peers = nullptr;
  ASSERT_TRUE(write_open_range(buffer, sizeof buffer, h, parts));
  EXPECT_EQ(read_open_range(buffer).parts.peers, nullptr);
  EXPECT_EQ(read_open_range(buffer).header.num_peers, 3u);
}

TEST(RangeStack, ReclaimsSpaceOnlyWhenTheTopCloses) {
  Domain a{"a"}, b{"b"};
  RangeStack stack(256);
  int level = -1;
  unsigned char* first = stack.push(&a, 100, &level);
  ASSERT_NE(first, nullptr);
  unsigned char* second = stack.push(&b, 100, &level);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(stack.push(&a, 100, &level), nullptr);  // no room: kept as dropped
  EXPECT_EQ(level, 1);
  auto p = stack.pop(&a);  // the dropped one
  EXPECT_TRUE(p.found);
  EXPECT_EQ(p.entry, nullptr);
  p = stack.pop(&a);  // the first, under b's: its space waits for b
  EXPECT_EQ(p.entry, first);
  EXPECT_EQ(stack.push(&a, 100, &level), nullptr);
  stack.pop(&a);
  p = stack.pop(&b);
  EXPECT_EQ(p.entry, second);
  EXPECT_EQ(stack.push(&a, 200, &level), first);  // everything free again
  EXPECT_FALSE(stack.pop(&b).found);
}

TEST(RangeStack, DeeperThanItsLimitStillMatchesPops) {
  Domain a{"a"};
  RangeStack stack(1 << 20);
  int level = 0;
  for (size_t i = 0; i < RangeStack::kMaxDepth + 10; ++i) stack.push(&a, 8, &level);
  EXPECT_EQ(level, static_cast<int>(RangeStack::kMaxDepth + 9));
  for (size_t i = RangeStack::kMaxDepth + 10; i-- > 0;) {
    const auto p = stack.pop(&a);
    ASSERT_TRUE(p.found);
    EXPECT_EQ(p.level, static_cast<int>(i));
    EXPECT_EQ(p.entry == nullptr, i >= RangeStack::kMaxDepth);
  }
  EXPECT_FALSE(stack.pop(&a).found);
}

TEST(StartEndPool, IdsNameOneOpeningOnly) {
  StartEndPool pool(2, 64);
  unsigned char* s1 = nullptr;
  unsigned char* s2 = nullptr;
  unsigned char* s3 = nullptr;
  const uint64_t a = pool.claim(&s1);
  const uint64_t b = pool.claim(&s2);
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, 0u);
  EXPECT_NE(s1, s2);
  EXPECT_EQ(pool.claim(&s3), 0u);
  EXPECT_EQ(s3, nullptr);
  EXPECT_EQ(pool.close(a), s1);
  EXPECT_EQ(pool.close(a), nullptr);  // closing twice
  pool.release(a);
  const uint64_t c = pool.claim(&s3);
  EXPECT_EQ(s3, s1);    // the same slot ...
  EXPECT_NE(c, a);      // ... under a new generation
  EXPECT_EQ(pool.close(a), nullptr);  // the stale id ends nothing
  EXPECT_EQ(pool.close(0), nullptr);
  EXPECT_EQ(pool.close(0xFFFFFFFF), nullptr);
  EXPECT_EQ(pool.close(c), s1);
}

TEST(StartEndPool, ConcurrentOpenersNeverShareASlot) {
  StartEndPool pool(16, 8);
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        unsigned char* storage = nullptr;
        const uint64_t id = pool.claim(&storage);
        if (id == 0) continue;
        // Whoever holds the slot writes its mark; a second holder would overwrite it.
        storage[0] = static_cast<unsigned char>(t);
        for (int spin = 0; spin < 10; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
        if (storage[0] != t) ++overlaps;
        ASSERT_EQ(pool.close(id), storage);
        pool.release(id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(overlaps, 0);
}

TEST(NcclCommunicators, RemembersUpdatesAndIgnoresUncreated) {
  NcclCommunicators table;
  CommunicatorShape s;
  EXPECT_FALSE(table.find(5, &s));
  table.remember(0, {4, 1});  // not created yet
  EXPECT_FALSE(table.find(0, &s));
  table.remember(5, {4, 1});
  ASSERT_TRUE(table.find(5, &s));
  EXPECT_EQ(s.ranks, 4u);
  EXPECT_EQ(s.rank, 1u);
  table.remember(5, {8, 7});
  ASSERT_TRUE(table.find(5, &s));
  EXPECT_EQ(s.ranks, 8u);
  for (uint64_t id = 100; id < 100 + NcclCommunicators::kCapacity; ++id) table.remember(id, {2, 0});
  EXPECT_TRUE(table.find(5, &s));  // full now: still found
  table.remember(99999, {2, 1});   // no room: ignored, not overwriting
  EXPECT_FALSE(table.find(99999, &s));
}

TEST(DomainTable, OneHandlePerNameAndPerStringInADomain) {
  DomainTable t;
  Domain* a = t.create("moeprof");
  EXPECT_EQ(a->role, DomainRole::kMoeprof);
  EXPECT_EQ(t.create("NCCL")->role, DomainRole::kNccl);
  EXPECT_EQ(t.create("moeprof"), a);
  RegisteredString* s = t.register_string(a, "x");
  EXPECT_EQ(t.register_string(a, "x"), s);
  EXPECT_NE(t.register_string(t.create("other"), "x"), s);
  EXPECT_EQ(s->text, "x");
}

}  // namespace
}  // namespace moeprof::nvtx
