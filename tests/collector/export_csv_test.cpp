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
  std::vector<store::RouterDecisionBatch> routing;
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
  // Router decisions: batches of a (rank, step, layer) at increasing token offsets, with and
  // without weights; weights that need all of a float's digits to read back.
  for (int32_t rank = 0; rank < 2; ++rank)
    for (int64_t step = 0; step < 3; ++step)
      for (int32_t layer = 0; layer < 2; ++layer)
        for (uint32_t offset = 0; offset < 10; offset += 5) {
          store::RouterDecisionBatch b{rank, step, layer, offset, {}};
          b.routing.num_tokens = 5;
          b.routing.top_k = 1 + random() % 3;
          for (uint32_t i = 0; i < b.routing.num_tokens * b.routing.top_k; ++i) {
            b.routing.expert_ids.push_back(int32_t(random() % 64));
            if (rank == 0) b.routing.gate_weights.push_back(float(random() % 1000000) / 999983.0f);
          }
          t.routing.push_back(b);
        }
  std::shuffle(t.loads.begin(), t.loads.end(), random);
  std::shuffle(t.routing.begin(), t.routing.end(), random);
  std::shuffle(t.events.begin(), t.events.end(), random);
  return t;
}

void write(const Trace& t, const std::string& path) {
  std::string error;
  auto writer = store::Writer::create(path, &error);
  ASSERT_TRUE(writer) << error;
  for (const auto& l : t.loads) writer->add_expert_load(l);
  for (const auto& e : t.events) writer->add_all_to_all(e);
  for (const auto& b : t.routing) writer->add_router_decisions(b);
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

std::string expected_routing(const Trace& t) {
  // Sorted by step, layer, rank, token; weights printed with every digit they need.
  std::map<std::tuple<int64_t, int32_t, int32_t, uint32_t>, const store::RouterDecisionBatch*> batches;
  for (const auto& b : t.routing) batches[{b.step, b.layer, b.rank, b.token_offset}] = &b;
  std::ostringstream out;
  out << "rank,step,layer,token,slot,expert,weight\n";
  for (const auto& [key, b] : batches)
    for (uint32_t token = 0; token < b->routing.num_tokens; ++token)
      for (uint32_t slot = 0; slot < b->routing.top_k; ++slot) {
        const size_t i = token * b->routing.top_k + slot;
        out << b->rank << "," << b->step << "," << b->layer << "," << b->token_offset + token << "," << slot << ","
            << b->routing.expert_ids[i] << ",";
        if (!b->routing.gate_weights.empty()) {
          char text[32];
          std::snprintf(text, sizeof text, "%.9g", double(b->routing.gate_weights[i]));
          out << text;
        }
        out << "\n";
      }
  return out.str();
}

// Weights as the CSV prints them (shortest round trip) and as expected_routing does (%.9g)
// differ in digits, not in value: compare the floats they read back as.
std::string canonical_weights(const std::string& csv) {
  std::istringstream in(csv);
  std::ostringstream out;
  std::string line;
  while (std::getline(in, line)) {
    const size_t comma = line.rfind(',');
    const std::string weight = line.substr(comma + 1);
    out << line.substr(0, comma + 1);
    if (!weight.empty() && weight != "weight") {
      char text[32];
      std::snprintf(text, sizeof text, "%a", double(std::stof(weight)));
      out << text;
    } else {
      out << weight;
    }
    out << "\n";
  }
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
    std::ostringstream routing, err;
    ASSERT_EQ(main_entry(std::vector<std::string>{"export", db, "--what", "routing"}, Io{routing, err}), 0) << err.str();
    EXPECT_EQ(canonical_weights(routing.str()), canonical_weights(expected_routing(trace)));
  }
}

TEST(ExportCsv, AnEmptyTraceHasOnlyHeaders) {
  testing::TempDir dir;
  write(Trace{}, dir.file("empty.db"));
  std::string error;
  auto reader = store::Reader::open(dir.file("empty.db"), &error);
  ASSERT_TRUE(reader) << error;
  std::ostringstream load, a2a, routing;
  write_expert_load_csv(*reader, load);
  write_all_to_all_csv(*reader, a2a);
  write_routing_csv(*reader, routing);
  EXPECT_EQ(load.str(), std::string(kExpertLoadCsvHeader) + "\n");
  EXPECT_EQ(routing.str(), std::string(kRoutingCsvHeader) + "\n");
  EXPECT_EQ(a2a.str(), std::string(kAllToAllCsvHeader) + "\n");
}

