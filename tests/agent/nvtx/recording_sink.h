// An AgentSink that keeps what the NVTX capture reports, with copies of every string and
// array (the capture's pointers are only valid during the call).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "agent_sink.h"

namespace moeprof::nvtx::testing {

struct RecordedRange {
  int64_t start_ns, end_ns, step;
  uint32_t tid;
  int32_t kind;
  uint32_t category, color;
  std::string domain, name, payload;
  bool has_payload;
};

struct RecordedAllToAll {
  int64_t start_ns, end_ns, step;
  int32_t layer, phase;
  uint32_t tid;
  bool has_bytes;
  std::vector<int32_t> peers;  // filled in 0..n-1 when the event named none
  std::vector<uint64_t> send, recv;
};

struct RecordedCounts {
  int32_t layer;
  std::vector<uint32_t> counts;
};

struct RecordedRouting {
  int32_t layer;
  uint32_t token_offset, num_tokens, top_k;
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

class RecordingSink final : public AgentSink {
 public:
  int64_t now_ns() override { return clock += 10; }
  int64_t current_step() override { return step; }
  uint32_t thread_id() override { return tid_of_thread(); }
  bool in_engine_all_to_all() override { return engine_all_to_all; }

  void range(const moeprof_range& r) override {
    std::lock_guard<std::mutex> lock(mutex);
    ranges.push_back(RecordedRange{r.start_ns, r.end_ns, r.step, r.tid, r.kind, r.category, r.color,
                                   r.domain ? r.domain : "", r.name ? r.name : "", r.payload ? r.payload : "",
                                   r.payload != nullptr});
  }
  void all_to_all(const moeprof_all_to_all_event& e) override {
    std::lock_guard<std::mutex> lock(mutex);
    RecordedAllToAll a{e.start_ns, e.end_ns, e.step, e.layer, e.phase, e.tid, e.bytes != nullptr, {}, {}, {}};
    if (e.bytes != nullptr) {
      for (uint32_t i = 0; i < e.bytes->num_peers; ++i) {
        a.peers.push_back(e.bytes->peers ? e.bytes->peers[i] : static_cast<int32_t>(i));
        a.send.push_back(e.bytes->send_bytes[i]);
        a.recv.push_back(e.bytes->recv_bytes[i]);
      }
    }
    all_to_alls.push_back(a);
  }
  void expert_counts(int32_t layer, uint32_t n, const uint32_t* c) override {
    std::lock_guard<std::mutex> lock(mutex);
    counts.push_back(RecordedCounts{layer, std::vector<uint32_t>(c, c + n)});
  }
  void router_decisions(int32_t layer, uint32_t offset, uint32_t tokens, uint32_t top_k, const int32_t* ids,
                        const float* weights) override {
    std::lock_guard<std::mutex> lock(mutex);
    const size_t n = size_t{tokens} * top_k;
    routing.push_back(RecordedRouting{layer, offset, tokens, top_k, std::vector<int32_t>(ids, ids + n),
                                      weights ? std::vector<float>(weights, weights + n) : std::vector<float>()});
  }
  void drops(uint64_t count) override { dropped += count; }

  // Thread ids the test can tell apart: 1 for the first thread that asks, 2 for the next, ...
  uint32_t tid_of_thread() {
    thread_local uint32_t tid = 0;
    if (tid == 0) tid = next_tid++;
    return tid;
  }

  std::mutex mutex;
  std::atomic<int64_t> clock{1000};
  int64_t step = 0;
  bool engine_all_to_all = false;
  std::atomic<uint32_t> next_tid{1};
  std::atomic<uint64_t> dropped{0};
  std::vector<RecordedRange> ranges;
  std::vector<RecordedAllToAll> all_to_alls;
  std::vector<RecordedCounts> counts;
  std::vector<RecordedRouting> routing;
};

}  // namespace moeprof::nvtx::testing
