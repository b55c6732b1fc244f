// A parser for the flat JSON objects of range payloads: enough JSON to check them, strict
// enough that malformed text fails.
#include <cctype>

#include "recording_runtime.h"

namespace moeprof::nccl::testing {
namespace {

struct Reader {
  const std::string& s;
  size_t i = 0;
  void skip_space() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  bool eat(char c) {
    skip_space();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c == '\\') {
        if (i >= s.size()) return std::nullopt;
        c = s[i++];
        if (c == 'u') {
          if (i + 4 > s.size()) return std::nullopt;
          c = static_cast<char>(std::stoi(s.substr(i, 4), nullptr, 16));
          i += 4;
        } else if (c != '"' && c != '\\' && c != '/') {
          return std::nullopt;
        }
      }
      out.push_back(c);
    }
    if (i >= s.size()) return std::nullopt;
    ++i;
    return out;
  }
  std::optional<std::string> scalar() {
    skip_space();
    if (i < s.size() && s[i] == '"') return string();
    const size_t from = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '.')) ++i;
    const std::string token = s.substr(from, i - from);
    if (token == "true" || token == "false" || token == "null") return token;
    if (token.empty()) return std::nullopt;
    for (size_t k = 0; k < token.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(token[k])) && !(k == 0 && token[k] == '-')) return std::nullopt;
    return token;
  }
};

}  // namespace

std::optional<std::map<std::string, std::string>> parse_flat_json(const std::string& text) {
  Reader r{text};
  std::map<std::string, std::string> out;
  if (!r.eat('{')) return std::nullopt;
  if (!r.eat('}')) {
    do {
      const auto key = r.string();
      if (!key || !r.eat(':')) return std::nullopt;
      const auto value = r.scalar();
      if (!value || out.count(*key) != 0) return std::nullopt;
      out[*key] = *value;
    } while (r.eat(','));
    if (!r.eat('}')) return std::nullopt;
  }
  r.skip_space();
  if (r.i != text.size()) return std::nullopt;
  return out;
}

}  // namespace moeprof::nccl::testing
