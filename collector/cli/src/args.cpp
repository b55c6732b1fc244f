#include "moeprof/cli/args.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace moeprof::cli {
namespace {

const OptionSpec* find_long(std::span<const OptionSpec> specs, const std::string& name) {
  for (const OptionSpec& spec : specs)
    if (spec.long_name == name) return &spec;
  return nullptr;
}

const OptionSpec* find_short(std::span<const OptionSpec> specs, char name) {
  for (const OptionSpec& spec : specs)
    if (spec.short_name != 0 && spec.short_name == name) return &spec;
  return nullptr;
}

std::string shortest(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

ParsedArgs parse_args(const std::string& command_name, std::span<const OptionSpec> specs,
                      std::span<const std::string> args, bool takes_command) {
  ParsedArgs parsed;
  size_t i = 0;
  auto rest_is_command = [&](size_t from) {
    if (takes_command) {
      parsed.command.assign(args.begin() + static_cast<std::ptrdiff_t>(from), args.end());
    } else {
      parsed.positionals.insert(parsed.positionals.end(), args.begin() + static_cast<std::ptrdiff_t>(from), args.end());
    }
    i = args.size();
  };
  auto take_value = [&](const std::string& shown) -> std::string {
    if (i + 1 >= args.size()) throw UsageError(command_name, "option " + shown + " needs a value");
    return args[++i];
  };
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      rest_is_command(i + 1);
      break;
    }
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      const size_t eq = arg.find('=');
      const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const OptionSpec* spec = find_long(specs, name);
      if (spec == nullptr) throw UsageError(command_name, "unknown option '--" + name + "'");
      if (eq != std::string::npos) {
        if (!spec->takes_value) throw UsageError(command_name, "option --" + name + " takes no value");
        parsed.options[name] = arg.substr(eq + 1);
      } else {
        parsed.options[name] = spec->takes_value ? take_value("--" + name) : std::string();
      }
      continue;
    }
    if (arg.size() >= 2 && arg[0] == '-') {
      const OptionSpec* spec = find_short(specs, arg[1]);
      if (spec == nullptr) throw UsageError(command_name, "unknown option '" + arg + "'");
      if (!spec->takes_value) {
        if (arg.size() > 2) throw UsageError(command_name, "unknown option '" + arg + "'");
        parsed.options[spec->long_name] = "";
      } else {
        parsed.options[spec->long_name] = arg.size() > 2 ? arg.substr(2) : take_value(arg.substr(0, 2));
      }
      continue;
    }
    if (takes_command) {
      rest_is_command(i);
      break;
    }
    parsed.positionals.push_back(arg);
  }
  return parsed;
}

int64_t parse_integer(const std::string& command_name, const std::string& what, const std::string& text, int64_t min,
                      int64_t max) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max)
    throw UsageError(command_name, what + " must be a whole number from " + std::to_string(min) + " to " +
                                       std::to_string(max) + ", not '" + text + "'");
  return value;
}

double parse_number(const std::string& command_name, const std::string& what, const std::string& text, double min,
                    double max) {
  char* end = nullptr;
  const double value = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < min || value > max)
    throw UsageError(command_name, what + " must be a number from " + shortest(min) + " to " + shortest(max) +
                                       ", not '" + text + "'");
  return value;
}

}  // namespace moeprof::cli
