// A single-producer / single-consumer byte ring: the owning thread appends records, the
// flusher drains them. Positions are 64-bit byte counters that never wrap; the slot of a
// position is `pos & (capacity - 1)`. A record never straddles the end of the buffer: when
// it does not fit before the end, the producer fills the rest with a padding record and
// starts again at offset 0, so both sides always see a record as one contiguous piece.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

namespace moeprof::agent {

// Every record in a ring starts with this header; `size` includes it and is a multiple of 8.
struct RingRecordHeader {
  uint32_t size;
  uint8_t kind;    // RingKind (ring_records.h); kPaddingKind for padding
  uint8_t source;  // wire::Source
  uint16_t reserved;
};
static_assert(sizeof(RingRecordHeader) == 8);
inline constexpr uint8_t kPaddingKind = 0;

inline constexpr uint64_t align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

class Ring {
 public:
  // Where a reserved record goes; `end` is the head to publish once it is written.
  struct Reservation {
    uint8_t* ptr;
    uint64_t end;
    // Before commit(): a record that turned out shorter than reserved gives its last
    // `unused` bytes (a multiple of 8) back, so the next record starts right after it.
    void shrink(uint64_t unused) { end -= unused; }
  };

  // `capacity` must be a power of two and at least 64; `data` holds `capacity` bytes.
  void attach(uint8_t* data, uint64_t capacity) {
    data_ = data;
    capacity_ = capacity;
    mask_ = capacity - 1;
  }
  uint64_t capacity() const { return capacity_; }
  // A record of at most half the capacity always fits into an empty ring (with the padding
  // it may need); larger ones might never fit and count as too large.
  uint64_t max_record_size() const { return capacity_ / 2; }

  // ---- producer side (the owning thread only) ----

  // Room for `size` bytes (a multiple of 8, <= max_record_size()), or ptr == nullptr when
  // the ring is too full. Nothing is visible to the consumer until commit().
  Reservation reserve(uint64_t size) {
    uint64_t head = head_.load(std::memory_order_relaxed);
    const uint64_t offset = head & mask_;
    const uint64_t to_end = capacity_ - offset;
    const uint64_t need = size <= to_end ? size : to_end + size;
    if (head + need - cached_tail_ > capacity_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head + need - cached_tail_ > capacity_) return {nullptr, 0};
    }
    if (size > to_end) {
      const RingRecordHeader padding{static_cast<uint32_t>(to_end), kPaddingKind, 0, 0};
      std::memcpy(data_ + offset, &padding, sizeof padding);
      head += to_end;
    }
    return {data_ + (head & mask_), head + size};
  }

  // Publishes a reserved record. Returns true when the ring is now more than half full and
  // the flusher has not been asked to drain it yet (the caller then wakes the flusher).
  bool commit(const Reservation& r) {
    head_.store(r.end, std::memory_order_release);
    written_.store(written_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (r.end - cached_tail_ <= capacity_ / 2) return false;
    // The cached tail may be stale: look again before deciding the ring is really that full.
    cached_tail_ = tail_.load(std::memory_order_acquire);
    if (r.end - cached_tail_ <= capacity_ / 2 || wake_requested_.load(std::memory_order_relaxed)) return false;
    wake_requested_.store(true, std::memory_order_relaxed);
    return true;
  }

  // ---- consumer side (the flusher) ----

  uint64_t published() const { return head_.load(std::memory_order_acquire); }

  // Calls fn(const RingRecordHeader&, const uint8_t* body) for each record before `limit`
  // (a value of published()), releasing each record's space once fn returns.
  template <class Fn>
  void consume(uint64_t limit, Fn&& fn) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    while (tail < limit) {
      RingRecordHeader header;
      std::memcpy(&header, data_ + (tail & mask_), sizeof header);
      if (header.size < sizeof header || header.size > limit - tail) break;  // never happens; never loop on it
      if (header.kind != kPaddingKind) fn(header, data_ + (tail & mask_) + sizeof header);
      tail += header.size;
      tail_.store(tail, std::memory_order_release);
    }
    if (tail != limit) tail_.store(limit, std::memory_order_release);
    wake_requested_.store(false, std::memory_order_relaxed);
  }

  // Records accepted since the ring was created (or reset).
  uint64_t records_written() const { return written_.load(std::memory_order_relaxed); }

  // Back to empty, counters included. Only while nobody else uses the ring (a forked child,
  // which has one thread).
  void reset_all() {
    head_.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
    cached_tail_ = 0;
    written_.store(0, std::memory_order_relaxed);
    wake_requested_.store(false, std::memory_order_relaxed);
  }
  // A new owner starts from the consumer's current position.
  void adopt() { cached_tail_ = tail_.load(std::memory_order_acquire); }

 private:
  // Producer's cache line: what it writes and what it reads on every record.
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t cached_tail_ = 0;
  std::atomic<uint64_t> written_{0};
  std::atomic<bool> wake_requested_{false};
  uint8_t* data_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t mask_ = 0;
  // Consumer's cache line.
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace moeprof::agent
