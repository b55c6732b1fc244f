// Builds wire streams the way an agent does (frames of records, sequence numbers from 0), so
// tests can feed the collector exactly the bytes they want, valid or broken.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moeprof/store/rows.h"
#include "moeprof/wire/codec.h"

namespace moeprof::testing {

inline wire::ByteSpan span_of(const std::string& s) {
  return wire::ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

class StreamBuilder {
 public:
  // Records go into the open frame (one is opened on demand); end_frame() seals it.
  template <class R>
  StreamBuilder& add(R record, wire::ByteSpan var = {}) {
    if (!open_) {
      writer_.begin(sequence_++);
      open_ = true;
    }
    writer_.append(record, var);
    return *this;
  }
  StreamBuilder& end_frame() {
    if (open_) {
      const wire::ByteSpan frame = writer_.finish();
      bytes_.insert(bytes_.end(), frame.begin(), frame.end());
      open_ = false;
    }
    return *this;
  }
  // The whole stream so far (seals an open frame).
  const wire::Bytes& bytes() {
    end_frame();
    return bytes_;
  }

  // `command` is argv joined by '\0', as the agent sends it.
  StreamBuilder& hello(uint32_t pid, int32_t rank_hint, const std::string& host, const std::string& command,
                       int64_t monotonic_ns = 1000, int64_t realtime_ns = 1'700'000'000'000'000'000) {
    wire::Hello h{};
    h.tag = tag(wire::RecordType::kHello);
    h.pid = pid;
    h.ppid = 1;
    h.rank_hint = rank_hint;
    h.realtime_ns = realtime_ns;
    h.monotonic_ns = monotonic_ns;
    h.agent_version = 1;
    h.host_size = static_cast<uint16_t>(host.size());
    return add(h, span_of(host + command));
  }
  StreamBuilder& topology(int32_t rank, int32_t local_rank, int32_t world, const store::ModelShape& model) {
    wire::Topology t{};
    t.tag = tag(wire::RecordType::kTopology);
    t.rank = rank;
    t.local_rank = local_rank;
    t.world_size = world;
    t.ep_size = world;
    t.num_layers = model.num_layers;
    t.num_experts = model.num_experts;
    t.top_k = model.top_k;
    t.num_shared_experts = model.num_shared_experts;
    t.hidden_size = model.hidden_size;
    return add(t, span_of(model.name));
  }
  StreamBuilder& placement(int32_t layer, const std::vector<wire::PlacementSlot>& slots) {
    wire::Placement p{};
    p.tag = tag(wire::RecordType::kPlacement);
    p.layer = layer;
    wire::Bytes blob;
    wire::encode_placement(slots, blob);
    return add(p, blob);
  }
  StreamBuilder& step_mark(bool begin, int64_t step, int64_t ts_ns) {
    return add(wire::StepMark{tag(begin ? wire::RecordType::kStepBegin : wire::RecordType::kStepEnd), ts_ns, step});
  }
  // kExpertCounts, or kExpertDrops for tokens dropped over capacity (same layout).
  StreamBuilder& counts(int64_t step, int32_t layer, const std::vector<uint32_t>& counts, int64_t ts_ns,
                        wire::RecordType type = wire::RecordType::kExpertCounts) {
    wire::ExpertCounts c{};
    c.tag = tag(type);
    c.ts_ns = ts_ns;
    c.step = step;
    c.layer = layer;
    wire::Bytes blob;
    wire::encode_counts(counts, blob);
    return add(c, blob);
  }
  StreamBuilder& routing(int64_t step, int32_t layer, uint32_t token_offset, uint32_t top_k,
                         const std::vector<int32_t>& ids, const std::vector<float>& weights, int64_t ts_ns) {
    wire::RouterDecisions d{};
    d.tag = tag(wire::RecordType::kRouterDecisions);
    d.ts_ns = ts_ns;
    d.step = step;
    d.layer = layer;
    d.token_offset = token_offset;
    wire::Bytes blob;
    wire::encode_routing(static_cast<uint32_t>(ids.size() / top_k), top_k, ids.data(),
                         weights.empty() ? nullptr : weights.data(), blob);
    return add(d, blob);
  }
  StreamBuilder& all_to_all(int64_t step, int32_t layer, wire::Phase phase, int64_t start_ns, int64_t end_ns,
                            const std::vector<wire::PeerBytes>& peers, uint32_t tid = 1) {
    wire::AllToAll a{};
    a.tag = tag(wire::RecordType::kAllToAll);
    a.start_ns = start_ns;
    a.end_ns = end_ns;
    a.step = step;
    a.layer = layer;
    a.tid = tid;
    a.phase = static_cast<uint8_t>(phase);
    a.source = static_cast<uint8_t>(wire::Source::kApi);
    wire::Bytes blob;
    wire::encode_peer_bytes(peers, blob);
    return add(a, blob);
  }
  StreamBuilder& compute(int64_t step, int32_t layer, wire::ComputeKind kind, int64_t start_ns, int64_t end_ns,
                         const std::string& name, uint32_t tid = 1) {
    wire::ComputeSpan s{};
    s.tag = tag(wire::RecordType::kComputeSpan);
    s.start_ns = start_ns;
    s.end_ns = end_ns;
    s.step = step;
    s.layer = layer;
    s.tid = tid;
    s.kind = static_cast<uint8_t>(kind);
    s.source = static_cast<uint8_t>(wire::Source::kApi);
    return add(s, span_of(name));
  }
  StreamBuilder& marker(int64_t step, int64_t ts_ns, const std::string& name, uint32_t tid = 1) {
    wire::Marker m{};
    m.tag = tag(wire::RecordType::kMarker);
    m.ts_ns = ts_ns;
    m.step = step;
    m.tid = tid;
    m.source = static_cast<uint8_t>(wire::Source::kApi);
    return add(m, span_of(name));
  }
  StreamBuilder& drops(wire::Source source, wire::DropReason reason, uint64_t count) {
    return add(
        wire::Drops{tag(wire::RecordType::kDrops), static_cast<uint8_t>(source), static_cast<uint8_t>(reason), count});
  }
  StreamBuilder& range(const store::Range& r, uint16_t domain_size_override = 0) {
    wire::Range w{};
    w.tag = tag(wire::RecordType::kRange);
    w.start_ns = r.start_ns;
    w.end_ns = r.end_ns;
    w.step = r.step;
    w.tid = r.tid;
    w.source = static_cast<uint8_t>(r.source);
    w.kind = static_cast<uint8_t>(r.kind);
    w.category = r.category;
    w.color = r.color;
    w.domain_size = domain_size_override != 0 ? domain_size_override : static_cast<uint16_t>(r.domain.size());
    w.name_size = static_cast<uint16_t>(r.name.size());
    return add(w, span_of(r.domain + r.name + r.payload));
  }
  StreamBuilder& gpu_kernel(const store::GpuKernel& k) {
    wire::GpuKernel w{};
    w.tag = tag(wire::RecordType::kGpuKernel);
    w.start_ns = k.start_ns;
    w.end_ns = k.end_ns;
    w.step = k.step;
    w.launch_ns = k.launch_ns;
    w.launch_tid = k.launch_tid;
    w.device = k.device;
    w.stream = k.stream;
    w.correlation_id = k.correlation_id;
    w.layer = k.layer;
    w.compute_kind = static_cast<int8_t>(k.compute_kind);
    for (int i = 0; i < 3; ++i) {
      w.grid[i] = k.grid[i];
      w.block[i] = k.block[i];
    }
    return add(w, span_of(k.name));
  }
  StreamBuilder& recorded(wire::Source source, uint64_t count) {
    return add(wire::Recorded{tag(wire::RecordType::kRecorded), static_cast<uint8_t>(source), count});
  }
  StreamBuilder& goodbye(int64_t ts_ns) { return add(wire::Goodbye{tag(wire::RecordType::kGoodbye), ts_ns}); }

 private:
  static uint8_t tag(wire::RecordType type) { return static_cast<uint8_t>(type); }
  wire::FrameWriter writer_;
  wire::Bytes bytes_;
  uint64_t sequence_ = 0;
  bool open_ = false;
};

}  // namespace moeprof::testing
