// Encoders and bounds-checked decoders for wire frames and for the compact blobs that both
// the wire's variable parts and the trace DB's BLOB columns use (one encoding, one codec).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "moeprof/wire/records.h"

namespace moeprof::wire {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// CRC-32 (IEEE 802.3 polynomial, as zlib's crc32).
uint32_t crc32(ByteSpan data, uint32_t crc = 0);

// LEB128 varints and zigzag for signed values.
void put_varint(Bytes& out, uint64_t value);
inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
inline constexpr size_t kMaxVarintBytes = 10;

// Appends many varints to `out` through a plain pointer (the encoders' hot loops): room for
// `max_bytes` is made up front and the unused rest is trimmed when the appender goes away.
class VarintAppender {
 public:
  VarintAppender(Bytes& out, size_t max_bytes) : out_(out), start_(out.size()) {
    out.resize(start_ + max_bytes);
    p_ = out.data() + start_;
  }
  ~VarintAppender() { out_.resize(static_cast<size_t>(p_ - out_.data())); }
  VarintAppender(const VarintAppender&) = delete;
  VarintAppender& operator=(const VarintAppender&) = delete;

  void put(uint64_t value) {
    while (value >= 0x80) {
      *p_++ = static_cast<uint8_t>(value | 0x80);
      value >>= 7;
    }
    *p_++ = static_cast<uint8_t>(value);
  }
  void put_signed(int64_t value) { put(zigzag(value)); }

 private:
  Bytes& out_;
  size_t start_;
  uint8_t* p_;
};

// Reads from a byte span; every read checks bounds and a failed read makes the reader bad.
class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}
  // Inline for the one-byte values that most encodings are made of (counts near their base,
  // small deltas); longer ones take the checked loop.
  // One- and two-byte varints (counts below 16384: nearly all of them) decode inline.
  bool varint(uint64_t* value) {
    if (ok_ && pos_ < data_.size()) {
      const uint8_t first = data_[pos_];
      if (first < 0x80) {
        *value = first;
        ++pos_;
        return true;
      }
      if (pos_ + 1 < data_.size() && data_[pos_ + 1] < 0x80) {
        *value = (first & 0x7Fu) | (static_cast<uint64_t>(data_[pos_ + 1]) << 7);
        pos_ += 2;
        return true;
      }
    }
    return varint_multibyte(value);
  }
  bool bytes(size_t n, ByteSpan* out);
  template <class T>
  bool fixed(T* value) {
    ByteSpan b;
    if (!bytes(sizeof(T), &b)) return false;
    std::memcpy(value, b.data(), sizeof(T));
    return true;
  }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == data_.size(); }

 private:
  bool varint_multibyte(uint64_t* value);
  ByteSpan data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// ---- Blob encodings -------------------------------------------------------------------
// Expert token counts: varint n, varint base, then n zigzag varints of count[i] - base.
// Any base decodes; the encoder uses the median, so most counts take one byte whether the
// load is uniform or skewed. Returns the sum of the counts (the callers all need it).
uint64_t encode_counts(std::span<const uint32_t> counts, Bytes& out);
bool decode_counts(ByteSpan blob, std::vector<uint32_t>* counts);
// Reads one counts encoding from the middle of a longer blob (the trace DB's chunks).
bool read_counts(ByteReader& in, std::vector<uint32_t>* counts);

// Per-peer all-to-all bytes: varint n, then per peer: zigzag varint (peer - previous peer - 1)
// (so dense peer lists 0..n-1 cost one byte each), varint send bytes, varint recv bytes.
struct PeerBytes {
  int32_t peer;
  uint64_t send_bytes;
  uint64_t recv_bytes;
  bool operator==(const PeerBytes&) const = default;
};
// Bytes sent and received over all peers of one all-to-all.
struct PeerTotals {
  uint64_t send_bytes = 0, recv_bytes = 0;
};
PeerTotals peer_totals(std::span<const PeerBytes> peers);
void encode_peer_bytes(std::span<const PeerBytes> peers, Bytes& out);
bool decode_peer_bytes(ByteSpan blob, std::vector<PeerBytes>* peers);
bool read_peer_bytes(ByteReader& in, std::vector<PeerBytes>* peers);

// Router decisions: varint num_tokens, varint top_k, u8 id width (1, 2 or 4 bytes; 4 is
// signed, the others unsigned), u8 flags (bit 0: gate weights present), ids (token-major,
// num_tokens * top_k), then float32 weights in the same order when present.
struct Routing {
  uint32_t num_tokens = 0;
  uint32_t top_k = 0;
  std::vector<int32_t> expert_ids;
  std::vector<float> gate_weights;  // empty when none were recorded
};
void encode_routing(uint32_t num_tokens, uint32_t top_k, const int32_t* expert_ids,
                    const float* gate_weights /* may be null */, Bytes& out);
bool decode_routing(ByteSpan blob, Routing* routing);

// Placement of one layer: varint n, then n (varint expert, varint rank) slots. An expert
// that appears in several slots is replicated.
struct PlacementSlot {
  int32_t expert;
  int32_t rank;
  bool operator==(const PlacementSlot&) const = default;
};
void encode_placement(std::span<const PlacementSlot> slots, Bytes& out);
bool decode_placement(ByteSpan blob, std::vector<PlacementSlot>* slots);

// ---- Frames ---------------------------------------------------------------------------
// Builds one frame at a time: header, then records appended with their variable parts.
class FrameWriter {
 public:
  void begin(uint64_t sequence);
  // Appends a fixed record (its var_size, if any, is set from `var`) and its variable part.
  template <class R>
  void append(R record, ByteSpan var = {}) {
    if constexpr (requires { record.var_size; }) record.var_size = static_cast<uint32_t>(var.size());
    append_raw(&record, sizeof(R), var);
  }
  void append_raw(const void* fixed, size_t fixed_size, ByteSpan var);
  size_t payload_size() const { return buffer_.size() - sizeof(FrameHeader); }
  uint32_t record_count() const { return record_count_; }
  // Completes the header (sizes, count, checksum) and returns the whole frame.
  ByteSpan finish();

 private:
  Bytes buffer_;
  uint32_t record_count_ = 0;
};

enum class FrameStatus { kOk, kNeedMore, kError };

// Looks at the start of `buffer` for one complete frame. kOk: `payload` and `frame_size`
// are set. kNeedMore: the frame is not complete yet (nothing is wrong so far). kError:
// bad magic, unsupported version, oversized, or checksum mismatch; `error` says which.
FrameStatus parse_frame(ByteSpan buffer, FrameHeader* header, ByteSpan* payload, size_t* frame_size,
                        std::string* error);

// One record inside a payload: its fixed part (tag included) and its variable part.
struct RecordView {
  RecordType type;
  ByteSpan fixed;
  ByteSpan var;
  template <class R>
  R as() const {
    R r;
    std::memcpy(&r, fixed.data(), sizeof(R));
    return r;
  }
};

// Walks the records of a payload with full bounds checking.
class RecordIterator {
 public:
  explicit RecordIterator(ByteSpan payload) : payload_(payload) {}
  // false at the end or on error; error() is empty at a clean end.
  bool next(RecordView* record);
  const std::string& error() const { return error_; }

 private:
  ByteSpan payload_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace moeprof::wire
