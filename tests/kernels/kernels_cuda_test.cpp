// The GPU kernels against their CPU references (moe_kernels.h), on random and adversarial
// inputs: ties, every token to one expert, dropped pairs, experts without rows. Skipped (and
// reported so by ctest) without a CUDA device; the launchers' argument checks need none.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels.h"
#include "moeprof/kernels/moe_kernels_cuda.h"

namespace moeprof::kernels {
namespace {

#define REQUIRE_DEVICE() \
  if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device: GPU kernel tests need one"

// A device copy of a host vector, and back.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    void* memory = nullptr;
    MOEPROF_CUDA_CHECK(cudaMalloc(&memory, std::max<size_t>(n, 1) * sizeof(T)));
    data_ = static_cast<T*>(memory);
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    MOEPROF_CUDA_CHECK(cudaMemcpy(data_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return data_; }
  std::vector<T> host() const {
    MOEPROF_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> out(n_);
    MOEPROF_CUDA_CHECK(cudaMemcpy(out.data(), data_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
  }

 private:
  T* data_ = nullptr;
  size_t n_;
};

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, float tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tolerance * std::max(1.0f, std::fabs(want[i]))) << "at " << i;
}

// Logits on a grid of distinct steps (no near-ties that float rounding could flip), shifted
// off zero so that no two are opposites (sigmoid(x) + sigmoid(-x) = 1 would tie group sums).
std::vector<float> grid_logits(uint32_t tokens, uint32_t experts, std::mt19937& random) {
  std::vector<float> out(size_t(tokens) * experts);
  std::vector<float> row(experts);
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t e = 0; e < experts; ++e) row[e] = (float(e) - float(experts) / 2 + 0.37f) * (8.0f / float(experts));
    std::shuffle(row.begin(), row.end(), random);
    std::copy(row.begin(), row.end(), out.begin() + size_t(t) * experts);
  }
  return out;
}

struct GatingCase {
  const char* name;
  GatingConfig config;
  std::vector<float> bias;  // host copy of the selection bias
};

void expect_gating_matches_cpu(GatingCase c, const std::vector<float>& logits) {
  SCOPED_TRACE(c.name);
  const uint32_t tokens = uint32_t(logits.size() / c.config.num_experts), k = c.config.top_k;
  std::vector<int32_t> want_ids(size_t(tokens) * k);
  std::vector<float> want_weights(want_ids.size());
  GatingConfig host = c.config;
  host.selection_bias = c.bias;
  topk_gating_cpu(logits.data(), tokens, host, want_ids.data(), want_weights.data());

  DeviceBuffer<float> d_logits(logits), d_bias(c.bias.empty() ? std::vector<float>{0.0f} : c.bias), d_weights(want_ids.size());
  DeviceBuffer<int32_t> d_ids(want_ids.size());
  GatingConfig device = c.config;
  if (!c.bias.empty()) device.selection_bias = std::span<const float>(d_bias.get(), c.bias.size());
  cuda::topk_gating(d_logits.get(), tokens, device, d_ids.get(), d_weights.get(), nullptr);
  EXPECT_EQ(d_ids.host(), want_ids);
  expect_near_all(d_weights.host(), want_weights, 1e-5f);
}

