// Frames and record iteration: round trip of every record shape, and rejection of corrupt,
// truncated, foreign and oversized frames.
#include <gtest/gtest.h>

#include <random>

#include "moeprof/wire/codec.h"

namespace moeprof::wire {
namespace {

Bytes build_sample_frame(uint64_t sequence) {
  FrameWriter w;
  w.begin(sequence);
  Hello hello{};
  hello.tag = static_cast<uint8_t>(RecordType::kHello);
  hello.pid = 4242;
  hello.rank_hint = 3;
  const std::string host_and_command = std::string("node7") + "./train\0--steps\0" "5";
  hello.host_size = 5;
  w.append(hello, ByteSpan(reinterpret_cast<const uint8_t*>(host_and_command.data()), host_and_command.size()));
  StepMark step{static_cast<uint8_t>(RecordType::kStepBegin), 1000, 9};
  w.append(step);
  ExpertCounts counts{};
  counts.tag = static_cast<uint8_t>(RecordType::kExpertCounts);
  counts.step = 9;
  counts.layer = 2;
  const std::vector<uint32_t> values = {5, 0, 7, 130};
  Bytes blob;
  encode_counts(values, blob);
  w.append(counts, blob);
  Goodbye bye{static_cast<uint8_t>(RecordType::kGoodbye), 2000};
  w.append(bye);
  const ByteSpan frame = w.finish();
  return Bytes(frame.begin(), frame.end());
}

TEST(Frame, RoundTripsRecordsInOrder) {
  const Bytes frame = build_sample_frame(17);
  FrameHeader header;
  ByteSpan payload;
  size_t size = 0;
  std::string error;
  ASSERT_EQ(parse_frame(frame, &header, &payload, &size, &error), FrameStatus::kOk) << error;
  EXPECT_EQ(size, frame.size());
  EXPECT_EQ(+header.sequence, 17u);
  EXPECT_EQ(+header.record_count, 4u);
  EXPECT_EQ(+header.payload_size, frame.size() - sizeof(FrameHeader));

  RecordIterator it(payload);
  RecordView r;
  ASSERT_TRUE(it.next(&r));
  ASSERT_EQ(r.type, RecordType::kHello);
  const auto hello = r.as<Hello>();
  EXPECT_EQ(+hello.pid, 4242u);
  EXPECT_EQ(+hello.rank_hint, 3);
  EXPECT_EQ(+hello.var_size, r.var.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.var.data()), hello.host_size), "node7");
  ASSERT_TRUE(it.next(&r));
  ASSERT_EQ(r.type, RecordType::kStepBegin);
  EXPECT_EQ(+r.as<StepMark>().step, 9);
  ASSERT_TRUE(it.next(&r));
  ASSERT_EQ(r.type, RecordType::kExpertCounts);
  EXPECT_EQ(+r.as<ExpertCounts>().layer, 2);
  std::vector<uint32_t> counts;
  ASSERT_TRUE(decode_counts(r.var, &counts));
  EXPECT_EQ(counts, (std::vector<uint32_t>{5, 0, 7, 130}));
  ASSERT_TRUE(it.next(&r));
  EXPECT_EQ(r.type, RecordType::kGoodbye);
  EXPECT_FALSE(it.next(&r));
  EXPECT_TRUE(it.error().empty());
}

TEST(Frame, NeedsMoreUntilComplete) {
  const Bytes frame = build_sample_frame(0);
  FrameHeader header;
  ByteSpan payload;
  size_t size;
  std::string error;
  for (size_t cut = 0; cut < frame.size(); ++cut)
    EXPECT_EQ(parse_frame(ByteSpan(frame).first(cut), &header, &payload, &size, &error), FrameStatus::kNeedMore)
        << "cut at " << cut;
}

TEST(Frame, TwoFramesBackToBackParseOneAtATime) {
  Bytes stream = build_sample_frame(0);
  const Bytes second = build_sample_frame(1);
  stream.insert(stream.end(), second.begin(), second.end());
  FrameHeader header;
  ByteSpan payload;
  size_t size;
  std::string error;
  ASSERT_EQ(parse_frame(stream, &header, &payload, &size, &error), FrameStatus::kOk);
  EXPECT_EQ(+header.sequence, 0u);
  ASSERT_EQ(parse_frame(ByteSpan(stream).subspan(size), &header, &payload, &size, &error), FrameStatus::kOk);
  EXPECT_EQ(+header.sequence, 1u);
}

TEST(Frame, RejectsEveryFlippedPayloadByte) {
  const Bytes frame = build_sample_frame(0);
  for (size_t i = sizeof(FrameHeader); i < frame.size(); ++i) {
    Bytes bad = frame;
    bad[i] ^= 0x40;
    FrameHeader header;
    ByteSpan payload;
    size_t size;
    std::string error;
    EXPECT_EQ(parse_frame(bad, &header, &payload, &size, &error), FrameStatus::kError) << "byte " << i;
    EXPECT_NE(error.find("checksum"), std::string::npos);
  }
}

