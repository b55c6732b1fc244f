// The commands of `moeprof`, one file each. They take the words after the command name and
// may throw UsageError (bad command line) or store::Error (a corrupt trace); main_entry
// turns both into one line on stderr.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "moeprof/cli/args.h"
#include "moeprof/cli/cli.h"
#include "moeprof/store/reader.h"

namespace moeprof::cli {

using Args = std::span<const std::string>;

int run_command(Args args, const Io& io);
int info_command(Args args, const Io& io);
int check_command(Args args, const Io& io);
int export_command(Args args, const Io& io);
int synth_command(Args args, const Io& io);
int place_command(Args args, const Io& io);
int report_command(Args args, const Io& io);

// Every command accepts -h/--help.
inline const OptionSpec kHelpOption{"help", 'h', false};
// Prints the usage of `command` to `out` when -h/--help was given; true if it did.
bool print_help_if_asked(const ParsedArgs& parsed, const std::string& command, const Io& io);
// The usage text of one command; empty for an unknown name.
std::string command_help(const std::string& command);

// The one trace file a reading command takes, opened read-only. Throws UsageError when the
// command line names no file or several, store::Error (naming the file) when it cannot be
// opened as a moeprof trace.
std::unique_ptr<store::Reader> open_trace_argument(const ParsedArgs& parsed, const std::string& command);

// Writes a command's output to `output` atomically (a failure part-way, e.g. a corrupt row,
// leaves no file behind), or to io.out when it is "-". Returns the exit code.
int write_output(const std::string& output, const Io& io, const std::function<void(std::ostream&)>& write);

// The version this build reports and writes into traces.
const char* version();

}  // namespace moeprof::cli
