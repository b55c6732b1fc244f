// The C ABI (moeprof.h) onto the agent: argument checks, versioned structs, and the wall
// that keeps any exception from crossing into the caller.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "agent.h"
#include "clock.h"
#include "hot_state.h"
#include "moeprof/moeprof.h"
#include "recorder.h"

using moeprof::agent::Agent;
namespace agent = moeprof::agent;
namespace wire = moeprof::wire;

namespace {

constexpr wire::Source kSource = wire::Source::kApi;
constexpr size_t kMaxMarkerName = 255;

// A span packs its start tick, then layer | what << 32 | type << 40 | source << 44 |
// magic << 48, so an _end call can tell a real span of its own kind from a zeroed or
// foreign one, and knows who saw it.
constexpr uint64_t kSpanMagic = 0x4D50;
enum SpanType : uint64_t { kAllToAllSpan = 1, kComputeSpan = 2 };

// All-to-alls the engine reported itself and that are open on this thread: capture adapters
// stay out of them. A span ended on another thread than its own leaves this thread's count
// up, which only keeps adapters out of a thread whose engine reports all-to-alls itself.
thread_local uint32_t t_api_all_to_alls = 0;

moeprof_span make_span(SpanType type, int32_t layer, uint8_t what, wire::Source source = kSource) {
  moeprof_span span{};
  if (!agent::recording()) return span;
  span.opaque[0] = static_cast<uint64_t>(agent::now_ticks());
  span.opaque[1] = uint64_t{static_cast<uint32_t>(layer)} | uint64_t{what} << 32 | uint64_t{type} << 40 |
                   uint64_t{static_cast<uint8_t>(source) & 0xFu} << 44 | kSpanMagic << 48;
  return span;
}

wire::Source span_source(const moeprof_span& span) { return static_cast<wire::Source>((span.opaque[1] >> 44) & 0xF); }

uint8_t phase_of(int32_t p) {
  return static_cast<uint8_t>(p >= 0 && p <= MOEPROF_PHASE_OTHER ? p : MOEPROF_PHASE_OTHER);
}

uint8_t compute_kind_of(int32_t kind) {
  return static_cast<uint8_t>(kind >= 0 && kind <= MOEPROF_COMPUTE_OTHER ? kind : MOEPROF_COMPUTE_OTHER);
}

bool open_span(const moeprof_span& span, SpanType type, int64_t* start_ticks, int32_t* layer, uint8_t* what) {
  const uint64_t meta = span.opaque[1];
  if (meta >> 48 != kSpanMagic || ((meta >> 40) & 0xF) != type) return false;
  *start_ticks = static_cast<int64_t>(span.opaque[0]);
  *layer = static_cast<int32_t>(static_cast<uint32_t>(meta));
  *what = static_cast<uint8_t>(meta >> 32);
  return true;
}

// A versioned struct as this agent knows it: the caller's bytes over our defaults.
template <class T>
bool read_versioned(const T* in, T* out, size_t min_size) {
  if (in == nullptr || in->struct_size < min_size) return false;
  std::memcpy(out, in, std::min<size_t>(in->struct_size, sizeof(T)));
  return true;
}

// A whole-event struct of API version 3 (zero defaults), read when it reaches `source`.
template <class T>
bool read_event(const T* in, T* out) {
  *out = T{};
  return agent::recording() && read_versioned(in, out, offsetof(T, source) + sizeof(int32_t));
}

// A source number an adapter passed, if it is one (an adapter is never the engine API).
bool adapter_source(int32_t source, wire::Source* out) {
  if (source <= MOEPROF_SOURCE_API || source > MOEPROF_SOURCE_PYTHON) return false;
  *out = static_cast<wire::Source>(source);
  return true;
}

int64_t step_of(int64_t step) { return step == MOEPROF_STEP_CURRENT ? agent::current_step() : step; }
uint32_t tid_of(uint32_t tid) { return tid != 0 ? tid : agent::thread_id(); }

// A caller's C string, cut at `limit` bytes.
wire::ByteSpan text(const char* s, size_t limit) {
  return s == nullptr ? wire::ByteSpan{} : wire::ByteSpan(reinterpret_cast<const uint8_t*>(s), strnlen(s, limit));
}

template <class R>
wire::ByteSpan bytes_of(const R& record) {
  return wire::ByteSpan(reinterpret_cast<const uint8_t*>(&record), sizeof record);
}

}  // namespace

