// moeprof_api_workload: a small multi-process, multi-threaded program that records through
// the agent's C API what an expert-parallel MoE engine would, with deterministic
// pseudo-random values, and can write the ground truth of what it recorded.
//
// The parent forks --procs children (ranks 0..N-1); each runs --threads threads that, step
// by step, route tokens (gate span, router decisions when wanted, expert counts in one or two
// calls), and for the layers they own run dispatch/combine all-to-alls with per-peer bytes
// and expert compute spans. With --truth DIR the parent writes
//   DIR/expert-load.csv  rank,step,layer,expert,tokens (non-zero, summed, sorted)
//   DIR/a2a.csv          rank,step,layer,phase,peer,send_bytes,recv_bytes (sorted)
//   DIR/counts.json      rows per trace table that the run must produce
// Outside `moeprof run` every API call is a no-op and the program still runs.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "moeprof/moeprof.h"

namespace {

struct Options {
  int procs = 4;
  int threads = 4;
  int steps = 20;
  int layers = 6;
  int experts = 16;
  int top_k = 2;
  int tokens = 64;  // per thread, layer and step
  int hidden = 256;
  std::string truth;
};

// What one rank recorded, summed over its threads (sent to the parent through a pipe).
struct Tally {
  uint64_t steps = 0, expert_count_calls = 0, router_batches = 0, all_to_all = 0, compute_spans = 0, markers = 0,
           placement_slots = 0;
  void add(const Tally& o) {
    steps += o.steps;
    expert_count_calls += o.expert_count_calls;
    router_batches += o.router_batches;
    all_to_all += o.all_to_all;
    compute_spans += o.compute_spans;
    markers += o.markers;
    placement_slots += o.placement_slots;
  }
};

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class Random {
 public:
  explicit Random(std::initializer_list<uint64_t> seeds) {
    for (uint64_t s : seeds) state_ = splitmix(state_ ^ s);
  }
  uint64_t next() { return state_ = splitmix(state_); }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }

 private:
  uint64_t state_ = 0x6D6F6570726F66ull;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "moeprof_api_workload: " << problem
            << "\nusage: moeprof_api_workload [--truth DIR] [--procs N] [--threads N] [--steps N] [--layers N]"
               " [--experts N] [--top-k N] [--tokens N]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage("missing a value after " + arg);
    const std::string value = argv[++i];
    if (arg == "--truth") {
      o.truth = value;
      continue;
    }
    int n = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 100000)
      usage("bad number '" + value + "' for " + arg);
    if (arg == "--procs")
      o.procs = n;
    else if (arg == "--threads")
      o.threads = n;
    else if (arg == "--steps")
      o.steps = n;
    else if (arg == "--layers")
      o.layers = n;
    else if (arg == "--experts")
      o.experts = n;
    else if (arg == "--top-k")
      o.top_k = n;
    else if (arg == "--tokens")
      o.tokens = n;
    else
      usage("unknown option " + arg);
  }
  if (o.top_k > o.experts) usage("--top-k must not exceed --experts");
  return o;
}

// Ground truth of one rank: token counts by (step, layer, expert), all-to-all rows.
struct Truth {
  std::mutex mutex;
  std::map<std::tuple<int, int, int>, uint64_t> tokens;
  std::vector<std::string> a2a;  // "rank,step,layer,phase,peer,send,recv"
};

class Rank {
 public:
  Rank(const Options& o, int rank) : o_(o), rank_(rank) {}

  Tally run() {
    declare_model();
    // Steps are process-wide in the API: the barrier's completion (one thread, between the
    // phases) ends one step and begins the next, while all workers wait.
    int current = -1;
    std::barrier sync(o_.threads, [&]() noexcept {
      if (current >= 0) moeprof_step_end(current);
      ++current;
      if (current < o_.steps) {
        moeprof_step_begin(current);
        ++tally_.steps;
      }
    });
    std::vector<Tally> per_thread(static_cast<size_t>(o_.threads));
    std::vector<std::thread> workers;
    for (int t = 0; t < o_.threads; ++t) {
      workers.emplace_back([&, t] {
        sync.arrive_and_wait();
        for (int step = 0; step < o_.steps; ++step) {
          work(t, step, per_thread[static_cast<size_t>(t)]);
          sync.arrive_and_wait();
        }
      });
    }
    for (auto& w : workers) w.join();
    for (const Tally& t : per_thread) tally_.add(t);
    return tally_;
  }

  Truth& truth() { return truth_; }

