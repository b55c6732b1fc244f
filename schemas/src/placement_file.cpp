#include "moeprof/placement/placement_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "moeprof/files/text_file.h"

namespace moeprof::placement {
namespace {

using nlohmann::json;

// Thrown while parsing; carries the message without the file name.
struct Invalid {
  std::string what;
};

[[noreturn]] void invalid(std::string what) { throw Invalid{std::move(what)}; }

// "WHERE: " for a part of the file, "" for the top level.
std::string at(const std::string& where) { return where.empty() ? "" : where + ": "; }

std::string where_layer(int32_t layer) { return layer < 0 ? "\"default\"" : "layer " + std::to_string(layer); }

// The problem with one layer's expert -> ranks lists, or "" when they are fine.
std::string problem_of(const ExpertRanks& experts, int32_t num_experts, int32_t num_ranks) {
  if (experts.size() < static_cast<size_t>(num_experts))
    return "expert " + std::to_string(experts.size()) + " is missing (" + std::to_string(experts.size()) +
           " experts listed, num_experts is " + std::to_string(num_experts) + ")";
  if (experts.size() > static_cast<size_t>(num_experts))
    return std::to_string(experts.size()) + " experts listed, num_experts is " + std::to_string(num_experts);
  for (size_t e = 0; e < experts.size(); ++e) {
    const std::string expert = "expert " + std::to_string(e);
    if (experts[e].empty()) return expert + " is on no rank";
    std::set<int32_t> seen;
    for (int32_t rank : experts[e]) {
      if (rank < 0 || rank >= num_ranks)
        return expert + ": rank " + std::to_string(rank) + " out of range (num_ranks is " + std::to_string(num_ranks) +
               ")";
      if (!seen.insert(rank).second) return expert + ": rank " + std::to_string(rank) + " listed twice";
    }
  }
  return "";
}

int32_t integer(const json& value, const std::string& what, int64_t min) {
  if (!value.is_number_integer()) invalid(what + " must be an integer");
  const int64_t v = value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                        ? std::numeric_limits<int64_t>::max()
                        : value.get<int64_t>();
  if (v < min || v > std::numeric_limits<int32_t>::max())
    invalid(what + " must be in " + std::to_string(min) + ".." + std::to_string(std::numeric_limits<int32_t>::max()) +
            ", not " + value.dump());
  return static_cast<int32_t>(v);
}

void only_keys(const json& object, std::initializer_list<std::string_view> keys, const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view k : keys) known = known || key == k;
    if (!known) invalid(at(where) + "unknown key \"" + key + "\"");
  }
}

const json& member(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) invalid(at(where) + "\"" + key + "\" is missing");
  return *it;
}

// One {"experts": [...]} object (a layer entry, or "default"); layer < 0 for "default".
ExpertRanks expert_ranks(const json& entry, int32_t layer, const PlacementFile& p) {
  const std::string where = where_layer(layer);
  const json& experts = member(entry, "experts", where);
  if (!experts.is_array()) invalid(where + ": \"experts\" must be an array (one list of ranks per expert)");
  ExpertRanks out;
  for (size_t e = 0; e < experts.size(); ++e) {
    const std::string expert = where + ": expert " + std::to_string(e);
    if (!experts[e].is_array()) invalid(expert + " must be an array of ranks");
    std::vector<int32_t> ranks;
    for (const json& rank : experts[e])
      ranks.push_back(integer(rank, expert + ": rank", std::numeric_limits<int32_t>::min()));
    out.push_back(std::move(ranks));
  }
  if (std::string problem = problem_of(out, p.num_experts, p.num_ranks); !problem.empty())
    invalid(where + ": " + problem);
  return out;
}

