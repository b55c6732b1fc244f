#include "cuda_moe_layer.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "../capacity.h"
#include "../dispatch_plan.h"
#include "../exchange.h"
#include "device_array.h"
#include "engine_kernels.h"
#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels.h"
#include "moeprof/kernels/moe_kernels_cuda.h"
#include "nccl_check.h"

namespace moeprof::engine {
namespace {

using cuda::DeviceArray;

// One layer's weights on the device, uploaded the first time the layer runs.
struct DeviceLayer {
  bool uploaded = false;
  DeviceArray<float> router, shared_gate_up, shared_down;
  std::vector<DeviceArray<float>> gate_up, down;  // by expert id; empty where not held
  std::vector<kernels::cuda::ExpertFfnWeights> experts;
  kernels::cuda::ExpertFfnWeights shared;
};

// Rows (of `width` floats) to and from every peer, as one NCCL group of sends and receives.
void exchange_rows(const float* send, std::span<const int32_t> send_rows, float* recv, std::span<const int32_t> recv_rows,
                   size_t width, ncclComm_t comm, cudaStream_t stream) {
  size_t send_offset = 0, recv_offset = 0;
  MOEPROF_NCCL_CHECK(ncclGroupStart());
  for (size_t peer = 0; peer < send_rows.size(); ++peer) {
    const size_t out = size_t(send_rows[peer]) * width, in = size_t(recv_rows[peer]) * width;
    if (out != 0) MOEPROF_NCCL_CHECK(ncclSend(send + send_offset, out, ncclFloat, int(peer), comm, stream));
    if (in != 0) MOEPROF_NCCL_CHECK(ncclRecv(recv + recv_offset, in, ncclFloat, int(peer), comm, stream));
    send_offset += out;
    recv_offset += in;
  }
  MOEPROF_NCCL_CHECK(ncclGroupEnd());
}

// inverse[order[i]] = i; -1 elsewhere (n entries).
std::vector<int32_t> inverse_of(std::span<const uint32_t> order, size_t n) {
  std::vector<int32_t> inverse(n, -1);
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int32_t>(i);
  return inverse;
}

class CudaMoeLayer : public LayerBackend {
 public:
  CudaMoeLayer(const ModelConfig& model, MPI_Comm comm, int32_t local_rank, Recorder& recorder)
      : model_(model), comm_(comm), recorder_(recorder), layers_(size_t(model.num_layers)) {
    int rank = 0, devices = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &ranks_);
    MOEPROF_CUDA_CHECK(cudaGetDeviceCount(&devices));
    if (devices == 0) throw std::runtime_error("--backend cuda: no CUDA device");
    MOEPROF_CUDA_CHECK(cudaSetDevice(local_rank % devices));
    MOEPROF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    MOEPROF_CUBLAS_CHECK(cublasCreate(&cublas_));
    MOEPROF_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    ncclUniqueId id{};
    if (rank == 0) MOEPROF_NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, comm);
    MOEPROF_NCCL_CHECK(ncclCommInitRank(&nccl_, ranks_, id, rank));
  }
  ~CudaMoeLayer() override {
    cudaStreamSynchronize(stream_);
    ncclCommDestroy(nccl_);
    cublasDestroy(cublas_);
    cudaStreamDestroy(stream_);
  }
  CudaMoeLayer(const CudaMoeLayer&) = delete;
  CudaMoeLayer& operator=(const CudaMoeLayer&) = delete;

  uint64_t forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map, std::vector<float>& x,
                   std::span<uint32_t> counts) override;
  const ExchangeTiming& exchange_timing() const override { return timing_; }

 private:
  DeviceLayer& device_layer(int32_t layer, const LayerWeights& weights);
  uint64_t route(const LayerStep& step, DeviceLayer& device, const ExpertMap& map, std::span<uint32_t> counts);
  void dispatch_and_experts(const LayerStep& step, DeviceLayer& device);
  void combine(const LayerStep& step);
  uint64_t row_bytes() const { return uint64_t(model_.hidden) * sizeof(float); }

  const ModelConfig& model_;
  MPI_Comm comm_;
  int32_t ranks_ = 1;
  Recorder& recorder_;
  std::vector<DeviceLayer> layers_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  ncclComm_t nccl_ = nullptr;
  ExchangeTiming timing_;
  uint32_t tokens_ = 0;
  // Host side of the plan (the CPU backend's code).
  std::vector<int32_t> topk_ids_, kept_ids_, recv_rows_, recv_expert_;
  std::vector<float> topk_weights_;
  std::vector<uint32_t> dropped_;
  DispatchPlan plan_;
  // Device buffers, reused from layer to layer.
  DeviceArray<float> x_, h_, logits_, bias_, selection_bias_, topk_weights_device_, send_, recv_, grouped_in_, grouped_out_,
      expert_out_, combined_, shared_out_, y_, scratch_, ones_;
  DeviceArray<int32_t> ids_, pair_to_row_, row_to_grouped_;
  DeviceArray<uint32_t> row_to_pair_, grouped_to_row_, num_rows_;
};

