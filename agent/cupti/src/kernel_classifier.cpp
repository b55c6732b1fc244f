#include "kernel_classifier.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "moeprof/moeprof.h"

namespace moeprof::cupti {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on `separator`, keeping empty pieces.
std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t end = s.find(separator, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

struct KindName {
  std::string_view name;
  int32_t kind;
};
constexpr KindName kKinds[] = {{"gate", MOEPROF_COMPUTE_GATE},
                               {"expert", MOEPROF_COMPUTE_EXPERT},
                               {"shared_expert", MOEPROF_COMPUTE_SHARED_EXPERT},
                               {"attention", MOEPROF_COMPUTE_ATTENTION},
                               {"other", MOEPROF_COMPUTE_OTHER},
                               {"none", kNoComputeKind}};

std::optional<int32_t> kind_of(std::string_view name) {
  for (const KindName& k : kKinds)
    if (k.name == name) return k.kind;
  return std::nullopt;
}

std::vector<KindRule> lowered_rules(std::vector<KindRule> rules) {
  for (KindRule& rule : rules)
    for (std::string& pattern : rule.patterns) pattern = lowered(pattern);
  return rules;
}

// One rule's text; nullopt and *error when it is malformed.
std::optional<KindRule> parse_rule(std::string_view text, std::string* error) {
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    *error = "no '=' between the kind and its patterns";
    return std::nullopt;
  }
  const std::string_view head = trim(text.substr(0, equals));
  const size_t colon = head.find(':');
  const std::string_view kind_text = trim(head.substr(0, colon));
  const std::optional<int32_t> kind = kind_of(kind_text);
  if (!kind) {
    *error = "unknown kind '" + std::string(kind_text) + "' (gate, expert, shared_expert, attention, other, none)";
    return std::nullopt;
  }
  KindRule rule{{*kind, -1}, {}};
  if (colon != std::string_view::npos) {
    const std::string_view layer = trim(head.substr(colon + 1));
    int32_t value = -1;
    const auto [end, ec] = std::from_chars(layer.data(), layer.data() + layer.size(), value);
    if (layer.empty() || ec != std::errc() || end != layer.data() + layer.size() || value < 0) {
      *error = "layer '" + std::string(layer) + "' is not a whole number >= 0";
      return std::nullopt;
    }
    rule.kind.layer = value;
  }
  for (std::string_view pattern : split(text.substr(equals + 1), ',')) {
    pattern = trim(pattern);
    if (pattern.empty()) {
      *error = "empty pattern";
      return std::nullopt;
    }
    if (pattern.find('=') != std::string_view::npos) {
      *error = "pattern '" + std::string(pattern) + "' holds '='";
      return std::nullopt;
    }
    rule.patterns.emplace_back(pattern);
  }
  return rule;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Greedy with backtracking to the last '*': linear for the patterns rules use.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const std::vector<KindRule>& KernelClassifier::default_rules() {
  static const std::vector<KindRule> rules = {
      {{kNoComputeKind, -1}, {"*deep_ep*", "*nccl*", "*nvshmem*", "*alltoall*", "*all_to_all*"}},
      {{MOEPROF_COMPUTE_SHARED_EXPERT, -1}, {"*shared_expert*"}},
      {{MOEPROF_COMPUTE_GATE, -1},
       {"*topk*", "*top_k*", "*gating*", "*router*", "*moesoftmax*", "*moe_align*", "*count_and_sort_expert*",
        "*expert_histogram*"}},
      {{MOEPROF_COMPUTE_EXPERT, -1},
       {"*fused_moe*", "*grouped_gemm*", "*groupedgemm*", "*gemmgrouped*", "*mgrouped*", "*moe_gemm*", "*moegemm*",
        "*moe_ffn*", "*moe_mlp*", "*expert_ffn*", "*grouped_swiglu*"}},
      {{MOEPROF_COMPUTE_ATTENTION, -1}, {"*flash*", "*fmha*", "*attention*", "*attn*"}},
      {{MOEPROF_COMPUTE_OTHER, -1}, {"*permute*", "*moe_sum*"}},
  };
  return rules;
}

KernelClassifier::KernelClassifier() : rules_(lowered_rules(default_rules())) {}

KernelClassifier::KernelClassifier(std::vector<KindRule> rules) : rules_(lowered_rules(std::move(rules))) {}

std::optional<KernelClassifier> KernelClassifier::parse(std::string_view spec, std::string* error) {
  spec = trim(spec);
  const bool before_defaults = !spec.empty() && spec.front() == '+';
  if (before_defaults) spec.remove_prefix(1);
  std::vector<KindRule> rules;
  size_t index = 0;
  for (std::string_view text : split(spec, ';')) {
    ++index;
    text = trim(text);
    if (text.empty()) continue;  // "a=x;" and ";;" are fine
    std::string why;
    std::optional<KindRule> rule = parse_rule(text, &why);
    if (!rule) {
      *error = "rule " + std::to_string(index) + " '" + std::string(text) + "': " + why;
      return std::nullopt;
    }
    rules.push_back(std::move(*rule));
  }
  if (rules.empty()) {
    *error = "no rules";
    return std::nullopt;
  }
  if (before_defaults) rules.insert(rules.end(), default_rules().begin(), default_rules().end());
  return KernelClassifier(std::move(rules));
}

KernelClassifier KernelClassifier::from_env(const char* value, std::string* warning) {
  if (value == nullptr || trim(value).empty()) return KernelClassifier();
  std::string error;
  std::optional<KernelClassifier> parsed = parse(value, &error);
  if (parsed) return std::move(*parsed);
  *warning = "moeprof: MOEPROF_KERNEL_KINDS: " + error + "; using the default kernel kinds";
  return KernelClassifier();
}

KernelKind KernelClassifier::classify(std::string_view name) const {
  for (const KindRule& rule : rules_)
    for (const std::string& pattern : rule.patterns)
      if (glob_match(pattern, name)) return rule.kind;
  return kUnclassified;
}

std::string_view kind_name(int32_t compute_kind) {
  for (const KindName& k : kKinds)
    if (k.kind == compute_kind) return k.name;
  return "none";
}

}  // namespace moeprof::cupti