 private:
  int home_rank(int expert) const { return expert % o_.procs; }

  void declare_model() {
    moeprof_topology topology{};
    topology.struct_size = sizeof topology;
    topology.rank = rank_;
    topology.local_rank = rank_;
    topology.world_size = o_.procs;
    topology.ep_size = o_.procs;
    topology.num_layers = o_.layers;
    topology.num_experts = o_.experts;
    topology.top_k = o_.top_k;
    topology.num_shared_experts = 1;
    topology.hidden_size = o_.hidden;
    topology.model_name = "api-workload";
    moeprof_set_topology(&topology);
    // Every expert on its home rank, plus a replica of expert 0 on the next rank.
    std::vector<int32_t> slot_expert, slot_rank;
    for (int e = 0; e < o_.experts; ++e) {
      slot_expert.push_back(e);
      slot_rank.push_back(home_rank(e));
    }
    slot_expert.push_back(0);
    slot_rank.push_back((home_rank(0) + 1) % o_.procs);
    for (int layer = 0; layer < o_.layers; ++layer) {
      moeprof_set_placement(layer, static_cast<uint32_t>(slot_expert.size()), slot_expert.data(), slot_rank.data());
      tally_.placement_slots += slot_expert.size();
    }
  }

  void work(int thread, int step, Tally& tally) {
    const moeprof_span attention = moeprof_compute_begin(-1, MOEPROF_COMPUTE_ATTENTION);
    moeprof_compute_end(attention);
    ++tally.compute_spans;
    for (int layer = 0; layer < o_.layers; ++layer) {
      std::vector<uint32_t> counts = route(thread, step, layer, tally);
      if (layer % o_.threads == thread) exchange(step, layer, counts, tally);
    }
    if (thread == 0) {
      moeprof_marker(("step " + std::to_string(step) + " done").c_str());
      ++tally.markers;
    }
  }

  // Gate: top-k distinct experts per token (skewed towards low ids), weights summing to 1.
  std::vector<uint32_t> route(int thread, int step, int layer, Tally& tally) {
    const moeprof_span gate = moeprof_compute_begin(layer, MOEPROF_COMPUTE_GATE);
    Random random{uint64_t(rank_), uint64_t(thread), uint64_t(step), uint64_t(layer)};
    const size_t n = static_cast<size_t>(o_.tokens) * static_cast<size_t>(o_.top_k);
    std::vector<int32_t> ids(n);
    std::vector<float> weights(n);
    for (int token = 0; token < o_.tokens; ++token) {
      float sum = 0;
      for (int k = 0; k < o_.top_k; ++k) {
        const size_t at = static_cast<size_t>(token * o_.top_k + k);
        int32_t expert;
        bool taken;
        do {
          const double u = random.unit();
          expert = static_cast<int32_t>(u * u * o_.experts);
          taken = false;
          for (int j = 0; j < k; ++j) taken |= ids[static_cast<size_t>(token * o_.top_k + j)] == expert;
        } while (taken);
        ids[at] = expert;
        weights[at] = static_cast<float>(0.1 + random.unit());
        sum += weights[at];
      }
      for (int k = 0; k < o_.top_k; ++k) weights[static_cast<size_t>(token * o_.top_k + k)] /= sum;
    }
    moeprof_compute_end(gate);
    ++tally.compute_spans;
    if (moeprof_routing_wanted()) {
      moeprof_router_decisions(layer, static_cast<uint32_t>(thread * o_.tokens), static_cast<uint32_t>(o_.tokens),
                               static_cast<uint32_t>(o_.top_k), ids.data(), weights.data());
      ++tally.router_batches;
    }
    // Counts go out in one call, or in two (first and second half of the tokens) on even
    // threads: the trace must add them up.
    std::vector<uint32_t> total(static_cast<size_t>(o_.experts), 0);
    const int parts = thread % 2 == 0 ? 2 : 1;
    for (int part = 0; part < parts; ++part) {
      std::vector<uint32_t> counts(static_cast<size_t>(o_.experts), 0);
      const size_t begin = n * static_cast<size_t>(part) / static_cast<size_t>(parts);
      const size_t end = n * static_cast<size_t>(part + 1) / static_cast<size_t>(parts);
      for (size_t i = begin; i < end; ++i) ++counts[static_cast<size_t>(ids[i])];
      moeprof_expert_counts(layer, static_cast<uint32_t>(o_.experts), counts.data());
      ++tally.expert_count_calls;
      for (size_t e = 0; e < counts.size(); ++e) total[e] += counts[e];
    }
    std::lock_guard lock(truth_.mutex);
    for (int e = 0; e < o_.experts; ++e) truth_.tokens[{step, layer, e}] += total[static_cast<size_t>(e)];
    return total;
  }

