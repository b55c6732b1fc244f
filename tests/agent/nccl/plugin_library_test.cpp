// libmoeprof_nccl.so as NCCL loads it: dlopen, then the tables NCCL looks up by name. Here no
// collector runs, so the agent is not recording: init must fail cleanly (NCCL then carries
// on without the plugin) and nothing else may misbehave. What the library records under a
// recording agent is checked end to end (nccl_capture_test.sh).
#include <dlfcn.h>

#include <cstdlib>

#include "recording_runtime.h"

namespace moeprof::nccl::testing {
namespace {

class PluginLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("MOEPROF_SOCKET");  // the agent must not start itself from the environment
    library = dlopen(MOEPROF_NCCL_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library, nullptr) << dlerror();
  }
  void TearDown() override {
    if (library != nullptr) {
      EXPECT_EQ(dlclose(library), 0);
    }
  }
  void* library = nullptr;
};

TEST_F(PluginLibraryTest, ExportsTheV5AndV4TablesNcclLooksUp) {
  const auto* v5 = static_cast<const moeprof_nccl_profiler_v5*>(dlsym(library, "ncclProfiler_v5"));
  const auto* v4 = static_cast<const moeprof_nccl_profiler_v4*>(dlsym(library, "ncclProfiler_v4"));
  ASSERT_NE(v5, nullptr);
  ASSERT_NE(v4, nullptr);
  EXPECT_STREQ(v5->name, "moeprof");
  EXPECT_STREQ(v4->name, "moeprof");
  for (const void* f : {reinterpret_cast<const void*>(v5->init), reinterpret_cast<const void*>(v5->start_event),
                        reinterpret_cast<const void*>(v5->stop_event),
                        reinterpret_cast<const void*>(v5->record_event_state),
                        reinterpret_cast<const void*>(v5->finalize), reinterpret_cast<const void*>(v4->init),
                        reinterpret_cast<const void*>(v4->start_event), reinterpret_cast<const void*>(v4->stop_event),
                        reinterpret_cast<const void*>(v4->record_event_state),
                        reinterpret_cast<const void*>(v4->finalize)})
    EXPECT_NE(f, nullptr);
  // Versions NCCL would look for first or last are not offered.
  EXPECT_EQ(dlsym(library, "ncclProfiler_v6"), nullptr);
  EXPECT_EQ(dlsym(library, "ncclProfiler_v3"), nullptr);
}

TEST_F(PluginLibraryTest, InitFailsCleanlyWhenMoeprofIsNotRecording) {
  const auto* v5 = static_cast<const moeprof_nccl_profiler_v5*>(dlsym(library, "ncclProfiler_v5"));
  const auto* v4 = static_cast<const moeprof_nccl_profiler_v4*>(dlsym(library, "ncclProfiler_v4"));
  ASSERT_TRUE(v5 != nullptr && v4 != nullptr);
  for (int version : {5, 4}) {
    nccl_emulator emu;
    EXPECT_NE(emu_init(&emu, version, version == 5 ? static_cast<const void*>(v5) : static_cast<const void*>(v4), 7,
                       "comm", 4, 0),
              MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(emu.context, nullptr);
    EXPECT_EQ(emu.mask, 0);  // no events asked for
    emu_alltoall(&emu, 10, "ncclFloat32");
    EXPECT_EQ(emu.calls, 0u);
  }
  // Events reaching it anyway (another communicator's init set NCCL's mask) are harmless.
  void* handle = reinterpret_cast<void*>(0x1);
  moeprof_nccl_event_v5 e{};
  e.type = MOEPROF_NCCL_PROFILE_P2P;
  EXPECT_EQ(v5->start_event(nullptr, &handle, &e), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(handle, nullptr);
  EXPECT_EQ(v5->stop_event(nullptr), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(v4->record_event_state(nullptr, 0, nullptr), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(v4->finalize(nullptr), MOEPROF_NCCL_SUCCESS);
  EXPECT_NE(v5->init(nullptr, 0, nullptr, nullptr, 0, 0, 0, nullptr), MOEPROF_NCCL_SUCCESS);
}

}  // namespace
}  // namespace moeprof::nccl::testing