TEST(CudaGating, LaunchersRefuseSizesTheKernelsDoNotTake) {
  GatingConfig c;
  c.num_experts = cuda::kMaxGatingExperts * 2;
  c.top_k = 2;
  EXPECT_THROW(cuda::topk_gating(nullptr, 1, c, nullptr, nullptr, nullptr), std::invalid_argument);
  c.num_experts = 64;
  c.top_k = cuda::kMaxTopK + 1;
  EXPECT_THROW(cuda::topk_gating(nullptr, 1, c, nullptr, nullptr, nullptr), std::invalid_argument);
  c.top_k = 4;
  c.num_groups = 64;
  c.topk_groups = 4;
  EXPECT_THROW(cuda::topk_gating(nullptr, 1, c, nullptr, nullptr, nullptr), std::invalid_argument);
  c.num_groups = 3;  // 64 experts do not split into 3 groups: validate() says so
  try {
    cuda::topk_gating(nullptr, 1, c, nullptr, nullptr, nullptr);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("multiple of num_groups"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cuda::expert_histogram(nullptr, 1, cuda::kMaxHistogramExperts + 1, nullptr, nullptr),
               std::invalid_argument);
  EXPECT_THROW(cuda::expert_histogram(nullptr, 1, 0, nullptr, nullptr), std::invalid_argument);
}

TEST(CudaGating, EqualsTheCpuReferenceForTheSeedsShapes) {
  REQUIRE_DEVICE();
  std::mt19937 random(7);
  std::vector<GatingCase> cases;
  GatingConfig mixtral;  // softmax top-2 of 8, renormalised
  mixtral.num_experts = 8;
  mixtral.top_k = 2;
  cases.push_back({"mixtral", mixtral, {}});
  GatingConfig qwen = mixtral;  // softmax top-8 of 128, probabilities kept
  qwen.num_experts = 128;
  qwen.top_k = 8;
  qwen.normalize = false;
  cases.push_back({"qwen3", qwen, {}});
  GatingConfig deepseek;  // sigmoid, bias, 8 groups of 32, best 4 groups, top-8, scaled
  deepseek.num_experts = 256;
  deepseek.top_k = 8;
  deepseek.score = ScoreFunction::kSigmoid;
  deepseek.num_groups = 8;
  deepseek.topk_groups = 4;
  deepseek.routed_scaling = 2.5f;
  std::vector<float> bias(256);
  for (size_t e = 0; e < bias.size(); ++e) bias[e] = float(int(random() % 5) - 2);  // whole numbers: they dominate
  cases.push_back({"deepseek-v3", deepseek, bias});
  GatingConfig widest = mixtral;  // the largest shape the kernel takes, and an odd one
  widest.num_experts = cuda::kMaxGatingExperts;
  widest.top_k = cuda::kMaxTopK;
  cases.push_back({"1024 experts, top-32", widest, {}});
  GatingConfig odd = mixtral;
  odd.num_experts = 37;
  odd.top_k = 5;
  cases.push_back({"37 experts", odd, {}});
  for (const GatingCase& c : cases) expect_gating_matches_cpu(c, grid_logits(999, c.config.num_experts, random));
}

TEST(CudaGating, TiesAndOneHotRowsResolveAsOnTheCpu) {
  REQUIRE_DEVICE();
  GatingConfig c;
  c.num_experts = 64;
  c.top_k = 6;
  std::vector<float> logits(size_t(64) * 64, 0.25f);  // every row all ties: experts 0..5
  for (uint32_t t = 32; t < 64; ++t) logits[size_t(t) * 64 + 63] = 30.0f;  // one expert dominates
  expect_gating_matches_cpu({"ties", c, {}}, logits);
  c.score = ScoreFunction::kSigmoid;
  c.num_groups = 8;
  c.topk_groups = 2;
  expect_gating_matches_cpu({"tied groups", c, {}}, logits);  // tied groups: the lower ones
}

TEST(CudaHistogram, EqualsTheCpuReference) {
  REQUIRE_DEVICE();
  std::mt19937 random(11);
  for (uint32_t experts : {1u, 256u, cuda::kMaxHistogramExperts}) {
    std::vector<int32_t> ids(300001);
    for (auto& id : ids) id = random() % 10 == 0 ? -1 : int32_t(random() % experts);
    std::fill(ids.begin(), ids.begin() + 50000, 0);  // a hot expert: many atomics on one counter
    std::vector<uint32_t> want(experts);
    expert_histogram_cpu(ids.data(), ids.size(), experts, want.data());
    DeviceBuffer<int32_t> d_ids(ids);
    DeviceBuffer<uint32_t> d_counts(std::vector<uint32_t>(experts, 12345));  // overwritten, not added to
    cuda::expert_histogram(d_ids.get(), ids.size(), experts, d_counts.get(), nullptr);
    EXPECT_EQ(d_counts.host(), want) << experts << " experts";
  }
}

TEST(CudaPermute, PlanRowsAndUnpermuteEqualTheCpuReference) {
  REQUIRE_DEVICE();
  std::mt19937 random(13);
  const uint32_t tokens = 1500, k = 8, experts = 64, hidden = 96;
  std::vector<int32_t> ids(size_t(tokens) * k);
  for (uint32_t t = 0; t < tokens; ++t)
    for (uint32_t c = 0; c < k; ++c)
      ids[size_t(t) * k + c] = random() % 20 == 0 ? -1 : t < 200 ? int32_t(c) : int32_t(random() % (experts - 1));
  std::vector<float> x(size_t(tokens) * hidden), weights(ids.size()), out(x.size());
  std::uniform_real_distribution<float> value(-1, 1);
  for (auto& v : x) v = value(random);
  for (auto& v : weights) v = value(random);
  for (auto& v : out) v = value(random);  // unpermute adds to what is there

  std::vector<uint32_t> want_rows_of(ids.size()), want_offsets(experts + 1);
  const uint32_t rows = permute_plan_cpu(ids.data(), tokens, k, experts, want_rows_of.data(), want_offsets.data());
  std::vector<float> want_rows(size_t(rows) * hidden), want_out = out;
  permute_rows_cpu(x.data(), hidden, want_rows_of.data(), rows, k, want_rows.data());
  unpermute_rows_cpu(want_rows.data(), hidden, want_rows_of.data(), rows, k, weights.data(), want_out.data());

  DeviceBuffer<int32_t> d_ids(ids), d_pair_to_row(ids.size());
  DeviceBuffer<uint32_t> d_row_to_pair(ids.size()), d_offsets(experts + 1);
  DeviceBuffer<unsigned char> workspace(cuda::permute_plan_workspace_bytes(tokens, k, experts));
  cuda::permute_plan(d_ids.get(), tokens, k, experts, d_row_to_pair.get(), d_pair_to_row.get(), d_offsets.get(),
                     workspace.get(), cuda::permute_plan_workspace_bytes(tokens, k, experts), nullptr);
  EXPECT_EQ(d_offsets.host(), want_offsets);
  const std::vector<uint32_t> row_to_pair = d_row_to_pair.host();
  EXPECT_EQ(std::vector<uint32_t>(row_to_pair.begin(), row_to_pair.begin() + rows),
            std::vector<uint32_t>(want_rows_of.begin(), want_rows_of.begin() + rows));  // stable, as on the CPU
  const std::vector<int32_t> pair_to_row = d_pair_to_row.host();
  for (size_t p = 0; p < ids.size(); ++p) {
    const bool kept = ids[p] >= 0;
    ASSERT_EQ(pair_to_row[p] >= 0, kept) << "pair " << p;
    if (kept) {
      ASSERT_EQ(row_to_pair[size_t(pair_to_row[p])], p);
    }
  }

  DeviceBuffer<float> d_x(x), d_rows(size_t(ids.size()) * hidden), d_weights(weights), d_out(out);
  cuda::permute_rows(d_x.get(), hidden, d_row_to_pair.get(), d_offsets.get() + experts, uint32_t(ids.size()), k,
                     d_rows.get(), nullptr);
  const std::vector<float> got_rows = d_rows.host();
  EXPECT_EQ(std::vector<float>(got_rows.begin(), got_rows.begin() + want_rows.size()), want_rows);  // copies: exact
  cuda::unpermute_rows(d_rows.get(), hidden, d_pair_to_row.get(), tokens, k, d_weights.get(), d_out.get(), nullptr);
  expect_near_all(d_out.host(), want_out, 1e-5f);
}

TEST(CudaExpertFfn, GroupedSwigluEqualsTheCpuReference) {
  REQUIRE_DEVICE();
  std::mt19937 random(17);
  const uint32_t experts = 6, hidden = 64, ffn = 96;
  const std::vector<uint32_t> offsets = {0, 37, 37, 38, 140, 140, 301};  // experts 1 and 4 get no rows
  const uint32_t rows = offsets.back();
  std::uniform_real_distribution<float> value(-0.5f, 0.5f);
  std::vector<float> x(size_t(rows) * hidden);
  for (auto& v : x) v = value(random);
  std::vector<std::vector<float>> gate_up(experts), down(experts);
  std::vector<float> want(x.size());
  for (uint32_t e = 0; e < experts; ++e) {
    gate_up[e].resize(size_t(hidden) * 2 * ffn);
    down[e].resize(size_t(ffn) * hidden);
    for (auto& v : gate_up[e]) v = value(random);
    for (auto& v : down[e]) v = value(random);
    swiglu_ffn_cpu(gate_up[e].data(), down[e].data(), hidden, ffn, x.data() + size_t(offsets[e]) * hidden,
                   offsets[e + 1] - offsets[e], want.data() + size_t(offsets[e]) * hidden);
  }
  std::vector<std::unique_ptr<DeviceBuffer<float>>> d_weights;
  std::vector<cuda::ExpertFfnWeights> weights(experts);
  for (uint32_t e = 0; e < experts; ++e) {
    if (offsets[e + 1] == offsets[e]) continue;  // no rows: no weights needed
    d_weights.push_back(std::make_unique<DeviceBuffer<float>>(gate_up[e]));
    weights[e].gate_up = d_weights.back()->get();
    d_weights.push_back(std::make_unique<DeviceBuffer<float>>(down[e]));
    weights[e].down = d_weights.back()->get();
  }
  DeviceBuffer<float> d_x(x), d_y(x.size()), scratch(size_t(rows) * 2 * ffn);
  cublasHandle_t cublas = nullptr;
  MOEPROF_CUBLAS_CHECK(cublasCreate(&cublas));
  cuda::grouped_swiglu_ffn(cublas, weights.data(), experts, offsets.data(), hidden, ffn, d_x.get(), d_y.get(),
                           scratch.get(), nullptr);
  const std::vector<float> got = d_y.host();
  cublasDestroy(cublas);
  expect_near_all(got, want, 1e-4f);
}

}  // namespace
}  // namespace moeprof::kernels
