// synth: presets, determinism, and the invariants a real trace of an expert-parallel job has
// (counts = routing histogram, all-to-all bytes = counts × hidden × 2 through the placement,
// collectives ending together, Zipf skew visible in the counts).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

#include "moeprof/store/reader.h"
#include "moeprof/synth/synth.h"
#include "test_files.h"

namespace moeprof::synth {
namespace {

using store::Reader;
using store::testing::TempDir;

std::unique_ptr<Reader> generate_and_open(const Options& o, const std::string& path) {
  std::string error;
  EXPECT_TRUE(generate(o, path, &error)) << error;
  auto reader = Reader::open(path, &error);
  EXPECT_TRUE(reader) << error;
  return reader;
}

// Every row of a trace as text, for comparing traces.
std::string dump(const Reader& r) {
  std::ostringstream out;
  const auto run = r.run();
  out << run.command << run.start_realtime_ns << run.end_realtime_ns << run.exit_code << '\n';
  for (const auto& p : r.processes()) out << p.rank << p.pid << p.end_ns << '\n';
  for (const auto& s : r.steps()) out << s.rank << ' ' << s.step << ' ' << s.start_ns << ' ' << s.end_ns << '\n';
  r.for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    out << l.rank << ' ' << l.step << ' ' << l.layer;
    for (uint32_t c : l.counts) out << ' ' << c;
    out << '\n';
  });
  r.for_each_router_decisions({}, [&](const store::RouterDecisionBatch& b) {
    for (int32_t id : b.routing.expert_ids) out << id << ' ';
    for (float g : b.routing.gate_weights) out << g << ' ';
    out << '\n';
  });
  r.for_each_all_to_all({}, [&](const store::AllToAllEvent& e) {
    out << e.rank << e.step << e.layer << int(e.phase) << ' ' << e.start_ns << ' ' << e.end_ns;
    for (const auto& p : e.peers) out << ' ' << p.peer << ':' << p.send_bytes << ':' << p.recv_bytes;
    out << '\n';
  });
  r.for_each_compute_span({}, [&](const store::ComputeSpan& s) {
    out << s.rank << s.step << s.layer << int(s.kind) << s.name << ' ' << s.start_ns << ' ' << s.end_ns << '\n';
  });
  return out.str();
}

using Key = std::tuple<int32_t, int64_t, int32_t>;  // rank, step, layer

std::map<Key, std::vector<uint32_t>> counts_by_key(const Reader& r) {
  std::map<Key, std::vector<uint32_t>> out;
  r.for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    EXPECT_TRUE(out.emplace(Key{l.rank, l.step, l.layer}, l.counts).second) << "one row per key";
  });
  return out;
}

