#include "event.h"

namespace moeprof::nccl {
namespace {

// The fields of a Coll/P2p descriptor shared by both versions; `group` is where that
// version keeps the Group event.
template <class Coll>
Event collective(const Coll& c, void* group) {
  Event e;
  e.kind = EventKind::kCollective;
  e.group = group;
  e.func = c.func;
  e.datatype = c.datatype;
  e.count = c.count;
  e.peer = c.root;
  e.seq = c.seq_number;
  e.algo = c.algo;
  e.proto = c.proto;
  e.channels = c.n_channels;
  return e;
}

template <class P2p>
Event p2p(const P2p& p, void* group) {
  Event e;
  e.kind = EventKind::kP2p;
  e.group = group;
  e.func = p.func;
  e.datatype = p.datatype;
  e.count = p.count;
  e.peer = p.peer;
  e.channels = p.n_channels;
  return e;
}

Event group() {
  Event e;
  e.kind = EventKind::kGroup;
  return e;
}

}  // namespace

Event decode(const moeprof_nccl_event_v5* d) noexcept {
  if (d == nullptr) return {};
  switch (d->type) {
    case MOEPROF_NCCL_PROFILE_GROUP: return group();
    // v5 points parentObj at the CollApi/P2pApi event; the plan's Group is parent_group.
    case MOEPROF_NCCL_PROFILE_COLL: return collective(d->coll, d->coll.parent_group);
    case MOEPROF_NCCL_PROFILE_P2P: return p2p(d->p2p, d->p2p.parent_group);
    default: return {};
  }
}

Event decode(const moeprof_nccl_event_v4* d) noexcept {
  if (d == nullptr) return {};
  switch (d->type) {
    case MOEPROF_NCCL_PROFILE_GROUP: return group();
    case MOEPROF_NCCL_PROFILE_COLL: return collective(d->coll, d->parent_obj);
    case MOEPROF_NCCL_PROFILE_P2P: return p2p(d->p2p, d->parent_obj);
    default: return {};
  }
}

}  // namespace moeprof::nccl