extern "C" {

MOEPROF_EXPORT moeprof_status moeprof_init(const moeprof_init_options* options) {
  try {
    return Agent::instance().init(options);
  } catch (...) {
    return MOEPROF_ERROR_NO_COLLECTOR;
  }
}

MOEPROF_EXPORT void moeprof_shutdown(void) {
  try {
    Agent::instance().shutdown();
  } catch (...) {
    // Nothing sensible to report through a void C call; the stream ends without Goodbye.
  }
}

MOEPROF_EXPORT int moeprof_enabled(void) { return agent::recording() ? 1 : 0; }

MOEPROF_EXPORT void moeprof_flush(void) {
  try {
    Agent::instance().flush();
  } catch (...) {
    // The next periodic flush sends it.
  }
}

MOEPROF_EXPORT void moeprof_set_topology(const moeprof_topology* topology) {
  if (!agent::recording()) return;
  moeprof_topology t{sizeof(moeprof_topology), -1, -1, -1, -1, -1, -1, -1, -1, -1, nullptr};
  if (!read_versioned(topology, &t, offsetof(moeprof_topology, local_rank))) return;
  wire::Topology record{};
  record.tag = static_cast<uint8_t>(wire::RecordType::kTopology);
  record.rank = t.rank;
  record.local_rank = t.local_rank;
  record.world_size = t.world_size;
  record.ep_size = t.ep_size;
  record.num_layers = t.num_layers;
  record.num_experts = t.num_experts;
  record.top_k = t.top_k;
  record.num_shared_experts = t.num_shared_experts;
  record.hidden_size = t.hidden_size;
  try {
    Agent::instance().set_topology(record, t.model_name != nullptr ? std::string(t.model_name) : std::string());
  } catch (...) {
    // Out of memory: the topology is not recorded.
  }
}

MOEPROF_EXPORT void moeprof_set_placement(int32_t layer, uint32_t num_slots, const int32_t* slot_expert,
                                          const int32_t* slot_rank) {
  if (!agent::recording() || (num_slots != 0 && (slot_expert == nullptr || slot_rank == nullptr))) return;
  try {
    std::vector<wire::PlacementSlot> slots(num_slots);
    for (uint32_t i = 0; i < num_slots; ++i) slots[i] = {slot_expert[i], slot_rank[i]};
    Agent::instance().set_placement(layer, slots);
  } catch (...) {
    // Out of memory: the placement is not recorded.
  }
}

MOEPROF_EXPORT void moeprof_step_begin(int64_t step) { agent::record_step(true, step, kSource); }

MOEPROF_EXPORT void moeprof_step_end(int64_t step) { agent::record_step(false, step, kSource); }

MOEPROF_EXPORT void moeprof_expert_counts(int32_t layer, uint32_t num_experts, const uint32_t* counts) {
  if (counts == nullptr || num_experts == 0) return;
  agent::record_expert_counts(agent::kRingExpertCounts, layer, num_experts, counts, kSource);
}

MOEPROF_EXPORT void moeprof_expert_drops(int32_t layer, uint32_t num_experts, const uint32_t* dropped) {
  if (dropped == nullptr || num_experts == 0) return;
  agent::record_expert_counts(agent::kRingExpertDrops, layer, num_experts, dropped, kSource);
}

MOEPROF_EXPORT int moeprof_routing_wanted(void) { return agent::routing_wanted() ? 1 : 0; }

MOEPROF_EXPORT void moeprof_router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens,
                                             uint32_t top_k, const int32_t* expert_ids,
                                             const float* gate_weights) {
  if (expert_ids == nullptr || num_tokens == 0 || top_k == 0) return;
  agent::record_router_decisions(layer, token_offset, num_tokens, top_k, expert_ids, gate_weights, kSource);
}

MOEPROF_EXPORT moeprof_span moeprof_all_to_all_begin(int32_t layer, moeprof_phase phase) {
  const moeprof_span span = make_span(kAllToAllSpan, layer, phase_of(phase));
  if (span.opaque[1] != 0) ++t_api_all_to_alls;
  return span;
}

MOEPROF_EXPORT moeprof_span moeprof_source_all_to_all_begin(moeprof_source source, int32_t layer, moeprof_phase phase) {
  wire::Source s;
  if (t_api_all_to_alls > 0 || !adapter_source(source, &s)) return moeprof_span{};
  return make_span(kAllToAllSpan, layer, phase_of(phase), s);
}

