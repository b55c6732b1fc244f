// `moeprof export`: the CSVs of a trace written in random order with duplicate keys and zero
// counts equal what a brute-force computation over the same rows says, to a file or stdout.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <tuple>

#include "moeprof/cli/cli.h"
#include "moeprof/cli/csv_export.h"
#include "moeprof/store/writer.h"
#include "temp_dir.h"

namespace moeprof::cli {
namespace {

struct Trace {
  std::vector<store::ExpertLoad> loads;
  std::vector<store::AllToAllEvent> events;
};

// Random rows in random order: several rows per (rank, step, layer), zero counts, rows of
// different widths, and all-to-alls of one rank that start at the same nanosecond.
Trace random_trace(uint32_t seed) {
  std::mt19937 random(seed);
  Trace t;
  for (int32_t rank = 0; rank < 3; ++rank)
    for (int64_t step = 0; step < 6; ++step)
      for (int32_t layer = 0; layer < 3; ++layer) {
        const int rows = int(random() % 3);  // 0, 1 or 2 rows for this key
        for (int r = 0; r < rows; ++r) {
          store::ExpertLoad load{rank, step, layer, std::vector<uint32_t>(5 + random() % 3)};
          for (auto& c : load.counts) c = random() % 3 == 0 ? 0 : uint32_t(random() % 1000);
          t.loads.push_back(load);
        }
      }
  for (int i = 0; i < 60; ++i) {
    store::AllToAllEvent e;
    e.rank = int32_t(random() % 3);
    e.step = int64_t(random() % 5);
    e.layer = int32_t(random() % 3);
    e.phase = wire::Phase(random() % 3);
    e.start_ns = 1000 + int64_t(random() % 20) * 10;  // ties on purpose
    e.end_ns = e.start_ns + int64_t(random() % 500);
    e.tid = 1;
    for (int32_t peer = 0; peer < 4; ++peer)
      if (random() % 4 != 0) e.peers.push_back({peer, random() % 100000, random() % 100000});
    t.events.push_back(e);
  }
  std::shuffle(t.loads.begin(), t.loads.end(), random);
  std::shuffle(t.events.begin(), t.events.end(), random);
  return t;
}

void write(const Trace& t, const std::string& path) {
  std::string error;
  auto writer = store::Writer::create(path, &error);
  ASSERT_TRUE(writer) << error;
  for (const auto& l : t.loads) writer->add_expert_load(l);
  for (const auto& e : t.events) writer->add_all_to_all(e);
  store::RunInfo run;
  run.command = "test";
  ASSERT_TRUE(writer->finalize(run, &error)) << error;
}

std::string expected_expert_load(const Trace& t) {
  std::map<std::tuple<int32_t, int64_t, int32_t, size_t>, uint64_t> tokens;
  for (const auto& l : t.loads)
    for (size_t e = 0; e < l.counts.size(); ++e) tokens[{l.rank, l.step, l.layer, e}] += l.counts[e];
  std::ostringstream out;
  out << "rank,step,layer,expert,tokens\n";
  for (const auto& [key, n] : tokens)
    if (n != 0)
      out << std::get<0>(key) << "," << std::get<1>(key) << "," << std::get<2>(key) << "," << std::get<3>(key) << ","
          << n << "\n";
  return out.str();
}

std::string expected_a2a(const Trace& t) {
  // Sorted by rank, start_ns, peer (ties broken by the remaining columns).
  std::vector<std::tuple<int32_t, int64_t, int32_t, int64_t, int32_t, int, int64_t, uint64_t, uint64_t>> rows;
  for (const auto& e : t.events)
    for (const auto& p : e.peers)
      rows.emplace_back(e.rank, e.start_ns, p.peer, e.step, e.layer, int(e.phase), e.end_ns, p.send_bytes,
                        p.recv_bytes);
  std::sort(rows.begin(), rows.end());
  const char* phases[] = {"dispatch", "combine", "other"};
  std::ostringstream out;
  out << "rank,step,layer,phase,peer,send_bytes,recv_bytes,start_ns,end_ns\n";
  for (const auto& [rank, start, peer, step, layer, phase, end, send, recv] : rows)
    out << rank << "," << step << "," << layer << "," << phases[phase] << "," << peer << "," << send << "," << recv
        << "," << start << "," << end << "\n";
  return out.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ExportCsv, MatchesABruteForceComputation) {
  testing::TempDir dir;
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    const Trace trace = random_trace(seed);
    const std::string db = dir.file("t" + std::to_string(seed) + ".db");
    write(trace, db);
    for (const auto& [what, expected] :
         {std::pair{"expert-load", expected_expert_load(trace)}, std::pair{"a2a", expected_a2a(trace)}}) {
      SCOPED_TRACE(what);
      const std::string csv = dir.file(std::string(what) + std::to_string(seed) + ".csv");
      std::ostringstream out, err;
      ASSERT_EQ(main_entry(std::vector<std::string>{"export", db, "--what", what, "--format", "csv", "-o", csv},
                           Io{out, err}),
                0)
          << err.str();
      EXPECT_TRUE(out.str().empty());
      EXPECT_TRUE(err.str().empty()) << err.str();
      EXPECT_EQ(read_file(csv), expected);
      // The same to stdout.
      std::ostringstream stdout_text;
      ASSERT_EQ(main_entry(std::vector<std::string>{"export", db, "--what", what}, Io{stdout_text, err}), 0);
      EXPECT_EQ(stdout_text.str(), expected);
    }
  }
}

TEST(ExportCsv, AnEmptyTraceHasOnlyHeaders) {
  testing::TempDir dir;
  write(Trace{}, dir.file("empty.db"));
  std::string error;
  auto reader = store::Reader::open(dir.file("empty.db"), &error);
  ASSERT_TRUE(reader) << error;
  std::ostringstream load, a2a;
  write_expert_load_csv(*reader, load);
  write_all_to_all_csv(*reader, a2a);
  EXPECT_EQ(load.str(), std::string(kExpertLoadCsvHeader) + "\n");
  EXPECT_EQ(a2a.str(), std::string(kAllToAllCsvHeader) + "\n");
}

TEST(ExportCsv, AFailedWriteLeavesNoFile) {
  testing::TempDir dir;
  write(random_trace(4), dir.file("t.db"));
  std::ostringstream out, err;
  const std::string target = dir.file("no-such-dir/out.csv");
  EXPECT_EQ(
      main_entry(std::vector<std::string>{"export", dir.file("t.db"), "--what", "a2a", "-o", target}, Io{out, err}),
      kExitFailure);
  EXPECT_NE(err.str().find(target), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(target));
}

}  // namespace
}  // namespace moeprof::cli
