// Command-line parsing shared by every `moeprof` command: GNU-style long and short options,
// `--` to end them, and number parsing with messages that name the option.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace moeprof::cli {

// A problem with the command line. main prints it as one line with a hint and exits 2.
struct UsageError : std::runtime_error {
  UsageError(std::string command_name, const std::string& problem)
      : std::runtime_error(problem), command(std::move(command_name)) {}
  std::string command;  // the command whose usage applies ("" for moeprof itself)
};

struct OptionSpec {
  std::string long_name;  // "output" for --output
  char short_name = 0;    // 'o' for -o; 0 when there is none
  bool takes_value = false;
};

struct ParsedArgs {
  std::map<std::string, std::string> options;  // by long name; flags have an empty value
  std::vector<std::string> positionals;
  std::vector<std::string> command;  // `moeprof run`: the command after the options

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::optional<std::string> value(const std::string& name) const;
};

// Parses `args` (the words after the command name). With `takes_command`, everything after
// `--` or from the first word that is not an option on is the command to run; otherwise
// such words are positionals. Throws UsageError for unknown options and missing values.
ParsedArgs parse_args(const std::string& command_name, std::span<const OptionSpec> specs,
                      std::span<const std::string> args, bool takes_command = false);

// Whole numbers within [min, max]; UsageError naming `what` (e.g. "--ranks") otherwise.
int64_t parse_integer(const std::string& command_name, const std::string& what, const std::string& text, int64_t min,
                      int64_t max);
double parse_number(const std::string& command_name, const std::string& what, const std::string& text, double min,
                    double max);

}  // namespace moeprof::cli
