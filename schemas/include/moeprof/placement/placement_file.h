// Placement files: which ranks hold which experts of every MoE layer, with replicas
// (schemas/placement.md, schemas/placement.schema.json). The reference engine reads them
// (`moe-engine --placement FILE`); placement suggestions write them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moeprof::placement {

inline constexpr std::string_view kFormat = "moeprof-placement";
inline constexpr int kVersion = 1;

// ranks[e] lists the ranks holding expert e of one layer; more than one rank means
// replicas, over which the expert's tokens are spread.
using ExpertRanks = std::vector<std::vector<int32_t>>;

struct PlacementFile {
  int32_t num_experts = 0;
  int32_t num_ranks = 0;
  std::map<int32_t, ExpertRanks> layers;     // by layer index
  std::optional<ExpertRanks> default_layer;  // for layers not listed
  // The placement of `layer`: its own entry, else the default, else nullptr.
  const ExpertRanks* layer(int32_t layer) const;
  bool operator==(const PlacementFile&) const = default;
};

// Parses the text of a placement file and checks it against itself (every expert of every
// listed layer on at least one distinct, in-range rank). `name` (the file's path) starts
// every error, which is one line saying what is wrong.
bool parse_placement(std::string_view text, const std::string& name, PlacementFile* out, std::string* error);
bool read_placement_file(const std::string& path, PlacementFile* out, std::string* error);

// Checks that a parsed file places a run of `num_layers` layers of `num_experts` experts on
// `num_ranks` ranks (layers beyond the run are ignored).
bool check_placement_fits(const PlacementFile& placement, const std::string& name, int32_t num_experts,
                          int32_t num_ranks, int32_t num_layers, std::string* error);

// The JSON text of a placement (one line per layer); parse_placement reads it back equal.
std::string format_placement(const PlacementFile& placement);
// Writes through a temporary file renamed into place: nothing half-written is left behind.
// false and a one-line `error` when the placement is invalid or the file cannot be written.
bool write_placement_file(const std::string& path, const PlacementFile& placement, std::string* error);

}  // namespace moeprof::placement
