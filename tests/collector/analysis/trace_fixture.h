// Analysis tests write small traces with store::Writer into a private temporary directory.
#pragma once

#include "../temp_dir.h"

namespace moeprof::analysis::testing {
using moeprof::testing::TempDir;
}  // namespace moeprof::analysis::testing
