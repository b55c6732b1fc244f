// A small streaming JSON emitter (objects, arrays, strings, numbers, booleans, null) with
// correct string escaping; output is indented by two spaces per level.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace moeprof::cli {

// `text` as a JSON string literal: quotes, backslashes and control characters escaped;
// bytes that are not valid UTF-8 become U+FFFD so the output is always valid JSON.
std::string json_quote(std::string_view text);

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // The key of the next member of the current object.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text) { return raw(json_quote(text)); }
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  template <class T>
  requires std::is_arithmetic_v<T> JsonWriter& value(T number) {
    if constexpr (std::is_same_v<T, bool>) {
      return raw(number ? "true" : "false");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(number)) return null();  // JSON has no NaN or infinity
      return raw(format(static_cast<double>(number)));
    } else {
      return raw(format(number));
    }
  }
  JsonWriter& null() { return raw("null"); }

  // The document so far (complete once every container is closed), with a final newline.
  std::string str() const { return out_ + "\n"; }

 private:
  template <class T>
  static std::string format(T number) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
    return std::string(buffer, result.ptr);
  }
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  JsonWriter& raw(std::string_view text);
  void before_value();
  void newline();

  std::string out_;
  std::vector<bool> empty_;  // per open container: nothing written into it yet
  bool after_key_ = false;
};

}  // namespace moeprof::cli