DeviceLayer& CudaMoeLayer::device_layer(int32_t layer, const LayerWeights& w) {
  DeviceLayer& d = layers_.at(size_t(layer));
  if (d.uploaded) return d;
  d.router.upload(w.router, stream_);
  if (!w.shared.empty()) {
    d.shared = {d.shared_gate_up.upload(w.shared.gate_up, stream_), d.shared_down.upload(w.shared.down, stream_)};
  }
  d.gate_up.resize(w.experts.size());
  d.down.resize(w.experts.size());
  d.experts.assign(w.experts.size(), {});
  for (size_t e = 0; e < w.experts.size(); ++e) {
    if (w.experts[e].empty()) continue;  // held by another rank
    d.experts[e] = {d.gate_up[e].upload(w.experts[e].gate_up, stream_), d.down[e].upload(w.experts[e].down, stream_)};
  }
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the host vectors may go
  d.uploaded = true;
  return d;
}

uint64_t CudaMoeLayer::route(const LayerStep& step, DeviceLayer& device, const ExpertMap& map,
                             std::span<uint32_t> counts) {
  const uint32_t hidden = uint32_t(model_.hidden), k = uint32_t(model_.top_k), experts = uint32_t(model_.num_experts);
  const size_t pairs = size_t(tokens_) * k;
  uint64_t dropped_total = 0;
  Recorder::Compute gate(step.layer, MOEPROF_COMPUTE_GATE);
  cuda::rms_norm(x_.get(), tokens_, hidden, h_.reserve(size_t(tokens_) * hidden), stream_);
  // logits (tokens x experts) = h (tokens x hidden) * router (hidden x experts), row-major.
  const float one = 1.0f, zero = 0.0f;
  float* logits = logits_.reserve(size_t(tokens_) * experts);
  MOEPROF_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, int(experts), int(tokens_), int(hidden), &one,
                                   device.router.get(), int(experts), h_.get(), int(hidden), &zero, logits, int(experts)));
  if (!step.logit_bias.empty())
    cuda::add_column_bias(logits, tokens_, experts, bias_.upload(step.logit_bias, stream_), stream_);
  kernels::GatingConfig config = gating_config(model_, {});
  if (!step.selection_bias.empty())
    config.selection_bias =
        std::span<const float>(selection_bias_.upload(step.selection_bias, stream_), step.selection_bias.size());
  kernels::cuda::topk_gating(logits, tokens_, config, ids_.reserve(pairs), topk_weights_device_.reserve(pairs), stream_);
  ids_.download(pairs, topk_ids_, stream_);
  topk_weights_device_.download(pairs, topk_weights_, stream_);
  // The plan, on the host, as the CPU backend makes it.
  kernels::expert_histogram_cpu(topk_ids_.data(), pairs, experts, counts.data());
  kept_ids_.resize(pairs);
  dropped_.resize(experts);
  dropped_total = apply_capacity(topk_ids_.data(), pairs, experts, step.capacity, kept_ids_.data(), dropped_.data());
  plan_ = plan_dispatch(kept_ids_, k, 0, tokens_, step.global_first_token, map, ranks_);
  return dropped_total;
}

void CudaMoeLayer::dispatch_and_experts(const LayerStep& step, DeviceLayer& device) {
  const uint32_t hidden = uint32_t(model_.hidden), k = uint32_t(model_.top_k), experts = uint32_t(model_.num_experts);
  const uint32_t send_rows = uint32_t(plan_.row_to_pair.size());
  // The send rows, gathered on the device in the plan's order.
  kernels::cuda::permute_rows(h_.get(), hidden, row_to_pair_.upload(plan_.row_to_pair, stream_),
                              num_rows_.upload(std::span<const uint32_t>(&send_rows, 1), stream_), send_rows, k,
                              send_.reserve(size_t(send_rows) * hidden), stream_);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the gather is not part of the all-to-all

  // Spans and --timing as in the CPU backend: the span covers the count exchange, the timed
  // part starts with the exchange of expert ids and rows.
  moeprof_span span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
  recv_rows_ = exchange_row_counts(plan_.rows_to_peer, 1, comm_);
  RowsAlltoallv expert_ids(plan_.rows_to_peer, recv_rows_, 1);  // small: through MPI, on the host
  recv_expert_.resize(expert_ids.recv_elements());
  const double t0 = step.timing ? MPI_Wtime() : 0.0;
  expert_ids.run(plan_.row_expert.data(), recv_expert_.data(), comm_);
  const uint32_t received = uint32_t(recv_expert_.size());
  exchange_rows(send_.get(), plan_.rows_to_peer, recv_.reserve(size_t(received) * hidden), recv_rows_, hidden, nccl_,
                stream_);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (step.timing) {
    timing_.seconds += MPI_Wtime() - t0;
    timing_.dispatch_seconds += MPI_Wtime() - t0;
    timing_.send_bytes += uint64_t(send_rows) * row_bytes();
    ++timing_.exchanges;
  }
  recorder_.all_to_all_end(span, step.layer, MOEPROF_PHASE_DISPATCH, plan_.rows_to_peer, recv_rows_, row_bytes());

  Recorder::Compute compute(step.layer, MOEPROF_COMPUTE_EXPERT);
  const ExpertGroups groups = group_by_expert(recv_expert_, experts);
  kernels::cuda::permute_rows(recv_.get(), hidden, grouped_to_row_.upload(groups.grouped_to_row, stream_),
                              num_rows_.upload(std::span<const uint32_t>(&received, 1), stream_), received, 1,
                              grouped_in_.reserve(size_t(received) * hidden), stream_);
  kernels::cuda::grouped_swiglu_ffn(cublas_, device.experts.data(), experts, groups.expert_offsets.data(), hidden,
                                    uint32_t(model_.ffn), grouped_in_.get(), grouped_out_.reserve(size_t(received) * hidden),
                                    scratch_.reserve(size_t(received) * 2 * size_t(model_.ffn)), stream_);
  // Back to arrival order: expert_out[row] = grouped_out[g] for grouped_to_row[g] = row (an
  // unpermute with one choice of weight 1 per row).
  float* expert_out = expert_out_.reserve(size_t(received) * hidden);
  cuda::fill(expert_out, size_t(received) * hidden, 0.0f, stream_);
  cuda::fill(ones_.reserve(received), received, 1.0f, stream_);
  kernels::cuda::unpermute_rows(grouped_out_.get(), hidden,
                                row_to_grouped_.upload(inverse_of(groups.grouped_to_row, received), stream_), received, 1,
                                ones_.get(), expert_out, stream_);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the span ends when the experts have run
}

