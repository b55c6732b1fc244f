// libmoeprof_mpi.so: the MPI capture source. Preloaded by `moeprof run` next to the agent, it
// interposes the all-to-all calls of any MPI program (PMPI profiling interface) and reports
// each through the agent's adapter entry point: start and end, and the bytes sent to and
// received from every peer (counts times type sizes), peers numbered in MPI_COMM_WORLD.
// Non-blocking all-to-alls end at the MPI_Wait*/MPI_Test* that completes them. Inside an
// all-to-all the engine reports itself the agent hands out a null span and nothing is
// recorded twice (moeprof.h).
//
// Every MPI symbol used here is a weak reference: the library is preloaded into every process
// of the run (mpirun, shells, tools) and must load where no libmpi is; there its wrappers are
// simply never called. Built against Open MPI's ABI (handles are pointers).
#include <mpi.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "moeprof/moeprof.h"

#pragma weak PMPI_Alltoall
#pragma weak PMPI_Alltoallv
#pragma weak PMPI_Alltoallw
#pragma weak PMPI_Ialltoall
#pragma weak PMPI_Ialltoallv
#pragma weak PMPI_Wait
#pragma weak PMPI_Waitall
#pragma weak PMPI_Waitany
#pragma weak PMPI_Waitsome
#pragma weak PMPI_Test
#pragma weak PMPI_Testall
#pragma weak PMPI_Testany
#pragma weak PMPI_Testsome
#pragma weak PMPI_Request_free
#pragma weak PMPI_Type_size
#pragma weak PMPI_Comm_size
#pragma weak PMPI_Comm_remote_size
#pragma weak PMPI_Comm_test_inter
#pragma weak PMPI_Comm_group
#pragma weak PMPI_Comm_remote_group
#pragma weak PMPI_Group_translate_ranks
#pragma weak PMPI_Group_free
#pragma weak PMPI_Comm_create_keyval
#pragma weak PMPI_Comm_get_attr
#pragma weak PMPI_Comm_set_attr
#pragma weak ompi_mpi_comm_world