TEST(Frame, RejectsForeignVersionAndOversizedFrames) {
  FrameHeader header;
  ByteSpan payload;
  size_t size;
  std::string error;

  const Bytes http = {'G', 'E', 'T', ' ', '/', ' ', 'H'};
  EXPECT_EQ(parse_frame(http, &header, &payload, &size, &error), FrameStatus::kError);
  EXPECT_NE(error.find("magic"), std::string::npos);

  Bytes newer = build_sample_frame(0);
  FrameHeader h;
  std::memcpy(&h, newer.data(), sizeof h);
  h.version = kWireVersion + 1;
  std::memcpy(newer.data(), &h, sizeof h);
  EXPECT_EQ(parse_frame(newer, &header, &payload, &size, &error), FrameStatus::kError);
  EXPECT_NE(error.find("version"), std::string::npos);
  // Version 1 frames (agents before the capture records) are still read; version 0 never was.
  for (const uint16_t version : {uint16_t{1}, uint16_t{0}}) {
    Bytes older = build_sample_frame(0);
    std::memcpy(&h, older.data(), sizeof h);
    h.version = version;
    std::memcpy(older.data(), &h, sizeof h);
    EXPECT_EQ(parse_frame(older, &header, &payload, &size, &error), version == 1 ? FrameStatus::kOk : FrameStatus::kError);
  }

  // A header claiming 4 GiB is refused from the header alone, before any payload arrives.
  Bytes huge = build_sample_frame(0);
  std::memcpy(&h, huge.data(), sizeof h);
  h.payload_size = 0xFFFFFFF0u;
  std::memcpy(huge.data(), &h, sizeof h);
  huge.resize(sizeof(FrameHeader));
  EXPECT_EQ(parse_frame(huge, &header, &payload, &size, &error), FrameStatus::kError);
  EXPECT_NE(error.find("exceeds"), std::string::npos);
}

TEST(Records, IteratorRejectsUnknownTruncatedAndOverrunningRecords) {
  RecordView r;
  const Bytes unknown = {200, 0, 0};
  RecordIterator a(unknown);
  EXPECT_FALSE(a.next(&r));
  EXPECT_NE(a.error().find("unknown record type 200"), std::string::npos);

  const Bytes zero_tag = {0};
  RecordIterator z(zero_tag);
  EXPECT_FALSE(z.next(&r));
  EXPECT_FALSE(z.error().empty());

  StepMark step{static_cast<uint8_t>(RecordType::kStepEnd), 1, 2};
  Bytes truncated(sizeof step - 1);
  std::memcpy(truncated.data(), &step, truncated.size());
  RecordIterator b(truncated);
  EXPECT_FALSE(b.next(&r));
  EXPECT_NE(b.error().find("truncated"), std::string::npos);

  Marker marker{};
  marker.tag = static_cast<uint8_t>(RecordType::kMarker);
  marker.var_size = 1000;  // claims more bytes than follow
  Bytes overrun(sizeof marker + 10);
  std::memcpy(overrun.data(), &marker, sizeof marker);
  RecordIterator c(overrun);
  EXPECT_FALSE(c.next(&r));
  EXPECT_NE(c.error().find("overruns"), std::string::npos);
}

TEST(Records, SizeTableMatchesStructs) {
  EXPECT_EQ(kRecordFixedSize[static_cast<int>(RecordType::kAllToAll)], sizeof(AllToAll));
  EXPECT_EQ(kRecordFixedSize[static_cast<int>(RecordType::kDrops)], sizeof(Drops));
  for (int tag = 1; tag < kRecordTypeCount; ++tag) EXPECT_GT(kRecordFixedSize[tag], 1u) << tag;
}

TEST(Records, RandomPayloadsNeverCrashTheIterator) {
  std::mt19937 rng(5);
  const Bytes frame = build_sample_frame(0);
  const ByteSpan good_payload = ByteSpan(frame).subspan(sizeof(FrameHeader));
  for (int trial = 0; trial < 20000; ++trial) {
    Bytes payload(good_payload.begin(), good_payload.end());
    for (int flips = 1 + rng() % 4; flips > 0; --flips) payload[rng() % payload.size()] = static_cast<uint8_t>(rng());
    RecordIterator it(payload);
    RecordView r;
    size_t covered = 0;
    while (it.next(&r)) {
      covered += r.fixed.size() + r.var.size();
      ASSERT_LE(covered, payload.size());
    }
    if (it.error().empty()) {
      EXPECT_EQ(covered, payload.size());
    }
  }
}

}  // namespace
}  // namespace moeprof::wire
