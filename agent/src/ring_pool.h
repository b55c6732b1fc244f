// A fixed pool of rings, one per recording thread, allocated once. The memory is one
// anonymous mapping, so pages of rings that are never used cost nothing. A thread claims a
// ring on its first event; when it exits it retires the ring, and the flusher, after
// draining it, hands it back to the pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "ring.h"

namespace moeprof::agent {

class RingPool {
 public:
  enum State : uint32_t { kFree = 0, kOwned = 1, kRetired = 2 };

  // `ring_bytes` is rounded up to a power of two (at least 4 KiB).
  static std::unique_ptr<RingPool> create(uint32_t ring_count, uint64_t ring_bytes, std::string* error);
  ~RingPool();
  RingPool(const RingPool&) = delete;
  RingPool& operator=(const RingPool&) = delete;

  uint32_t size() const { return count_; }
  uint64_t ring_bytes() const { return ring_bytes_; }
  Ring& ring(uint32_t i) { return slots_[i].ring; }

  // A free ring for the calling thread, or nullptr when every ring is taken.
  Ring* claim();
  // The owner is done with the ring (thread exit); its records are still to be drained.
  void retire(Ring* ring);
  // The flusher drained a retired ring: it can be claimed again.
  void release(uint32_t i);
  State state(uint32_t i) const { return static_cast<State>(slots_[i].state.load(std::memory_order_acquire)); }
  // One past the highest ring ever claimed: the flusher looks at [0, high_water()).
  uint32_t high_water() const { return high_water_.load(std::memory_order_acquire); }
  // Sum of records_written() over all rings.
  uint64_t records_written() const;

  // In a forked child (one thread): everything the parent's threads buffered is discarded
  // and every ring is free again.
  void reset_after_fork();

 private:
  struct alignas(64) Slot {
    Ring ring;
    std::atomic<uint32_t> state{kFree};
  };
  RingPool() = default;
  uint32_t index_of(const Ring* ring) const;

  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  Slot* slots_ = nullptr;
  uint32_t count_ = 0;
  uint64_t ring_bytes_ = 0;
  std::atomic<uint32_t> high_water_{0};
};

}  // namespace moeprof::agent