namespace {

// The world rank of each peer of a communicator (the remote group's, for an
// inter-communicator), cached on the communicator as an MPI attribute, so it is built once
// and freed with the communicator.
struct PeerRanks {
  std::vector<int32_t> world;
};

int no_copy(MPI_Comm, int, void*, void*, void*, int* flag) {
  *flag = 0;
  return MPI_SUCCESS;
}

int delete_peer_ranks(MPI_Comm, int, void* value, void*) {
  delete static_cast<PeerRanks*>(value);
  return MPI_SUCCESS;
}

const PeerRanks* peer_ranks(MPI_Comm comm) {
  static int keyval = [] {
    int k = MPI_KEYVAL_INVALID;
    PMPI_Comm_create_keyval(no_copy, delete_peer_ranks, &k, nullptr);
    return k;
  }();
  if (keyval == MPI_KEYVAL_INVALID) return nullptr;
  void* value = nullptr;
  int found = 0;
  if (PMPI_Comm_get_attr(comm, keyval, &value, &found) == MPI_SUCCESS && found) return static_cast<PeerRanks*>(value);
  int inter = 0, size = 0;
  PMPI_Comm_test_inter(comm, &inter);
  MPI_Group group, world;
  if ((inter ? PMPI_Comm_remote_size(comm, &size) : PMPI_Comm_size(comm, &size)) != MPI_SUCCESS ||
      (inter ? PMPI_Comm_remote_group(comm, &group) : PMPI_Comm_group(comm, &group)) != MPI_SUCCESS)
    return nullptr;
  PMPI_Comm_group(MPI_COMM_WORLD, &world);
  auto* ranks = new PeerRanks;
  std::vector<int> local(static_cast<size_t>(size)), global(static_cast<size_t>(size), MPI_UNDEFINED);
  for (int i = 0; i < size; ++i) local[static_cast<size_t>(i)] = i;
  PMPI_Group_translate_ranks(group, size, local.data(), world, global.data());
  PMPI_Group_free(&group);
  PMPI_Group_free(&world);
  ranks->world.assign(global.begin(), global.end());
  PMPI_Comm_set_attr(comm, keyval, ranks);
  return ranks;
}

uint64_t type_size(MPI_Datatype type) {
  int size = 0;
  return PMPI_Type_size(type, &size) == MPI_SUCCESS && size > 0 ? static_cast<uint64_t>(size) : 0;
}

// One all-to-all's bytes per peer, in world ranks.
struct PeerBytes {
  const PeerRanks* ranks = nullptr;
  std::vector<uint64_t> send, recv;
};

// Fills `out` for `comm`: send(peer) and recv(peer) give the bytes of one peer.
template <class Send, class Recv>
bool peer_bytes(MPI_Comm comm, Send send, Recv recv, PeerBytes* out) {
  out->ranks = peer_ranks(comm);
  if (out->ranks == nullptr) return false;
  const size_t n = out->ranks->world.size();
  out->send.resize(n);
  out->recv.resize(n);
  for (size_t p = 0; p < n; ++p) {
    out->send[p] = send(static_cast<int>(p));
    out->recv[p] = recv(static_cast<int>(p));
  }
  return true;
}

void end(moeprof_span span, const PeerBytes& bytes) {
  const moeprof_peer_bytes b{sizeof b, static_cast<uint32_t>(bytes.send.size()), bytes.ranks->world.data(), bytes.send.data(),
                             bytes.recv.data()};
  moeprof_all_to_all_end(span, &b);
}

bool open(const moeprof_span& span) { return span.opaque[1] != 0; }

// The bytes of a blocking all-to-all, reused by the thread's next one so that recording it
// allocates nothing once the vectors have grown to the communicator's size.
PeerBytes& scratch_bytes() {
  thread_local PeerBytes bytes;
  return bytes;
}

moeprof_span begin() { return moeprof_source_all_to_all_begin(MOEPROF_SOURCE_MPI, -1, MOEPROF_PHASE_OTHER); }

// Bytes of the three call shapes; MPI_IN_PLACE sends what it receives.
bool alltoall_bytes(const void* sendbuf, int sendcount, MPI_Datatype sendtype, int recvcount, MPI_Datatype recvtype,
                    MPI_Comm comm, PeerBytes* out) {
  const uint64_t recv = static_cast<uint64_t>(recvcount) * type_size(recvtype);
  const uint64_t send = sendbuf == MPI_IN_PLACE ? recv : static_cast<uint64_t>(sendcount) * type_size(sendtype);
  return peer_bytes(comm, [&](int) { return send; }, [&](int) { return recv; }, out);
}

bool alltoallv_bytes(const void* sendbuf, const int sendcounts[], MPI_Datatype sendtype, const int recvcounts[],
                     MPI_Datatype recvtype, MPI_Comm comm, PeerBytes* out) {
  const uint64_t recv_size = type_size(recvtype);
  const bool in_place = sendbuf == MPI_IN_PLACE;
  const uint64_t send_size = in_place ? recv_size : type_size(sendtype);
  const int* send_counts = in_place ? recvcounts : sendcounts;
  return peer_bytes(
      comm, [&](int p) { return static_cast<uint64_t>(send_counts[p]) * send_size; },
      [&](int p) { return static_cast<uint64_t>(recvcounts[p]) * recv_size; }, out);
}

// Non-blocking all-to-alls in flight, by request. Only touched when one is started or a
// completion call finds requests in flight (`in_flight` says so without the lock).
struct Pending {
  MPI_Request request;
  moeprof_span span;
  PeerBytes bytes;
};
std::mutex g_pending_lock;
std::vector<Pending> g_pending;
std::atomic<int> g_in_flight{0};

void start_pending(MPI_Request request, moeprof_span span, PeerBytes bytes) {
  const std::lock_guard lock(g_pending_lock);
  g_pending.push_back({request, span, std::move(bytes)});
  g_in_flight.store(static_cast<int>(g_pending.size()), std::memory_order_release);
}

// Ends (or, for a freed request, forgets) the pending all-to-alls among `requests`.
void complete(const MPI_Request* requests, int count, bool record = true) {
  const std::lock_guard lock(g_pending_lock);
  for (int i = 0; i < count; ++i)
    for (size_t p = 0; p < g_pending.size(); ++p)
      if (g_pending[p].request == requests[i]) {
        if (record) end(g_pending[p].span, g_pending[p].bytes);
        g_pending[p] = std::move(g_pending.back());
        g_pending.pop_back();
        break;
      }
  g_in_flight.store(static_cast<int>(g_pending.size()), std::memory_order_release);
}

bool any_in_flight() { return g_in_flight.load(std::memory_order_acquire) > 0; }

// The requests a completion call was given, before MPI overwrites them with MPI_REQUEST_NULL.
thread_local std::vector<MPI_Request> t_requests;
const MPI_Request* remember(const MPI_Request* requests, int count) {
  t_requests.assign(requests, requests + count);
  return t_requests.data();
}

// The requests completed among those remembered: listed by index, or all of them.
void complete_indices(const MPI_Request* remembered, const int* indices, int count) {
  std::vector<MPI_Request> done;
  for (int i = 0; i < count; ++i) done.push_back(remembered[indices[i]]);
  complete(done.data(), static_cast<int>(done.size()));
}

}  // namespace

