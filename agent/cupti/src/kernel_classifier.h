// Which compute kind (gate, expert, ...) a GPU kernel counts as, from its demangled name.
//
// Rules are tried in order; the first whose glob matches the whole name decides. A kernel no
// rule matches, or one matched by a `none` rule, is no compute span (compute_kind -1).
//
// MOEPROF_KERNEL_KINDS syntax (whitespace around tokens is ignored):
//   spec    := ['+'] rule (';' rule)*
//   rule    := kind [':' layer] '=' pattern (',' pattern)*
//   kind    := gate | expert | shared_expert | attention | other | none
//   layer   := a whole number >= 0 (the layer the kernel's compute span is given; default -1)
//   pattern := a glob over the demangled name: '*' any run of characters, '?' one character,
//              ASCII case ignored; it cannot hold ';', ',' or '='
// Without '+' the rules replace the defaults; with '+' they are tried before them. Example:
//   MOEPROF_KERNEL_KINDS="+expert=*my_moe_gemm*,*ffn_kernel*;attention=*my_attn*;none=*memset*"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moeprof::cupti {

// A moeprof_compute_kind value, or kNoComputeKind, and the layer (-1: unknown).
struct KernelKind {
  int32_t compute_kind;
  int32_t layer;
  bool operator==(const KernelKind&) const = default;
};
inline constexpr int32_t kNoComputeKind = -1;
inline constexpr KernelKind kUnclassified{kNoComputeKind, -1};

// '*' matches any run (also an empty one), '?' one character; ASCII case is ignored and the
// whole of `text` must match.
bool glob_match(std::string_view pattern, std::string_view text);

struct KindRule {
  KernelKind kind;
  std::vector<std::string> patterns;
};

class KernelClassifier {
 public:
  // The default rules (default_rules()).
  KernelClassifier();
  explicit KernelClassifier(std::vector<KindRule> rules);

  // Rules in MOEPROF_KERNEL_KINDS syntax; nullopt with `*error` saying what is wrong.
  static std::optional<KernelClassifier> parse(std::string_view spec, std::string* error);
  // The classifier for the variable's value: the defaults when it is unset or empty, and
  // also on bad syntax, where `*warning` gets the one line to print.
  static KernelClassifier from_env(const char* value, std::string* warning);

  KernelKind classify(std::string_view name) const;
  const std::vector<KindRule>& rules() const { return rules_; }

  // Communication kernels (DeepEP, NCCL, NVSHMEM) first, as `none`: their time is an
  // all-to-all, not compute. Then shared experts, routing (top-k, softmax gating, vLLM's
  // moe_align / token sorting), expert GEMMs (vLLM fused_moe, Megatron/TE grouped GEMM,
  // CUTLASS grouped, DeepGEMM m-grouped, TensorRT-LLM moe_gemm, moeprof's expert_ffn),
  // attention (flash, fmha) and token permutation (other).
  static const std::vector<KindRule>& default_rules();

 private:
  std::vector<KindRule> rules_;  // patterns stored in lower case
};

// "gate", "expert", ... for a compute kind; "none" for kNoComputeKind.
std::string_view kind_name(int32_t compute_kind);

}  // namespace moeprof::cupti
