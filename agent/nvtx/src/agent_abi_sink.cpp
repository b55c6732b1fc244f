#include "agent_abi_sink.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace moeprof::nvtx {

int64_t AgentAbiSink::now_ns() { return moeprof_now_ns(); }
int64_t AgentAbiSink::current_step() { return moeprof_current_step(); }

uint32_t AgentAbiSink::thread_id() {
  // The kernel's thread id, as the agent numbers threads (not cached: a forked child's
  // thread has a new one).
  return static_cast<uint32_t>(syscall(SYS_gettid));
}

bool AgentAbiSink::in_engine_all_to_all() { return moeprof_in_engine_all_to_all() != 0; }
void AgentAbiSink::range(const moeprof_range& range) { moeprof_record_range(&range); }
void AgentAbiSink::all_to_all(const moeprof_all_to_all_event& event) { moeprof_record_all_to_all(&event); }

void AgentAbiSink::expert_counts(int32_t layer, uint32_t num_experts, const uint32_t* counts) {
  moeprof_source_expert_counts(MOEPROF_SOURCE_NVTX, layer, num_experts, counts);
}

void AgentAbiSink::router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens, uint32_t top_k,
                                    const int32_t* expert_ids, const float* gate_weights) {
  moeprof_source_router_decisions(MOEPROF_SOURCE_NVTX, layer, token_offset, num_tokens, top_k, expert_ids,
                                  gate_weights);
}

void AgentAbiSink::drops(uint64_t count) { moeprof_count_drops(MOEPROF_SOURCE_NVTX, count); }

}  // namespace moeprof::nvtx
