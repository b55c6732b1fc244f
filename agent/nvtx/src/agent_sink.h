// Where the NVTX source's events go: the agent's C ABI in libmoeprof_nvtx.so, a recorder in
// the tests.
#pragma once

#include <cstdint>

#include "moeprof/moeprof.h"

namespace moeprof::nvtx {

class AgentSink {
 public:
  virtual ~AgentSink() = default;
  virtual int64_t now_ns() = 0;
  virtual int64_t current_step() = 0;
  virtual uint32_t thread_id() = 0;
  virtual bool in_engine_all_to_all() = 0;
  virtual void range(const moeprof_range& range) = 0;
  virtual void all_to_all(const moeprof_all_to_all_event& event) = 0;
  virtual void expert_counts(int32_t layer, uint32_t num_experts, const uint32_t* counts) = 0;
  virtual void router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens, uint32_t top_k,
                                const int32_t* expert_ids, const float* gate_weights) = 0;
  virtual void drops(uint64_t count) = 0;
};

}  // namespace moeprof::nvtx
