// MPI_Alltoallv microbenchmark: replays a recorded byte matrix, the baseline of the engine's
// dispatch/combine bandwidth (issue 4: engine / microbenchmark >= 0.9).
//
//   mpirun -np R moeprof_alltoallv_bench A2A.csv [--reps N] [--no-barrier]
//
// A2A.csv has the columns rank,step,layer,phase,peer,send_bytes,recv_bytes[,...]: the
// engine's ground truth (moe-engine --ground-truth-dir, the ranks' a2a.rank<R>.csv under one
// header) or `moeprof export DB --what a2a`. Every (step, layer, phase) is one exchange; each
// rank replays its rows of every exchange, in order, with MPI_Alltoallv of MPI_BYTE, N times
// (after one untimed warm-up replay). Each exchange starts after a barrier and is timed on
// every rank; the figure is the bytes sent by all ranks / the longest time any rank spent in
// the exchanges, the same definition as `moe-engine --timing` (which has no barriers: what
// the engine loses to ranks arriving late is part of its figure). --no-barrier drops the
// barriers (back-to-back exchanges: what late arrival alone costs).
#include <mpi.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

struct Exchange {
  std::vector<int> send, recv;  // bytes per peer
};

using Key = std::tuple<int64_t, int64_t, int>;  // step, layer, phase (0 dispatch, 1 combine)

bool parse_row(const std::string& line, int64_t* rank, Key* key, int64_t* peer, int64_t* send, int64_t* recv) {
  std::vector<std::string> f;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) f.push_back(cell);
  if (f.size() < 7 || f[0].empty() || !std::isdigit(static_cast<unsigned char>(f[0][0]))) return false;
  int phase = f[3] == "dispatch" ? 0 : f[3] == "combine" ? 1 : -1;
  if (phase < 0) return false;
  *rank = std::stoll(f[0]);
  *key = {std::stoll(f[1]), std::stoll(f[2]), phase};
  *peer = std::stoll(f[4]);
  *send = std::stoll(f[5]);
  *recv = std::stoll(f[6]);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  std::string path;
  int reps = 20;
  bool barrier = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--no-barrier")
      barrier = false;
    else
      path = a;
  }
  if (path.empty()) {
    if (rank == 0) std::fprintf(stderr, "usage: mpirun -np R %s A2A.csv [--reps N] [--no-barrier]\n", argv[0]);
    MPI_Finalize();
    return 2;
  }

  // This rank's rows; every rank knows the same exchange keys (the union over all ranks).
  std::map<Key, Exchange> mine;
  std::vector<Key> all_keys;
  int64_t bad_peer = 0;
  {
    std::ifstream in(path);
    if (!in) {
      if (rank == 0) std::fprintf(stderr, "alltoallv_bench: cannot read %s\n", path.c_str());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (std::string line; std::getline(in, line);) {
      int64_t r = 0, peer = 0, send = 0, recv = 0;
      Key key;
      if (!parse_row(line, &r, &key, &peer, &send, &recv)) continue;
      all_keys.push_back(key);
      if (r != rank) continue;
      if (peer < 0 || peer >= ranks) {
        ++bad_peer;
        continue;
      }
      Exchange& e = mine[key];
      e.send.resize(size_t(ranks));
      e.recv.resize(size_t(ranks));
      e.send[size_t(peer)] += static_cast<int>(send);
      e.recv[size_t(peer)] += static_cast<int>(recv);
    }
  }
  std::sort(all_keys.begin(), all_keys.end());
  all_keys.erase(std::unique(all_keys.begin(), all_keys.end()), all_keys.end());
  if (bad_peer) {
    std::fprintf(stderr, "alltoallv_bench: rank %d: %lld rows name a peer outside 0..%d (recorded on more ranks?)\n",
                 rank, static_cast<long long>(bad_peer), ranks - 1);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }

  // Counts, displacements and buffers of every exchange, laid out before timing.
  struct Plan {
    std::vector<int> sc, sd, rc, rd;
  };
  std::vector<Plan> plans;
  size_t max_send = 0, max_recv = 0;
  uint64_t bytes_per_replay = 0;  // this rank's
  for (const Key& k : all_keys) {
    Plan p;
    p.sc.assign(size_t(ranks), 0);
    p.rc.assign(size_t(ranks), 0);
    if (auto it = mine.find(k); it != mine.end()) {
      p.sc = it->second.send;
      p.rc = it->second.recv;
    }
    int s = 0, r = 0;
    for (int q = 0; q < ranks; ++q) {
      p.sd.push_back(s);
      p.rd.push_back(r);
      s += p.sc[size_t(q)];
      r += p.rc[size_t(q)];
    }
    bytes_per_replay += uint64_t(s);
    max_send = std::max(max_send, size_t(s));
    max_recv = std::max(max_recv, size_t(r));
    plans.push_back(std::move(p));
  }
  std::vector<char> send(std::max<size_t>(max_send, 1), 1), recv(std::max<size_t>(max_recv, 1), 0);

  double seconds = 0.0;
  for (int rep = -1; rep < reps; ++rep) {
    for (const Plan& p : plans) {
      if (barrier) MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      MPI_Alltoallv(send.data(), p.sc.data(), p.sd.data(), MPI_BYTE, recv.data(), p.rc.data(), p.rd.data(), MPI_BYTE,
                    MPI_COMM_WORLD);
      if (rep >= 0) seconds += MPI_Wtime() - t0;
    }
  }
  uint64_t total_bytes = 0;
  double longest = 0.0;
  const uint64_t mine_bytes = bytes_per_replay * uint64_t(reps);
  MPI_Reduce(&mine_bytes, &total_bytes, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Reduce(&seconds, &longest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0)
    std::printf("alltoallv_bench: ranks=%d exchanges=%zu reps=%d barrier=%d bytes=%llu seconds=%.6f GBps=%.4f\n",
                ranks, plans.size(), reps, barrier ? 1 : 0, static_cast<unsigned long long>(total_bytes), longest,
                longest > 0 ? double(total_bytes) / longest / 1e9 : 0.0);
  MPI_Finalize();
  return 0;
}
