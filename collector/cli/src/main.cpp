// `moeprof`: see collector/cli/src/cli.cpp for the commands.
#include <iostream>
#include <string>
#include <vector>

#include "moeprof/cli/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return moeprof::cli::main_entry(args, {std::cout, std::cerr});
}
