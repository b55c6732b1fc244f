// The SPSC byte ring on its own: ordering, wrap-around with padding, full and half-full,
// shrinking a reservation.
#include "ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace moeprof::agent {
namespace {

struct TestRing {
  explicit TestRing(uint64_t capacity) : memory(capacity) { ring.attach(memory.data(), capacity); }
  std::vector<uint8_t> memory;
  Ring ring;
};

// Writes a record of `size` bytes: header, sequence number, then bytes derived from it.
bool write_record(Ring& ring, uint64_t size, uint64_t sequence) {
  const Ring::Reservation r = ring.reserve(size);
  if (r.ptr == nullptr) return false;
  const RingRecordHeader header{static_cast<uint32_t>(size), 1, 0, 0};
  std::memcpy(r.ptr, &header, sizeof header);
  std::memcpy(r.ptr + sizeof header, &sequence, sizeof sequence);
  for (uint64_t i = sizeof header + sizeof sequence; i < size; ++i) r.ptr[i] = static_cast<uint8_t>(sequence * 31 + i);
  ring.commit(r);
  return true;
}

// Checks one record as written above; returns its sequence number.
uint64_t check_record(const RingRecordHeader& header, const uint8_t* body) {
  uint64_t sequence;
  std::memcpy(&sequence, body, sizeof sequence);
  for (uint64_t i = sizeof header + sizeof sequence; i < header.size; ++i)
    if (body[i - sizeof header] != static_cast<uint8_t>(sequence * 31 + i)) ADD_FAILURE() << "corrupt byte in record " << sequence;
  return sequence;
}

TEST(Ring, ProducerAndConsumerThreadsSeeEveryRecordInOrderAcrossWrapArounds) {
  TestRing t(4096);
  constexpr uint64_t kRecords = 200'000;
  std::atomic<bool> done{false};
  uint64_t bytes_written = 0;
  std::thread producer([&] {
    std::mt19937 rng(7);
    for (uint64_t seq = 0; seq < kRecords; ++seq) {
      // 16 .. 1024 bytes, multiples of 8: some records wrap, many need padding.
      const uint64_t size = 16 + 8 * (rng() % 127);
      while (!write_record(t.ring, size, seq)) std::this_thread::yield();
      bytes_written += size;
    }
    done.store(true);
  });
  uint64_t expected = 0;
  while (expected < kRecords) {
    const bool finished = done.load();
    const uint64_t before = expected;
    t.ring.consume(t.ring.published(), [&](const RingRecordHeader& h, const uint8_t* body) {
      EXPECT_EQ(h.kind, 1);
      const uint64_t seq = check_record(h, body);
      ASSERT_EQ(seq, expected);
      ++expected;
    });
    if (finished && expected == before) break;  // the producer is done and nothing came: records were lost
  }
  producer.join();
  EXPECT_EQ(expected, kRecords);
  EXPECT_GT(bytes_written, 1000 * t.ring.capacity());  // wrapped around many times
  EXPECT_EQ(t.ring.records_written(), kRecords);
}

TEST(Ring, ReserveFailsExactlyWhenTheRecordDoesNotFitAndSucceedsAgainAfterDraining) {
  TestRing t(1024);
  // 64-byte records: 16 fit exactly, the 17th does not.
  int written = 0;
  while (write_record(t.ring, 64, static_cast<uint64_t>(written))) ++written;
  EXPECT_EQ(written, 16);
  int drained = 0;
  t.ring.consume(t.ring.published(), [&](const RingRecordHeader& h, const uint8_t* body) {
    EXPECT_EQ(check_record(h, body), static_cast<uint64_t>(drained));
    ++drained;
  });
  EXPECT_EQ(drained, 16);
  EXPECT_TRUE(write_record(t.ring, 64, 99));
}

TEST(Ring, ARecordOfHalfTheCapacityFitsIntoAnEmptyRingAtEveryOffset) {
  TestRing t(1024);
  for (uint64_t offset = 0; offset < 1024; offset += 8) {
    // Move the empty ring's position to `offset` (mod capacity) with records that never
    // need padding, then ask for half of the ring.
    for (;;) {
      const uint64_t position = t.ring.published() % 1024;
      const uint64_t distance = (offset + 1024 - position) % 1024;
      if (distance == 0) break;
      const uint64_t size = std::min({distance, uint64_t{512}, 1024 - position});
      const Ring::Reservation r = t.ring.reserve(size);
      ASSERT_NE(r.ptr, nullptr);
      const RingRecordHeader header{static_cast<uint32_t>(size), 1, 0, 0};
      std::memcpy(r.ptr, &header, sizeof header);
      t.ring.commit(r);
      t.ring.consume(t.ring.published(), [](const RingRecordHeader&, const uint8_t*) {});
    }
    ASSERT_TRUE(write_record(t.ring, t.ring.max_record_size(), offset)) << "at offset " << t.ring.published() % 1024;
    uint64_t seen = UINT64_MAX;
    t.ring.consume(t.ring.published(), [&](const RingRecordHeader& h, const uint8_t* body) { seen = check_record(h, body); });
    EXPECT_EQ(seen, offset);
  }
}

// A record that turned out shorter than reserved: the next one starts right after it, and
// the consumer sees both at their sizes.
TEST(Ring, AShrunkReservationGivesItsTailBack) {
  TestRing t(1024);
  Ring::Reservation r = t.ring.reserve(256);
  ASSERT_NE(r.ptr, nullptr);
  const RingRecordHeader shrunk{40, 1, 0, 0};
  std::memcpy(r.ptr, &shrunk, sizeof shrunk);
  r.shrink(256 - 40);
  t.ring.commit(r);
  EXPECT_EQ(t.ring.published(), 40u);
  ASSERT_TRUE(write_record(t.ring, 64, 9));
  EXPECT_EQ(t.ring.published(), 104u);
  std::vector<uint32_t> sizes;
  t.ring.consume(t.ring.published(), [&](const RingRecordHeader& h, const uint8_t* body) {
    sizes.push_back(h.size);
    if (h.size == 64) {
      EXPECT_EQ(check_record(h, body), 9u);
    }
  });
  EXPECT_EQ(sizes, (std::vector<uint32_t>{40, 64}));
}

TEST(Ring, CommitAsksForADrainOnceWhenPassingHalfFull) {
  TestRing t(1024);
  int wakes = 0;
  for (int i = 0; i < 12; ++i) {  // 12 * 64 = 768 bytes: past half at the 9th record
    const Ring::Reservation r = t.ring.reserve(64);
    ASSERT_NE(r.ptr, nullptr);
    const RingRecordHeader header{64, 1, 0, 0};
    std::memcpy(r.ptr, &header, sizeof header);
    const bool wake = t.ring.commit(r);
    EXPECT_EQ(wake, i == 8) << "record " << i;
    wakes += wake;
  }
  EXPECT_EQ(wakes, 1);
  t.ring.consume(t.ring.published(), [](const RingRecordHeader&, const uint8_t*) {});
  // Drained: the next time it passes half full it asks again.
  for (int i = 0; i < 9; ++i) {
    const Ring::Reservation r = t.ring.reserve(64);
    const RingRecordHeader header{64, 1, 0, 0};
    std::memcpy(r.ptr, &header, sizeof header);
    EXPECT_EQ(t.ring.commit(r), i == 8);
  }
}

}  // namespace
}  // namespace moeprof::agent