MOEPROF_EXPORT void moeprof_all_to_all_end(moeprof_span span, const moeprof_peer_bytes* bytes) {
  int64_t start;
  int32_t layer;
  uint8_t phase;
  if (!open_span(span, kAllToAllSpan, &start, &layer, &phase)) return;
  const wire::Source source = span_source(span);
  if (source == kSource && t_api_all_to_alls > 0) --t_api_all_to_alls;
  if (!agent::recording()) return;
  moeprof_peer_bytes b{sizeof(moeprof_peer_bytes), 0, nullptr, nullptr, nullptr};
  agent::PeerBytesView view;
  if (read_versioned(bytes, &b, offsetof(moeprof_peer_bytes, num_peers) + sizeof b.num_peers))
    view = {b.num_peers, b.peers, b.send_bytes, b.recv_bytes};
  agent::record_all_to_all(start, layer, static_cast<wire::Phase>(phase), view, source);
}

MOEPROF_EXPORT moeprof_span moeprof_compute_begin(int32_t layer, moeprof_compute_kind kind) {
  return make_span(kComputeSpan, layer, compute_kind_of(kind));
}

MOEPROF_EXPORT void moeprof_compute_end(moeprof_span span) {
  int64_t start;
  int32_t layer;
  uint8_t kind;
  if (!agent::recording() || !open_span(span, kComputeSpan, &start, &layer, &kind)) return;
  agent::record_compute_span(start, layer, static_cast<wire::ComputeKind>(kind), kSource);
}

MOEPROF_EXPORT void moeprof_marker(const char* name) {
  if (name == nullptr) return;
  agent::record_marker(name, strnlen(name, kMaxMarkerName), kSource);
}

MOEPROF_EXPORT int64_t moeprof_now_ns(void) { return agent::monotonic_ns(); }

MOEPROF_EXPORT int64_t moeprof_current_step(void) { return agent::current_step(); }

MOEPROF_EXPORT int moeprof_in_engine_all_to_all(void) { return t_api_all_to_alls > 0 ? 1 : 0; }

MOEPROF_EXPORT void moeprof_record_all_to_all(const moeprof_all_to_all_event* event) {
  moeprof_all_to_all_event e;
  wire::Source source;
  if (!read_event(event, &e) || !adapter_source(e.source, &source)) return;
  moeprof_peer_bytes b{sizeof(moeprof_peer_bytes), 0, nullptr, nullptr, nullptr};
  if (e.bytes != nullptr &&
      !read_versioned(e.bytes, &b, offsetof(moeprof_peer_bytes, num_peers) + sizeof b.num_peers))
    return;
  try {
    thread_local std::vector<wire::PeerBytes> peers;
    thread_local wire::Bytes encoded;
    peers.resize(b.num_peers);
    for (uint32_t i = 0; i < b.num_peers; ++i)
      peers[i] = {b.peers != nullptr ? b.peers[i] : static_cast<int32_t>(i),
                  b.send_bytes != nullptr ? b.send_bytes[i] : 0, b.recv_bytes != nullptr ? b.recv_bytes[i] : 0};
    encoded.clear();
    wire::encode_peer_bytes(peers, encoded);
    wire::AllToAll r{};
    r.tag = static_cast<uint8_t>(wire::RecordType::kAllToAll);
    r.start_ns = e.start_ns;
    r.end_ns = std::max(e.start_ns, e.end_ns);
    r.step = step_of(e.step);
    r.layer = e.layer;
    r.tid = tid_of(e.tid);
    r.phase = phase_of(e.phase);
    r.source = static_cast<uint8_t>(source);
    r.var_size = static_cast<uint32_t>(encoded.size());
    agent::record_wire(source, bytes_of(r), {encoded});
  } catch (...) {
    // Out of memory for the peer list: the event is not recorded.
  }
}

MOEPROF_EXPORT void moeprof_record_compute(const moeprof_compute_event* event) {
  moeprof_compute_event e;
  wire::Source source;
  if (!read_event(event, &e) || !adapter_source(e.source, &source)) return;
  const wire::ByteSpan name = text(e.name, MOEPROF_MAX_NAME_BYTES);
  wire::ComputeSpan r{};
  r.tag = static_cast<uint8_t>(wire::RecordType::kComputeSpan);
  r.start_ns = e.start_ns;
  r.end_ns = std::max(e.start_ns, e.end_ns);
  r.step = step_of(e.step);
  r.layer = e.layer;
  r.tid = tid_of(e.tid);
  r.kind = compute_kind_of(e.kind);
  r.source = static_cast<uint8_t>(source);
  r.var_size = static_cast<uint32_t>(name.size());
  agent::record_wire(source, bytes_of(r), {name});
}

