// Who this process is, for the Hello record that opens every stream.
#pragma once

#include <cstdint>
#include <string>

#include "moeprof/wire/codec.h"

namespace moeprof::agent {

// The rank a launcher gave this process: RANK, OMPI_COMM_WORLD_RANK, PMI_RANK or
// SLURM_PROCID (the first one set to a number), else -1.
int32_t rank_hint_from_environment();

// The command line as /proc/self/cmdline has it: arguments separated by NUL (no trailing one).
std::string command_line();

// Hello's fixed part and variable part (host, then the command line), read now.
void build_hello(wire::Hello* hello, wire::Bytes* var);

}  // namespace moeprof::agent
