#include "buffer_pool.h"

#include <algorithm>
#include <bit>
#include <cstdlib>

namespace moeprof::cupti {

BufferPool::BufferPool(size_t bytes, uint32_t count)
    : bytes_((std::max<size_t>(bytes, 8) + 7) & ~size_t{7}), count_(std::min(count, kMaxBuffers)) {
  if (count_ == 0) return;
  memory_ = static_cast<uint8_t*>(std::aligned_alloc(8, bytes_ * count_));
  if (memory_ == nullptr) {
    count_ = 0;
    return;
  }
  free_.store(count_ == 64 ? ~uint64_t{0} : (uint64_t{1} << count_) - 1, std::memory_order_release);
}

BufferPool::~BufferPool() { std::free(memory_); }

uint8_t* BufferPool::take() noexcept {
  uint64_t free = free_.load(std::memory_order_acquire);
  while (free != 0) {
    const int index = std::countr_zero(free);
    if (free_.compare_exchange_weak(free, free & ~(uint64_t{1} << index), std::memory_order_acq_rel,
                                    std::memory_order_acquire))
      return memory_ + static_cast<size_t>(index) * bytes_;
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void BufferPool::give_back(uint8_t* buffer) noexcept {
  const uintptr_t base = reinterpret_cast<uintptr_t>(memory_), address = reinterpret_cast<uintptr_t>(buffer);
  if (memory_ == nullptr || address < base || address >= base + bytes_ * count_) return;
  const size_t offset = address - base;
  if (offset % bytes_ != 0) return;
  free_.fetch_or(uint64_t{1} << (offset / bytes_), std::memory_order_acq_rel);
}

uint32_t BufferPool::free_buffers() const noexcept {
  return static_cast<uint32_t>(std::popcount(free_.load(std::memory_order_acquire)));
}

}  // namespace moeprof::cupti
