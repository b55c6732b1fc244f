// Blob encodings and varints: exact round trips, and corrupt input rejected without crashing
// or allocating what the blob cannot hold.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "moeprof/wire/codec.h"

namespace moeprof::wire {
namespace {

TEST(Crc32, MatchesTheStandardCheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size())), 0xCBF43926u);
}

// The eight-bytes-at-a-time path must agree with the bitwise definition of CRC-32 for every
// length and alignment, and a CRC computed in pieces must equal the one computed at once.
TEST(Crc32, MatchesTheBitwiseDefinitionAtEveryLengthAndOffset) {
  const auto bitwise = [](ByteSpan data) {
    uint32_t crc = 0xFFFFFFFFu;
    for (uint8_t b : data) {
      crc ^= b;
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
  };
  std::mt19937 rng(9);
  Bytes data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset)
    for (size_t len = 0; offset + len <= data.size(); len += 7) {
      const ByteSpan piece = ByteSpan(data).subspan(offset, len);
      ASSERT_EQ(crc32(piece), bitwise(piece)) << offset << "+" << len;
    }
  const ByteSpan all(data);
  EXPECT_EQ(crc32(all.subspan(13), crc32(all.first(13))), crc32(all));
}

TEST(Varint, RoundTripsEdgeValues) {
  const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                             std::numeric_limits<uint64_t>::max()};
  Bytes out;
  for (uint64_t v : values) put_varint(out, v);
  ByteReader in(out);
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(in.varint(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(out.size(), 1u + 1 + 1 + 2 + 2 + 2 + 3 + 5 + 5 + 10);
}

TEST(Varint, RejectsTruncatedAndOverlongInput) {
  const uint8_t truncated[] = {0x80, 0x80};
  ByteReader a(truncated);
  uint64_t v;
  EXPECT_FALSE(a.varint(&v));
  EXPECT_FALSE(a.ok());
  uint8_t overlong[11];
  std::fill(std::begin(overlong), std::end(overlong), 0xFF);
  overlong[10] = 0x01;
  ByteReader b(overlong);
  EXPECT_FALSE(b.varint(&v));
}

TEST(Zigzag, IsAnInvolutionOnExtremes) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()})
    EXPECT_EQ(unzigzag(zigzag(v)), v);
  EXPECT_EQ(zigzag(-1), 1u);
  EXPECT_EQ(zigzag(1), 2u);
}

TEST(Counts, RoundTripRandomAndExtremes) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint32_t> counts(rng() % 600);
    for (auto& c : counts) c = (trial % 3 == 0) ? rng() : rng() % 300;
    Bytes blob;
    encode_counts(counts, blob);
    std::vector<uint32_t> back;
    ASSERT_TRUE(decode_counts(blob, &back));
    EXPECT_EQ(back, counts);
  }
  std::vector<uint32_t> extremes = {0, std::numeric_limits<uint32_t>::max(), 0, 5};
  Bytes blob;
  encode_counts(extremes, blob);
  std::vector<uint32_t> back;
  ASSERT_TRUE(decode_counts(blob, &back));
  EXPECT_EQ(back, extremes);
}

TEST(Counts, NearUniformCountsTakeAboutOneBytePerExpert) {
  std::vector<uint32_t> counts(256);
  std::mt19937 rng(3);
  for (auto& c : counts) c = 100 + rng() % 60;  // 8 ranks x 4096 tokens x top-8 / 256 territory
  Bytes blob;
  encode_counts(counts, blob);
  EXPECT_LE(blob.size(), 256u + 4);
}

TEST(Counts, ZipfSkewedCountsStayNearOneBytePerExpert) {
  std::vector<uint32_t> counts(256);
  for (size_t i = 0; i < counts.size(); ++i)  // Zipf(1.2) share of 32768 choices, hottest first
    counts[i] = static_cast<uint32_t>(7533.0 * std::pow(static_cast<double>(i + 1), -1.2));
  Bytes blob;
  encode_counts(counts, blob);
  EXPECT_LE(blob.size(), 256u * 5 / 4);
  std::vector<uint32_t> back;
  ASSERT_TRUE(decode_counts(blob, &back));
  EXPECT_EQ(back, counts);
}

TEST(Counts, RejectsCorruptBlobs) {
  std::vector<uint32_t> counts = {1, 2, 3, 400, 5};
  Bytes blob;
  encode_counts(counts, blob);
  std::vector<uint32_t> back;
  for (size_t cut = 0; cut < blob.size(); ++cut)
    EXPECT_FALSE(decode_counts(ByteSpan(blob).first(cut), &back)) << "cut at " << cut;
  Bytes trailing = blob;
  trailing.push_back(0);
  EXPECT_FALSE(decode_counts(trailing, &back));
  Bytes huge;
  put_varint(huge, 1ull << 40);  // claims a trillion experts in a 7-byte blob
  put_varint(huge, 0);
  EXPECT_FALSE(decode_counts(huge, &back));
}

TEST(PeerBytes, TotalsAddUpEveryPeer) {
  const std::vector<PeerBytes> peers = {{0, 10, 1}, {3, 0, 20}, {7, uint64_t{1} << 40, 5}};
  const PeerTotals t = peer_totals(peers);
  EXPECT_EQ(t.send_bytes, 10 + (uint64_t{1} << 40));
  EXPECT_EQ(t.recv_bytes, 26u);
  EXPECT_EQ(peer_totals({}).send_bytes, 0u);
}

