// Options and environment variables -> agent settings.
#include "config.h"

#include <gtest/gtest.h>

#include "scoped_env.h"

namespace moeprof::agent {
namespace {

using testing::ScopedEnv;

TEST(Config, ParsesRoutingModes) {
  int32_t mode;
  uint32_t every;
  ASSERT_TRUE(parse_routing_mode("off", &mode, &every));
  EXPECT_EQ(mode, MOEPROF_ROUTING_OFF);
  ASSERT_TRUE(parse_routing_mode("full", &mode, &every));
  EXPECT_EQ(mode, MOEPROF_ROUTING_FULL);
  ASSERT_TRUE(parse_routing_mode("sample:16", &mode, &every));
  EXPECT_EQ(mode, MOEPROF_ROUTING_SAMPLE);
  EXPECT_EQ(every, 16u);
  for (const char* bad : {"", "Full", "sample", "sample:", "sample:0", "sample:-3", "sample:4x", "sample:99999999999"})
    EXPECT_FALSE(parse_routing_mode(bad, &mode, &every)) << bad;
}

TEST(Config, DefaultsComeFromTheEnvironment) {
  ScopedEnv socket("MOEPROF_SOCKET", "/tmp/x.sock"), routing("MOEPROF_ROUTING", "sample:4"),
      ring("MOEPROF_RING_KB", "64"), threads("MOEPROF_MAX_THREADS", "8"), flush("MOEPROF_FLUSH_MS", "10"),
      clock("MOEPROF_CLOCK", "monotonic"), no_signals("MOEPROF_NO_SIGNALS", "1"), disable("MOEPROF_DISABLE", nullptr);
  Config c;
  std::string error;
  ASSERT_EQ(load_config(nullptr, &c, &error), MOEPROF_OK) << error;
  EXPECT_EQ(c.socket_path, "/tmp/x.sock");
  EXPECT_EQ(c.routing_mode, MOEPROF_ROUTING_SAMPLE);
  EXPECT_EQ(c.routing_every, 4u);
  EXPECT_EQ(c.ring_bytes, 64u * 1024);
  EXPECT_EQ(c.max_threads, 8u);
  EXPECT_EQ(c.flush_ms, 10u);
  EXPECT_TRUE(c.prefer_monotonic_clock);
  EXPECT_FALSE(c.install_signal_handlers);
}

TEST(Config, OptionsOverrideTheEnvironment) {
  ScopedEnv socket("MOEPROF_SOCKET", "/tmp/env.sock"), routing("MOEPROF_ROUTING", "off");
  moeprof_init_options o{sizeof o, MOEPROF_API_VERSION, "/tmp/opt.sock", MOEPROF_ROUTING_FULL, 0};
  Config c;
  std::string error;
  ASSERT_EQ(load_config(&o, &c, &error), MOEPROF_OK) << error;
  EXPECT_EQ(c.socket_path, "/tmp/opt.sock");
  EXPECT_EQ(c.routing_mode, MOEPROF_ROUTING_FULL);
}

TEST(Config, AnOlderCallersShorterOptionsStructReadsDefaultsForTheRest) {
  ScopedEnv socket("MOEPROF_SOCKET", "/tmp/env.sock"), routing("MOEPROF_ROUTING", "full");
  moeprof_init_options o{offsetof(moeprof_init_options, socket_path), MOEPROF_API_VERSION, "/ignored", 0, 0};
  Config c;
  std::string error;
  ASSERT_EQ(load_config(&o, &c, &error), MOEPROF_OK) << error;
  EXPECT_EQ(c.socket_path, "/tmp/env.sock");
  EXPECT_EQ(c.routing_mode, MOEPROF_ROUTING_FULL);
}

TEST(Config, RejectsBadInputWithAReason) {
  Config c;
  std::string error;
  moeprof_init_options tiny{4, MOEPROF_API_VERSION, nullptr, -1, 0};
  EXPECT_EQ(load_config(&tiny, &c, &error), MOEPROF_ERROR_INVALID_ARGUMENT);
  moeprof_init_options newer{sizeof newer, MOEPROF_API_VERSION + 1, nullptr, -1, 0};
  EXPECT_EQ(load_config(&newer, &c, &error), MOEPROF_ERROR_VERSION);
  moeprof_init_options bad_mode{sizeof bad_mode, MOEPROF_API_VERSION, nullptr, 7, 0};
  EXPECT_EQ(load_config(&bad_mode, &c, &error), MOEPROF_ERROR_INVALID_ARGUMENT);
  moeprof_init_options zero_sample{sizeof zero_sample, MOEPROF_API_VERSION, nullptr, MOEPROF_ROUTING_SAMPLE, 0};
  EXPECT_EQ(load_config(&zero_sample, &c, &error), MOEPROF_ERROR_INVALID_ARGUMENT);
  {
    ScopedEnv routing("MOEPROF_ROUTING", "sometimes");
    EXPECT_EQ(load_config(nullptr, &c, &error), MOEPROF_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(error.find("MOEPROF_ROUTING"), std::string::npos) << error;
  }
  {
    ScopedEnv ring("MOEPROF_RING_KB", "lots");
    EXPECT_EQ(load_config(nullptr, &c, &error), MOEPROF_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(error.find("MOEPROF_RING_KB"), std::string::npos) << error;
  }
  {
    ScopedEnv clock("MOEPROF_CLOCK", "sundial");
    EXPECT_EQ(load_config(nullptr, &c, &error), MOEPROF_ERROR_INVALID_ARGUMENT);
  }
  {
    ScopedEnv disable("MOEPROF_DISABLE", "1");
    EXPECT_EQ(load_config(nullptr, &c, &error), MOEPROF_ERROR_DISABLED);
  }
}

}  // namespace
}  // namespace moeprof::agent
