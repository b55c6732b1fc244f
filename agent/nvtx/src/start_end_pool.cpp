#include "start_end_pool.h"

#include <new>

namespace moeprof::nvtx {

StartEndPool::StartEndPool(size_t slots, size_t slot_bytes)
    : count_(slots), slot_bytes_((slot_bytes + 7) & ~size_t{7}), slots_(new std::atomic<uint64_t>[slots]),
      storage_(new (std::nothrow) unsigned char[slots * ((slot_bytes + 7) & ~size_t{7})]) {
  for (size_t i = 0; i < slots; ++i) slots_[i].store(kFree, std::memory_order_relaxed);
  if (!storage_) count_ = 0;
}

uint64_t StartEndPool::claim(unsigned char** storage) noexcept {
  // Start where the last claim left off: with ranges ending roughly in order, the next slot
  // is usually free.
  for (size_t probe = 0; probe < count_; ++probe) {
    const size_t i = cursor_.fetch_add(1, std::memory_order_relaxed) % count_;
    uint64_t word = slots_[i].load(std::memory_order_relaxed);
    if ((word & kStateMask) != kFree ||
        !slots_[i].compare_exchange_strong(word, (word & ~kStateMask) | kOpen, std::memory_order_acquire))
      continue;
    *storage = storage_.get() + i * slot_bytes_;
    // The id: the generation (32 bits) and the slot number + 1 (never 0).
    return ((word >> 2) << 32) | (i + 1);
  }
  *storage = nullptr;
  return 0;
}

const unsigned char* StartEndPool::close(uint64_t id) noexcept {
  const uint64_t index = id & 0xFFFFFFFFu;
  if (index == 0 || index > count_) return nullptr;
  uint64_t expected = ((id >> 32) << 2) | kOpen;
  if (!slots_[index - 1].compare_exchange_strong(expected, ((id >> 32) << 2) | kClosing, std::memory_order_acquire))
    return nullptr;
  return storage_.get() + (index - 1) * slot_bytes_;
}

void StartEndPool::release(uint64_t id) noexcept {
  const uint64_t index = id & 0xFFFFFFFFu;
  if (index == 0 || index > count_) return;
  // The next generation (kept to 32 bits, the id's share).
  const uint64_t next = ((id >> 32) + 1) & 0xFFFFFFFFu;
  slots_[index - 1].store((next << 2) | kFree, std::memory_order_release);
}

}  // namespace moeprof::nvtx
