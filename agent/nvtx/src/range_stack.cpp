#include "range_stack.h"

namespace moeprof::nvtx {
namespace {

size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

RangeStack::RangeStack(size_t arena_bytes)
    : arena_(new (std::nothrow) unsigned char[arena_bytes]), arena_bytes_(arena_ ? arena_bytes : 0), slots_{} {}

void RangeStack::reclaim() noexcept {
  while (depth_ > 0 && slots_[depth_ - 1].closed) {
    --depth_;
    used_ = slots_[depth_].offset;
  }
  reclaim_pending_ = false;
}

unsigned char* RangeStack::push(const Domain* domain, size_t bytes, int* level) noexcept {
  if (reclaim_pending_) reclaim();
  int lvl = 0;
  for (size_t i = depth_; i-- > 0;) {
    if (!slots_[i].closed && slots_[i].domain == domain) {
      lvl = slots_[i].level + 1;
      break;
    }
  }
  if (depth_ == kMaxDepth) {
    ++overflow_;
    *level = static_cast<int>(kMaxDepth + overflow_ - 1);
    return nullptr;
  }
  Slot& s = slots_[depth_++];
  s = Slot{domain, static_cast<uint32_t>(used_), 0, lvl, true, false};
  *level = lvl;
  const size_t size = align8(bytes);
  if (size > arena_bytes_ - used_) return nullptr;  // kept as dropped
  s.size = static_cast<uint32_t>(size);
  s.dropped = false;
  used_ += size;
  return arena_.get() + s.offset;
}

RangeStack::Popped RangeStack::pop(const Domain* domain) noexcept {
  if (reclaim_pending_) reclaim();
  Popped p;
  if (overflow_ > 0) {
    // Too deep to have been kept: the innermost pushes are the ones beyond the limit.
    --overflow_;
    p.found = true;
    p.level = static_cast<int>(kMaxDepth + overflow_);
    return p;
  }
  for (size_t i = depth_; i-- > 0;) {
    Slot& s = slots_[i];
    if (s.closed || s.domain != domain) continue;
    s.closed = true;
    p.found = true;
    p.level = s.level;
    p.entry = s.dropped ? nullptr : arena_.get() + s.offset;
    reclaim_pending_ = true;  // after the caller has read the entry
    return p;
  }
  return p;
}

}  // namespace moeprof::nvtx
