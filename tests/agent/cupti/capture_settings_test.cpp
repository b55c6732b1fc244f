// The CUPTI source's environment settings: defaults, accepted values, one warning per bad one.
#include "capture_settings.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace moeprof::cupti {
namespace {

std::map<std::string, std::string> g_env;
const char* fake_getenv(const char* name) {
  const auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

TEST(CaptureSettings, DefaultsWhenNothingIsSet) {
  g_env.clear();
  std::vector<std::string> warnings;
  const CaptureSettings s = read_settings(fake_getenv, &warnings);
  const CaptureSettings d;
  EXPECT_EQ(s.buffer_kb, d.buffer_kb);
  EXPECT_EQ(s.buffers, d.buffers);
  EXPECT_EQ(s.flush_ms, d.flush_ms);
  EXPECT_EQ(s.correlation_slots, d.correlation_slots);
  EXPECT_EQ(s.pending_kernels, d.pending_kernels);
  EXPECT_EQ(s.kernel_names, d.kernel_names);
  EXPECT_TRUE(warnings.empty());
}

TEST(CaptureSettings, ValuesAreTaken) {
  g_env = {{"MOEPROF_CUPTI_BUFFER_KB", "512"},     {"MOEPROF_CUPTI_BUFFERS", "16"},
           {"MOEPROF_CUPTI_FLUSH_MS", "0"},        {"MOEPROF_CUPTI_CORRELATION_SLOTS", "5000"},
           {"MOEPROF_CUPTI_PENDING_KERNELS", "0"}, {"MOEPROF_CUPTI_KERNEL_NAMES", "100"}};
  std::vector<std::string> warnings;
  const CaptureSettings s = read_settings(fake_getenv, &warnings);
  EXPECT_EQ(s.buffer_kb, 512u);
  EXPECT_EQ(s.buffers, 16u);
  EXPECT_EQ(s.flush_ms, 0u);
  EXPECT_EQ(s.correlation_slots, 8192u) << "rounded up to a power of two";
  EXPECT_EQ(s.pending_kernels, 0u);
  EXPECT_EQ(s.kernel_names, 100u);
  EXPECT_TRUE(warnings.empty());
}

TEST(CaptureSettings, BadValuesKeepTheDefaultWithOneLineEach) {
  g_env = {{"MOEPROF_CUPTI_BUFFER_KB", "lots"},
           {"MOEPROF_CUPTI_BUFFERS", "65"},
           {"MOEPROF_CUPTI_FLUSH_MS", "-1"},
           {"MOEPROF_CUPTI_CORRELATION_SLOTS", "12x"}};
  std::vector<std::string> warnings;
  const CaptureSettings s = read_settings(fake_getenv, &warnings);
  const CaptureSettings d;
  EXPECT_EQ(s.buffer_kb, d.buffer_kb);
  EXPECT_EQ(s.buffers, d.buffers);
  EXPECT_EQ(s.flush_ms, d.flush_ms);
  EXPECT_EQ(s.correlation_slots, d.correlation_slots);
  ASSERT_EQ(warnings.size(), 4u);
  EXPECT_EQ(warnings[0], "moeprof: MOEPROF_CUPTI_BUFFER_KB='lots' is not a whole number in [16, 1048576]; using 2048");
  EXPECT_EQ(warnings[1], "moeprof: MOEPROF_CUPTI_BUFFERS='65' is not a whole number in [2, 64]; using 8");
}

}  // namespace
}  // namespace moeprof::cupti