// RFC 4180 fields of a CSV text (quotes doubled inside quoted fields, which may hold
// separators and line breaks).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',' || c == '\n') {
      rows.back().push_back(field);
      field.clear();
      if (c == '\n') rows.emplace_back();
    } else {
      field.push_back(c);
    }
  }
  rows.pop_back();  // after the last line break
  return rows;
}

TEST(ExportCsv, RangesAndKernelsKeepEveryFieldAndQuoteFreeText) {
  testing::TempDir dir;
  std::vector<store::Range> ranges(4);
  ranges[0] = {1, 40, 100, 900, wire::Source::kNvtx, "app", "fwd, \"layer\" 3", 2, 0xff102030u, 7,
               wire::RangeKind::kPushPop, "{\"tokens\":[1,2],\"tag\":\"a\\nb\"}"};
  ranges[1] = {1, 40, 950, 950, wire::Source::kNvtx, "", "mark\nline", 0, 0, 7, wire::RangeKind::kMark, ""};
  ranges[2] = {0, 41, 50, 70, wire::Source::kNccl, "NCCL", "AllReduce", 0, 0, 6, wire::RangeKind::kStartEnd, "4096"};
  // Names category 2 of domain "app" on rank 1: not a row of its own, the last column of ranges[0].
  ranges[3] = {1, 40, 10, 10, wire::Source::kNvtx, "app", "attention, \"fast\"", 2, 0, 0, wire::RangeKind::kCategoryName, ""};
  store::GpuKernel kernel;
  kernel.rank = 1;  // launched on the thread of ranges[0], inside it
  kernel.device = 1;
  kernel.stream = 13;
  kernel.correlation_id = 77;
  kernel.start_ns = 500;
  kernel.end_ns = 800;
  kernel.name = "void gemm<float, 128>(float*, int)";
  kernel.grid[0] = 4;
  kernel.grid[1] = 2;
  kernel.block[0] = 256;
  kernel.step = 3;
  kernel.launch_ns = 450;
  kernel.launch_tid = 40;
  kernel.layer = 5;
  kernel.compute_kind = static_cast<int32_t>(wire::ComputeKind::kExpert);
  store::GpuKernel plain = kernel;
  plain.compute_kind = -1;
  plain.name = "copy";
  plain.start_ns = 900;
  plain.launch_ns = 950;  // after ranges[0], at the mark, which is no range to be inside
  {
    std::string error;
    auto writer = store::Writer::create(dir.file("t.db"), &error);
    ASSERT_TRUE(writer) << error;
    for (const auto& r : ranges) writer->add_range(r);
    writer->add_gpu_kernel(kernel);
    writer->add_gpu_kernel(plain);
    store::RunInfo run;
    ASSERT_TRUE(writer->finalize(run, &error)) << error;
  }
  std::ostringstream out, err;
  ASSERT_EQ(main_entry(std::vector<std::string>{"export", dir.file("t.db"), "--what", "ranges"}, Io{out, err}), 0)
      << err.str();
  const auto rows = parse_csv(out.str());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], parse_csv(std::string(kRangesCsvHeader) + "\n")[0]);
  // Sorted by rank, start: the NCCL range of rank 0 first.
  for (const auto& [row, r] : {std::pair{rows[1], ranges[2]}, std::pair{rows[2], ranges[0]}, std::pair{rows[3], ranges[1]}}) {
    ASSERT_EQ(row.size(), 13u);
    EXPECT_EQ(row[0], std::to_string(r.rank));
    EXPECT_EQ(row[1], std::to_string(r.tid));
    EXPECT_EQ(row[2], std::to_string(r.step));
    EXPECT_EQ(row[3], r.kind == wire::RangeKind::kMark ? "mark" : r.kind == wire::RangeKind::kStartEnd ? "start_end" : "push_pop");
    EXPECT_EQ(row[4], r.source == wire::Source::kNccl ? "nccl" : "nvtx");
    EXPECT_EQ(row[5], r.domain);
    EXPECT_EQ(row[6], r.name);
    EXPECT_EQ(row[7], std::to_string(r.category));
    EXPECT_EQ(row[8], r.color == 0xff102030u ? "0xff102030" : "");
    EXPECT_EQ(row[9], std::to_string(r.start_ns));
    EXPECT_EQ(row[10], std::to_string(r.end_ns));
    EXPECT_EQ(row[11], r.payload);
    EXPECT_EQ(row[12], r.category == 2 && r.domain == "app" ? ranges[3].name : "");
  }

  std::ostringstream kernels_out;
  ASSERT_EQ(main_entry(std::vector<std::string>{"export", dir.file("t.db"), "--what", "kernels"}, Io{kernels_out, err}), 0);
  const auto krows = parse_csv(kernels_out.str());
  ASSERT_EQ(krows.size(), 3u);
  EXPECT_EQ(krows[0], parse_csv(std::string(kKernelsCsvHeader) + "\n")[0]);
  EXPECT_EQ(krows[1], (std::vector<std::string>{"1", "1", "13", "77", "3", "5", "expert", "void gemm<float, 128>(float*, int)",
                                                "500", "800", "450", "40", "4", "2", "0", "256", "0", "0",
                                                "app:fwd, \"layer\" 3"}));
  ASSERT_EQ(krows[2].size(), 19u);
  EXPECT_EQ(krows[2][6], "");  // not classified
  EXPECT_EQ(krows[2][7], "copy");
  EXPECT_EQ(krows[2][18], "");  // launched outside every range
}

