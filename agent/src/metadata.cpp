#include "metadata.h"

namespace moeprof::agent {

void Metadata::clear() {
  std::lock_guard lock(mutex_);
  has_topology_ = topology_changed_ = false;
  model_name_.clear();
  placement_.clear();
}

void Metadata::set_topology(const wire::Topology& topology, std::string model_name) {
  std::lock_guard lock(mutex_);
  topology_ = topology;
  model_name_ = std::move(model_name);
  has_topology_ = topology_changed_ = true;
}

void Metadata::set_placement(int32_t layer, std::span<const wire::PlacementSlot> slots) {
  wire::Bytes encoded;
  wire::encode_placement(slots, encoded);
  std::lock_guard lock(mutex_);
  Layer& entry = placement_[layer];
  entry.encoded = std::move(encoded);
  entry.changed = true;
}

void Metadata::append_changes(wire::FrameWriter& frame) {
  std::lock_guard lock(mutex_);
  if (topology_changed_) {
    frame.append(topology_, wire::ByteSpan(reinterpret_cast<const uint8_t*>(model_name_.data()), model_name_.size()));
    topology_changed_ = false;
  }
  for (auto& [layer, entry] : placement_) {
    if (!entry.changed) continue;
    wire::Placement record{};
    record.tag = static_cast<uint8_t>(wire::RecordType::kPlacement);
    record.layer = layer;
    frame.append(record, entry.encoded);
    entry.changed = false;
  }
}

void Metadata::mark_all_changed() {
  std::lock_guard lock(mutex_);
  topology_changed_ = has_topology_;
  for (auto& [layer, entry] : placement_) entry.changed = true;
}

}  // namespace moeprof::agent
