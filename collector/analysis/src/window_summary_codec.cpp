// The encodings of summary rows' data, as schemas/trace.sql ("Summaries") specifies them.
#include <bit>

#include "moeprof/analysis/window_summary.h"

namespace moeprof::analysis {

int64_t window_of(int64_t step, int64_t window_steps) {
  const int64_t q = step / window_steps;
  return (step % window_steps != 0 && step < 0) ? q - 1 : q;
}

namespace summary_codec {
namespace {

// Reads varints and signed varints into any integer type, failing on values out of its range.
class Reader {
 public:
  explicit Reader(wire::ByteSpan data) : in_(data) {}
  bool at_end() const { return in_.at_end(); }
  template <class T>
  bool unsigned_value(T* out) {
    uint64_t v = 0;
    if (!in_.varint(&v) || v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
    *out = static_cast<T>(v);
    return true;
  }
  template <class T>
  bool signed_value(T* out) {
    uint64_t v = 0;
    if (!in_.varint(&v)) return false;
    const int64_t s = wire::unzigzag(v);
    if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(s);
    return true;
  }
  bool real(double* out) {
    uint64_t bits = 0;
    if (!in_.fixed(&bits)) return false;
    *out = std::bit_cast<double>(bits);
    return true;
  }

 private:
  wire::ByteReader in_;
};

void put_signed(wire::Bytes& out, int64_t v) { wire::put_varint(out, wire::zigzag(v)); }
void put_real(wire::Bytes& out, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(bits >> (8 * i)));  // little-endian
}

// Sanity bound on list lengths (experts, bins, ranks), so corrupt data cannot ask for a huge
// allocation before failing.
constexpr uint64_t kMaxListLength = 1 << 24;

}  // namespace

wire::Bytes encode_counts(const std::vector<LayerCounts>& layers) {
  wire::Bytes out;
  for (const LayerCounts& l : layers) {
    put_signed(out, l.layer);
    wire::put_varint(out, l.counts.size());
    for (uint64_t c : l.counts) wire::put_varint(out, c);
  }
  return out;
}

bool decode_counts(wire::ByteSpan data, std::vector<LayerCounts>* layers) {
  Reader in(data);
  while (!in.at_end()) {
    LayerCounts& l = layers->emplace_back();
    uint64_t n = 0;
    if (!in.signed_value(&l.layer) || !in.unsigned_value(&n) || n > kMaxListLength) return false;
    l.counts.resize(n);
    for (uint64_t& c : l.counts)
      if (!in.unsigned_value(&c)) return false;
  }
  return true;
}

wire::Bytes encode_capacity(const std::map<int32_t, CapacityCurve>& layers) {
  wire::Bytes out;
  for (const auto& [layer, curve] : layers) {
    const std::vector<CapacityCurve::Bin> bins = curve.bins();
    put_signed(out, layer);
    wire::put_varint(out, bins.size());
    size_t previous = 0;
    for (const CapacityCurve::Bin& b : bins) {
      wire::put_varint(out, b.index - previous);
      wire::put_varint(out, static_cast<uint64_t>(b.tokens));  // a sum of token counts: a whole number
      put_real(out, b.weight);
      previous = b.index;
    }
  }
  return out;
}

bool decode_capacity(wire::ByteSpan data, std::map<int32_t, CapacityCurve>* layers) {
  Reader in(data);
  while (!in.at_end()) {
    int32_t layer = 0;
    uint64_t n = 0;
    if (!in.signed_value(&layer) || !in.unsigned_value(&n) || n > kMaxListLength) return false;
    CapacityCurve& curve = (*layers)[layer];
    uint64_t index = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t delta = 0, tokens = 0;
      double weight = 0;
      if (!in.unsigned_value(&delta) || !in.unsigned_value(&tokens) || !in.real(&weight)) return false;
      index += delta;
      if (index >= kMaxListLength || !(weight >= 0)) return false;
      curve.add_bin({static_cast<size_t>(index), weight, static_cast<double>(tokens)});
    }
  }
  return true;
}

wire::Bytes encode_all_to_all(const std::vector<AllToAllStats>& stats) {
  wire::Bytes out;
  for (const AllToAllStats& s : stats) {
    put_signed(out, s.layer);
    wire::put_varint(out, static_cast<uint64_t>(s.phase));
    for (uint64_t v : {static_cast<uint64_t>(s.count), static_cast<uint64_t>(s.total_ns), s.bytes_sent,
                       s.network_bytes_sent})
      wire::put_varint(out, v);
  }
  return out;
}

bool decode_all_to_all(wire::ByteSpan data, AllToAllStatsAccumulator* stats) {
  Reader in(data);
  while (!in.at_end()) {
    AllToAllStats s;
    uint32_t phase = 0;
    if (!in.signed_value(&s.layer) || !in.unsigned_value(&phase) || phase > 0xff || !in.unsigned_value(&s.count) ||
        !in.unsigned_value(&s.total_ns) || !in.unsigned_value(&s.bytes_sent) ||
        !in.unsigned_value(&s.network_bytes_sent))
      return false;
    s.phase = static_cast<wire::Phase>(phase);
    stats->add(s);
  }
  return true;
}

namespace {

void put_stats(wire::Bytes& out, const OverlapStats& s) {
  for (int64_t v : {s.comm_ns, s.compute_ns, s.overlapped_ns}) wire::put_varint(out, static_cast<uint64_t>(v));
}

bool read_stats(Reader& in, int64_t step_ns, OverlapStats* s) {
  if (!in.unsigned_value(&s->comm_ns) || !in.unsigned_value(&s->compute_ns) || !in.unsigned_value(&s->overlapped_ns) ||
      s->overlapped_ns > s->comm_ns)
    return false;
  s->exposed_comm_ns = s->comm_ns - s->overlapped_ns;
  s->step_ns = step_ns;
  return true;
}

}  // namespace

wire::Bytes encode_overlap(const WindowOverlap& overlap) {
  wire::Bytes out;
  put_signed(out, overlap.first_start_ns);
  put_signed(out, overlap.last_end_ns);
  wire::put_varint(out, static_cast<uint64_t>(overlap.overlap.total.step_ns));
  put_stats(out, overlap.overlap.total);
  for (const LayerOverlap& l : overlap.overlap.layers) {
    put_signed(out, l.layer);
    put_stats(out, l.stats);
  }
  return out;
}

bool decode_overlap(wire::ByteSpan data, WindowOverlap* overlap) {
  Reader in(data);
  RankOverlap& o = overlap->overlap;
  o.layers.clear();
  int64_t step_ns = 0;
  if (!in.signed_value(&overlap->first_start_ns) || !in.signed_value(&overlap->last_end_ns) ||
      !in.unsigned_value(&step_ns) || !read_stats(in, step_ns, &o.total))
    return false;
  while (!in.at_end()) {
    LayerOverlap& l = o.layers.emplace_back();
    if (!in.signed_value(&l.layer) || !read_stats(in, step_ns, &l.stats)) return false;
  }
  return true;
}

wire::Bytes encode_stragglers(const Stragglers& stragglers) {
  wire::Bytes out;
  wire::put_varint(out, static_cast<uint64_t>(stragglers.instances));
  for (const RankStraggling& r : stragglers.ranks) {
    put_signed(out, r.rank);
    for (int64_t v : {r.instances, r.times_last, r.wait_caused_ns}) wire::put_varint(out, static_cast<uint64_t>(v));
  }
  return out;
}

bool decode_stragglers(wire::ByteSpan data, Stragglers* stragglers) {
  Reader in(data);
  Stragglers part;
  if (!in.unsigned_value(&part.instances)) return false;
  while (!in.at_end()) {
    RankStraggling& r = part.ranks.emplace_back();
    if (!in.signed_value(&r.rank) || !in.unsigned_value(&r.instances) || !in.unsigned_value(&r.times_last) ||
        !in.unsigned_value(&r.wait_caused_ns))
      return false;
  }
  stragglers->merge(part);
  return true;
}

wire::Bytes encode_volume(const PeerVolume& volume) {
  wire::Bytes out;
  for (const auto& [key, bytes] : volume) {
    const auto& [layer, phase, peer] = key;
    put_signed(out, layer);
    wire::put_varint(out, static_cast<uint64_t>(phase));
    put_signed(out, peer);
    wire::put_varint(out, bytes);
  }
  return out;
}

bool decode_volume(wire::ByteSpan data, PeerVolume* volume) {
  Reader in(data);
  while (!in.at_end()) {
    int32_t layer = 0, peer = 0;
    uint32_t phase = 0;
    uint64_t bytes = 0;
    if (!in.signed_value(&layer) || !in.unsigned_value(&phase) || phase > 0xff || !in.signed_value(&peer) ||
        !in.unsigned_value(&bytes))
      return false;
    (*volume)[{layer, static_cast<wire::Phase>(phase), peer}] += bytes;
  }
  return true;
}

}  // namespace summary_codec
}  // namespace moeprof::analysis
