// Records whose arrays the hot path narrows (expert counts and ids to 8 or 16 bits) arrive
// exactly as recorded, in every width and when a value does not fit; records of different
// widths follow each other through a ring that wraps around.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "agent_test_support.h"
#include "scoped_env.h"

namespace moeprof::agent {
namespace {

using namespace testing;
using wire::RecordType;

class NarrowedRecords : public ::testing::Test {
 protected:
  void TearDown() override { moeprof_shutdown(); }
  // Shuts the agent down and returns its one stream.
  Stream finish() {
    EXPECT_EQ(stats().records_dropped, 0u);
    moeprof_shutdown();
    EXPECT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 1 && s[0].closed; }));
    const std::vector<Stream> streams = collector.streams();
    if (streams.size() != 1) return {};
    EXPECT_EQ(streams[0].error, "");
    return streams[0];
  }
  FakeCollector collector;
};

std::vector<uint32_t> counts_below(uint64_t limit, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> counts(n);
  for (auto& c : counts) c = static_cast<uint32_t>(rng() % limit);
  return counts;
}

TEST_F(NarrowedRecords, CountsArriveExactlyInEveryWidth) {
  // Each round below (~8 KiB) fills less than half the ring, which wraps every few rounds.
  ScopedEnv ring("MOEPROF_RING_KB", "32");
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  std::vector<std::vector<uint32_t>> rows;
  for (const size_t n : {1, 7, 256, 257}) {
    const auto seed = static_cast<uint32_t>(n);
    rows.push_back(counts_below(256, n, seed));
    rows.back().back() = 255;  // the largest that fits 8 bits
    rows.push_back(counts_below(256, n, seed + 1));
    rows.back().front() = 256;  // the smallest that does not
    rows.push_back(counts_below(65536, n, seed + 2));
    rows.back().back() = 65535;  // the largest that fits 16 bits
    rows.push_back(counts_below(65536, n, seed + 3));
    rows.back().front() = 65536;  // the smallest that does not
    rows.push_back(counts_below(uint64_t{1} << 32, n, seed + 4));
    rows.back().back() = std::numeric_limits<uint32_t>::max();
  }
  rows.push_back(std::vector<uint32_t>(300, 0));
  // Rounds of narrow and wide records, one after another in the ring, at ever different offsets.
  std::vector<std::vector<uint32_t>> expected_counts, expected_drops;
  for (int round = 0; round < 12; ++round) {
    for (size_t i = 0; i < rows.size(); ++i) {
      if ((i + round) % 3 == 0) {
        moeprof_expert_drops(round, static_cast<uint32_t>(rows[i].size()), rows[i].data());
        expected_drops.push_back(rows[i]);
      } else {
        moeprof_expert_counts(round, static_cast<uint32_t>(rows[i].size()), rows[i].data());
        expected_counts.push_back(rows[i]);
      }
    }
    moeprof_flush();  // the small ring never fills
  }
  const Stream stream = finish();
  for (const auto& [type, expected] : {std::pair{RecordType::kExpertCounts, &expected_counts},
                                       std::pair{RecordType::kExpertDrops, &expected_drops}}) {
    const std::vector<Record> records = of_type(stream, type);
    ASSERT_EQ(records.size(), expected->size());
    for (size_t i = 0; i < records.size(); ++i) {
      std::vector<uint32_t> counts;
      ASSERT_TRUE(wire::decode_counts(records[i].var, &counts));
      EXPECT_EQ(counts, (*expected)[i]) << "record " << i << " of type " << static_cast<int>(type);
    }
  }
}

struct Decisions {
  uint32_t num_tokens;
  uint32_t top_k;
  std::vector<int32_t> ids;
  std::vector<float> weights;  // empty: none recorded
};

Decisions decisions(uint32_t num_tokens, uint32_t top_k, int64_t min_id, int64_t max_id, bool weights,
                    uint32_t seed) {
  std::mt19937_64 rng(seed);
  Decisions d{num_tokens, top_k, std::vector<int32_t>(size_t{num_tokens} * top_k), {}};
  for (auto& id : d.ids) id = static_cast<int32_t>(min_id + static_cast<int64_t>(rng() % (max_id - min_id + 1)));
  d.ids[d.ids.size() / 2] = static_cast<int32_t>(max_id);  // the widest id is there for sure
  d.ids.front() = static_cast<int32_t>(min_id);
  if (weights) {
    d.weights.resize(d.ids.size());
    for (auto& w : d.weights) w = static_cast<float>(rng() % 100000) / 100000.0f - 0.5f;
  }
  return d;
}

TEST_F(NarrowedRecords, ExpertIdsArriveExactlyInEveryWidth) {
  ASSERT_EQ(start_agent(collector, MOEPROF_ROUTING_FULL), MOEPROF_OK);
  constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min(), kInt32Max = std::numeric_limits<int32_t>::max();
  const int64_t ranges[][2] = {
      {0, 255},                // 8 bits
      {0, 256},                // 16 bits, just
      {0, 65535},              // 16 bits
      {0, 65536},              // 32 bits, just
      {0, kInt32Max},          // 32 bits
      {-1, 255},               // negative: 32 bits, signed
      {kInt32Min, kInt32Max},  // the whole range
  };
  const uint32_t shapes[][2] = {{1, 1}, {37, 3}, {5, 8}, {4096, 8}};
  std::vector<Decisions> expected;
  uint32_t seed = 0;
  for (const auto& shape : shapes)
    for (const auto& range : ranges) {
      for (const bool weights : {true, false}) {
        expected.push_back(decisions(shape[0], shape[1], range[0], range[1], weights, ++seed));
        const Decisions& d = expected.back();
        moeprof_router_decisions(3, 0, d.num_tokens, d.top_k, d.ids.data(), weights ? d.weights.data() : nullptr);
      }
      moeprof_flush();  // the largest two take 384 KiB of the 1 MiB ring
    }
  const std::vector<Record> records = of_type(finish(), RecordType::kRouterDecisions);
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 0; i < records.size(); ++i) {
    wire::Routing routing;
    ASSERT_TRUE(wire::decode_routing(records[i].var, &routing));
    EXPECT_EQ(routing.num_tokens, expected[i].num_tokens) << i;
    EXPECT_EQ(routing.top_k, expected[i].top_k) << i;
    EXPECT_EQ(routing.expert_ids, expected[i].ids) << i;
    EXPECT_EQ(routing.gate_weights, expected[i].weights) << i;
  }
}

}  // namespace
}  // namespace moeprof::agent
