// moeprof_e2e_dbtool: what the end-to-end tests need to do to trace files without the
// sqlite3 shell.
//   foreign FILE              create a SQLite database that is not a moeprof trace
//   set-version FILE N        set PRAGMA user_version (pretend a newer schema)
//   verify-routing FILE       the router decisions of every (rank, step, layer) that has
//                             them add up to its expert load, and every token's gate
//                             weights sum to 1
#include <sqlite3.h>

#include <cmath>
#include <iostream>
#include <map>
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

int verify_routing(const std::string& path) {
  std::string error;
  auto reader = moeprof::store::Reader::open(path, &error);
  if (!reader) {
    std::cerr << "moeprof_e2e_dbtool: " << error << "\n";
    return 1;
  }
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
      if (std::fabs(sum - 1.0) > 1e-4) ++bad_weights;
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

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "foreign")
    return exec(args[1], "CREATE TABLE songs (title TEXT, year INTEGER); INSERT INTO songs VALUES ('x', 1999);");
  if (args.size() == 3 && args[0] == "set-version")
    return exec(args[1], "PRAGMA user_version = " + std::to_string(std::stoi(args[2])) + ";");
  if (args.size() == 2 && args[0] == "verify-routing") return verify_routing(args[1]);
  std::cerr << "usage: moeprof_e2e_dbtool foreign FILE | set-version FILE N | verify-routing FILE\n";
  return 2;
}
