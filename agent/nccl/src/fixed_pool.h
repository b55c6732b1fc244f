// A fixed number of objects handed out and taken back from any thread without locks: a
// free list (a Treiber stack of indices) whose head carries a tag that changes on every
// update, so a stale head cannot be swapped back in (ABA). All memory is allocated when the
// pool is made; acquire() on an empty pool returns nullptr and the caller drops and counts.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>

namespace moeprof::nccl {

template <class T>
class FixedPool {
 public:
  explicit FixedPool(uint32_t capacity) noexcept
      : values_(new (std::nothrow) T[capacity]()), next_(new (std::nothrow) std::atomic<uint32_t>[capacity]) {
    capacity_ = values_ != nullptr && next_ != nullptr ? capacity : 0;
    for (uint32_t i = 0; i < capacity_; ++i) next_[i].store(i + 1 < capacity_ ? i + 1 : kNone, std::memory_order_relaxed);
    head_.store(capacity_ > 0 ? 0 : kNone, std::memory_order_relaxed);
  }
  FixedPool(const FixedPool&) = delete;
  FixedPool& operator=(const FixedPool&) = delete;

  // False when the memory could not be had (the pool then holds nothing).
  bool allocated(uint32_t wanted) const noexcept { return capacity_ == wanted; }
  uint32_t capacity() const noexcept { return capacity_; }
  // Objects given out now: walks the free list, so only while no other thread uses the pool
  // (tests, diagnostics). No counter is kept: the hot path pays two atomic updates per object
  // already.
  uint32_t in_use() const noexcept {
    uint32_t free = 0;
    for (uint32_t i = static_cast<uint32_t>(head_.load(std::memory_order_acquire)); i != kNone && free <= capacity_;
         i = next_[i].load(std::memory_order_relaxed))
      ++free;
    return capacity_ - free;
  }

  // An object in the state the last release() left it in (value-initialised at first), or
  // nullptr when all are in use.
  T* acquire() noexcept {
    uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      const uint32_t index = static_cast<uint32_t>(head);
      if (index == kNone) return nullptr;
      const uint32_t next = next_[index].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, tagged(head, next), std::memory_order_acq_rel, std::memory_order_acquire))
        return &values_[index];
    }
  }

  // Takes back an object acquire() gave out.
  void release(T* object) noexcept {
    const uint32_t index = static_cast<uint32_t>(object - values_.get());
    uint64_t head = head_.load(std::memory_order_relaxed);
    do {
      next_[index].store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    } while (!head_.compare_exchange_weak(head, tagged(head, index), std::memory_order_release, std::memory_order_relaxed));
  }

  // Every object, in use or not (for a final sweep once no other thread uses the pool).
  T* begin() noexcept { return values_.get(); }
  T* end() noexcept { return values_.get() + capacity_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static uint64_t tagged(uint64_t old_head, uint32_t index) noexcept {
    return (((old_head >> 32) + 1) << 32) | index;
  }

  std::unique_ptr<T[]> values_;
  std::unique_ptr<std::atomic<uint32_t>[]> next_;
  uint32_t capacity_ = 0;
  std::atomic<uint64_t> head_{kNone};
};

}  // namespace moeprof::nccl