extern "C" {
// Exported (exports.map): these take the place of libmpi's for the whole process.

int MPI_Alltoall(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, int recvcount,
                 MPI_Datatype recvtype, MPI_Comm comm) {
  const moeprof_span span = begin();
  const int rc = PMPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
  PeerBytes& bytes = scratch_bytes();
  if (open(span) && rc == MPI_SUCCESS && alltoall_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype, comm, &bytes))
    end(span, bytes);
  return rc;
}

int MPI_Alltoallv(const void* sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype, void* recvbuf,
                  const int recvcounts[], const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm) {
  const moeprof_span span = begin();
  const int rc = PMPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm);
  PeerBytes& bytes = scratch_bytes();
  if (open(span) && rc == MPI_SUCCESS && alltoallv_bytes(sendbuf, sendcounts, sendtype, recvcounts, recvtype, comm, &bytes))
    end(span, bytes);
  return rc;
}

int MPI_Alltoallw(const void* sendbuf, const int sendcounts[], const int sdispls[], const MPI_Datatype sendtypes[],
                  void* recvbuf, const int recvcounts[], const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm) {
  const moeprof_span span = begin();
  const int rc = PMPI_Alltoallw(sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm);
  PeerBytes& bytes = scratch_bytes();
  const bool in_place = sendbuf == MPI_IN_PLACE;
  if (open(span) && rc == MPI_SUCCESS &&
      peer_bytes(
          comm,
          [&](int p) {
            return in_place ? static_cast<uint64_t>(recvcounts[p]) * type_size(recvtypes[p])
                            : static_cast<uint64_t>(sendcounts[p]) * type_size(sendtypes[p]);
          },
          [&](int p) { return static_cast<uint64_t>(recvcounts[p]) * type_size(recvtypes[p]); }, &bytes))
    end(span, bytes);
  return rc;
}

int MPI_Ialltoall(const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, int recvcount,
                  MPI_Datatype recvtype, MPI_Comm comm, MPI_Request* request) {
  const moeprof_span span = begin();
  const int rc = PMPI_Ialltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request);
  PeerBytes bytes;
  if (open(span) && rc == MPI_SUCCESS && alltoall_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype, comm, &bytes))
    start_pending(*request, span, std::move(bytes));
  return rc;
}