TEST(SynthPresets, HoldThePublishedShapes) {
  const auto v3 = find_shape("deepseek-v3");
  ASSERT_TRUE(v3);
  EXPECT_EQ(*v3, (store::ModelShape{"deepseek-v3", 61, 256, 8, 1, 7168}));
  const auto mixtral = find_shape("Mixtral-8x7B");
  ASSERT_TRUE(mixtral);
  EXPECT_EQ(*mixtral, (store::ModelShape{"mixtral-8x7b", 32, 8, 2, 0, 4096}));
  const auto qwen = find_shape("qwen3-235b");
  ASSERT_TRUE(qwen);
  EXPECT_EQ(*qwen, (store::ModelShape{"qwen3-235b", 94, 128, 8, 0, 4096}));
  // Routed experts, top-k, shared experts from DESIGN.md.
  const std::map<std::string, std::tuple<int, int, int>> published = {
      {"deepseek-v4-pro", {384, 6, 1}}, {"deepseek-v4-flash", {256, 6, 1}}, {"kimi-k2.5", {384, 8, 1}},
      {"glm-5.1", {256, 8, 1}},         {"qwen3.5", {512, 10, 1}},          {"gemma-4", {128, 8, 1}}};
  for (const auto& [name, shape] : published) {
    const auto s = find_shape(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(std::tuple(s->num_experts, s->top_k, s->num_shared_experts), shape) << name;
  }
  EXPECT_EQ(find_shape("kimi-k2.5")->num_layers, 61);
  EXPECT_EQ(find_shape("kimi-k2.5")->hidden_size, 7168);
  for (const auto& preset : shape_presets()) {
    EXPECT_EQ(preset.name, preset.shape.name);
    EXPECT_GT(preset.shape.num_layers, 0) << preset.name;
    EXPECT_GT(preset.shape.hidden_size, 0) << preset.name;
  }
  EXPECT_FALSE(find_shape("gpt-2"));
}

TEST(Synth, IsDeterministicForASeed) {
  TempDir dir;
  Options o = store::testing::small_synth_options();
  const std::string a = dump(*generate_and_open(o, dir.file("a.db")));
  const std::string b = dump(*generate_and_open(o, dir.file("b.db")));
  EXPECT_EQ(a, b);
  o.seed += 1;
  EXPECT_NE(dump(*generate_and_open(o, dir.file("c.db"))), a);
}

TEST(Synth, WritesACompleteFinalisedTrace) {
  TempDir dir;
  const Options o = store::testing::small_synth_options();
  auto r = generate_and_open(o, dir.file("t.db"));
  EXPECT_TRUE(r->run().finalized);
  EXPECT_EQ(r->run().exit_code, 0);
  EXPECT_EQ(r->run().routing_mode, "full");
  EXPECT_EQ(r->model(), o.shape);
  const auto processes = r->processes();
  ASSERT_EQ(processes.size(), static_cast<size_t>(o.ranks));
  for (int32_t rank = 0; rank < o.ranks; ++rank) {
    EXPECT_EQ(processes[rank].rank, rank);
    EXPECT_EQ(processes[rank].world_size, o.ranks);
    EXPECT_EQ(processes[rank].ep_size, o.ranks);
    EXPECT_TRUE(processes[rank].clean_exit);
  }
  const store::TableCounts c = r->counts();
  const int64_t keys = int64_t{o.ranks} * o.steps * o.shape.num_layers;
  EXPECT_EQ(c.steps, int64_t{o.ranks} * o.steps);
  EXPECT_EQ(c.expert_load, keys);
  EXPECT_EQ(c.router_decisions, keys);
  EXPECT_EQ(c.all_to_all, 2 * keys);
  EXPECT_EQ(c.compute_spans, 3 * keys);  // gate, shared expert, experts
  EXPECT_EQ(r->step_range(), std::make_pair(int64_t{0}, o.steps - 1));
  EXPECT_TRUE(r->check().empty());
}

TEST(Synth, CountsAreTheHistogramOfTheRoutingDecisions) {
  TempDir dir;
  const Options o = store::testing::small_synth_options();
  auto r = generate_and_open(o, dir.file("t.db"));
  const auto counts = counts_by_key(*r);
  size_t batches = 0;
  r->for_each_router_decisions({}, [&](const store::RouterDecisionBatch& b) {
    ++batches;
    ASSERT_EQ(b.routing.num_tokens, o.tokens_per_rank);
    ASSERT_EQ(b.routing.top_k, static_cast<uint32_t>(o.shape.top_k));
    ASSERT_EQ(b.routing.gate_weights.size(), b.routing.expert_ids.size());
    std::vector<uint32_t> histogram(o.shape.num_experts, 0);
    for (uint32_t t = 0; t < b.routing.num_tokens; ++t) {
      const int32_t* ids = &b.routing.expert_ids[t * b.routing.top_k];
      std::set<int32_t> distinct(ids, ids + b.routing.top_k);
      EXPECT_EQ(distinct.size(), b.routing.top_k) << "token " << t << " picks an expert twice";
      const float* gates = &b.routing.gate_weights[t * b.routing.top_k];
      EXPECT_NEAR(std::accumulate(gates, gates + b.routing.top_k, 0.0), 1.0, 1e-5);
      EXPECT_TRUE(std::is_sorted(gates, gates + b.routing.top_k, std::greater<>()));
      for (uint32_t i = 0; i < b.routing.top_k; ++i) {
        ASSERT_GE(ids[i], 0);
        ASSERT_LT(ids[i], o.shape.num_experts);
        ++histogram[ids[i]];
      }
    }
    EXPECT_EQ(histogram, counts.at(Key{b.rank, b.step, b.layer})) << b.rank << " " << b.step << " " << b.layer;
  });
  EXPECT_EQ(batches, counts.size());
}

TEST(Synth, CountsDoNotDependOnWhichOtherRowsAreWritten) {
  TempDir dir;
  Options o = store::testing::small_synth_options();
  const auto with_everything = counts_by_key(*generate_and_open(o, dir.file("a.db")));
  o.routing = o.all_to_all = o.compute = false;
  const auto counts_only = counts_by_key(*generate_and_open(o, dir.file("b.db")));
  EXPECT_EQ(with_everything, counts_only);
}

TEST(Synth, AllToAllBytesFollowFromCountsAndPlacement) {
  TempDir dir;
  Options o = store::testing::small_synth_options();
  o.routing = false;
  auto r = generate_and_open(o, dir.file("t.db"));
  const auto counts = counts_by_key(*r);
  const auto placements = r->placements();
  ASSERT_EQ(placements.size(), static_cast<size_t>(o.shape.num_layers));
  const uint64_t token_bytes = uint64_t(o.shape.hidden_size) * 2;  // bf16
  // tokens[from][to]: tokens rank `from` routes to experts that rank `to` holds.
  const auto tokens_between = [&](int64_t step, int32_t layer) {
    std::vector<std::vector<uint64_t>> tokens(o.ranks, std::vector<uint64_t>(o.ranks, 0));
    for (int32_t from = 0; from < o.ranks; ++from)
      for (const auto& slot : placements[layer].slots)
        tokens[from][slot.rank] += counts.at(Key{from, step, layer})[slot.expert];
    return tokens;
  };
  int64_t events = 0;
  r->for_each_all_to_all({}, [&](const store::AllToAllEvent& e) {
    ++events;
    const auto tokens = tokens_between(e.step, e.layer);
    ASSERT_EQ(e.peers.size(), static_cast<size_t>(o.ranks));
    for (const auto& p : e.peers) {
      const bool dispatch = e.phase == wire::Phase::kDispatch;
      ASSERT_TRUE(dispatch || e.phase == wire::Phase::kCombine);
      const uint64_t out = dispatch ? tokens[e.rank][p.peer] : tokens[p.peer][e.rank];
      const uint64_t in = dispatch ? tokens[p.peer][e.rank] : tokens[e.rank][p.peer];
      EXPECT_EQ(p.send_bytes, out * token_bytes);
      EXPECT_EQ(p.recv_bytes, in * token_bytes);
    }
  });
  EXPECT_EQ(events, 2 * int64_t{o.ranks} * o.steps * o.shape.num_layers);
  // Block placement: E / ranks experts each.
  for (const auto& layer : placements) {
    std::vector<int> held(o.ranks, 0);
    for (const auto& slot : layer.slots) ++held[slot.rank];
    for (int n : held) EXPECT_EQ(n, o.shape.num_experts / o.ranks);
  }
}

TEST(Synth, TimingsAreConsistent) {
  TempDir dir;
  Options o = store::testing::small_synth_options();
  o.routing = false;
  auto r = generate_and_open(o, dir.file("t.db"));
  // Every rank's all-to-all of a (step, layer, phase) ends at the same time, after all started.
  std::map<std::tuple<int64_t, int32_t, int>, std::pair<int64_t, std::set<int64_t>>> collectives;
  std::map<Key, int64_t> dispatch_end;
  r->for_each_all_to_all({}, [&](const store::AllToAllEvent& e) {
    auto& [latest_start, ends] = collectives[{e.step, e.layer, int(e.phase)}];
    latest_start = std::max(latest_start, e.start_ns);
    ends.insert(e.end_ns);
    if (e.phase == wire::Phase::kDispatch) dispatch_end[Key{e.rank, e.step, e.layer}] = e.end_ns;
  });
  for (const auto& [key, c] : collectives) {
    ASSERT_EQ(c.second.size(), 1u);
    EXPECT_GT(*c.second.begin(), c.first);
  }
  // Experts run after their dispatch; the shared expert overlaps it.
  int overlapping = 0;
  r->for_each_compute_span({}, [&](const store::ComputeSpan& s) {
    EXPECT_LT(s.start_ns, s.end_ns);
    const int64_t end = dispatch_end.at(Key{s.rank, s.step, s.layer});
    if (s.kind == wire::ComputeKind::kExpert) {
      EXPECT_GE(s.start_ns, end);
    }
    if (s.kind == wire::ComputeKind::kSharedExpert && s.start_ns < end) ++overlapping;
  });
  EXPECT_EQ(overlapping, o.ranks * o.steps * o.shape.num_layers);
  // Steps follow each other per rank and hold their layers.
  const auto steps = r->steps();
  for (size_t i = 1; i < steps.size(); ++i)
    if (steps[i].rank == steps[i - 1].rank) {
      EXPECT_GT(steps[i].start_ns, steps[i - 1].end_ns);
    }
  for (const auto& s : steps) {
    r->for_each_all_to_all(store::Filter{.rank = s.rank, .step_begin = s.step, .step_end = s.step + 1},
                           [&](const store::AllToAllEvent& e) {
                             EXPECT_GE(e.start_ns, s.start_ns);
                             EXPECT_LE(e.end_ns, s.end_ns);
                           });
  }
}

double mean_max_over_mean(const Reader& r) {
  double sum = 0;
  int rows = 0;
  r.for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    const double total = std::accumulate(l.counts.begin(), l.counts.end(), 0.0);
    sum += *std::max_element(l.counts.begin(), l.counts.end()) / (total / l.counts.size());
    ++rows;
  });
  return sum / rows;
}