void CudaMoeLayer::combine(const LayerStep& step) {
  const uint32_t hidden = uint32_t(model_.hidden), k = uint32_t(model_.top_k);
  const uint32_t send_rows = uint32_t(plan_.row_to_pair.size());
  moeprof_span span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_COMBINE);
  const double t0 = step.timing ? MPI_Wtime() : 0.0;
  exchange_rows(expert_out_.get(), recv_rows_, combined_.reserve(size_t(send_rows) * hidden), plan_.rows_to_peer, hidden,
                nccl_, stream_);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (step.timing) {
    timing_.seconds += MPI_Wtime() - t0;
    timing_.send_bytes += uint64_t(recv_expert_.size()) * row_bytes();
    ++timing_.exchanges;
  }
  recorder_.all_to_all_end(span, step.layer, MOEPROF_PHASE_COMBINE, recv_rows_, plan_.rows_to_peer, row_bytes());
  Recorder::Compute sum(step.layer, MOEPROF_COMPUTE_OTHER);
  // y[token] = sum over its kept choices, in choice order, of weight * expert output.
  float* y = y_.reserve(size_t(tokens_) * hidden);
  cuda::fill(y, size_t(tokens_) * hidden, 0.0f, stream_);
  kernels::cuda::unpermute_rows(combined_.get(), hidden,
                                pair_to_row_.upload(inverse_of(plan_.row_to_pair, size_t(tokens_) * k), stream_),
                                tokens_, k, topk_weights_device_.get(), y, stream_);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the span ends when the sum is done
}

uint64_t CudaMoeLayer::forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map,
                               std::vector<float>& x, std::span<uint32_t> counts) {
  if (step.chunks != 0) throw std::invalid_argument("--backend cuda runs --overlap none only (for now)");
  const uint32_t hidden = uint32_t(model_.hidden), k = uint32_t(model_.top_k);
  tokens_ = uint32_t(x.size() / hidden);
  DeviceLayer& device = device_layer(step.layer, weights);
  x_.upload(x, stream_);
  const uint64_t dropped = route(step, device, map, counts);
  recorder_.expert_counts(step.layer, counts);
  if (step.capacity != kUnlimited) recorder_.expert_drops(step.layer, dropped_);
  if (step.record_routing) recorder_.router_decisions(step.layer, tokens_, k, topk_ids_.data(), topk_weights_.data());
  if (device.shared.gate_up != nullptr) {
    Recorder::Compute shared(step.layer, MOEPROF_COMPUTE_SHARED_EXPERT);
    const uint32_t offsets[2] = {0, tokens_};
    kernels::cuda::grouped_swiglu_ffn(cublas_, &device.shared, 1, offsets, hidden, uint32_t(model_.shared_ffn()),
                                      h_.get(), shared_out_.reserve(size_t(tokens_) * hidden),
                                      scratch_.reserve(size_t(tokens_) * 2 * size_t(model_.shared_ffn())), stream_,
                                      kernels::cuda::FfnRole::kSharedExpert);
    MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  dispatch_and_experts(step, device);
  combine(step);
  Recorder::Compute residual(step.layer, MOEPROF_COMPUTE_OTHER);
  cuda::residual_add(x_.get(), device.shared.gate_up != nullptr ? shared_out_.get() : nullptr, y_.get(), x.size(),
                     stream_);
  x_.download(x.size(), x, stream_);
  return dropped;
}

}  // namespace

std::unique_ptr<LayerBackend> make_cuda_layer_backend(const ModelConfig& model, MPI_Comm comm, int32_t local_rank,
                                                      Recorder& recorder) {
  return std::make_unique<CudaMoeLayer>(model, comm, local_rank, recorder);
}

}  // namespace moeprof::engine
