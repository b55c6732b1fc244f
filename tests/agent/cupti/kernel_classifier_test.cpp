// Kernel names -> compute kinds: the glob matcher (against fnmatch(3) as the independent
// reference), the default rules on names real MoE stacks launch, and MOEPROF_KERNEL_KINDS.
#include "kernel_classifier.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "moeprof/moeprof.h"

namespace moeprof::cupti {
namespace {

TEST(GlobMatch, Basics) {
  EXPECT_TRUE(glob_match("*topk*", "void vllm::moe::topkGatingSoftmax<8>(float const*)"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("FLASH*", "flash_fwd_kernel")) << "case is ignored";
  EXPECT_FALSE(glob_match("flash", "flash_fwd_kernel")) << "the whole name must match";
  EXPECT_TRUE(glob_match("*a*b*c", "xxaxxbxxbxc"));
  EXPECT_FALSE(glob_match("*a*b*c", "xxaxxbxxbxcx"));
}

// Random patterns over a small alphabet give many backtracking cases; fnmatch with
// FNM_CASEFOLD (no brackets or escapes in them) is the reference.
TEST(GlobMatch, AgreesWithFnmatch) {
  std::mt19937 rng(7);
  const std::string pattern_chars = "ab*?A", text_chars = "abAB";
  int matches = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string pattern, text;
    for (int n = static_cast<int>(rng() % 7); n > 0; --n) pattern += pattern_chars[rng() % pattern_chars.size()];
    for (int n = static_cast<int>(rng() % 9); n > 0; --n) text += text_chars[rng() % text_chars.size()];
    const bool want = fnmatch(pattern.c_str(), text.c_str(), FNM_CASEFOLD) == 0;
    ASSERT_EQ(glob_match(pattern, text), want) << "pattern '" << pattern << "' text '" << text << "'";
    matches += want;
  }
  EXPECT_GT(matches, 1000) << "the sample exercises matches as well as mismatches";
}

struct Named {
  const char* name;
  int32_t kind;
};

TEST(KernelClassifier, DefaultsKnowCommonMoeKernels) {
  const Named names[] = {
      // vLLM
      {"void vllm::moe::topkGatingSoftmax<8, 8, 4, 16, 32, int, (vllm::moe::ScoringFunc)0>(float const*, bool "
       "const*, float*, int, int*, int*, int, int, int)",
       MOEPROF_COMPUTE_GATE},
      {"void vllm::moe::moeSoftmax<256>(float const*, bool const*, float*, int)", MOEPROF_COMPUTE_GATE},
      {"void vllm::moe::moe_align_block_size_kernel<int>(int const*, int*, int*, int*, int, int, int, unsigned "
       "long)",
       MOEPROF_COMPUTE_GATE},
      {"void vllm::moe::count_and_sort_expert_tokens_kernel<int>(int const*, int*, int*, unsigned long)",
       MOEPROF_COMPUTE_GATE},
      {"fused_moe_kernel", MOEPROF_COMPUTE_EXPERT},
      {"void vllm::moe::moe_sum_kernel<float, 2>(float*, float const*, int)", MOEPROF_COMPUTE_OTHER},
      // DeepEP and NCCL move tokens: never compute
      {"void deep_ep::intranode::dispatch<8, 768, 8192>(int4*, float*, int*, long*, float*, int*, int*, int4 const*)",
       kNoComputeKind},
      {"void deep_ep::internode_ll::combine<7168, 8>(void*, void*, int*, void const*)", kNoComputeKind},
      {"ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)", kNoComputeKind},
      // Megatron / Transformer Engine / CUTLASS / DeepGEMM
      {"void cutlass::Kernel<grouped_gemm::GemmGroupedKernel<float>>(grouped_gemm::Params)", MOEPROF_COMPUTE_EXPERT},
      {"void cutlass::Kernel<cutlass::gemm::kernel::GemmGrouped<cutlass::gemm::threadblock::MmaMultistage<>>>("
       "cutlass::gemm::kernel::GemmGrouped<>::Params)",
       MOEPROF_COMPUTE_EXPERT},
      {"void deep_gemm::sm90_fp8_gemm_1d2d_impl<(deep_gemm::GemmType)1, 128u>(deep_gemm::MGroupedContiguous)",
       MOEPROF_COMPUTE_EXPERT},
      {"void moe_permute_row_map(int const*, int*, int, int, int)", MOEPROF_COMPUTE_OTHER},
      {"void moe_unpermute_kernel<__nv_bfloat16, float, true>(__nv_bfloat16 const*, __nv_bfloat16*)",
       MOEPROF_COMPUTE_OTHER},
      {"void tensorrt_llm::kernels::cutlass_kernels::moe_gemm_kernel<half>(half*)", MOEPROF_COMPUTE_EXPERT},
      // attention
      {"void flash_fwd_kernel<Flash_fwd_kernel_traits<128, 64, 64, 4, false, false, cutlass::half_t>, false>("
       "Flash_fwd_params)",
       MOEPROF_COMPUTE_ATTENTION},
      {"fmha_cutlassF_f16_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel<>::Params)",
       MOEPROF_COMPUTE_ATTENTION},
      {"void vllm::paged_attention_v2_kernel<unsigned short, 128>(float*)", MOEPROF_COMPUTE_ATTENTION},
      // moeprof's own kernels (kernels/cuda, names as CUPTI demangles them)
      {"void moeprof::kernels::cuda::(anonymous namespace)::topk_gating_kernel<8>(float const*, unsigned int, "
       "moeprof::kernels::cuda::(anonymous namespace)::GatingParams, int*, float*)",
       MOEPROF_COMPUTE_GATE},
      {"moeprof::kernels::cuda::(anonymous namespace)::expert_histogram_kernel(int const*, unsigned long, unsigned "
       "int, unsigned int*)",
       MOEPROF_COMPUTE_GATE},
      {"void moeprof::kernels::cuda::(anonymous namespace)::grouped_swiglu_kernel<moeprof::kernels::cuda::(anonymous "
       "namespace)::routed_experts_tag>(float*, unsigned int, unsigned int)",
       MOEPROF_COMPUTE_EXPERT},
      {"void moeprof::kernels::cuda::(anonymous namespace)::grouped_swiglu_kernel<moeprof::kernels::cuda::(anonymous "
       "namespace)::shared_expert_tag>(float*, unsigned int, unsigned int)",
       MOEPROF_COMPUTE_SHARED_EXPERT},
      {"void moeprof::kernels::cuda::(anonymous namespace)::permute_rows_kernel(float const*, unsigned int, unsigned "
       "int const*, unsigned int const*, unsigned int, unsigned int, float*)",
       MOEPROF_COMPUTE_OTHER},
      {"void moeprof::kernels::cuda::(anonymous namespace)::unpermute_rows_kernel(float const*, unsigned int, int "
       "const*, unsigned int, unsigned int, float const*, float*)",
       MOEPROF_COMPUTE_OTHER},
      {"void shared_expert_ffn(float*)", MOEPROF_COMPUTE_SHARED_EXPERT},
      // nothing MoE-specific: not a compute span
      {"void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>(int)", kNoComputeKind},
      {"sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1", kNoComputeKind},
  };
  const KernelClassifier classifier;
  for (const Named& n : names) {
    const KernelKind k = classifier.classify(n.name);
    EXPECT_EQ(k.compute_kind, n.kind) << n.name << " -> " << kind_name(k.compute_kind);
    EXPECT_EQ(k.layer, -1) << n.name;
  }
}

TEST(KernelClassifier, ParsedRulesReplaceTheDefaults) {
  std::string error;
  const auto c = KernelClassifier::parse(" expert = *my_gemm* , *ffn? ; attention:3=*attn_l3*;none=*noise*", &error);
  ASSERT_TRUE(c) << error;
  ASSERT_EQ(c->rules().size(), 3u);
  EXPECT_EQ(c->classify("my_gemm_kernel"), (KernelKind{MOEPROF_COMPUTE_EXPERT, -1}));
  EXPECT_EQ(c->classify("FFN1"), (KernelKind{MOEPROF_COMPUTE_EXPERT, -1}));
  EXPECT_EQ(c->classify("ffn12"), kUnclassified);
  EXPECT_EQ(c->classify("Attn_L3_fwd"), (KernelKind{MOEPROF_COMPUTE_ATTENTION, 3}));
  EXPECT_EQ(c->classify("noise"), kUnclassified);
  EXPECT_EQ(c->classify("flash_fwd_kernel"), kUnclassified) << "no defaults without '+'";
}

TEST(KernelClassifier, APlusPutsTheRulesBeforeTheDefaults) {
  std::string error;
  const auto c = KernelClassifier::parse("+other=*flash_decode*;", &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->rules().size(), 1 + KernelClassifier::default_rules().size());
  EXPECT_EQ(c->classify("flash_decode_kernel").compute_kind, MOEPROF_COMPUTE_OTHER) << "ours first";
  EXPECT_EQ(c->classify("flash_fwd_kernel").compute_kind, MOEPROF_COMPUTE_ATTENTION) << "then the defaults";
}

TEST(KernelClassifier, TheFirstMatchingRuleDecides) {
  std::string error;
  const auto c = KernelClassifier::parse("gate=*a*;expert=*ab*", &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->classify("xaby").compute_kind, MOEPROF_COMPUTE_GATE);
}

TEST(KernelClassifier, BadSyntaxIsNamed) {
  const struct {
    const char* spec;
    const char* says;
  } cases[] = {
      {"", "no rules"},
      {" ; ", "no rules"},
      {"expert", "rule 1 'expert': no '='"},
      {"expert=*a*;moe=*b*", "rule 2 'moe=*b*': unknown kind 'moe'"},
      {"gate:x=*a*", "layer 'x' is not a whole number"},
      {"gate:-1=*a*", "layer '-1'"},
      {"gate:=*a*", "layer ''"},
      {"gate=*a*,,*b*", "empty pattern"},
      {"gate=", "empty pattern"},
      {"gate=a=b", "holds '='"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(KernelClassifier::parse(c.spec, &error)) << c.spec;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.spec << ": " << error;
  }
}

TEST(KernelClassifier, FromEnvFallsBackToTheDefaultsWithOneLine) {
  std::string warning;
  const KernelClassifier bad = KernelClassifier::from_env("expert=*x*;bogus=*y*", &warning);
  EXPECT_EQ(warning,
            "moeprof: MOEPROF_KERNEL_KINDS: rule 2 'bogus=*y*': unknown kind 'bogus' (gate, expert, "
            "shared_expert, attention, other, none); using the default kernel kinds");
  EXPECT_EQ(bad.rules().size(), KernelClassifier::default_rules().size());
  EXPECT_EQ(bad.classify("fused_moe_kernel").compute_kind, MOEPROF_COMPUTE_EXPERT);
  EXPECT_EQ(bad.classify("x").compute_kind, kNoComputeKind) << "the bad spec's good rules are not used either";

  for (const char* unset : {static_cast<const char*>(nullptr), "", "  "}) {
    std::string none;
    const KernelClassifier d = KernelClassifier::from_env(unset, &none);
    EXPECT_EQ(none, "");
    EXPECT_EQ(d.rules().size(), KernelClassifier::default_rules().size());
  }
  std::string none;
  const KernelClassifier good = KernelClassifier::from_env("gate=*x*", &none);
  EXPECT_EQ(none, "");
  EXPECT_EQ(good.classify("x").compute_kind, MOEPROF_COMPUTE_GATE);
}

TEST(KernelClassifier, KindNames) {
  EXPECT_EQ(kind_name(MOEPROF_COMPUTE_SHARED_EXPERT), "shared_expert");
  EXPECT_EQ(kind_name(kNoComputeKind), "none");
  EXPECT_EQ(kind_name(42), "none");
}

}  // namespace
}  // namespace moeprof::cupti
