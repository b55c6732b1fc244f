// The entry encodings inside the trace DB's chunk rows (schemas/trace.sql, "Chunks"): the
// high-rate tables hold many events per SQLite row, because one row per event caps ingest
// at SQLite's per-row cost. Shared by the writer, the reader and the integrity check.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moeprof/wire/codec.h"

namespace moeprof::store::chunk {

// ---- expert_load / expert_drops: entries of one (rank, step) ----
// Entry: zigzag varint layer, then the counts encoding of wire/codec.h. Returns the sum of
// the counts.
uint64_t append_counts(wire::Bytes& blob, int32_t layer, std::span<const uint32_t> counts);
// Reads the next entry; false at a malformed one (check reader.at_end() for the end).
bool read_counts(wire::ByteReader& reader, int32_t* layer, std::vector<uint32_t>* counts);

// ---- all_to_all / compute_span: entries of one rank, in the order they were written ----
// Entry: zigzag varint (start - previous entry's start; the first: start itself),
// zigzag varint (end - start), zigzag varint (step - previous entry's step; the first: step),
// zigzag varint layer, varint kind (compute kind or all-to-all phase), varint source,
// varint tid, then the table's tail: compute_span a varint string id (0: unnamed),
// all_to_all the peer-bytes encoding of wire/codec.h.
struct SpanHead {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step = 0;
  int32_t layer = 0;
  uint32_t kind = 0;
  uint32_t source = 0;
  uint32_t tid = 0;
};

// Appends entries to one chunk; the deltas run from the chunk's first entry.
class SpanEncoder {
 public:
  void append_compute(wire::Bytes& blob, const SpanHead& head, int64_t name_id);
  void append_all_to_all(wire::Bytes& blob, const SpanHead& head, std::span<const wire::PeerBytes> peers);
  void reset() { previous_start_ = previous_step_ = 0; }

 private:
  void append_head(wire::Bytes& blob, const SpanHead& head);
  int64_t previous_start_ = 0;
  int64_t previous_step_ = 0;
};

// Reads the entries of one chunk back; every read false at a malformed entry.
class SpanDecoder {
 public:
  explicit SpanDecoder(wire::ByteSpan blob) : in_(blob) {}
  bool at_end() const { return in_.at_end(); }
  bool read_compute(SpanHead* head, int64_t* name_id);
  bool read_all_to_all(SpanHead* head, std::vector<wire::PeerBytes>* peers);

 private:
  bool read_head(SpanHead* head);
  wire::ByteReader in_;
  int64_t previous_start_ = 0;
  int64_t previous_step_ = 0;
};

}  // namespace moeprof::store::chunk
