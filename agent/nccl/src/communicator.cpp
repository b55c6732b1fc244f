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

constexpr size_t kPayloadBytes = 1024;  // fits every field at its longest

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
  JsonObject prefix(payload_prefix_, sizeof payload_prefix_);
  prefix.hex_text("comm", info.hash);
  if (info.name[0] != '\0') prefix.text("comm_name", info.name);
  prefix.integer("rank", info.rank).integer("nranks", info.nranks).boolean("world_ranks", info.world_ranks);
  payload_prefix_size_ = prefix.members_size();  // fits: the name is at most 63 bytes, 378 escaped
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
  TaskState* t = tasks_.acquire();
  if (t == nullptr) {
    host_.drops(1);
    if (group != nullptr) ++group->lost;
    return nullptr;
  }
  t->kind = event.kind;
  t->stopped = false;
  t->channels = static_cast<uint8_t>(std::min<uint32_t>(event.channels, 255));
  t->peer = event.peer;
  t->count = event.count;
  t->bytes = bytes_of(event.count, event.datatype);
  copy_text(t->datatype, event.datatype);
  t->group = group;
  t->next = nullptr;
  if (group != nullptr) {  // a P2P event
    t->send = is_send(event.func);
    if (group->first == nullptr) {
      group->start_ns = host_.now_ns();
      group->step = host_.current_step();
      group->tid = host_.thread_id();
      group->in_engine = host_.in_engine_all_to_all();
      group->first = t;
    } else {
      group->last->next = t;
    }
    group->last = t;
    ++group->held;
  } else {
    t->send = false;
    t->start_ns = host_.now_ns();
    t->step = host_.current_step();
    t->tid = host_.thread_id();
    t->in_engine = host_.in_engine_all_to_all();
    t->seq = event.seq;
    copy_text(t->func, event.func);
    copy_text(t->algo, event.algo);
    copy_text(t->proto, event.proto);
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
  t->stopped = true;
  if (t->kind == EventKind::kCollective) {
    t->end_ns = host_.now_ns();
    record_collective(*t);
    release(t);
  }
  // A P2P event waits for its group to stop: only the whole group says what it was, and its
  // end is the group's.
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
        for (const TaskState* t = g->first; t != nullptr; t = t->next) record_p2p_range(*g, *t, now);
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
  json.members(payload_prefix_ + 1, payload_prefix_size_)  // after its "{"
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

void Communicator::record_p2p_range(const GroupState& g, const TaskState& t, int64_t end_ns) noexcept {
  char buffer[kPayloadBytes];
  JsonObject json(buffer, sizeof buffer);
  json.members(payload_prefix_ + 1, payload_prefix_size_)  // after its "{"
      .integer("peer", t.peer)
      .unsigned_integer("bytes", t.bytes)
      .unsigned_integer("count", t.count)
      .text("datatype", t.datatype);
  RangeRecord r;
  r.start_ns = g.start_ns;
  r.end_ns = end_ns;
  r.step = g.step;
  r.tid = g.tid;
  r.name = t.send ? "Send" : "Recv";
  r.payload = json.finish();
  host_.range(r);
}

void Communicator::record_group_all_to_all(const GroupState& g, int64_t now) noexcept {
  if (g.in_engine) return;
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
  r.start_ns = g.start_ns;
  r.end_ns = now;
  r.step = g.step;
  r.tid = g.tid;
  for (const TaskState* t = g.first; t != nullptr; t = t->next) {
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