TEST(PeerBytes, RoundTripDenseSparseAndUnordered) {
  const std::vector<std::vector<PeerBytes>> cases = {
      {},
      {{0, 10, 20}, {1, 0, 0}, {2, 1ull << 40, 7}, {3, 5, 5}},
      {{7, 1, 2}, {3, 3, 4}, {255, 5, 6}, {-1, 7, 8}},
  };
  for (const auto& peers : cases) {
    Bytes blob;
    encode_peer_bytes(peers, blob);
    std::vector<PeerBytes> back;
    ASSERT_TRUE(decode_peer_bytes(blob, &back));
    EXPECT_EQ(back, peers);
  }
  std::vector<PeerBytes> dense(8);
  for (int i = 0; i < 8; ++i) dense[i] = {i, 100, 100};
  Bytes blob;
  encode_peer_bytes(dense, blob);
  EXPECT_EQ(blob.size(), 1u + 8 * 3);  // one byte per peer id delta and per small byte count
}

TEST(PeerBytes, RejectsTruncation) {
  std::vector<PeerBytes> peers = {{0, 1000, 2000}, {1, 3, 4}};
  Bytes blob;
  encode_peer_bytes(peers, blob);
  std::vector<PeerBytes> back;
  for (size_t cut = 0; cut < blob.size(); ++cut) EXPECT_FALSE(decode_peer_bytes(ByteSpan(blob).first(cut), &back));
}

void expect_routing_round_trip(const std::vector<int32_t>& ids, uint32_t top_k, bool with_weights,
                               size_t expected_id_width) {
  const uint32_t tokens = static_cast<uint32_t>(ids.size() / top_k);
  std::vector<float> weights(ids.size());
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 1.0f / static_cast<float>(i + 1);
  Bytes blob;
  encode_routing(tokens, top_k, ids.data(), with_weights ? weights.data() : nullptr, blob);
  Routing back;
  ASSERT_TRUE(decode_routing(blob, &back));
  EXPECT_EQ(back.num_tokens, tokens);
  EXPECT_EQ(back.top_k, top_k);
  EXPECT_EQ(back.expert_ids, ids);
  if (with_weights)
    EXPECT_EQ(back.gate_weights, weights);
  else
    EXPECT_TRUE(back.gate_weights.empty());
  const size_t header = 4;  // two one-byte varints, width, flags
  EXPECT_EQ(blob.size(), header + ids.size() * (expected_id_width + (with_weights ? 4 : 0)));
}

TEST(Routing, PicksTheNarrowestIdWidth) {
  expect_routing_round_trip({0, 255, 17, 3}, 2, true, 1);
  expect_routing_round_trip({0, 256, 511, 3}, 2, false, 2);
  expect_routing_round_trip({70000, 1, 2, 3}, 4, true, 4);
  expect_routing_round_trip({-1, 4, 2, 3}, 2, true, 4);
}

TEST(Routing, RejectsBadWidthFlagsAndTruncation) {
  std::vector<int32_t> ids = {1, 2, 3, 4};
  Bytes blob;
  encode_routing(2, 2, ids.data(), nullptr, blob);
  Routing back;
  for (size_t cut = 0; cut < blob.size(); ++cut) EXPECT_FALSE(decode_routing(ByteSpan(blob).first(cut), &back));
  Bytes bad_width = blob;
  bad_width[2] = 3;
  EXPECT_FALSE(decode_routing(bad_width, &back));
  Bytes bad_flags = blob;
  bad_flags[3] = 2;
  EXPECT_FALSE(decode_routing(bad_flags, &back));
  Bytes huge;
  put_varint(huge, 0xFFFFFFFFu);
  put_varint(huge, 0xFFFFFFFFu);
  huge.push_back(4);
  huge.push_back(1);
  EXPECT_FALSE(decode_routing(huge, &back));
}

TEST(Placement, RoundTripsReplicas) {
  std::vector<PlacementSlot> slots = {{0, 0}, {1, 0}, {2, 1}, {0, 1}, {3, 1}};
  Bytes blob;
  encode_placement(slots, blob);
  std::vector<PlacementSlot> back;
  ASSERT_TRUE(decode_placement(blob, &back));
  EXPECT_EQ(back, slots);
  for (size_t cut = 0; cut < blob.size(); ++cut) EXPECT_FALSE(decode_placement(ByteSpan(blob).first(cut), &back));
}

TEST(Decoders, SurviveRandomBytes) {
  std::mt19937 rng(11);
  std::vector<uint32_t> counts;
  std::vector<PeerBytes> peers;
  std::vector<PlacementSlot> slots;
  Routing routing;
  for (int trial = 0; trial < 20000; ++trial) {
    Bytes junk(rng() % 64);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    // Junk must never crash (the sanitizer builds watch this); junk that happens to be
    // well-formed must decode to values that survive a round trip.
    if (decode_counts(junk, &counts)) {
      Bytes again;
      encode_counts(counts, again);
      std::vector<uint32_t> twice;
      ASSERT_TRUE(decode_counts(again, &twice));
      EXPECT_EQ(twice, counts);
    }
    if (decode_peer_bytes(junk, &peers)) {
      Bytes again;
      encode_peer_bytes(peers, again);
      std::vector<PeerBytes> twice;
      ASSERT_TRUE(decode_peer_bytes(again, &twice));
      EXPECT_EQ(twice, peers);
    }
    (void)decode_placement(junk, &slots);
    (void)decode_routing(junk, &routing);
  }
}

}  // namespace
}  // namespace moeprof::wire
