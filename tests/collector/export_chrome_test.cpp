// `moeprof export --format chrome`: the JSON parses, and its events are exactly the trace's:
// every step, compute span and all-to-all as a complete event at its own time on its own
// rank and thread, every marker, and one load counter per (rank, step, layer).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "moeprof/cli/chrome_export.h"
#include "moeprof/cli/cli.h"
#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "moeprof/synth/synth.h"
#include "temp_dir.h"

namespace moeprof::cli {
namespace {

using Span = std::tuple<int64_t, int64_t, int64_t, int64_t>;  // pid, tid, start ns, duration ns

int64_t ns_of(const nlohmann::json& micros) { return std::llround(micros.get<double>() * 1000.0); }

class ChromeExport : public ::testing::Test {
 protected:
  void SetUp() override {
    synth::Options o;
    o.shape = store::ModelShape{"tiny", 3, 8, 2, 1, 64};
    o.ranks = 3;
    o.steps = 4;
    o.tokens_per_rank = 32;
    o.zipf_skew = 1.0;
    std::string error;
    ASSERT_TRUE(synth::generate(o, db_, &error)) << error;
    reader_ = store::Reader::open(db_, &error);
    ASSERT_TRUE(reader_) << error;
    std::ostringstream out, err;
    ASSERT_EQ(main_entry(std::vector<std::string>{"export", db_, "--format", "chrome", "-o", json_}, Io{out, err}), 0)
        << err.str();
    std::ifstream in(json_);
    trace_ = nlohmann::json::parse(in);  // throws (fails the test) if it does not parse
  }

  std::multiset<Span> exported(const std::string& category) const {
    std::multiset<Span> out;
    for (const auto& e : trace_["traceEvents"])
      if (e["ph"] == "X" && e.value("cat", "") == category)
        out.insert({e["pid"].get<int64_t>(), e["tid"].get<int64_t>(), ns_of(e["ts"]), ns_of(e["dur"])});
    return out;
  }

  testing::TempDir dir_;
  std::string db_ = dir_.file("t.db"), json_ = dir_.file("t.json");
  std::unique_ptr<store::Reader> reader_;
  nlohmann::json trace_;
};

TEST_F(ChromeExport, ComputeSpansAndAllToAllsAreCompleteEventsAtTheirTimes) {
  std::multiset<Span> compute, a2a;
  reader_->for_each_compute_span({}, [&](const store::ComputeSpan& s) {
    compute.insert({s.rank, s.tid, s.start_ns, s.end_ns - s.start_ns});
  });
  reader_->for_each_all_to_all({}, [&](const store::AllToAllEvent& a) {
    a2a.insert({a.rank, a.tid, a.start_ns, a.end_ns - a.start_ns});
  });
  ASSERT_FALSE(compute.empty());
  ASSERT_FALSE(a2a.empty());
  EXPECT_EQ(exported("compute"), compute);
  EXPECT_EQ(exported("all_to_all"), a2a);
  EXPECT_EQ(static_cast<int64_t>(compute.size()), reader_->counts().compute_spans);
}

TEST_F(ChromeExport, StepsAndLoadCountersMatchTheTrace) {
  std::multiset<Span> steps;
  for (const store::StepSpan& s : reader_->steps()) steps.insert({s.rank, 0, s.start_ns, s.end_ns - s.start_ns});
  EXPECT_EQ(exported("step"), steps);

  // One counter per (rank, step, layer) of expert load, carrying its total tokens.
  std::map<std::tuple<int64_t, int64_t, std::string>, uint64_t> want;  // pid, ts ns, name -> tokens
  std::map<std::pair<int32_t, int64_t>, int64_t> step_start;
  for (const store::StepSpan& s : reader_->steps()) step_start[{s.rank, s.step}] = s.start_ns;
  reader_->for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    uint64_t& tokens = want[{l.rank, step_start.at({l.rank, l.step}), "expert load L" + std::to_string(l.layer)}];
    for (uint32_t c : l.counts) tokens += c;
  });
  std::map<std::tuple<int64_t, int64_t, std::string>, uint64_t> got;
  for (const auto& e : trace_["traceEvents"])
    if (e["ph"] == "C")
      got[{e["pid"].get<int64_t>(), ns_of(e["ts"]), e["name"].get<std::string>()}] =
          e["args"]["tokens"].get<uint64_t>();
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(got, want);
}

