#include "activity_decoder.h"

#include <cupti_activity.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <optional>

#include "moeprof/moeprof.h"

namespace moeprof::cupti {
namespace {

// CUDA 13's CUPTI writes CUpti_ActivityKernel10 for KERNEL and CONCURRENT_KERNEL records.
// Each version appended fields to the one before, and only fields up to `name` are read here
// (their offsets are the same back to version 4, checked below), so a newer CUPTI's longer
// record reads the same; CUPTI itself steps from record to record.
using KernelRecord = CUpti_ActivityKernel10;
#define MOEPROF_SAME_OFFSET(field)                                                         \
  static_assert(offsetof(KernelRecord, field) == offsetof(CUpti_ActivityKernel4, field) && \
                offsetof(KernelRecord, field) == offsetof(CUpti_ActivityKernel9, field))
MOEPROF_SAME_OFFSET(start);
MOEPROF_SAME_OFFSET(end);
MOEPROF_SAME_OFFSET(deviceId);
MOEPROF_SAME_OFFSET(streamId);
MOEPROF_SAME_OFFSET(gridX);
MOEPROF_SAME_OFFSET(blockZ);
MOEPROF_SAME_OFFSET(correlationId);
MOEPROF_SAME_OFFSET(name);
#undef MOEPROF_SAME_OFFSET

// Calls `on_record` for each record; false when the walk ended at a record CUPTI rejected
// rather than at the end of the valid bytes.
template <class OnRecord>
bool walk(uint8_t* buffer, size_t valid_bytes, OnRecord&& on_record) {
  if (buffer == nullptr || valid_bytes == 0) return true;
  CUpti_Activity* record = nullptr;
  for (;;) {
    const CUptiResult status = cuptiActivityGetNextRecord(buffer, valid_bytes, &record);
    if (status != CUPTI_SUCCESS) return status == CUPTI_ERROR_MAX_LIMIT_REACHED;
    on_record(record);
  }
}

bool is_kernel(CUpti_ActivityKind kind) {
  return kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || kind == CUPTI_ACTIVITY_KIND_KERNEL;
}

bool is_launch(CUpti_ActivityKind kind) {
  return kind == CUPTI_ACTIVITY_KIND_RUNTIME || kind == CUPTI_ACTIVITY_KIND_DRIVER ||
         kind == CUPTI_ACTIVITY_KIND_INTERNAL_LAUNCH_API;
}

uint32_t dimension(int32_t n) { return n > 0 ? static_cast<uint32_t>(n) : 0; }

}  // namespace

ActivityDecoder::ActivityDecoder(const DecoderOptions& options, KernelSink* sink)
    : options_(options),
      sink_(sink),
      launches_(std::bit_ceil(std::max<uint32_t>(options.correlation_slots, 1))),
      launch_mask_(static_cast<uint32_t>(launches_.size() - 1)),
      pending_(options.pending_kernels) {}

int64_t ActivityDecoder::time(uint64_t cupti_ns) const {
  return static_cast<int64_t>(cupti_ns) + options_.clock_offset_ns;
}

void ActivityDecoder::decode(uint8_t* buffer, size_t valid_bytes) {
  ++stats_.buffers;
  // One walk notes the launches and where the kernels are; the kernels are handled after it,
  // so a kernel whose call comes later in the same buffer finds it.
  kernels_.clear();
  const bool whole = walk(buffer, valid_bytes, [&](const CUpti_Activity* record) {
    ++stats_.records;
    if (is_kernel(record->kind)) {
      kernels_.push_back(record);
    } else if (is_launch(record->kind)) {
      const auto* call = reinterpret_cast<const CUpti_ActivityAPI*>(record);
      ++stats_.launches;
      add_launch(call->correlationId, call->threadId, call->start);
    } else {
      ++stats_.other_records;
    }
  });
  if (!whole) ++stats_.invalid_buffers;
  retry_pending(false);
  for (const void* record : kernels_) add_kernel(record);
}

void ActivityDecoder::finish() { retry_pending(true); }

void ActivityDecoder::add_launch(uint32_t correlation_id, uint32_t tid, uint64_t start) {
  if (correlation_id == 0) return;
  Launch& slot = launches_[correlation_id & launch_mask_];
  const int64_t start_ns = start == 0 ? 0 : time(start);
  if (slot.correlation_id == correlation_id) {
    // A call nested in the one already seen (a runtime launch's driver call, if CUPTI gave
    // it the same id): the outermost call, the earliest, is the launch.
    if (start_ns != 0 && (slot.start_ns == 0 || start_ns < slot.start_ns)) {
      slot.start_ns = start_ns;
      slot.tid = options_.thread_ids_are_tids ? tid : 0;
    }
    return;
  }
  if (slot.correlation_id != 0 && !slot.matched) ++stats_.launches_unmatched;
  slot = Launch{correlation_id, options_.thread_ids_are_tids ? tid : 0, start_ns, false};
}

const ActivityDecoder::Launch* ActivityDecoder::find_launch(uint32_t correlation_id) {
  if (correlation_id == 0) return nullptr;
  Launch& slot = launches_[correlation_id & launch_mask_];
  if (slot.correlation_id != correlation_id) return nullptr;
  slot.matched = true;
  return &slot;
}

void ActivityDecoder::add_kernel(const void* record) {
  const auto* k = static_cast<const KernelRecord*>(record);
  ++stats_.kernels;
  if (k->start == 0 && k->end == 0) {
    ++stats_.kernels_untimed;
    return;
  }
  KernelEvent event{};
  event.start_ns = time(k->start);
  event.end_ns = std::max(event.start_ns, time(k->end));
  const std::optional<int64_t> step =
      options_.steps != nullptr ? options_.steps->find(k->correlationId) : std::optional<int64_t>();
  event.step = step.value_or(MOEPROF_STEP_CURRENT);
  if (!step) ++stats_.kernels_without_step;
  event.device = k->deviceId;
  event.stream = k->streamId;
  event.correlation_id = k->correlationId;
  event.grid[0] = dimension(k->gridX);
  event.grid[1] = dimension(k->gridY);
  event.grid[2] = dimension(k->gridZ);
  event.block[0] = dimension(k->blockX);
  event.block[1] = dimension(k->blockY);
  event.block[2] = dimension(k->blockZ);
  event.name = k->name;
  if (k->correlationId == 0) {
    send(event, nullptr);  // nothing launched it from the host (a device-side launch)
  } else if (const Launch* launch = find_launch(k->correlationId)) {
    send(event, launch);
  } else {
    push_pending(event);
  }
}

void ActivityDecoder::send(KernelEvent event, const Launch* launch) {
  if (launch != nullptr) {
    event.launch_ns = launch->start_ns;
    event.launch_tid = launch->tid;
    ++stats_.kernels_joined;
  } else {
    event.launch_ns = 0;
    event.launch_tid = 0;
    ++stats_.kernels_unjoined;
  }
  if (sink_ != nullptr) sink_->kernel(event);
}

void ActivityDecoder::push_pending(const KernelEvent& event) {
  const size_t capacity = pending_.size();
  if (capacity == 0 || options_.pending_buffers == 0) {
    send(event, nullptr);
    return;
  }
  if (pending_count_ == capacity) {  // the oldest has waited longest: it goes out unjoined
    send(pending_[pending_head_].event, nullptr);
    pending_head_ = (pending_head_ + 1) % capacity;
    --pending_count_;
  }
  pending_[(pending_head_ + pending_count_) % capacity] = Pending{event, 0};
  ++pending_count_;
}

void ActivityDecoder::retry_pending(bool final) {
  const size_t capacity = pending_.size();
  // Each pending kernel is taken off the front once and, still waiting, put back at the
  // end: the order (oldest first) is kept and the ring never holds more than before.
  for (size_t n = pending_count_; n > 0; --n) {
    Pending p = pending_[pending_head_];
    pending_head_ = (pending_head_ + 1) % capacity;
    --pending_count_;
    if (const Launch* launch = find_launch(p.event.correlation_id)) {
      send(p.event, launch);
    } else if (final || ++p.buffers_waited >= options_.pending_buffers) {
      send(p.event, nullptr);
    } else {
      pending_[(pending_head_ + pending_count_) % capacity] = p;
      ++pending_count_;
    }
  }
}

}  // namespace moeprof::cupti
