// Hand-built CUPTI activity buffers: records laid out back to back as CUPTI writes them
// (each struct is 8-byte aligned and a multiple of 8 bytes long), for the decoder to walk
// with cuptiActivityGetNextRecord exactly as it walks CUPTI's own.
#pragma once

#include <cupti_activity.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "activity_decoder.h"

namespace moeprof::cupti::testing {

struct KernelSpec {
  uint32_t correlation_id;
  uint64_t start;
  uint64_t end;
  const char* name = "kernel";
  uint32_t device = 0;
  uint32_t stream = 7;
  int32_t grid[3] = {1, 1, 1};
  int32_t block[3] = {32, 1, 1};
  CUpti_ActivityKind kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
};

class ActivityBuffer {
 public:
  ActivityBuffer& kernel(const KernelSpec& spec) {
    CUpti_ActivityKernel10 k{};
    k.kind = spec.kind;
    k.correlationId = spec.correlation_id;
    k.start = spec.start;
    k.end = spec.end;
    k.name = spec.name;
    k.deviceId = spec.device;
    k.streamId = spec.stream;
    k.gridX = spec.grid[0];
    k.gridY = spec.grid[1];
    k.gridZ = spec.grid[2];
    k.blockX = spec.block[0];
    k.blockY = spec.block[1];
    k.blockZ = spec.block[2];
    return append(k);
  }
  ActivityBuffer& launch(uint32_t correlation_id, uint64_t start, uint32_t tid,
                         CUpti_ActivityKind kind = CUPTI_ACTIVITY_KIND_RUNTIME) {
    CUpti_ActivityAPI a{};
    a.kind = kind;
    a.cbid = 211;  // cudaLaunchKernel_v7000
    a.correlationId = correlation_id;
    a.start = start;
    a.end = start + 500;
    a.processId = 1;
    a.threadId = tid;
    return append(a);
  }
  // A record of a kind the decoder does not use.
  ActivityBuffer& memcpy_record(uint32_t correlation_id) {
    CUpti_ActivityMemcpy6 m{};
    m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
    m.correlationId = correlation_id;
    m.start = 1;
    m.end = 2;
    return append(m);
  }
  // A record CUPTI does not know: the walk cannot step over it.
  ActivityBuffer& invalid_record() {
    CUpti_ActivityAPI a{};
    a.kind = static_cast<CUpti_ActivityKind>(0x7ffff000);
    return append(a);
  }

  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  size_t size() const { return bytes_; }
  size_t records() const { return offsets_.size(); }
  // Where record i starts (to cut a buffer inside a record).
  size_t offset(size_t i) const { return offsets_[i]; }

 private:
  template <class Record>
  ActivityBuffer& append(const Record& record) {
    static_assert(sizeof(Record) % 8 == 0);
    offsets_.push_back(bytes_);
    words_.resize((bytes_ + sizeof record) / 8);
    std::memcpy(reinterpret_cast<uint8_t*>(words_.data()) + bytes_, &record, sizeof record);
    bytes_ += sizeof record;
    return *this;
  }
  std::vector<uint64_t> words_;  // 8-byte alignment, as CUPTI requires of its buffers
  size_t bytes_ = 0;
  std::vector<size_t> offsets_;
};

// Keeps what the decoder sends.
class CollectingSink final : public KernelSink {
 public:
  void kernel(const KernelEvent& event) override { events.push_back(event); }
  std::vector<KernelEvent> events;
};

}  // namespace moeprof::cupti::testing