  // Dispatch (dense peers 0..N-1) and combine (explicit peers, in descending order), and
  // on step 0 an extra all-to-all of phase "other"; expert and shared-expert compute.
  void exchange(int step, int layer, const std::vector<uint32_t>& counts, Tally& tally) {
    const size_t peers = static_cast<size_t>(o_.procs);
    std::vector<uint64_t> send(peers, 0), recv(peers, 0);
    for (int e = 0; e < o_.experts; ++e)
      send[static_cast<size_t>(home_rank(e))] += uint64_t(counts[static_cast<size_t>(e)]) * uint64_t(o_.hidden) * 2;
    for (size_t p = 0; p < peers; ++p)
      recv[p] = Random{uint64_t(rank_), p, uint64_t(step), uint64_t(layer), 7}.next() % 100000;

    const moeprof_span dispatch = moeprof_all_to_all_begin(layer, MOEPROF_PHASE_DISPATCH);
    moeprof_peer_bytes dense{sizeof(moeprof_peer_bytes), static_cast<uint32_t>(peers), nullptr, send.data(),
                             recv.data()};
    moeprof_all_to_all_end(dispatch, &dense);
    for (size_t p = 0; p < peers; ++p) a2a_row(step, layer, "dispatch", int(p), send[p], recv[p]);

    const moeprof_span expert = moeprof_compute_begin(layer, MOEPROF_COMPUTE_EXPERT);
    moeprof_compute_end(expert);
    const moeprof_span shared = moeprof_compute_begin(layer, MOEPROF_COMPUTE_SHARED_EXPERT);
    moeprof_compute_end(shared);
    tally.compute_spans += 2;

    std::vector<int32_t> ids;
    std::vector<uint64_t> back_send, back_recv;
    for (size_t p = peers; p-- > 0;) {
      ids.push_back(static_cast<int32_t>(p));
      back_send.push_back(recv[p]);
      back_recv.push_back(send[p]);
    }
    const moeprof_span combine = moeprof_all_to_all_begin(layer, MOEPROF_PHASE_COMBINE);
    moeprof_peer_bytes sparse{sizeof(moeprof_peer_bytes), static_cast<uint32_t>(peers), ids.data(), back_send.data(),
                              back_recv.data()};
    moeprof_all_to_all_end(combine, &sparse);
    for (size_t i = 0; i < ids.size(); ++i) a2a_row(step, layer, "combine", ids[i], back_send[i], back_recv[i]);
    tally.all_to_all += 2;

    if (step == 0 && layer == 0) {
      const int32_t self = rank_;
      const uint64_t bytes = 4096;
      const moeprof_span other = moeprof_all_to_all_begin(layer, MOEPROF_PHASE_OTHER);
      moeprof_peer_bytes one{sizeof(moeprof_peer_bytes), 1, &self, &bytes, &bytes};
      moeprof_all_to_all_end(other, &one);
      a2a_row(step, layer, "other", self, bytes, bytes);
      ++tally.all_to_all;
    }
  }

  void a2a_row(int step, int layer, const char* phase, int peer, uint64_t send, uint64_t recv) {
    std::ostringstream row;
    row << rank_ << "," << step << "," << layer << "," << phase << "," << peer << "," << send << "," << recv;
    std::lock_guard lock(truth_.mutex);
    truth_.a2a.push_back(row.str());
  }

  const Options& o_;
  const int rank_;
  Tally tally_;
  Truth truth_;
};

bool write_part(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const std::string& line : lines) out << line << "\n";
  return static_cast<bool>(out);
}

std::string part_path(const Options& o, const char* what, int rank) {
  return o.truth + "/" + what + ".rank" + std::to_string(rank) + ".part";
}

// A child: one rank. Writes its truth parts and sends its tally through `report`.
int run_rank(const Options& o, int rank, int report) {
  Rank r(o, rank);
  const Tally tally = r.run();
  if (!o.truth.empty()) {
    std::vector<std::string> load;
    for (const auto& [key, n] : r.truth().tokens)
      if (n != 0)
        load.push_back(std::to_string(rank) + "," + std::to_string(std::get<0>(key)) + "," +
                       std::to_string(std::get<1>(key)) + "," + std::to_string(std::get<2>(key)) + "," +
                       std::to_string(n));
    if (!write_part(part_path(o, "expert-load", rank), load) || !write_part(part_path(o, "a2a", rank), r.truth().a2a))
      return 1;
  }
  return ::write(report, &tally, sizeof tally) == static_cast<ssize_t>(sizeof tally) ? 0 : 1;
}