MOEPROF_EXPORT void moeprof_record_range(const moeprof_range* range) {
  moeprof_range e;
  wire::Source source;
  if (!read_event(range, &e) || !adapter_source(e.source, &source)) return;
  const wire::ByteSpan domain = text(e.domain, MOEPROF_MAX_NAME_BYTES);
  const wire::ByteSpan name = text(e.name, MOEPROF_MAX_NAME_BYTES);
  const wire::ByteSpan payload = text(e.payload, MOEPROF_MAX_PAYLOAD_BYTES);
  wire::Range r{};
  r.tag = static_cast<uint8_t>(wire::RecordType::kRange);
  r.kind = static_cast<uint8_t>(e.kind >= MOEPROF_RANGE_PUSH_POP && e.kind <= MOEPROF_RANGE_CATEGORY_NAME
                                    ? e.kind
                                    : MOEPROF_RANGE_PUSH_POP);
  r.start_ns = e.start_ns;
  const bool instant = r.kind == MOEPROF_RANGE_MARK || r.kind == MOEPROF_RANGE_CATEGORY_NAME;
  r.end_ns = instant ? e.start_ns : std::max(e.start_ns, e.end_ns);
  r.step = step_of(e.step);
  r.tid = tid_of(e.tid);
  r.source = static_cast<uint8_t>(source);
  r.category = e.category;
  r.color = e.color;
  r.domain_size = static_cast<uint16_t>(domain.size());
  r.name_size = static_cast<uint16_t>(name.size());
  r.var_size = static_cast<uint32_t>(domain.size() + name.size() + payload.size());
  agent::record_wire(source, bytes_of(r), {domain, name, payload});
}

MOEPROF_EXPORT void moeprof_record_gpu_kernel(const moeprof_gpu_kernel* kernel) {
  moeprof_gpu_kernel e{};
  // GPU kernels always come from CUPTI; the struct has no source field to check.
  if (!agent::recording() || !read_versioned(kernel, &e, offsetof(moeprof_gpu_kernel, end_ns) + sizeof e.end_ns))
    return;
  const wire::ByteSpan name = text(e.name, MOEPROF_MAX_NAME_BYTES);
  wire::GpuKernel r{};
  r.tag = static_cast<uint8_t>(wire::RecordType::kGpuKernel);
  r.start_ns = e.start_ns;
  r.end_ns = std::max(e.start_ns, e.end_ns);
  r.step = step_of(e.step);
  r.launch_ns = e.launch_ns;
  r.launch_tid = e.launch_tid;
  r.device = e.device;
  r.stream = e.stream;
  r.correlation_id = e.correlation_id;
  r.layer = e.layer;
  r.compute_kind = e.compute_kind < 0 ? wire::kNoComputeKind : static_cast<int8_t>(compute_kind_of(e.compute_kind));
  for (int i = 0; i < 3; ++i) {
    r.grid[i] = e.grid[i];
    r.block[i] = e.block[i];
  }
  r.var_size = static_cast<uint32_t>(name.size());
  agent::record_wire(wire::Source::kCupti, bytes_of(r), {name});
}

MOEPROF_EXPORT void moeprof_source_expert_counts(moeprof_source source, int32_t layer, uint32_t num_experts,
                                                 const uint32_t* counts) {
  wire::Source s;
  if (counts == nullptr || num_experts == 0 || !adapter_source(source, &s)) return;
  agent::record_expert_counts(agent::kRingExpertCounts, layer, num_experts, counts, s);
}

MOEPROF_EXPORT void moeprof_source_router_decisions(moeprof_source source, int32_t layer, uint32_t token_offset,
                                                    uint32_t num_tokens, uint32_t top_k, const int32_t* expert_ids,
                                                    const float* gate_weights) {
  wire::Source s;
  if (expert_ids == nullptr || num_tokens == 0 || top_k == 0 || !adapter_source(source, &s)) return;
  agent::record_router_decisions(layer, token_offset, num_tokens, top_k, expert_ids, gate_weights, s);
}

MOEPROF_EXPORT void moeprof_count_drops(moeprof_source source, uint64_t count) {
  wire::Source s;
  if (count == 0 || !agent::recording() || !adapter_source(source, &s)) return;
  agent::g_drops.add(s, wire::DropReason::kAdapterFull, count);
}

MOEPROF_EXPORT void moeprof_get_stats(moeprof_stats* stats) {
  if (stats == nullptr) return;
  try {
    Agent::instance().get_stats(stats);
  } catch (...) {
    // Leaves the caller's struct as it was.
  }
}

}  // extern "C"