TEST(Synth, ZipfSkewConcentratesLoad) {
  TempDir dir;
  Options o;
  o.shape = *find_shape("deepseek-v3");
  o.shape.num_layers = 3;
  o.ranks = 4;
  o.steps = 3;
  o.tokens_per_rank = 2048;
  o.all_to_all = o.compute = false;
  const double uniform = mean_max_over_mean(*generate_and_open(o, dir.file("uniform.db")));
  o.zipf_skew = 1.2;
  const double zipf = mean_max_over_mean(*generate_and_open(o, dir.file("zipf.db")));
  // Uniform: 16384 picks over 256 experts, mean 64; the max of 256 is a few sigmas above.
  EXPECT_LT(uniform, 1.6);
  EXPECT_GT(uniform, 1.1);
  // Zipf(1.2): the hottest expert is picked by (nearly) every token: 2048 / 64 = 32× the mean.
  EXPECT_GT(zipf, 10.0);
}

TEST(Synth, RefusesBadOptionsAndExistingFiles) {
  TempDir dir;
  Options o = store::testing::small_synth_options();
  std::string error;
  o.shape.top_k = o.shape.num_experts + 1;
  EXPECT_FALSE(generate(o, dir.file("a.db"), &error));
  EXPECT_NE(error.find("top-k"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.db")));
  o = store::testing::small_synth_options();
  o.ranks = 0;
  EXPECT_FALSE(generate(o, dir.file("a.db"), &error));
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.db")));

  store::testing::write_file(dir.file("taken.db"), "x");
  o = store::testing::small_synth_options();
  EXPECT_FALSE(generate(o, dir.file("taken.db"), &error));
  EXPECT_NE(error.find("exists"), std::string::npos) << error;
  EXPECT_EQ(store::testing::read_file(dir.file("taken.db")), "x");
}

}  // namespace
}  // namespace moeprof::synth