// Reads the parts of every rank, sorts rows by their numeric columns, writes one CSV.
bool merge(const Options& o, const char* what, const std::string& header) {
  std::vector<std::pair<std::vector<int64_t>, std::string>> rows;
  for (int rank = 0; rank < o.procs; ++rank) {
    std::ifstream in(part_path(o, what, rank));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<int64_t> key;
      std::stringstream fields(line);
      std::string field;
      while (std::getline(fields, field, ',')) {
        // phase names sort in their enum order: dispatch, combine, other
        if (field == "dispatch")
          key.push_back(0);
        else if (field == "combine")
          key.push_back(1);
        else if (field == "other")
          key.push_back(2);
        else
          key.push_back(std::stoll(field));
      }
      rows.emplace_back(std::move(key), line);
    }
    std::remove(part_path(o, what, rank).c_str());
  }
  std::sort(rows.begin(), rows.end());
  std::ofstream out(o.truth + "/" + what + ".csv");
  out << header << "\n";
  for (const auto& row : rows) out << row.second << "\n";
  return static_cast<bool>(out);
}

bool write_counts(const Options& o, const Tally& t) {
  std::ofstream out(o.truth + "/counts.json");
  out << "{\"processes\": " << o.procs + 1 << ", \"steps\": " << t.steps
      << ", \"router_decisions\": " << t.router_batches << ", \"all_to_all\": " << t.all_to_all
      << ", \"compute_spans\": " << t.compute_spans << ", \"markers\": " << t.markers
      << ", \"placements\": " << t.placement_slots
      // Every call that puts a record in a ring: step begin and end, counts, routing, spans, markers.
      << ", \"api_records\": "
      << 2 * t.steps + t.expert_count_calls + t.router_batches + t.all_to_all + t.compute_spans + t.markers << "}\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::error_code error;
  if (!o.truth.empty() && !std::filesystem::is_directory(o.truth) &&
      !std::filesystem::create_directories(o.truth, error)) {
    std::cerr << "moeprof_api_workload: cannot create " << o.truth << ": " << error.message() << "\n";
    return 1;
  }
  std::vector<pid_t> children;
  std::vector<int> reports;
  for (int rank = 0; rank < o.procs; ++rank) {
    int fds[2];
    if (::pipe(fds) != 0) {
      std::perror("moeprof_api_workload: pipe");
      return 1;
    }
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("moeprof_api_workload: fork");
      return 1;
    }
    if (pid == 0) {
      ::close(fds[0]);
      // exit() (not _exit) so the agent flushes what this process recorded.
      std::exit(run_rank(o, rank, fds[1]));
    }
    ::close(fds[1]);
    children.push_back(pid);
    reports.push_back(fds[0]);
  }
  Tally total;
  bool ok = true;
  for (size_t i = 0; i < children.size(); ++i) {
    Tally tally;
    ok &= ::read(reports[i], &tally, sizeof tally) == static_cast<ssize_t>(sizeof tally);
    ::close(reports[i]);
    total.add(tally);
    int status = 0;
    ok &= ::waitpid(children[i], &status, 0) == children[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok) {
    std::cerr << "moeprof_api_workload: a rank failed\n";
    return 1;
  }
  if (!o.truth.empty() &&
      !(merge(o, "expert-load", "rank,step,layer,expert,tokens") &&
        merge(o, "a2a", "rank,step,layer,phase,peer,send_bytes,recv_bytes") && write_counts(o, total))) {
    std::cerr << "moeprof_api_workload: cannot write the ground truth into " << o.truth << "\n";
    return 1;
  }
  std::cout << "moeprof_api_workload: " << o.procs << " processes x " << o.threads << " threads, " << o.steps
            << " steps of " << o.layers << " layers x " << o.experts << " experts (top-" << o.top_k
            << "): " << total.expert_count_calls << " expert-count calls, " << total.router_batches
            << " router batches, " << total.all_to_all << " all-to-alls, " << total.compute_spans << " compute spans, "
            << total.markers << " markers; agent " << (moeprof_enabled() ? "recording" : "not active") << "\n";
  return 0;
}
