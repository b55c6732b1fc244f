// The activity buffers handed to CUPTI: a fixed number of equal buffers allocated once, taken
// and given back without locks (one bit per free buffer), so CUPTI's request for a buffer
// never waits and never allocates. With every buffer out CUPTI gets none and drops records,
// which it counts (cuptiActivityGetNumDroppedRecords).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace moeprof::cupti {

class BufferPool {
 public:
  static constexpr uint32_t kMaxBuffers = 64;

  // `count` (at most kMaxBuffers) buffers of `bytes` each (rounded up to 8), 8-byte aligned
  // as CUPTI requires. On allocation failure the pool is empty (valid() false).
  BufferPool(size_t bytes, uint32_t count);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  bool valid() const { return memory_ != nullptr; }
  size_t buffer_bytes() const { return bytes_; }
  uint32_t count() const { return count_; }

  // A free buffer, or NULL when all are out (counted in refused()).
  uint8_t* take() noexcept;
  // Gives back a buffer take() returned; anything else is ignored.
  void give_back(uint8_t* buffer) noexcept;

  uint32_t free_buffers() const noexcept;
  uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

 private:
  size_t bytes_;
  uint32_t count_;
  uint8_t* memory_ = nullptr;
  std::atomic<uint64_t> free_{0};  // bit i: buffer i is free
  std::atomic<uint64_t> refused_{0};
};

}  // namespace moeprof::cupti
