// moeprof_e2e_dbtool: what the end-to-end tests need to do to trace files without the
// sqlite3 shell.
//   foreign FILE              create a SQLite database that is not a moeprof trace
//   set-version FILE N        set PRAGMA user_version (pretend a newer schema)
//   verify-routing FILE [SUM] the router decisions of every (rank, step, layer) that has
//                             them add up to its expert load, and every token's gate
//                             weights sum to SUM (default 1; routed scaling makes it more)
//   spans-in-steps FILE       every all-to-all and compute span lies inside the span of its
//                             (rank, step)
//   overlap FILE              per rank: time inside all-to-all spans that is also inside
//                             compute spans, as CSV rank,a2a_ns,overlapped_ns,fraction
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "moeprof/store/reader.h"

namespace {

int exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK)
    std::cerr << "moeprof_e2e_dbtool: " << path << ": " << (message ? message : sqlite3_errmsg(db)) << "\n";
  sqlite3_free(message);
  sqlite3_close(db);
  return rc == SQLITE_OK ? 0 : 1;
}

std::unique_ptr<moeprof::store::Reader> open_trace(const std::string& path) {
  std::string error;
  auto reader = moeprof::store::Reader::open(path, &error);
  if (!reader) std::cerr << "moeprof_e2e_dbtool: " << error << "\n";
  return reader;
}

int verify_routing(const std::string& path, double weight_sum) {
  auto reader = open_trace(path);
  if (!reader) return 1;
  using Key = std::tuple<int32_t, int64_t, int32_t>;
  std::map<Key, std::vector<uint64_t>> routed, loaded;
  size_t batches = 0, bad_weights = 0;
  reader->for_each_router_decisions({}, [&](const moeprof::store::RouterDecisionBatch& b) {
    ++batches;
    auto& histogram = routed[{b.rank, b.step, b.layer}];
    for (int32_t id : b.routing.expert_ids) {
      if (histogram.size() <= size_t(id)) histogram.resize(size_t(id) + 1, 0);
      ++histogram[size_t(id)];
    }
    for (uint32_t t = 0; t < b.routing.num_tokens && !b.routing.gate_weights.empty(); ++t) {
      double sum = 0;
      for (uint32_t k = 0; k < b.routing.top_k; ++k) sum += b.routing.gate_weights[t * b.routing.top_k + k];
      if (std::fabs(sum - weight_sum) > 1e-4 * weight_sum) ++bad_weights;
    }
  });
  reader->for_each_expert_load({}, [&](const moeprof::store::ExpertLoad& l) {
    if (routed.count({l.rank, l.step, l.layer}) == 0) return;
    auto& sums = loaded[{l.rank, l.step, l.layer}];
    if (sums.size() < l.counts.size()) sums.resize(l.counts.size(), 0);
    for (size_t e = 0; e < l.counts.size(); ++e) sums[e] += l.counts[e];
  });
  size_t mismatches = 0;
  for (auto& [key, histogram] : routed) {
    auto& sums = loaded[key];
    histogram.resize(std::max(histogram.size(), sums.size()), 0);
    sums.resize(histogram.size(), 0);
    if (histogram != sums) {
      if (mismatches++ < 5)
        std::cerr << "routing of rank " << std::get<0>(key) << " step " << std::get<1>(key) << " layer "
                  << std::get<2>(key) << " does not add up to its expert load\n";
    }
  }
  std::cout << batches << " router batches over " << routed.size() << " (rank, step, layer): " << mismatches
            << " mismatches, " << bad_weights << " tokens with bad weights\n";
  return mismatches == 0 && bad_weights == 0 ? 0 : 1;
}

int spans_in_steps(const std::string& path) {
  auto reader = open_trace(path);
  if (!reader) return 1;
  std::map<std::pair<int32_t, int64_t>, moeprof::store::StepSpan> steps;
  for (const auto& s : reader->steps()) steps[{s.rank, s.step}] = s;
  size_t checked = 0, outside = 0;
  const auto check = [&](const char* what, int32_t rank, int64_t step, int64_t start, int64_t end) {
    ++checked;
    const auto it = steps.find({rank, step});
    if (it != steps.end() && it->second.start_ns <= start && end <= it->second.end_ns) return;
    if (outside++ < 5)
      std::cerr << what << " of rank " << rank << " step " << step << " [" << start << ", " << end
                << "] is not inside its step\n";
  };
  size_t all_to_alls = 0;
  reader->for_each_all_to_all({}, [&](const moeprof::store::AllToAllEvent& e) {
    ++all_to_alls;
    check("all-to-all", e.rank, e.step, e.start_ns, e.end_ns);
  });
  reader->for_each_compute_span(
      {}, [&](const moeprof::store::ComputeSpan& c) { check("compute span", c.rank, c.step, c.start_ns, c.end_ns); });
  std::cout << checked << " spans (" << all_to_alls << " all-to-alls) in " << steps.size() << " steps: " << outside
            << " outside their step\n";
  return outside == 0 && all_to_alls > 0 ? 0 : 1;
}

// Sorted, merged intervals.
using Intervals = std::vector<std::pair<int64_t, int64_t>>;
Intervals merged(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (const auto& i : v) {
    if (!out.empty() && i.first <= out.back().second)
      out.back().second = std::max(out.back().second, i.second);
    else
      out.push_back(i);
  }
  return out;
}

int64_t length(const Intervals& v) {
  int64_t total = 0;
  for (const auto& [start, end] : v) total += end - start;
  return total;
}

int64_t intersection(const Intervals& a, const Intervals& b) {
  int64_t total = 0;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    total += std::max<int64_t>(0, std::min(a[i].second, b[j].second) - std::max(a[i].first, b[j].first));
    (a[i].second < b[j].second ? i : j)++;
  }
  return total;
}

int overlap(const std::string& path) {
  auto reader = open_trace(path);
  if (!reader) return 1;
  std::map<int32_t, Intervals> a2a, compute;
  reader->for_each_all_to_all({}, [&](const moeprof::store::AllToAllEvent& e) {
    a2a[e.rank].push_back({e.start_ns, e.end_ns});
  });
  reader->for_each_compute_span({}, [&](const moeprof::store::ComputeSpan& c) {
    compute[c.rank].push_back({c.start_ns, c.end_ns});
  });
  std::cout << "rank,a2a_ns,overlapped_ns,fraction\n";
  for (auto& [rank, spans] : a2a) {
    const Intervals comm = merged(spans), busy = merged(compute[rank]);
    const int64_t total = length(comm), both = intersection(comm, busy);
    std::cout << rank << "," << total << "," << both << "," << (total ? double(both) / double(total) : 0.0) << "\n";
  }
  return a2a.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "foreign")
    return exec(args[1], "CREATE TABLE songs (title TEXT, year INTEGER); INSERT INTO songs VALUES ('x', 1999);");
  if (args.size() == 3 && args[0] == "set-version")
    return exec(args[1], "PRAGMA user_version = " + std::to_string(std::stoi(args[2])) + ";");
  if ((args.size() == 2 || args.size() == 3) && args[0] == "verify-routing")
    return verify_routing(args[1], args.size() == 3 ? std::stod(args[2]) : 1.0);
  if (args.size() == 2 && args[0] == "spans-in-steps") return spans_in_steps(args[1]);
  if (args.size() == 2 && args[0] == "overlap") return overlap(args[1]);
  std::cerr << "usage: moeprof_e2e_dbtool foreign FILE | set-version FILE N | verify-routing FILE [SUM] |"
               " spans-in-steps FILE | overlap FILE\n";
  return 2;
}
