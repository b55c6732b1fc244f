#include "capture.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "moeprof/moeprof_nvtx.h"
#include "range_stack.h"

namespace moeprof::nvtx {
namespace {

constexpr size_t kJsonBytes = MOEPROF_MAX_PAYLOAD_BYTES + 1;
constexpr uint32_t kMaxPeers = 1u << 16;

// Per thread: where payloads are written while an event is handled.
struct Scratch {
  char begin_json[kJsonBytes];
  char end_json[kJsonBytes];
  char merged_json[kJsonBytes];
};
thread_local Scratch t_scratch;

// A thread's push/pop stack, tied to the capture that made it (tests make several).
struct ThreadStack {
  uint64_t owner = 0;
  std::unique_ptr<RangeStack> stack;
};
thread_local ThreadStack t_stack;
std::atomic<uint64_t> g_next_capture_id{1};
thread_local std::vector<uint64_t> t_peer_bytes;

bool is_nccl_all_to_all(std::string_view name) {
  // NCCL names the range after its API function (ncclAlltoAll; RCCL: ncclAllToAll).
  constexpr std::string_view kName = "ncclalltoall";
  if (name.size() != kName.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (static_cast<char>(name[i] | 0x20) != kName[i]) return false;
  return true;
}

std::string_view cut_name(std::string_view name) { return name.substr(0, MOEPROF_MAX_NAME_BYTES); }

void write_scalar(const ScalarPayload& p, JsonWriter& out) {
  switch (p.type) {
    case NVTX_PAYLOAD_TYPE_UNSIGNED_INT64: out.unsigned_number(p.bits); break;
    case NVTX_PAYLOAD_TYPE_INT64: out.signed_number(static_cast<int64_t>(p.bits)); break;
    case NVTX_PAYLOAD_TYPE_DOUBLE: {
      double d;
      std::memcpy(&d, &p.bits, sizeof d);
      out.real(d);
      break;
    }
    case NVTX_PAYLOAD_TYPE_UNSIGNED_INT32: out.unsigned_number(static_cast<uint32_t>(p.bits)); break;
    case NVTX_PAYLOAD_TYPE_INT32: out.signed_number(static_cast<int32_t>(static_cast<uint32_t>(p.bits))); break;
    case NVTX_PAYLOAD_TYPE_FLOAT: {
      const uint32_t bits = static_cast<uint32_t>(p.bits);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      out.real(f);
      break;
    }
    default: out.null(); break;
  }
}

}  // namespace

struct NvtxCapture::Opening {
  OpenRangeHeader header;
  OpenRangeParts parts;
};

NvtxCapture::NvtxCapture(const CaptureSettings& settings, AgentSink& sink)
    : settings_(settings), sink_(sink), start_end_(settings.open_ranges, settings.open_range_bytes),
      id_(g_next_capture_id.fetch_add(1, std::memory_order_relaxed)) {}

RangeStack& NvtxCapture::thread_stack() {
  if (t_stack.owner != id_ || !t_stack.stack) {
    t_stack.stack = std::make_unique<RangeStack>(settings_.stack_bytes);
    t_stack.owner = id_;
  }
  return *t_stack.stack;
}

std::string_view NvtxCapture::payload_json(const Domain* domain, const EventView& event, char* buffer,
                                           size_t capacity) {
  if (event.payloads == nullptr && event.scalar.type == 0) return {};
  JsonWriter out(buffer, capacity);
  if (event.payloads != nullptr)
    decoder_.write(domain, event.payloads, event.payload_count, out);
  else
    write_scalar(event.scalar, out);
  if (!out.overflowed()) return out.text();
  // Too large for the trace: say so rather than keep a cut document.
  JsonWriter note(buffer, capacity);
  note.string("payload larger than " + std::to_string(MOEPROF_MAX_PAYLOAD_BYTES) + " bytes of JSON");
  return note.text();
}

void NvtxCapture::learn_nccl_communicator(const Domain* domain, const nvtxPayloadData_t* payloads, size_t count) {
  // ncclCommInitRank and its siblings: the communicator's id, size and our rank.
  for (size_t i = 0; payloads != nullptr && i < count; ++i) {
    const auto id = decoder_.integer_entry(domain, payloads[i], "NCCL communicator ID");
    const auto ranks = decoder_.integer_entry(domain, payloads[i], "No. of ranks");
    const auto rank = decoder_.integer_entry(domain, payloads[i], "Rank");
    if (id && ranks && rank && *ranks > 0 && *ranks <= kMaxPeers && *rank < *ranks)
      nccl_communicators_.remember(*id, CommunicatorShape{static_cast<uint32_t>(*ranks), static_cast<uint32_t>(*rank)});
  }
}

void NvtxCapture::open(const Domain* domain, const EventView& event, int32_t kind, Opening* o) {
  OpenRangeHeader& h = o->header;
  h.start_ns = sink_.now_ns();
  h.step = sink_.current_step();
  // Push/pop ranges end on their own thread, which the agent fills in (tid 0); a start/end
  // range names its opener, as another thread may end it.
  h.tid = kind == MOEPROF_RANGE_START_END ? sink_.thread_id() : 0;
  h.domain = domain;
  h.category = event.category;
  h.color = event.color;
  h.kind = kind;
  o->parts.name = cut_name(event.name);

  if (domain->role == DomainRole::kMoeprof && event.payloads != nullptr &&
      event.payloads[0].schemaId == MOEPROF_NVTX_SCHEMA_ALL_TO_ALL &&
      event.payloads[0].size >= sizeof(moeprof_nvtx_all_to_all) && event.payloads[0].payload != nullptr) {
    moeprof_nvtx_all_to_all a;
    std::memcpy(&a, event.payloads[0].payload, sizeof a);
    // The engine's own moeprof calls already report this transfer.
    if (sink_.in_engine_all_to_all()) return;
    h.meaning = RangeMeaning::kMoeAllToAll;
    h.layer = a.layer;
    h.phase = a.phase;
    h.num_peers = std::min(a.num_peers, kMaxPeers);
    o->parts.peers = a.peers;
    o->parts.send_bytes = a.send_bytes;
    o->parts.recv_bytes = a.recv_bytes;
    return;
  }
  if (domain->role == DomainRole::kNccl) {
    learn_nccl_communicator(domain, event.payloads, event.payload_count);
    if (settings_.nccl_all_to_all && event.payloads != nullptr && is_nccl_all_to_all(event.name) &&
        !sink_.in_engine_all_to_all()) {
      const auto id = decoder_.integer_entry(domain, event.payloads[0], "NCCL communicator ID");
      const auto bytes = decoder_.integer_entry(domain, event.payloads[0], "Message size [bytes]");
      if (id && bytes) {
        h.meaning = RangeMeaning::kNcclAllToAll;
        h.nccl_communicator = *id;
        h.nccl_bytes_per_peer = *bytes;
      }
    }
  }
  o->parts.payload = payload_json(domain, event, t_scratch.begin_json, sizeof t_scratch.begin_json);
}

void NvtxCapture::record_range(const OpenRangeHeader& h, int64_t end_ns, const char* name, const char* payload) {
  moeprof_range r{};
  r.struct_size = sizeof r;
  r.source = MOEPROF_SOURCE_NVTX;
  r.start_ns = h.start_ns;
  r.end_ns = end_ns;
  r.step = h.step;
  r.tid = h.tid;
  r.kind = h.kind;
  r.category = h.category;
  r.color = h.color;
  r.domain = h.domain->name.empty() ? nullptr : h.domain->name.c_str();
  r.name = name;
  r.payload = payload != nullptr && payload[0] != '\0' ? payload : nullptr;
  sink_.range(r);
}

void NvtxCapture::close(const unsigned char* entry, const nvtxPayloadData_t* end_payloads, size_t end_count) {
  const OpenRangeView v = read_open_range(entry);
  const OpenRangeHeader& h = v.header;
  const int64_t end_ns = sink_.now_ns();
  if (h.domain->role == DomainRole::kNccl) learn_nccl_communicator(h.domain, end_payloads, end_count);

  moeprof_all_to_all_event a{};
  a.struct_size = sizeof a;
  a.source = MOEPROF_SOURCE_NVTX;
  a.start_ns = h.start_ns;
  a.end_ns = end_ns;
  a.step = h.step;
  a.layer = h.layer;
  a.phase = h.phase;
  a.tid = h.tid;
  moeprof_peer_bytes bytes{};
  bytes.struct_size = sizeof bytes;
  if (h.meaning == RangeMeaning::kMoeAllToAll) {
    bytes.num_peers = h.num_peers;
    bytes.peers = v.parts.peers;
    bytes.send_bytes = v.parts.send_bytes;
    bytes.recv_bytes = v.parts.recv_bytes;
    a.bytes = h.num_peers > 0 ? &bytes : nullptr;
    sink_.all_to_all(a);
    return;
  }
  if (h.meaning == RangeMeaning::kNcclAllToAll) {
    // ncclAlltoAll sends `bytes` to every rank of its communicator (itself included) and
    // receives as much from each; without the communicator's size the peers stay unknown.
    a.layer = -1;
    a.phase = MOEPROF_PHASE_OTHER;
    CommunicatorShape shape;
    if (nccl_communicators_.find(h.nccl_communicator, &shape)) {
      t_peer_bytes.assign(shape.ranks, h.nccl_bytes_per_peer);
      bytes.num_peers = shape.ranks;
      bytes.send_bytes = t_peer_bytes.data();
      bytes.recv_bytes = t_peer_bytes.data();
      a.bytes = &bytes;
    }
    sink_.all_to_all(a);
  }

  // The range, with what its closing call added to its payload.
  const char* payload = v.parts.payload.data();
  if (end_payloads != nullptr && end_count > 0) {
    EventView closing;
    closing.payloads = end_payloads;
    closing.payload_count = end_count;
    const std::string_view end_json =
        payload_json(h.domain, closing, t_scratch.end_json, sizeof t_scratch.end_json);
    if (v.parts.payload.empty()) {
      payload = end_json.data();
    } else if (!end_json.empty()) {
      // Both documents are complete JSON values: an array of the opening's and the closing's.
      const size_t need = v.parts.payload.size() + end_json.size() + 3;
      if (need < sizeof t_scratch.merged_json) {
        char* p = t_scratch.merged_json;
        *p++ = '[';
        std::memcpy(p, v.parts.payload.data(), v.parts.payload.size());
        p += v.parts.payload.size();
        *p++ = ',';
        std::memcpy(p, end_json.data(), end_json.size());
        p += end_json.size();
        *p++ = ']';
        *p = '\0';
        payload = t_scratch.merged_json;
      }
    }
  }
  record_range(h, end_ns, v.parts.name.data(), payload);
}

bool NvtxCapture::moe_mark(const Domain* domain, const EventView& event) {
  if (domain->role != DomainRole::kMoeprof || event.payloads == nullptr) return false;
  bool handled = false;
  for (size_t i = 0; i < event.payload_count; ++i) {
    const nvtxPayloadData_t& d = event.payloads[i];
    if (d.schemaId == MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS) {
      handled = true;
      moeprof_nvtx_expert_counts c{};
      if (d.payload == nullptr || d.size < sizeof c) {
        sink_.drops(1);
        continue;
      }
      std::memcpy(&c, d.payload, sizeof c);
      if (c.counts == nullptr || c.num_experts == 0) {
        sink_.drops(1);
        continue;
      }
      sink_.expert_counts(c.layer, c.num_experts, c.counts);
    } else if (d.schemaId == MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS) {
      handled = true;
      moeprof_nvtx_router_decisions r{};
      if (d.payload == nullptr || d.size < sizeof r) {
        sink_.drops(1);
        continue;
      }
      std::memcpy(&r, d.payload, sizeof r);
      if (r.expert_ids == nullptr || static_cast<uint64_t>(r.num_tokens) * r.top_k != r.num_choices) {
        sink_.drops(1);
        continue;
      }
      sink_.router_decisions(r.layer, r.token_offset, r.num_tokens, r.top_k, r.expert_ids, r.gate_weights);
    }
  }
  return handled;
}

void NvtxCapture::mark(const Domain* domain, const EventView& event) {
  if (moe_mark(domain, event)) return;
  if (domain->role == DomainRole::kNccl) learn_nccl_communicator(domain, event.payloads, event.payload_count);
  OpenRangeHeader h;
  h.start_ns = sink_.now_ns();
  h.step = sink_.current_step();
  h.tid = 0;  // the calling thread
  h.domain = domain;
  h.category = event.category;
  h.color = event.color;
  h.kind = MOEPROF_RANGE_MARK;
  // The name may not be NUL-terminated where it was cut: copy it next to the payload.
  const std::string_view payload = payload_json(domain, event, t_scratch.begin_json, sizeof t_scratch.begin_json);
  const std::string_view name = cut_name(event.name);
  std::memcpy(t_scratch.merged_json, name.data(), name.size());
  t_scratch.merged_json[name.size()] = '\0';
  record_range(h, h.start_ns, t_scratch.merged_json, payload.empty() ? nullptr : payload.data());
}

int NvtxCapture::push(const Domain* domain, const EventView& event) {
  Opening o;
  open(domain, event, MOEPROF_RANGE_PUSH_POP, &o);
  int level = 0;
  unsigned char* storage = thread_stack().push(domain, open_range_size(o.header, o.parts), &level);
  if (storage == nullptr || !write_open_range(storage, open_range_size(o.header, o.parts), o.header, o.parts))
    sink_.drops(1);
  return level;
}

int NvtxCapture::pop(const Domain* domain, const nvtxPayloadData_t* end_payloads, size_t end_count) {
  const RangeStack::Popped p = thread_stack().pop(domain);
  if (!p.found) return -1;  // NVTX's "no range open" answer
  if (p.entry != nullptr) close(p.entry, end_payloads, end_count);
  return p.level;
}

uint64_t NvtxCapture::start(const Domain* domain, const EventView& event) {
  Opening o;
  open(domain, event, MOEPROF_RANGE_START_END, &o);
  unsigned char* storage = nullptr;
  const uint64_t id = start_end_.claim(&storage);
  if (id == 0) {
    sink_.drops(1);
    return 0;
  }
  if (!write_open_range(storage, start_end_.slot_bytes(), o.header, o.parts)) {
    start_end_.release(id);
    sink_.drops(1);
    return 0;
  }
  return id;
}

void NvtxCapture::end(uint64_t id, const nvtxPayloadData_t* end_payloads, size_t end_count) {
  const unsigned char* entry = start_end_.close(id);
  if (entry == nullptr) return;
  close(entry, end_payloads, end_count);
  start_end_.release(id);
}

void NvtxCapture::name_category(const Domain* domain, uint32_t category, std::string_view name) {
  // Recorded as it happens: the collector and exports resolve a range's category number
  // to the last name its domain gave it.
  OpenRangeHeader h;
  h.start_ns = sink_.now_ns();
  h.step = sink_.current_step();
  h.tid = 0;  // the calling thread
  h.domain = domain;
  h.category = category;
  h.kind = MOEPROF_RANGE_CATEGORY_NAME;
  const std::string_view cut = cut_name(name);
  std::memcpy(t_scratch.merged_json, cut.data(), cut.size());
  t_scratch.merged_json[cut.size()] = '\0';
  record_range(h, h.start_ns, t_scratch.merged_json, nullptr);
}

}  // namespace moeprof::nvtx
