// Demangling and the name cache: CUPTI's name pointer is the key, the text is checked on
// every hit, and a full cache still answers right.
#include "kernel_names.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "moeprof/moeprof.h"

namespace moeprof::cupti {
namespace {

TEST(Demangle, ItaniumNamesBecomeReadableOthersStay) {
  // Expected texts as binutils' c++filt prints them.
  EXPECT_EQ(demangle("_Z14VectorSubtractPKiS0_Pii"), "VectorSubtract(int const*, int const*, int*, int)");
  EXPECT_EQ(demangle("_ZN7moeprof7kernels18topk_gating_kernelIfEEvPKT_PiPf"),
            "void moeprof::kernels::topk_gating_kernel<float>(float const*, int*, float*)");
  EXPECT_EQ(demangle("fused_moe_kernel"), "fused_moe_kernel") << "Triton names are not mangled";
  EXPECT_EQ(demangle("_Zbogus!"), "_Zbogus!") << "what does not demangle stays as it is";
  EXPECT_EQ(demangle("i"), "i") << "not read as the type 'int'";
  EXPECT_EQ(demangle(nullptr), "");
}

TEST(KernelNames, LooksUpDemangledAndClassifiedOncePerPointer) {
  const KernelClassifier classifier;
  KernelNames names(classifier, 16);
  static const char gating[] = "_ZN7moeprof7kernels18topk_gating_kernelIfEEvPKT_PiPf";
  static const char triton[] = "fused_moe_kernel";
  const KernelName& a = names.lookup(gating);
  EXPECT_EQ(a.name, "void moeprof::kernels::topk_gating_kernel<float>(float const*, int*, float*)");
  EXPECT_EQ(a.kind.compute_kind, MOEPROF_COMPUTE_GATE);
  const KernelName& b = names.lookup(triton);
  EXPECT_EQ(b.kind.compute_kind, MOEPROF_COMPUTE_EXPERT);
  EXPECT_EQ(&names.lookup(gating), &a) << "a hit returns the cached entry";
  EXPECT_EQ(names.cached(), 2u);
  EXPECT_EQ(names.lookup(nullptr).name, "");
}

TEST(KernelNames, AReusedPointerGetsItsNewName) {
  const KernelClassifier classifier;
  KernelNames names(classifier, 16);
  char text[64];
  std::strcpy(text, "flash_fwd_kernel");
  EXPECT_EQ(names.lookup(text).kind.compute_kind, MOEPROF_COMPUTE_ATTENTION);
  std::strcpy(text, "moe_align_block_size_kernel");
  const KernelName& again = names.lookup(text);
  EXPECT_EQ(again.name, "moe_align_block_size_kernel");
  EXPECT_EQ(again.kind.compute_kind, MOEPROF_COMPUTE_GATE);
}

TEST(KernelNames, BeyondItsCapacityNamesAreStillRight) {
  const KernelClassifier classifier;
  KernelNames names(classifier, 8);
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) texts.push_back("kernel_" + std::to_string(i) + (i % 2 ? "_topk" : "_flash"));
  for (int round = 0; round < 2; ++round)
    for (size_t i = 0; i < texts.size(); ++i) {
      const KernelName& n = names.lookup(texts[i].c_str());
      ASSERT_EQ(n.name, texts[i]);
      ASSERT_EQ(n.kind.compute_kind, i % 2 ? MOEPROF_COMPUTE_GATE : MOEPROF_COMPUTE_ATTENTION);
    }
  EXPECT_GE(names.cached(), 8u);
  EXPECT_LT(names.cached(), 100u);
  EXPECT_EQ(names.uncached_lookups(), 2 * (100 - names.cached()));
}

}  // namespace
}  // namespace moeprof::cupti
