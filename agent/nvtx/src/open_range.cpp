#include "open_range.h"

#include <cstring>

namespace moeprof::nvtx {
namespace {

size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

struct Layout {
  size_t name, payload, peers, send, recv, end;
};

Layout layout_of(const OpenRangeHeader& h) {
  Layout l{};
  l.name = align8(sizeof(OpenRangeHeader));
  // Both strings keep a NUL after them: the agent's C ABI takes C strings.
  l.payload = l.name + h.name_size + 1;
  l.peers = align8(l.payload + h.payload_size + 1);
  l.send = align8(l.peers + (h.has_peer_list ? h.num_peers * sizeof(int32_t) : 0));
  l.recv = l.send + h.num_peers * sizeof(uint64_t);
  l.end = align8(l.recv + h.num_peers * sizeof(uint64_t));
  return l;
}

// The header's sizes and peer fields, from the parts it is stored with.
void complete(OpenRangeHeader* h, const OpenRangeParts& parts) {
  h->name_size = static_cast<uint32_t>(parts.name.size());
  h->payload_size = static_cast<uint32_t>(parts.payload.size());
  const bool has_bytes = parts.send_bytes != nullptr && parts.recv_bytes != nullptr;
  if (!has_bytes) h->num_peers = 0;
  h->has_peer_list = has_bytes && parts.peers != nullptr;
}

}  // namespace

size_t open_range_size(OpenRangeHeader h, const OpenRangeParts& parts) noexcept {
  complete(&h, parts);
  return layout_of(h).end;
}

bool write_open_range(unsigned char* out, size_t capacity, OpenRangeHeader h, const OpenRangeParts& parts) noexcept {
  complete(&h, parts);
  const Layout l = layout_of(h);
  if (out == nullptr || l.end > capacity) return false;
  std::memcpy(out, &h, sizeof h);
  if (!parts.name.empty()) std::memcpy(out + l.name, parts.name.data(), parts.name.size());
  out[l.name + parts.name.size()] = '\0';
  if (!parts.payload.empty()) std::memcpy(out + l.payload, parts.payload.data(), parts.payload.size());
  out[l.payload + parts.payload.size()] = '\0';
  if (h.has_peer_list) std::memcpy(out + l.peers, parts.peers, h.num_peers * sizeof(int32_t));
  if (h.num_peers > 0) {
    std::memcpy(out + l.send, parts.send_bytes, h.num_peers * sizeof(uint64_t));
    std::memcpy(out + l.recv, parts.recv_bytes, h.num_peers * sizeof(uint64_t));
  }
  return true;
}

OpenRangeView read_open_range(const unsigned char* in) noexcept {
  OpenRangeView v;
  std::memcpy(&v.header, in, sizeof v.header);
  const Layout l = layout_of(v.header);
  v.parts.name = {reinterpret_cast<const char*>(in + l.name), v.header.name_size};
  v.parts.payload = {reinterpret_cast<const char*>(in + l.payload), v.header.payload_size};
  if (v.header.num_peers > 0) {
    v.parts.peers = v.header.has_peer_list ? reinterpret_cast<const int32_t*>(in + l.peers) : nullptr;
    v.parts.send_bytes = reinterpret_cast<const uint64_t*>(in + l.send);
    v.parts.recv_bytes = reinterpret_cast<const uint64_t*>(in + l.recv);
  }
  return v;
}

}  // namespace moeprof::nvtx
