// libmoeprof_nvtx.so's entry points as NVTX calls them: each NVTX instance in a process (each
// library embedding the header-only NVTX) initialises it and gets its slots pointed at the
// same capture; the payload extension's slots likewise.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include "nvtx_api.h"

namespace {

// One NVTX instance's function tables, as NVTX's own implementation lays them out.
struct FakeNvtxInstance {
  NvtxFunctionPointer core[NVTX_CBID_CORE_SIZE] = {};
  NvtxFunctionPointer* core_table[NVTX_CBID_CORE_SIZE] = {};
  NvtxFunctionPointer core2[NVTX_CBID_CORE2_SIZE] = {};
  NvtxFunctionPointer* core2_table[NVTX_CBID_CORE2_SIZE] = {};
  NvtxExportTableCallbacks callbacks{sizeof(NvtxExportTableCallbacks), &module_table};

  FakeNvtxInstance() {
    // Slot 0 of each table is not a function (NVTX leaves it null).
    for (unsigned i = 1; i < NVTX_CBID_CORE_SIZE; ++i) core_table[i] = &core[i];
    for (unsigned i = 1; i < NVTX_CBID_CORE2_SIZE; ++i) core2_table[i] = &core2[i];
  }

  static thread_local FakeNvtxInstance* current;
  static int NVTX_API module_table(NvtxCallbackModule module, NvtxFunctionTable* out, unsigned int* size) {
    if (module == NVTX_CB_MODULE_CORE) {
      *out = current->core_table;
      *size = NVTX_CBID_CORE_SIZE;
      return 1;
    }
    if (module == NVTX_CB_MODULE_CORE2) {
      *out = current->core2_table;
      *size = NVTX_CBID_CORE2_SIZE;
      return 1;
    }
    return 0;
  }
  static const void* NVTX_API export_table(uint32_t id) {
    return id == NVTX_ETID_CALLBACKS ? &current->callbacks : nullptr;
  }

  template <typename F>
  F core_fn(unsigned id) const {
    return reinterpret_cast<F>(core[id]);
  }
  template <typename F>
  F core2_fn(unsigned id) const {
    return reinterpret_cast<F>(core2[id]);
  }
};
thread_local FakeNvtxInstance* FakeNvtxInstance::current = nullptr;

class Injection : public ::testing::Test {
 protected:
  void SetUp() override {
    library = dlopen(MOEPROF_NVTX_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library, nullptr) << dlerror();
    init = reinterpret_cast<int (*)(NvtxGetExportTableFunc_t)>(dlsym(library, "InitializeInjectionNvtx2"));
    init_extension = reinterpret_cast<int (*)(nvtxExtModuleInfo_t*)>(dlsym(library, "InitializeInjectionNvtxExtension"));
    ASSERT_NE(init, nullptr);
    ASSERT_NE(init_extension, nullptr);
  }
  int initialise(FakeNvtxInstance& instance) {
    FakeNvtxInstance::current = &instance;
    return init(&FakeNvtxInstance::export_table);
  }
  void* library = nullptr;
  int (*init)(NvtxGetExportTableFunc_t) = nullptr;
  int (*init_extension)(nvtxExtModuleInfo_t*) = nullptr;
};

TEST_F(Injection, EveryNvtxInstanceIsPointedAtTheSameCapture) {
  FakeNvtxInstance first, second;
  ASSERT_EQ(initialise(first), 1);
  ASSERT_EQ(initialise(second), 1);  // a second library embedding NVTX
  for (unsigned id : {NVTX_CBID_CORE_MarkEx, NVTX_CBID_CORE_RangePushA, NVTX_CBID_CORE_RangePop,
                      NVTX_CBID_CORE_RangeStartEx, NVTX_CBID_CORE_NameCategoryA}) {
    EXPECT_NE(first.core[id], nullptr) << id;
    EXPECT_EQ(first.core[id], second.core[id]) << id;
  }
  EXPECT_EQ(first.core[NVTX_CBID_CORE_NameOsThreadA], nullptr);  // not handled: NVTX's no-op

  // Ranges pushed through one instance nest with those of the other: one capture.
  using PushA = int(NVTX_API*)(const char*);
  using Pop = int(NVTX_API*)();
  EXPECT_EQ(first.core_fn<PushA>(NVTX_CBID_CORE_RangePushA)("a"), 0);
  EXPECT_EQ(second.core_fn<PushA>(NVTX_CBID_CORE_RangePushA)("b"), 1);
  EXPECT_EQ(first.core_fn<Pop>(NVTX_CBID_CORE_RangePop)(), 1);
  EXPECT_EQ(second.core_fn<Pop>(NVTX_CBID_CORE_RangePop)(), 0);
  EXPECT_EQ(second.core_fn<Pop>(NVTX_CBID_CORE_RangePop)(), -1);

  using Create = nvtxDomainHandle_t(NVTX_API*)(const char*);
  const auto create1 = first.core2_fn<Create>(NVTX_CBID_CORE2_DomainCreateA);
  const auto create2 = second.core2_fn<Create>(NVTX_CBID_CORE2_DomainCreateA);
  ASSERT_NE(create1, nullptr);
  EXPECT_NE(create1("x"), nullptr);
  EXPECT_EQ(create1("x"), create2("x"));
  EXPECT_NE(create1("x"), create2("y"));
}

TEST_F(Injection, RejectsWhatIsNotAnNvtxExportTable) {
  EXPECT_EQ(init(nullptr), 0);
  EXPECT_EQ(init([](uint32_t) -> const void* { return nullptr; }), 0);
  static NvtxExportTableCallbacks too_short{4, nullptr};
  EXPECT_EQ(init([](uint32_t) -> const void* { return &too_short; }), 0);
  EXPECT_EQ(init_extension(nullptr), 0);
}

TEST_F(Injection, PayloadExtensionSlotsAreFilled) {
  intptr_t slots[NVTX3EXT_CBID_nvtxEventBatchSubmit + 1] = {};
  nvtxExtModuleSegment_t segment{0, std::size(slots), slots};
  nvtxExtModuleInfo_t info{NVTX_VERSION, sizeof(nvtxExtModuleInfo_t), NVTX_EXT_PAYLOAD_MODULEID,
                           NVTX_EXT_PAYLOAD_COMPATID, 1, &segment, nullptr, nullptr};
  ASSERT_EQ(init_extension(&info), 1);
  for (unsigned id : {NVTX3EXT_CBID_nvtxPayloadSchemaRegister, NVTX3EXT_CBID_nvtxMarkPayload,
                      NVTX3EXT_CBID_nvtxRangePushPayload, NVTX3EXT_CBID_nvtxRangePopPayload,
                      NVTX3EXT_CBID_nvtxDomainIsEnabled})
    EXPECT_NE(slots[id], 0) << id;
  EXPECT_EQ(slots[NVTX3EXT_CBID_nvtxTimerSource], 0);  // not handled
  using IsEnabled = uint8_t(NVTX_API*)(nvtxDomainHandle_t);
  EXPECT_EQ(reinterpret_cast<IsEnabled>(slots[NVTX3EXT_CBID_nvtxDomainIsEnabled])(nullptr), 1);

  // Another extension module (counters, memory): accepted, no slot touched.
  intptr_t other[4] = {};
  nvtxExtModuleSegment_t other_segment{0, 4, other};
  nvtxExtModuleInfo_t counters{NVTX_VERSION, sizeof(nvtxExtModuleInfo_t), 99, 0, 1, &other_segment, nullptr, nullptr};
  EXPECT_EQ(init_extension(&counters), 1);
  for (intptr_t s : other) EXPECT_EQ(s, 0);
}

}  // namespace
