// The chunk entry encodings of the trace DB (collector/store/src/chunk_codec.h).
#include "chunk_codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace moeprof::store::chunk {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();

bool same(const SpanHead& a, const SpanHead& b) {
  return a.start_ns == b.start_ns && a.end_ns == b.end_ns && a.step == b.step && a.layer == b.layer &&
         a.kind == b.kind && a.source == b.source && a.tid == b.tid;
}

TEST(ChunkCodec, CountsEntriesRoundTripAndReturnTheirSums) {
  wire::Bytes blob;
  const std::vector<std::vector<uint32_t>> counts = {{1, 2, 3}, {}, {0, std::numeric_limits<uint32_t>::max(), 7}};
  const int32_t layers[] = {0, -5, std::numeric_limits<int32_t>::max()};
  EXPECT_EQ(append_counts(blob, layers[0], counts[0]), 6u);
  EXPECT_EQ(append_counts(blob, layers[1], counts[1]), 0u);
  EXPECT_EQ(append_counts(blob, layers[2], counts[2]), uint64_t{7} + std::numeric_limits<uint32_t>::max());
  wire::ByteReader in(blob);
  for (size_t i = 0; i < counts.size(); ++i) {
    int32_t layer;
    std::vector<uint32_t> got;
    ASSERT_TRUE(read_counts(in, &layer, &got)) << i;
    EXPECT_EQ(layer, layers[i]);
    EXPECT_EQ(got, counts[i]);
  }
  EXPECT_TRUE(in.at_end());
}

TEST(ChunkCodec, SpanEntriesRoundTripIncludingExtremeTimes) {
  const std::vector<SpanHead> heads = {
      {1000, 2000, 5, 3, 1, 0, 77},
      {900, 950, 4, 3, 2, 1, 78},             // earlier than the previous entry
      {kMax, kMin, kMin, -1, 4, 6, 0xFFFFFFFFu},  // deltas that overflow int64 wrap
      {kMin, kMax, kMax, std::numeric_limits<int32_t>::min(), 0, 0, 0},
  };
  wire::Bytes compute_blob, a2a_blob;
  SpanEncoder compute, a2a;
  const std::vector<wire::PeerBytes> peers = {{0, 10, 20}, {3, 1ull << 40, 0}};
  for (size_t i = 0; i < heads.size(); ++i) {
    compute.append_compute(compute_blob, heads[i], static_cast<int64_t>(i) * 1000);
    a2a.append_all_to_all(a2a_blob, heads[i], peers);
  }
  SpanDecoder compute_in(compute_blob), a2a_in(a2a_blob);
  for (size_t i = 0; i < heads.size(); ++i) {
    SpanHead head;
    int64_t name_id;
    std::vector<wire::PeerBytes> got_peers;
    ASSERT_TRUE(compute_in.read_compute(&head, &name_id)) << i;
    EXPECT_TRUE(same(head, heads[i])) << i;
    EXPECT_EQ(name_id, static_cast<int64_t>(i) * 1000);
    ASSERT_TRUE(a2a_in.read_all_to_all(&head, &got_peers)) << i;
    EXPECT_TRUE(same(head, heads[i])) << i;
    EXPECT_EQ(got_peers, peers);
  }
  EXPECT_TRUE(compute_in.at_end());
  EXPECT_TRUE(a2a_in.at_end());
}

TEST(ChunkCodec, EncoderResetStartsANewChunk) {
  SpanEncoder encoder;
  wire::Bytes first, second;
  encoder.append_compute(first, {500, 600, 9, 0, 0, 0, 1}, 0);
  encoder.reset();
  encoder.append_compute(second, {500, 600, 9, 0, 0, 0, 1}, 0);
  EXPECT_EQ(first, second);  // deltas from zero again, so the chunk decodes on its own
}

TEST(ChunkCodec, TruncatedEntriesAreRejectedAtEveryLength) {
  wire::Bytes blob;
  SpanEncoder encoder;
  encoder.append_all_to_all(blob, {1000, 2000, 5, 3, 1, 0, 77}, std::vector<wire::PeerBytes>{{0, 300, 400}});
  for (size_t n = 0; n < blob.size(); ++n) {
    SpanDecoder in(wire::ByteSpan(blob.data(), n));
    SpanHead head;
    std::vector<wire::PeerBytes> peers;
    EXPECT_TRUE(n == 0 ? in.at_end() : !in.read_all_to_all(&head, &peers)) << n;
  }
  wire::Bytes counts;
  append_counts(counts, 2, std::vector<uint32_t>{5, 500, 50000});
  for (size_t n = 1; n < counts.size(); ++n) {
    wire::ByteReader in(wire::ByteSpan(counts.data(), n));
    int32_t layer;
    std::vector<uint32_t> got;
    EXPECT_FALSE(read_counts(in, &layer, &got)) << n;
  }
}

TEST(ChunkCodec, OutOfRangeFieldsAreRejected) {
  // A layer beyond int32 and a tid beyond uint32 do not decode.
  wire::Bytes blob;
  wire::put_varint(blob, wire::zigzag(int64_t{1} << 40));
  wire::encode_counts(std::vector<uint32_t>{1}, blob);
  wire::ByteReader counts_in(blob);
  int32_t layer;
  std::vector<uint32_t> counts;
  EXPECT_FALSE(read_counts(counts_in, &layer, &counts));

  wire::Bytes span;
  for (uint64_t v : {uint64_t{2}, uint64_t{2}, uint64_t{0}, uint64_t{0}, uint64_t{1}, uint64_t{0}, uint64_t{1} << 33, uint64_t{0}})
    wire::put_varint(span, v);
  SpanDecoder in(span);
  SpanHead head;
  int64_t name_id;
  EXPECT_FALSE(in.read_compute(&head, &name_id));
}

}  // namespace
}  // namespace moeprof::store::chunk
