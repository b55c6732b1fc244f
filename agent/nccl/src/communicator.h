// The event model of one NCCL communicator (one profiler context): fixed pools of group and
// task (collective / P2P) objects, and how finished events become records.
//
// NCCL issues a kernel plan's events on one thread, strictly nested: the Group event starts,
// every Coll and P2p event of the plan starts, then they all stop, then the Group stops
// (hostStreamPlanTask in NCCL 2.27-2.29; the thread is the one that called ncclGroupEnd or the
// collective, a CUDA host-callback thread for graph replays, or NCCL's thread of a
// non-blocking group). Different plans of one communicator may run on different threads at
// once, so the pools are lock-free; one group's state is only touched by its thread.
//
// What becomes a record:
//   - A collective is a range when it stops (name: NCCL's function name), except a collective
//     whose function is AlltoAll: an all-to-all record with count x datatype size bytes to and
//     from every rank of the communicator.
//   - The P2P events of one group are an all-to-all when its sends go to at least two
//     different peers and its receives come from at least two (the rank itself counts as a
//     peer: ncclAlltoAll, which NCCL 2.28 issues as one send and one receive per rank, and a
//     grouped ncclSend/ncclRecv loop both qualify; a pipeline's send/receive pair, a gather's
//     root or a scatter's root do not). Its bytes per peer add up count x datatype size of
//     the sends and receives with that peer. Otherwise each P2P event is a range of its own.
//   - Times of P2P events: NCCL starts a plan's P2P events back to back and stops them back to
//     back, the Group right after the last. The model reads the clock at the group's first
//     P2P start and when the group stops, and every P2P event of the group spans that
//     interval (start = first start, end = last stop, to within the plugin's own calls): two
//     clock reads per group instead of two per event. Step, thread and "inside the engine's
//     own all-to-all" are likewise those of the first P2P start.
//   - An all-to-all that started while the engine reported its own (Host::in_engine_all_to_all)
//     is not recorded: the engine's record already holds those bytes.
// Peers are communicator ranks; they are world ranks when the communicator spans the job
// (CommunicatorInfo::world_ranks, also in every range's payload).
//
// Loss is counted, never silent: a start that finds its pool empty gets a null handle and
// counts one drop; a P2P event whose group was dropped counts one; a group that lost any P2P
// event records none of them (each held one counts).
#pragma once

#include <atomic>
#include <cstdint>

#include "config.h"
#include "event.h"
#include "fixed_pool.h"
#include "host.h"

namespace moeprof::nccl {

struct CommunicatorInfo {
  uint64_t hash = 0;
  int32_t rank = 0;
  int32_t nranks = 0;
  int32_t nnodes = 0;
  bool world_ranks = false;  // ranks are world ranks (the communicator spans the job)
  char name[64] = {};        // NCCL's commName, cut
};

class Communicator;

enum class HandleKind : uint8_t { kFree, kGroup, kTask };

// First member of every object a handle points to: stopEvent gets nothing but the handle.
struct HandleHeader {
  std::atomic<HandleKind> kind{HandleKind::kFree};
  Communicator* owner = nullptr;
};

struct GroupState;

struct TaskState {
  HandleHeader header;
  EventKind kind = EventKind::kOther;  // kCollective or kP2p
  bool send = false;                   // P2p: a send (else a receive)
  bool stopped = false;
  bool in_engine = false;              // collective (a P2P event's is its group's)
  uint8_t channels = 0;
  int32_t peer = -1;  // P2p: peer; collective: root
  uint32_t tid = 0;
  GroupState* group = nullptr;
  TaskState* next = nullptr;  // the group's P2P events, in start order
  uint64_t count = 0;
  uint64_t bytes = 0;
  uint64_t seq = 0;
  int64_t start_ns = 0;  // collective (a P2P event's times are its group's)
  int64_t end_ns = 0;
  int64_t step = 0;
  char func[24] = {};
  char datatype[24] = {};
  char algo[16] = {};
  char proto[16] = {};
};

struct GroupState {
  HandleHeader header;
  TaskState* first = nullptr;
  TaskState* last = nullptr;
  uint32_t held = 0;  // P2P events in the list
  uint32_t lost = 0;  // P2P events of this group that found no object
  // Taken at the first P2P start: shared by all the group's P2P events.
  bool in_engine = false;
  uint32_t tid = 0;
  int64_t start_ns = 0;
  int64_t step = 0;
};

// Per-peer sums of one all-to-all, nranks entries each.
struct Scratch {
  int32_t* peers = nullptr;
  uint64_t* send = nullptr;
  uint64_t* recv = nullptr;
  uint8_t* seen = nullptr;
};

class Communicator {
 public:
  // nullptr when the pools' memory cannot be had.
  static Communicator* create(const CommunicatorInfo& info, const PoolSizes& pools, Host& host) noexcept;
  // Events still open count as dropped.
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  // The handle NCCL keeps for the event: nullptr when it is not one moeprof records, or when
  // it was dropped (and counted).
  void* start(const Event& event) noexcept;
  // Ends the event of a handle start() returned (the handle knows its communicator).
  static void stop(void* handle) noexcept;

  const CommunicatorInfo& info() const noexcept { return info_; }
  uint32_t groups_in_use() const noexcept { return groups_.in_use(); }
  uint32_t tasks_in_use() const noexcept { return tasks_.in_use(); }

 private:
  Communicator(const CommunicatorInfo& info, const PoolSizes& pools, Host& host) noexcept;
  bool allocated(const PoolSizes& pools) const noexcept;

  void* start_group() noexcept;
  void* start_task(const Event& event, GroupState* group) noexcept;
  GroupState* live_group(void* handle) noexcept;
  void stop_task(TaskState* task) noexcept;
  void stop_group(GroupState* group) noexcept;

  void record_collective(const TaskState& task) noexcept;
  void record_p2p_range(const GroupState& group, const TaskState& task, int64_t end_ns) noexcept;
  void record_group_all_to_all(const GroupState& group, int64_t now) noexcept;
  void release_tasks(GroupState* group) noexcept;
  void release(TaskState* task) noexcept;

  CommunicatorInfo info_;
  // The payload members every range of this communicator starts with (comm, rank, ...),
  // written once: "{" and then payload_prefix_size_ bytes.
  char payload_prefix_[512] = {};
  size_t payload_prefix_size_ = 0;
  Host& host_;
  FixedPool<GroupState> groups_;
  FixedPool<TaskState> tasks_;
  FixedPool<Scratch> scratch_;
  std::unique_ptr<int32_t[]> peer_ids_;
  std::unique_ptr<uint64_t[]> peer_bytes_;
  std::unique_ptr<uint8_t[]> peer_seen_;
};

}  // namespace moeprof::nccl