TEST_F(ChromeExport, EveryRankIsANamedProcess) {
  std::set<int64_t> named;
  for (const auto& e : trace_["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "process_name") named.insert(e["pid"].get<int64_t>());
  EXPECT_EQ(named, (std::set<int64_t>{0, 1, 2}));
}

TEST(ChromeExportOfMarkers, MarkersAreInstantEventsAndNamesAreEscaped) {
  testing::TempDir dir;
  const std::string db = dir.file("m.db");
  auto w = store::Writer::create(db, nullptr);
  ASSERT_TRUE(w);
  w->add_marker(store::Marker{2, 0, 7, 1'234'567, wire::Source::kApi, "say \"hi\"\n\\"});
  w->add_marker(store::Marker{-1, 0, 8, -5, wire::Source::kApi, "before zero"});
  ASSERT_TRUE(w->finalize(store::RunInfo{})) << w->error();
  std::string error;
  auto reader = store::Reader::open(db, &error);
  ASSERT_TRUE(reader) << error;
  std::ostringstream out;
  const ChromeExportCounts counts = write_chrome_trace(*reader, out);
  EXPECT_EQ(counts.markers, 2);
  const auto json = nlohmann::json::parse(out.str());
  std::vector<std::tuple<std::string, int64_t, int64_t>> instants;  // name, tid, ts ns
  for (const auto& e : json["traceEvents"])
    if (e["ph"] == "i") instants.emplace_back(e["name"], e["tid"].get<int64_t>(), ns_of(e["ts"]));
  // In (rank, time) order: the unranked process's marker first.
  EXPECT_EQ(instants, (std::vector<std::tuple<std::string, int64_t, int64_t>>{{"before zero", 8, -5},
                                                                             {"say \"hi\"\n\\", 7, 1'234'567}}));
}

TEST(ChromeExportOfCaptureSources, RangesSitOnTheirThreadAndKernelsOnAGpuTrack) {
  testing::TempDir dir;
  const std::string db = dir.file("c.db");
  auto w = store::Writer::create(db, nullptr);
  ASSERT_TRUE(w);
  w->add_range(store::Range{1, 40, 2000, 5000, wire::Source::kNvtx, "app", "forward", 0, 0, 3,
                            wire::RangeKind::kPushPop, "{\"not\": json"});
  w->add_range(store::Range{1, 40, 6000, 6000, wire::Source::kNvtx, "", "mark", 0, 0, 3, wire::RangeKind::kMark, ""});
  store::GpuKernel k;
  k.rank = 1;
  k.device = 2;
  k.stream = 9;
  k.start_ns = 3000;
  k.end_ns = 3500;
  k.name = "moe_ffn";
  w->add_gpu_kernel(k);
  ASSERT_TRUE(w->finalize(store::RunInfo{})) << w->error();
  std::string error;
  auto reader = store::Reader::open(db, &error);
  ASSERT_TRUE(reader) << error;
  std::ostringstream out;
  const ChromeExportCounts counts = write_chrome_trace(*reader, out);
  EXPECT_EQ(counts.ranges, 2);
  EXPECT_EQ(counts.gpu_kernels, 1);
  const auto json = nlohmann::json::parse(out.str());  // a payload that is not JSON stays a string
  int64_t gpu_tid = -1;
  for (const auto& e : json["traceEvents"]) {
    if (e["name"] == "forward") {
      EXPECT_EQ(e["ph"], "X");
      EXPECT_EQ(e["cat"], "app");
      EXPECT_EQ(e["tid"], 40);
      EXPECT_EQ(ns_of(e["ts"]), 2000);
      EXPECT_EQ(ns_of(e["dur"]), 3000);
      EXPECT_EQ(e["args"]["payload"], "{\"not\": json");
    } else if (e["name"] == "mark") {
      EXPECT_EQ(e["ph"], "i");
      EXPECT_EQ(ns_of(e["ts"]), 6000);
    } else if (e["name"] == "moe_ffn") {
      EXPECT_EQ(e["ph"], "X");
      EXPECT_EQ(ns_of(e["dur"]), 500);
      gpu_tid = e["tid"].get<int64_t>();
    }
  }
  bool named = false;
  for (const auto& e : json["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["tid"] == gpu_tid) named = e["args"]["name"] == "GPU 2 stream 9";
  EXPECT_TRUE(named) << "the kernel's track is named after its device and stream";
}

TEST(ChromeExportOfCaptureSources, KernelsCarryTheNvtxRangesTheyWereLaunchedUnder) {
  testing::TempDir dir;
  const std::string db = dir.file("k.db");
  auto w = store::Writer::create(db, nullptr);
  ASSERT_TRUE(w);
  w->add_range(store::Range{1, 40, 2000, 5000, wire::Source::kNvtx, "app", "forward", 0, 0, 3,
                            wire::RangeKind::kPushPop, ""});
  w->add_range(store::Range{1, 40, 2500, 3000, wire::Source::kNvtx, "", "expert \"0\"", 0, 0, 3,
                            wire::RangeKind::kPushPop, ""});
  w->add_range(store::Range{1, 40, 2600, 2600, wire::Source::kNvtx, "", "mark", 0, 0, 3, wire::RangeKind::kMark, ""});
  // (name, launch tid, launch ns): inside both ranges, the outer only, none, another thread,
  // an unknown launch.
  const std::vector<std::tuple<std::string, uint32_t, int64_t>> launches{
      {"inner", 40, 2700}, {"outer", 40, 4000}, {"after", 40, 6000}, {"other_thread", 41, 2700}, {"unknown", 0, 0}};
  for (const auto& [name, tid, launch_ns] : launches) {
    store::GpuKernel k;
    k.rank = 1;
    k.start_ns = 7000;
    k.end_ns = 7100;
    k.name = name;
    k.launch_tid = tid;
    k.launch_ns = launch_ns;
    w->add_gpu_kernel(k);
  }
  ASSERT_TRUE(w->finalize(store::RunInfo{})) << w->error();
  std::string error;
  auto reader = store::Reader::open(db, &error);
  ASSERT_TRUE(reader) << error;
  std::ostringstream out;
  write_chrome_trace(*reader, out);
  const auto json = nlohmann::json::parse(out.str());
  std::map<std::string, std::string> paths;  // kernel -> args.nvtx_range, "(none)" without one
  for (const auto& e : json["traceEvents"])
    if (e.value("cat", "") == "gpu_kernel")
      paths[e["name"]] = e["args"].contains("nvtx_range") ? e["args"]["nvtx_range"].get<std::string>() : "(none)";
  EXPECT_EQ(paths, (std::map<std::string, std::string>{{"inner", "app:forward > expert \"0\""},
                                                       {"outer", "app:forward"},
                                                       {"after", "(none)"},
                                                       {"other_thread", "(none)"},
                                                       {"unknown", "(none)"}}));
}

TEST(ChromeExportArguments, WrongCombinationsAreUsageErrors) {
  testing::TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"export", dir.file("x.db"), "--format", "chrome", "--what", "a2a"},
        std::vector<std::string>{"export", dir.file("x.db"), "--format", "perfetto"}}) {
    std::ostringstream out, err;
    EXPECT_NE(main_entry(args, Io{out, err}), 0);
    const std::string message = err.str();
    EXPECT_NE(message.find("--"), std::string::npos) << message;
    EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  }
}

}  // namespace
}  // namespace moeprof::cli