PlacementFile parse_document(const json& doc) {
  if (!doc.is_object()) invalid("not a placement file (the JSON is not an object)");
  const auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() || format->get<std::string>() != kFormat)
    invalid("not a placement file (\"format\" must be \"" + std::string(kFormat) + "\")");
  const json& version = member(doc, "version", "");
  if (!version.is_number_integer() || version.get<int64_t>() != kVersion)
    invalid("placement file version " + version.dump() + " is not supported (this moeprof reads version " +
            std::to_string(kVersion) + ")");
  only_keys(doc, {"format", "version", "num_experts", "num_ranks", "layers", "default"}, "");
  PlacementFile p;
  p.num_experts = integer(member(doc, "num_experts", ""), "\"num_experts\"", 1);
  p.num_ranks = integer(member(doc, "num_ranks", ""), "\"num_ranks\"", 1);
  if (const auto layers = doc.find("layers"); layers != doc.end()) {
    if (!layers->is_array()) invalid("\"layers\" must be an array");
    for (size_t i = 0; i < layers->size(); ++i) {
      const json& entry = (*layers)[i];
      const std::string where = "layers[" + std::to_string(i) + "]";
      if (!entry.is_object()) invalid(where + " must be an object");
      only_keys(entry, {"layer", "experts"}, where);
      const int32_t layer = integer(member(entry, "layer", where), where + ": \"layer\"", 0);
      if (p.layers.count(layer)) invalid("layer " + std::to_string(layer) + " is listed twice");
      p.layers.emplace(layer, expert_ranks(entry, layer, p));
    }
  }
  if (const auto fallback = doc.find("default"); fallback != doc.end()) {
    if (!fallback->is_object()) invalid("\"default\" must be an object");
    only_keys(*fallback, {"experts"}, "\"default\"");
    p.default_layer = expert_ranks(*fallback, -1, p);
  }
  if (p.layers.empty() && !p.default_layer) invalid("places nothing (neither \"layers\" nor \"default\")");
  return p;
}

json experts_json(const ExpertRanks& experts) {
  json out = json::array();
  for (const auto& ranks : experts) out.push_back(ranks);
  return out;
}

}  // namespace

const ExpertRanks* PlacementFile::layer(int32_t index) const {
  if (const auto it = layers.find(index); it != layers.end()) return &it->second;
  return default_layer ? &*default_layer : nullptr;
}

bool parse_placement(std::string_view text, const std::string& name, PlacementFile* out, std::string* error) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's message is "[json.exception.parse_error.N] parse error at line L, column C: ...".
    std::string message = e.what();
    if (const size_t at = message.find("] "); at != std::string::npos) message.erase(0, at + 2);
    *error = name + ": not JSON: " + message;
    return false;
  }
  try {
    *out = parse_document(doc);
  } catch (const Invalid& e) {
    *error = name + ": " + e.what;
    return false;
  }
  return true;
}

bool read_placement_file(const std::string& path, PlacementFile* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  return parse_placement(text.str(), path, out, error);
}

bool check_placement_fits(const PlacementFile& p, const std::string& name, int32_t num_experts, int32_t num_ranks,
                          int32_t num_layers, std::string* error) {
  if (p.num_experts != num_experts) {
    *error =
        name + ": made for " + std::to_string(p.num_experts) + " experts, the run has " + std::to_string(num_experts);
    return false;
  }
  if (p.num_ranks != num_ranks) {
    *error = name + ": made for " + std::to_string(p.num_ranks) + " ranks, the run has " + std::to_string(num_ranks);
    return false;
  }
  for (int32_t layer = 0; layer < num_layers; ++layer)
    if (!p.layer(layer)) {
      *error = name + ": layer " + std::to_string(layer) + " has no placement and the file has no \"default\"";
      return false;
    }
  return true;
}

std::string format_placement(const PlacementFile& p) {
  std::string text = "{\n  \"format\": " + json(kFormat).dump() + ",\n  \"version\": " + std::to_string(kVersion) +
                     ",\n  \"num_experts\": " + std::to_string(p.num_experts) +
                     ",\n  \"num_ranks\": " + std::to_string(p.num_ranks) + ",\n  \"layers\": [";
  bool first = true;
  for (const auto& [layer, experts] : p.layers) {
    text += first ? "\n    " : ",\n    ";
    first = false;
    text += json{{"layer", layer}, {"experts", experts_json(experts)}}.dump();
  }
  text += first ? "]" : "\n  ]";
  if (p.default_layer) text += ",\n  \"default\": " + json{{"experts", experts_json(*p.default_layer)}}.dump();
  return text + "\n}\n";
}

bool write_placement_file(const std::string& path, const PlacementFile& p, std::string* error) {
  // Only what parse_placement accepts is written.
  PlacementFile round_trip;
  if (!parse_placement(format_placement(p), path, &round_trip, error)) {
    *error = "refusing to write an invalid placement: " + *error;
    return false;
  }
  return files::write_text_file_atomically(path, format_placement(p), error);
}

}  // namespace moeprof::placement
