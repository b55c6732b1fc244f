// The NVTX source's events into the agent, through its C ABI (libmoeprof_agent.so).
#pragma once

#include "agent_sink.h"

namespace moeprof::nvtx {

class AgentAbiSink final : public AgentSink {
 public:
  int64_t now_ns() override;
  int64_t current_step() override;
  uint32_t thread_id() override;
  bool in_engine_all_to_all() override;
  void range(const moeprof_range& range) override;
  void all_to_all(const moeprof_all_to_all_event& event) override;
  void expert_counts(int32_t layer, uint32_t num_experts, const uint32_t* counts) override;
  void router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens, uint32_t top_k,
                        const int32_t* expert_ids, const float* gate_weights) override;
  void drops(uint64_t count) override;
};

}  // namespace moeprof::nvtx
