// A small skewed synth trace for the GUI tests, written once per test into a private directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../collector/small_synth.h"
#include "../collector/temp_dir.h"
#include "moeprof/store/reader.h"
#include "moeprof/synth/synth.h"

namespace moeprof::gui::testing {

class GuiTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("t.db");
    const synth::Options o = moeprof::testing::small_mixtral(6, 2, 40, 256, 1.5);  // one expert of each layer is hot
    std::string error;
    ASSERT_TRUE(synth::generate(o, path_, &error)) << error;
    reader_ = store::Reader::open(path_, &error);
    ASSERT_TRUE(reader_) << error;
  }

  moeprof::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<store::Reader> reader_;
};

}  // namespace moeprof::gui::testing
