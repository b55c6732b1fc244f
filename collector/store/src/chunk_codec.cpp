#include "chunk_codec.h"

#include <limits>

namespace moeprof::store::chunk {
namespace {

// Differences wrap instead of overflowing: any int64 pair round-trips exactly.
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

bool read_signed(wire::ByteReader& in, int64_t* value) {
  uint64_t z;
  if (!in.varint(&z)) return false;
  *value = wire::unzigzag(z);
  return true;
}

bool read_int32(wire::ByteReader& in, int32_t* value) {
  int64_t v;
  if (!read_signed(in, &v) || v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    return false;
  *value = static_cast<int32_t>(v);
  return true;
}

template <class T>
bool read_narrow(wire::ByteReader& in, T* value) {
  uint64_t v;
  if (!in.varint(&v) || v > std::numeric_limits<T>::max()) return false;
  *value = static_cast<T>(v);
  return true;
}

}  // namespace

uint64_t append_counts(wire::Bytes& blob, int32_t layer, std::span<const uint32_t> counts) {
  wire::put_varint(blob, wire::zigzag(layer));
  return wire::encode_counts(counts, blob);
}

bool read_counts(wire::ByteReader& in, int32_t* layer, std::vector<uint32_t>* counts) {
  return read_int32(in, layer) && wire::read_counts(in, counts);
}

void SpanEncoder::append_head(wire::Bytes& blob, const SpanHead& h) {
  wire::VarintAppender append(blob, 7 * wire::kMaxVarintBytes);
  append.put_signed(wrapping_sub(h.start_ns, previous_start_));
  append.put_signed(wrapping_sub(h.end_ns, h.start_ns));
  append.put_signed(wrapping_sub(h.step, previous_step_));
  append.put_signed(h.layer);
  append.put(h.kind);
  append.put(h.source);
  append.put(h.tid);
  previous_start_ = h.start_ns;
  previous_step_ = h.step;
}

void SpanEncoder::append_compute(wire::Bytes& blob, const SpanHead& head, int64_t name_id) {
  append_head(blob, head);
  wire::put_varint(blob, static_cast<uint64_t>(name_id));
}

void SpanEncoder::append_all_to_all(wire::Bytes& blob, const SpanHead& head, std::span<const wire::PeerBytes> peers) {
  append_head(blob, head);
  wire::encode_peer_bytes(peers, blob);
}

bool SpanDecoder::read_head(SpanHead* h) {
  int64_t start_delta, duration, step_delta;
  if (!read_signed(in_, &start_delta) || !read_signed(in_, &duration) || !read_signed(in_, &step_delta) ||
      !read_int32(in_, &h->layer) || !read_narrow(in_, &h->kind) || !read_narrow(in_, &h->source) ||
      !read_narrow(in_, &h->tid))
    return false;
  h->start_ns = previous_start_ = wrapping_add(previous_start_, start_delta);
  h->end_ns = wrapping_add(h->start_ns, duration);
  h->step = previous_step_ = wrapping_add(previous_step_, step_delta);
  return true;
}

bool SpanDecoder::read_compute(SpanHead* head, int64_t* name_id) {
  uint64_t id;
  if (!read_head(head) || !in_.varint(&id) || id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return false;
  *name_id = static_cast<int64_t>(id);
  return true;
}

bool SpanDecoder::read_all_to_all(SpanHead* head, std::vector<wire::PeerBytes>* peers) {
  return read_head(head) && wire::read_peer_bytes(in_, peers);
}

}  // namespace moeprof::store::chunk
