#include "moeprof/wire/codec.h"

#include <algorithm>
#include <array>
#include <limits>

namespace moeprof::wire {
namespace {

// Slice-by-8 tables: table[0] is the classic byte table; table[k][i] is the CRC of byte i
// followed by k zero bytes, so eight bytes fold in with eight independent lookups.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (int k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
  return t;
}
constexpr CrcTables kCrc = make_crc_tables();

template <class T>
void put_fixed(Bytes& out, T value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

// Reads a varint that must fit in T.
template <class T>
bool read_varint_as(ByteReader& in, T* value) {
  uint64_t v;
  if (!in.varint(&v) || v > std::numeric_limits<T>::max()) return false;
  *value = static_cast<T>(v);
  return true;
}

// A count read from a blob must be backed by at least `min_bytes_each` bytes per element, so
// a corrupt count can never make us allocate more than the blob could hold.
bool plausible_count(const ByteReader& in, uint64_t n, uint64_t min_bytes_each) {
  return min_bytes_each == 0 || n <= in.remaining() / min_bytes_each;
}

}  // namespace

uint32_t crc32(ByteSpan data, uint32_t crc) {
  crc = ~crc;
  const uint8_t* p = data.data();
  size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) {  // the wire is little-endian, as is every host we build for
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = kCrc[7][lo & 0xFFu] ^ kCrc[6][(lo >> 8) & 0xFFu] ^ kCrc[5][(lo >> 16) & 0xFFu] ^ kCrc[4][lo >> 24] ^
          kCrc[3][hi & 0xFFu] ^ kCrc[2][(hi >> 8) & 0xFFu] ^ kCrc[1][(hi >> 16) & 0xFFu] ^ kCrc[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = kCrc[0][(crc ^ *p) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

void put_varint(Bytes& out, uint64_t value) {
  if (value < 0x80) return out.push_back(static_cast<uint8_t>(value));
  VarintAppender(out, kMaxVarintBytes).put(value);
}

bool ByteReader::varint_multibyte(uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; ok_ && shift < 64; shift += 7) {
    if (pos_ >= data_.size()) break;
    const uint8_t b = data_[pos_++];
    if (shift == 63 && b > 1) break;  // would overflow 64 bits
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  ok_ = false;
  return false;
}

bool ByteReader::bytes(size_t n, ByteSpan* out) {
  if (!ok_ || n > data_.size() - pos_) {
    ok_ = false;
    return false;
  }
  *out = data_.subspan(pos_, n);
  pos_ += n;
  return true;
}

// ---- counts -------------------------------------------------------------------------------

uint64_t encode_counts(std::span<const uint32_t> counts, Bytes& out) {
  // The median keeps both near-uniform and Zipf-skewed loads at about one byte per expert:
  // only the few hot experts far above it need more. Any base decodes, so for long vectors
  // the median of an evenly strided sample stands in (the exact one costs more than the
  // rest of the encoding).
  constexpr size_t kMaxSample = 31;
  uint32_t base = 0;
  if (!counts.empty()) {
    std::array<uint32_t, kMaxSample> sample;
    const size_t stride = (counts.size() + kMaxSample - 1) / kMaxSample;
    size_t n = 0;
    for (size_t i = 0; i < counts.size(); i += stride) sample[n++] = counts[i];
    std::nth_element(sample.begin(), sample.begin() + n / 2, sample.begin() + n);
    base = sample[n / 2];
  }
  // A zigzag delta of two uint32 values takes at most 5 bytes.
  VarintAppender append(out, 2 * kMaxVarintBytes + 5 * counts.size());
  append.put(counts.size());
  append.put(base);
  uint64_t sum = 0;
  for (uint32_t c : counts) {
    append.put_signed(static_cast<int64_t>(c) - static_cast<int64_t>(base));
    sum += c;
  }
  return sum;
}

bool read_counts(ByteReader& in, std::vector<uint32_t>* counts) {
  uint64_t n, base;
  if (!in.varint(&n) || !in.varint(&base) || base > std::numeric_limits<uint32_t>::max() ||
      !plausible_count(in, n, 1))
    return false;
  counts->resize(n);
  for (auto& c : *counts) {
    uint64_t z;
    if (!in.varint(&z)) return false;
    const int64_t v = static_cast<int64_t>(base) + unzigzag(z);
    if (v < 0 || v > std::numeric_limits<uint32_t>::max()) return false;
    c = static_cast<uint32_t>(v);
  }
  return true;
}

bool decode_counts(ByteSpan blob, std::vector<uint32_t>* counts) {
  ByteReader in(blob);
  return read_counts(in, counts) && in.at_end();
}

// ---- peer bytes ---------------------------------------------------------------------------

PeerTotals peer_totals(std::span<const PeerBytes> peers) {
  PeerTotals t;
  for (const PeerBytes& p : peers) {
    t.send_bytes += p.send_bytes;
    t.recv_bytes += p.recv_bytes;
  }
  return t;
}

void encode_peer_bytes(std::span<const PeerBytes> peers, Bytes& out) {
  VarintAppender append(out, (1 + 3 * peers.size()) * kMaxVarintBytes);
  append.put(peers.size());
  int64_t previous = -1;
  for (const PeerBytes& p : peers) {
    append.put_signed(static_cast<int64_t>(p.peer) - previous - 1);
    append.put(p.send_bytes);
    append.put(p.recv_bytes);
    previous = p.peer;
  }
}

bool read_peer_bytes(ByteReader& in, std::vector<PeerBytes>* peers) {
  uint64_t n;
  if (!in.varint(&n) || !plausible_count(in, n, 3)) return false;
  peers->resize(n);
  int64_t previous = -1;
  for (auto& p : *peers) {
    uint64_t z;
    if (!in.varint(&z) || !in.varint(&p.send_bytes) || !in.varint(&p.recv_bytes)) return false;
    const int64_t peer = previous + 1 + unzigzag(z);
    if (peer < std::numeric_limits<int32_t>::min() || peer > std::numeric_limits<int32_t>::max()) return false;
    p.peer = static_cast<int32_t>(peer);
    previous = peer;
  }
  return true;
}

bool decode_peer_bytes(ByteSpan blob, std::vector<PeerBytes>* peers) {
  ByteReader in(blob);
  return read_peer_bytes(in, peers) && in.at_end();
}

// ---- routing ------------------------------------------------------------------------------

void encode_routing(uint32_t num_tokens, uint32_t top_k, const int32_t* expert_ids, const float* gate_weights,
                    Bytes& out) {
  const size_t n = static_cast<size_t>(num_tokens) * top_k;
  int32_t max_id = 0;
  bool negative = false;
  for (size_t i = 0; i < n; ++i) {
    negative |= expert_ids[i] < 0;
    max_id = std::max(max_id, expert_ids[i]);
  }
  const uint8_t width = negative ? 4 : max_id <= 0xFF ? 1 : max_id <= 0xFFFF ? 2 : 4;
  put_varint(out, num_tokens);
  put_varint(out, top_k);
  out.push_back(width);
  out.push_back(gate_weights != nullptr ? 1 : 0);
  out.reserve(out.size() + n * (width + (gate_weights ? sizeof(float) : 0)));
  for (size_t i = 0; i < n; ++i) {
    switch (width) {
      case 1: out.push_back(static_cast<uint8_t>(expert_ids[i])); break;
      case 2: put_fixed(out, static_cast<uint16_t>(expert_ids[i])); break;
      default: put_fixed(out, expert_ids[i]); break;
    }
  }
  if (gate_weights != nullptr) {
    const auto* p = reinterpret_cast<const uint8_t*>(gate_weights);
    out.insert(out.end(), p, p + n * sizeof(float));
  }
}

bool decode_routing(ByteSpan blob, Routing* routing) {
  ByteReader in(blob);
  uint8_t width, flags;
  if (!read_varint_as(in, &routing->num_tokens) || !read_varint_as(in, &routing->top_k) || !in.fixed(&width) ||
      !in.fixed(&flags))
    return false;
  if ((width != 1 && width != 2 && width != 4) || (flags & ~1u) != 0) return false;
  const uint64_t n = static_cast<uint64_t>(routing->num_tokens) * routing->top_k;
  const uint64_t bytes_each = width + ((flags & 1) ? sizeof(float) : 0);
  if (n != 0 && in.remaining() / bytes_each < n) return false;
  ByteSpan ids, weights;
  if (!in.bytes(n * width, &ids)) return false;
  routing->expert_ids.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = ids.data() + i * width;
    if (width == 1) {
      routing->expert_ids[i] = p[0];
    } else if (width == 2) {
      uint16_t v;
      std::memcpy(&v, p, 2);
      routing->expert_ids[i] = v;
    } else {
      std::memcpy(&routing->expert_ids[i], p, 4);
    }
  }
  routing->gate_weights.clear();
  if (flags & 1) {
    if (!in.bytes(n * sizeof(float), &weights)) return false;
    routing->gate_weights.resize(n);
    if (n != 0) std::memcpy(routing->gate_weights.data(), weights.data(), n * sizeof(float));
  }
  return in.at_end();
}

// ---- placement ----------------------------------------------------------------------------

void encode_placement(std::span<const PlacementSlot> slots, Bytes& out) {
  put_varint(out, slots.size());
  for (const PlacementSlot& s : slots) {
    put_varint(out, zigzag(s.expert));
    put_varint(out, zigzag(s.rank));
  }
}

bool decode_placement(ByteSpan blob, std::vector<PlacementSlot>* slots) {
  ByteReader in(blob);
  uint64_t n;
  if (!in.varint(&n) || !plausible_count(in, n, 2)) return false;
  slots->resize(n);
  for (auto& s : *slots) {
    uint64_t e, r;
    if (!in.varint(&e) || !in.varint(&r)) return false;
    const int64_t expert = unzigzag(e), rank = unzigzag(r);
    if (expert < std::numeric_limits<int32_t>::min() || expert > std::numeric_limits<int32_t>::max() ||
        rank < std::numeric_limits<int32_t>::min() || rank > std::numeric_limits<int32_t>::max())
      return false;
    s = {static_cast<int32_t>(expert), static_cast<int32_t>(rank)};
  }
  return in.at_end();
}

// ---- frames -------------------------------------------------------------------------------

void FrameWriter::begin(uint64_t sequence) {
  buffer_.assign(sizeof(FrameHeader), 0);
  record_count_ = 0;
  FrameHeader header{};
  header.magic = kFrameMagic;
  header.version = kWireVersion;
  header.header_size = sizeof(FrameHeader);
  header.sequence = sequence;
  std::memcpy(buffer_.data(), &header, sizeof header);
}

void FrameWriter::append_raw(const void* fixed, size_t fixed_size, ByteSpan var) {
  const auto* p = static_cast<const uint8_t*>(fixed);
  buffer_.insert(buffer_.end(), p, p + fixed_size);
  buffer_.insert(buffer_.end(), var.begin(), var.end());
  ++record_count_;
}

ByteSpan FrameWriter::finish() {
  FrameHeader header;
  std::memcpy(&header, buffer_.data(), sizeof header);
  header.payload_size = static_cast<uint32_t>(payload_size());
  header.record_count = record_count_;
  header.payload_crc32 = crc32(ByteSpan(buffer_).subspan(sizeof(FrameHeader)));
  std::memcpy(buffer_.data(), &header, sizeof header);
  return buffer_;
}

FrameStatus parse_frame(ByteSpan buffer, FrameHeader* header, ByteSpan* payload, size_t* frame_size,
                        std::string* error) {
  // Check what we can as early as possible: a stream that starts with garbage is rejected
  // before we wait for (or allocate) anything.
  if (buffer.size() >= sizeof(uint32_t)) {
    uint32_t magic;
    std::memcpy(&magic, buffer.data(), sizeof magic);
    if (magic != kFrameMagic) {
      *error = "bad frame magic (not a moeprof wire stream)";
      return FrameStatus::kError;
    }
  }
  if (buffer.size() < sizeof(FrameHeader)) return FrameStatus::kNeedMore;
  std::memcpy(header, buffer.data(), sizeof *header);
  if (header->version < kOldestWireVersion || header->version > kWireVersion) {
    *error = "unsupported wire version " + std::to_string(header->version) + " (this build speaks " +
             std::to_string(kOldestWireVersion) + " to " + std::to_string(kWireVersion) + ")";
    return FrameStatus::kError;
  }
  if (header->header_size < sizeof(FrameHeader) || header->header_size > 4096) {
    *error = "bad frame header size " + std::to_string(header->header_size);
    return FrameStatus::kError;
  }
  if (header->payload_size > kMaxPayloadSize) {
    *error = "frame payload of " + std::to_string(header->payload_size) + " bytes exceeds the limit of " +
             std::to_string(kMaxPayloadSize);
    return FrameStatus::kError;
  }
  const size_t total = static_cast<size_t>(header->header_size) + header->payload_size;
  if (buffer.size() < total) return FrameStatus::kNeedMore;
  const ByteSpan body = buffer.subspan(header->header_size, header->payload_size);
  if (crc32(body) != header->payload_crc32) {
    *error = "frame " + std::to_string(header->sequence) + " failed its checksum";
    return FrameStatus::kError;
  }
  *payload = body;
  *frame_size = total;
  return FrameStatus::kOk;
}

bool RecordIterator::next(RecordView* record) {
  if (pos_ == payload_.size() || !error_.empty()) return false;
  const uint8_t tag = payload_[pos_];
  const size_t fixed_size = tag < kRecordTypeCount ? kRecordFixedSize[tag] : 0;
  if (fixed_size == 0) {
    error_ = "unknown record type " + std::to_string(tag) + " at payload offset " + std::to_string(pos_);
    return false;
  }
  if (payload_.size() - pos_ < fixed_size) {
    error_ = "record type " + std::to_string(tag) + " truncated at payload offset " + std::to_string(pos_);
    return false;
  }
  uint32_t var_size = 0;
  if (kRecordHasVarPart[tag]) {
    std::memcpy(&var_size, payload_.data() + pos_ + fixed_size - sizeof(uint32_t), sizeof var_size);
    if (payload_.size() - pos_ - fixed_size < var_size) {
      error_ = "record type " + std::to_string(tag) + " variable part overruns the frame at offset " +
               std::to_string(pos_);
      return false;
    }
  }
  record->type = static_cast<RecordType>(tag);
  record->fixed = payload_.subspan(pos_, fixed_size);
  record->var = payload_.subspan(pos_ + fixed_size, var_size);
  pos_ += fixed_size + var_size;
  return true;
}

}  // namespace moeprof::wire