TEST(ExportCsv, KernelsEndWithTheNvtxRangePathOfTheirLaunch) {
  testing::TempDir dir;
  {
    std::string error;
    auto writer = store::Writer::create(dir.file("t.db"), &error);
    ASSERT_TRUE(writer) << error;
    // Rank 0: thread 10 in "step" then "app:layer 1"; thread 11 in a start/end range; rank 1's
    // thread 10 in a range of its own.
    writer->add_range({0, 10, 2000, 5000, wire::Source::kNvtx, "app", "layer 1", 0, 0, 1, wire::RangeKind::kPushPop, ""});
    writer->add_range({0, 10, 1000, 9000, wire::Source::kNvtx, "", "step", 0, 0, 1, wire::RangeKind::kPushPop, ""});
    writer->add_range({0, 11, 0, 10000, wire::Source::kNvtx, "", "io", 0, 0, 1, wire::RangeKind::kStartEnd, ""});
    writer->add_range({1, 10, 0, 10000, wire::Source::kNvtx, "", "rank 1", 0, 0, 1, wire::RangeKind::kPushPop, ""});
    // (rank, launch tid, launch ns), written in start order, which is the CSV's row order.
    const std::vector<std::tuple<int32_t, uint32_t, int64_t>> launches{
        {0, 10, 3000}, {0, 11, 3000}, {0, 10, 5000}, {0, 10, 9000}, {0, 0, 3000}, {1, 10, 3000}};
    for (size_t i = 0; i < launches.size(); ++i) {
      store::GpuKernel k;
      std::tie(k.rank, k.launch_tid, k.launch_ns) = launches[i];
      k.name = "k" + std::to_string(i);
      k.start_ns = 20000 + static_cast<int64_t>(i);
      k.end_ns = k.start_ns + 1;
      writer->add_gpu_kernel(k);
    }
    ASSERT_TRUE(writer->finalize(store::RunInfo{}, &error)) << error;
  }
  std::ostringstream out, err;
  ASSERT_EQ(main_entry(std::vector<std::string>{"export", dir.file("t.db"), "--what", "kernels"}, Io{out, err}), 0)
      << err.str();
  const auto rows = parse_csv(out.str());
  ASSERT_EQ(rows.size(), 7u);
  ASSERT_EQ(rows[0].size(), 19u);
  EXPECT_EQ(rows[0][18], "nvtx_range");
  std::vector<std::pair<std::string, std::string>> paths;  // name, nvtx_range
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 19u);
    paths.emplace_back(rows[i][7], rows[i][18]);
  }
  EXPECT_EQ(paths, (std::vector<std::pair<std::string, std::string>>{{"k0", "step > app:layer 1"},
                                                                    {"k1", "io"},
                                                                    {"k2", "step"},
                                                                    {"k3", ""},
                                                                    {"k4", ""},
                                                                    {"k5", "rank 1"}}));
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