int MPI_Ialltoallv(const void* sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype, void* recvbuf,
                   const int recvcounts[], const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, MPI_Request* request) {
  const moeprof_span span = begin();
  const int rc = PMPI_Ialltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request);
  PeerBytes bytes;
  if (open(span) && rc == MPI_SUCCESS && alltoallv_bytes(sendbuf, sendcounts, sendtype, recvcounts, recvtype, comm, &bytes))
    start_pending(*request, span, std::move(bytes));
  return rc;
}

int MPI_Wait(MPI_Request* request, MPI_Status* status) {
  if (!any_in_flight()) return PMPI_Wait(request, status);
  const MPI_Request r = *request;
  const int rc = PMPI_Wait(request, status);
  if (rc == MPI_SUCCESS) complete(&r, 1);
  return rc;
}

int MPI_Waitall(int count, MPI_Request requests[], MPI_Status statuses[]) {
  if (!any_in_flight()) return PMPI_Waitall(count, requests, statuses);
  const MPI_Request* r = remember(requests, count);
  const int rc = PMPI_Waitall(count, requests, statuses);
  if (rc == MPI_SUCCESS) complete(r, count);
  return rc;
}

int MPI_Waitany(int count, MPI_Request requests[], int* index, MPI_Status* status) {
  if (!any_in_flight()) return PMPI_Waitany(count, requests, index, status);
  const MPI_Request* r = remember(requests, count);
  const int rc = PMPI_Waitany(count, requests, index, status);
  if (rc == MPI_SUCCESS && *index != MPI_UNDEFINED) complete_indices(r, index, 1);
  return rc;
}

int MPI_Waitsome(int incount, MPI_Request requests[], int* outcount, int indices[], MPI_Status statuses[]) {
  if (!any_in_flight()) return PMPI_Waitsome(incount, requests, outcount, indices, statuses);
  const MPI_Request* r = remember(requests, incount);
  const int rc = PMPI_Waitsome(incount, requests, outcount, indices, statuses);
  if (rc == MPI_SUCCESS && *outcount != MPI_UNDEFINED) complete_indices(r, indices, *outcount);
  return rc;
}

int MPI_Test(MPI_Request* request, int* flag, MPI_Status* status) {
  if (!any_in_flight()) return PMPI_Test(request, flag, status);
  const MPI_Request r = *request;
  const int rc = PMPI_Test(request, flag, status);
  if (rc == MPI_SUCCESS && *flag) complete(&r, 1);
  return rc;
}

int MPI_Testall(int count, MPI_Request requests[], int* flag, MPI_Status statuses[]) {
  if (!any_in_flight()) return PMPI_Testall(count, requests, flag, statuses);
  const MPI_Request* r = remember(requests, count);
  const int rc = PMPI_Testall(count, requests, flag, statuses);
  if (rc == MPI_SUCCESS && *flag) complete(r, count);
  return rc;
}

int MPI_Testany(int count, MPI_Request requests[], int* index, int* flag, MPI_Status* status) {
  if (!any_in_flight()) return PMPI_Testany(count, requests, index, flag, status);
  const MPI_Request* r = remember(requests, count);
  const int rc = PMPI_Testany(count, requests, index, flag, status);
  if (rc == MPI_SUCCESS && *flag && *index != MPI_UNDEFINED) complete_indices(r, index, 1);
  return rc;
}

int MPI_Testsome(int incount, MPI_Request requests[], int* outcount, int indices[], MPI_Status statuses[]) {
  if (!any_in_flight()) return PMPI_Testsome(incount, requests, outcount, indices, statuses);
  const MPI_Request* r = remember(requests, incount);
  const int rc = PMPI_Testsome(incount, requests, outcount, indices, statuses);
  if (rc == MPI_SUCCESS && *outcount != MPI_UNDEFINED) complete_indices(r, indices, *outcount);
  return rc;
}

int MPI_Request_free(MPI_Request* request) {
  if (any_in_flight()) complete(request, 1, /*record=*/false);  // never completed in our sight
  return PMPI_Request_free(request);
}

}  // extern "C"
