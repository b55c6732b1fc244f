#include "transcoder.h"

#include <cstring>

#include "ring_records.h"

namespace moeprof::agent {
namespace {

template <class T>
T read(const uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

// The `n` values of `width` bytes at `at` (unsigned when narrower than T), as T.
template <class T>
void widen(const uint8_t* at, uint64_t n, uint32_t width, std::vector<T>& out) {
  out.resize(n);
  if (width == 1) {
    for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<T>(at[i]);
  } else if (width == 2) {
    for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<T>(read<uint16_t>(at + i * sizeof(uint16_t)));
  } else {
    std::memcpy(out.data(), at, n * sizeof(T));
  }
}

template <class R>
R wire_record(wire::RecordType type) {
  R record{};
  record.tag = static_cast<uint8_t>(type);
  return record;
}

}  // namespace

void Transcoder::append(const RingRecordHeader& header, const uint8_t* body, const TickConverter& clock,
                        wire::FrameWriter& frame) {
  var_.clear();
  switch (header.kind) {
    case kRingStepBegin:
    case kRingStepEnd: {
      const auto in = read<RingStep>(body);
      auto out = wire_record<wire::StepMark>(header.kind == kRingStepBegin ? wire::RecordType::kStepBegin
                                                                           : wire::RecordType::kStepEnd);
      out.ts_ns = clock.to_ns(in.ticks);
      out.step = in.step;
      frame.append(out);
      break;
    }
    case kRingExpertCounts:
    case kRingExpertDrops: {
      const auto in = read<RingExpertCounts>(body);
      widen(body + sizeof in, in.num_experts, in.count_bytes, counts_);
      wire::encode_counts(counts_, var_);
      // ts_ns stays 0: the hot path does not time-stamp counts (wire.md).
      auto out = wire_record<wire::ExpertCounts>(header.kind == kRingExpertCounts ? wire::RecordType::kExpertCounts
                                                                                  : wire::RecordType::kExpertDrops);
      out.step = in.step;
      out.layer = in.layer;
      frame.append(out, var_);
      break;
    }
    case kRingRouterDecisions: {
      const auto in = read<RingRouterDecisions>(body);
      const RoutingLayout layout = routing_layout(in.num_tokens, in.top_k, in.id_bytes, in.has_weights != 0);
      const uint64_t n = uint64_t{in.num_tokens} * in.top_k;
      // Both arrays start 4-byte aligned inside an 8-aligned record, as the codec expects;
      // narrowed ids are widened back (the codec picks the wire's width itself).
      const int32_t* ids = reinterpret_cast<const int32_t*>(body + layout.ids_offset);
      if (in.id_bytes != sizeof(int32_t)) {
        widen(body + layout.ids_offset, n, in.id_bytes, ids_);
        ids = ids_.data();
      }
      wire::encode_routing(in.num_tokens, in.top_k, ids,
                           in.has_weights ? reinterpret_cast<const float*>(body + layout.weights_offset) : nullptr,
                           var_);
      auto out = wire_record<wire::RouterDecisions>(wire::RecordType::kRouterDecisions);
      out.ts_ns = clock.to_ns(in.ticks);
      out.step = in.step;
      out.layer = in.layer;
      out.token_offset = in.token_offset;
      frame.append(out, var_);
      break;
    }
    case kRingAllToAll: {
      const auto in = read<RingAllToAll>(body);
      const AllToAllLayout layout = all_to_all_layout(in.num_peers, in.has_peers != 0);
      peers_.resize(in.num_peers);
      for (uint32_t i = 0; i < in.num_peers; ++i) {
        peers_[i].peer = in.has_peers ? read<int32_t>(body + layout.peers_offset + i * sizeof(int32_t))
                                      : static_cast<int32_t>(i);
        peers_[i].send_bytes = read<uint64_t>(body + layout.send_offset + i * sizeof(uint64_t));
        peers_[i].recv_bytes = read<uint64_t>(body + layout.recv_offset + i * sizeof(uint64_t));
      }
      wire::encode_peer_bytes(peers_, var_);
      auto out = wire_record<wire::AllToAll>(wire::RecordType::kAllToAll);
      out.start_ns = clock.to_ns(in.start_ticks);
      out.end_ns = clock.to_ns(in.end_ticks);
      out.step = in.step;
      out.layer = in.layer;
      out.tid = in.tid;
      out.phase = in.phase;
      out.source = header.source;
      frame.append(out, var_);
      break;
    }
    case kRingComputeSpan: {
      const auto in = read<RingComputeSpan>(body);
      auto out = wire_record<wire::ComputeSpan>(wire::RecordType::kComputeSpan);
      out.start_ns = clock.to_ns(in.start_ticks);
      out.end_ns = clock.to_ns(in.end_ticks);
      out.step = in.step;
      out.layer = in.layer;
      out.tid = in.tid;
      out.kind = static_cast<uint8_t>(in.kind);
      out.source = header.source;
      frame.append(out);
      break;
    }
    case kRingMarker: {
      const auto in = read<RingMarker>(body);
      auto out = wire_record<wire::Marker>(wire::RecordType::kMarker);
      out.ts_ns = clock.to_ns(in.ticks);
      out.step = in.step;
      out.tid = in.tid;
      out.source = header.source;
      frame.append(out, wire::ByteSpan(body + sizeof in, in.name_size));
      break;
    }
    case kRingWireRecord: {
      const auto in = read<RingWireRecord>(body);
      const uint8_t* record = body + sizeof in;
      const size_t fixed_size = record[0] < wire::kRecordTypeCount ? wire::kRecordFixedSize[record[0]] : 0;
      if (fixed_size == 0 || fixed_size > in.size) break;  // api.cpp builds only known records
      frame.append_raw(record, fixed_size, wire::ByteSpan(record + fixed_size, in.size - fixed_size));
      break;
    }
    default:
      break;  // the hot path writes no other kinds
  }
}

}  // namespace moeprof::agent
