#include "communicator.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "json_object.h"
#include "nccl_names.h"

namespace moeprof::nccl {
namespace {

// Copies NCCL's string into a fixed field, cut to fit (no pointer into NCCL is kept).
template <size_t N>
void copy_text(char (&out)[N], const char* in) {
  if (in == nullptr) {
    out[0] = '\0';
    return;
  }
  const size_t n = strnlen(in, N - 1);
  std::memcpy(out, in, n);
  out[n] = '\0';
}

uint64_t bytes_of(uint64_t count, const char* datatype) {
  uint64_t bytes = 0;
  return __builtin_mul_overflow(count, datatype_size(datatype), &bytes) ? UINT64_MAX : bytes;
}

// The payload fields every range of a communicator starts with.
JsonObject& communicator_fields(JsonObject& json, const CommunicatorInfo& info) {
  json.hex_text("comm", info.hash);
  if (info.name[0] != '\0') json.text("comm_name", info.name);
  return json.integer("rank", info.rank).integer("nranks", info.nranks).boolean("world_ranks", info.world_ranks);
}

constexpr size_t kPayloadBytes = 512;  // fits every field at its longest

}  // namespace

Communicator::Communicator(const CommunicatorInfo& info, const PoolSizes& pools, Host& host) noexcept
    : info_(info),
      host_(host),
      groups_(pools.groups),
      tasks_(pools.tasks),
      scratch_(pools.scratch),
      peer_ids_(new (std::nothrow) int32_t[size_t{pools.scratch} * static_cast<uint32_t>(info.nranks)]()),
      peer_bytes_(new (std::nothrow) uint64_t[size_t{pools.scratch} * static_cast<uint32_t>(info.nranks) * 2]()),
      peer_seen_(new (std::nothrow) uint8_t[size_t{pools.scratch} * static_cast<uint32_t>(info.nranks)]()) {
  const size_t n = static_cast<uint32_t>(info.nranks);
  if (!allocated(pools)) return;
  size_t i = 0;
  for (Scratch& s : scratch_) {
    s.peers = &peer_ids_[i * n];
    s.send = &peer_bytes_[2 * i * n];
    s.recv = &peer_bytes_[(2 * i + 1) * n];
    s.seen = &peer_seen_[i * n];
    ++i;
  }
  for (GroupState& g : groups_) g.header.owner = this;
  for (TaskState& t : tasks_) t.header.owner = this;
}

bool Communicator::allocated(const PoolSizes& pools) const noexcept {
  return groups_.allocated(pools.groups) && tasks_.allocated(pools.tasks) && scratch_.allocated(pools.scratch) &&
         peer_ids_ != nullptr && peer_bytes_ != nullptr && peer_seen_ != nullptr;
}

Communicator* Communicator::create(const CommunicatorInfo& info, const PoolSizes& pools, Host& host) noexcept {
  if (info.nranks <= 0) return nullptr;
  auto* c = new (std::nothrow) Communicator(info, pools, host);
  if (c != nullptr && !c->allocated(pools)) {
    delete c;
    return nullptr;
  }
  return c;
}

Communicator::~Communicator() {
  // NCCL finalizes a communicator after its last event; anything still open is lost.
  uint64_t open = 0;
  for (TaskState& t : tasks_)
    if (t.header.kind.load(std::memory_order_relaxed) == HandleKind::kTask) ++open;
  if (open > 0) host_.drops(open);
}

void* Communicator::start(const Event& event) noexcept {
  switch (event.kind) {
    case EventKind::kGroup: return start_group();
    case EventKind::kCollective: return start_task(event, nullptr);
    case EventKind::kP2p: {
      GroupState* group = live_group(event.group);
      if (group == nullptr) {  // its group was dropped: it cannot be classified
        host_.drops(1);
        return nullptr;
      }
      return start_task(event, group);
    }
    case EventKind::kOther: break;
  }
  return nullptr;
}

void* Communicator::start_group() noexcept {
  GroupState* g = groups_.acquire();
  if (g == nullptr) {
    host_.drops(1);
    return nullptr;
  }
  g->first = g->last = nullptr;
  g->held = g->lost = 0;
  g->header.kind.store(HandleKind::kGroup, std::memory_order_relaxed);
  return g;
}

GroupState* Communicator::live_group(void* handle) noexcept {
  if (handle == nullptr) return nullptr;
  auto* header = static_cast<HandleHeader*>(handle);
  if (header->owner != this || header->kind.load(std::memory_order_relaxed) != HandleKind::kGroup) return nullptr;
  return static_cast<GroupState*>(handle);
}

void* Communicator::start_task(const Event& event, GroupState* group) noexcept {
  const int64_t now = host_.now_ns();
  TaskState* t = tasks_.acquire();
  if (t == nullptr) {
    host_.drops(1);
    if (group != nullptr) ++group->lost;
    return nullptr;
  }
  t->kind = event.kind;
  t->send = event.kind == EventKind::kP2p && is_send(event.func);
  t->stopped = false;
  t->start_ns = now;
  t->end_ns = now;
  t->step = host_.current_step();
  t->tid = host_.thread_id();
  t->in_engine = host_.in_engine_all_to_all();
  t->channels = static_cast<uint8_t>(std::min<uint32_t>(event.channels, 255));
  t->peer = event.peer;
  t->count = event.count;
  t->bytes = bytes_of(event.count, event.datatype);
  t->seq = event.seq;
  copy_text(t->func, event.func);
  copy_text(t->datatype, event.datatype);
  copy_text(t->algo, event.algo);
  copy_text(t->proto, event.proto);
  t->group = group;
  t->next = nullptr;
  if (group != nullptr) {
    (group->last != nullptr ? group->last->next : group->first) = t;
    group->last = t;
    ++group->held;
  }
  t->header.kind.store(HandleKind::kTask, std::memory_order_relaxed);
  return t;
}

void Communicator::stop(void* handle) noexcept {
  if (handle == nullptr) return;
  auto* header = static_cast<HandleHeader*>(handle);
  Communicator* owner = header->owner;
  if (owner == nullptr) return;
  switch (header->kind.load(std::memory_order_relaxed)) {
    case HandleKind::kGroup: owner->stop_group(static_cast<GroupState*>(handle)); break;
    case HandleKind::kTask: owner->stop_task(static_cast<TaskState*>(handle)); break;
    case HandleKind::kFree: break;  // stopped twice: nothing left to do
  }
}

void Communicator::stop_task(TaskState* t) noexcept {
  if (t->stopped) return;
  t->end_ns = host_.now_ns();
  t->stopped = true;
  if (t->kind == EventKind::kCollective) {
    record_collective(*t);
    release(t);
  }
  // A P2P event waits for its group to stop: only the whole group says what it was.
}

void Communicator::stop_group(GroupState* g) noexcept {
  const int64_t now = host_.now_ns();
  if (g->held > 0) {
    if (g->lost > 0) {
      host_.drops(g->held);
    } else {
      int32_t send_peer = -1, recv_peer = -1;
      bool sends_to_several = false, receives_from_several = false;
      for (const TaskState* t = g->first; t != nullptr; t = t->next) {
        int32_t& first = t->send ? send_peer : recv_peer;
        bool& several = t->send ? sends_to_several : receives_from_several;
        if (first < 0)
          first = t->peer;
        else if (t->peer != first)
          several = true;
      }
      if (sends_to_several && receives_from_several) {
        record_group_all_to_all(*g, now);
      } else {
        for (const TaskState* t = g->first; t != nullptr; t = t->next) record_p2p_range(*t, t->stopped ? t->end_ns : now);
      }
    }
  }
  release_tasks(g);
  g->header.kind.store(HandleKind::kFree, std::memory_order_relaxed);
  groups_.release(g);
}

void Communicator::release_tasks(GroupState* g) noexcept {
  for (TaskState* t = g->first; t != nullptr;) {
    TaskState* next = t->next;
    release(t);
    t = next;
  }
  g->first = g->last = nullptr;
  g->held = 0;
}

void Communicator::release(TaskState* t) noexcept {
  t->header.kind.store(HandleKind::kFree, std::memory_order_relaxed);
  tasks_.release(t);
}

void Communicator::record_collective(const TaskState& t) noexcept {
  if (is_all_to_all(t.func)) {
    if (t.in_engine) return;
    Scratch* s = scratch_.acquire();
    if (s == nullptr) {
      host_.drops(1);
      return;
    }
    const auto n = static_cast<uint32_t>(info_.nranks);
    for (uint32_t p = 0; p < n; ++p) {
      s->peers[p] = static_cast<int32_t>(p);
      s->send[p] = s->recv[p] = t.bytes;
    }
    AllToAllRecord r;
    r.start_ns = t.start_ns;
    r.end_ns = t.end_ns;
    r.step = t.step;
    r.tid = t.tid;
    r.num_peers = n;
    r.peers = s->peers;
    r.send_bytes = s->send;
    r.recv_bytes = s->recv;
    host_.all_to_all(r);
    scratch_.release(s);
    return;
  }
  char buffer[kPayloadBytes];
  JsonObject json(buffer, sizeof buffer);
  communicator_fields(json, info_)
      .unsigned_integer("bytes", t.bytes)
      .unsigned_integer("count", t.count)
      .text("datatype", t.datatype)
      .integer("root", t.peer)
      .unsigned_integer("seq", t.seq)
      .text("algo", t.algo)
      .text("proto", t.proto)
      .unsigned_integer("channels", t.channels);
  RangeRecord r;
  r.start_ns = t.start_ns;
  r.end_ns = t.end_ns;
  r.step = t.step;
  r.tid = t.tid;
  r.name = t.func;
  r.payload = json.finish();
  host_.range(r);
}

void Communicator::record_p2p_range(const TaskState& t, int64_t end_ns) noexcept {
  char buffer[kPayloadBytes];
  JsonObject json(buffer, sizeof buffer);
  communicator_fields(json, info_)
      .integer("peer", t.peer)
      .unsigned_integer("bytes", t.bytes)
      .unsigned_integer("count", t.count)
      .text("datatype", t.datatype);
  RangeRecord r;
  r.start_ns = t.start_ns;
  r.end_ns = end_ns;
  r.step = t.step;
  r.tid = t.tid;
  r.name = t.func;
  r.payload = json.finish();
  host_.range(r);
}

void Communicator::record_group_all_to_all(const GroupState& g, int64_t now) noexcept {
  const TaskState& first = *g.first;
  if (first.in_engine) return;
  Scratch* s = scratch_.acquire();
  if (s == nullptr) {
    host_.drops(g.held);
    return;
  }
  const auto n = static_cast<uint32_t>(info_.nranks);
  std::memset(s->send, 0, n * sizeof *s->send);
  std::memset(s->recv, 0, n * sizeof *s->recv);
  std::memset(s->seen, 0, n * sizeof *s->seen);
  AllToAllRecord r;
  r.start_ns = first.start_ns;
  r.end_ns = first.start_ns;
  r.step = first.step;
  r.tid = first.tid;
  for (const TaskState* t = g.first; t != nullptr; t = t->next) {
    r.start_ns = std::min(r.start_ns, t->start_ns);
    r.end_ns = std::max(r.end_ns, t->stopped ? t->end_ns : now);
    if (t->peer < 0 || static_cast<uint32_t>(t->peer) >= n) continue;  // not a rank of this communicator
    const auto p = static_cast<uint32_t>(t->peer);
    uint64_t& sum = t->send ? s->send[p] : s->recv[p];
    sum = sum > UINT64_MAX - t->bytes ? UINT64_MAX : sum + t->bytes;
    s->seen[p] = 1;
  }
  // Compact to the peers seen, in rank order (entry j <= p is free to overwrite).
  uint32_t j = 0;
  for (uint32_t p = 0; p < n; ++p) {
    if (!s->seen[p]) continue;
    s->peers[j] = static_cast<int32_t>(p);
    s->send[j] = s->send[p];
    s->recv[j] = s->recv[p];
    ++j;
  }
  r.num_peers = j;
  r.peers = s->peers;
  r.send_bytes = s->send;
  r.recv_bytes = s->recv;
  host_.all_to_all(r);
  scratch_.release(s);
}

}  // namespace moeprof::nccl
