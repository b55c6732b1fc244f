// One chunk of a rank's batch on its way through an MoE layer on the GPU (the CUDA mirror of
// ../chunk.h): its dispatch plan (made on the host), its device buffers, and CUDA events that
// order the compute stream (gather, experts, weighted sum) against the communication stream
// (NCCL dispatch and combine), so chunks can overlap as in the CPU backend's pipeline.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <memory>
#include <span>
#include <vector>

#include "../dispatch_plan.h"
#include "../exchange.h"
#include "device_array.h"
#include "moeprof/kernels/moe_kernels_cuda.h"
#include "moeprof/moeprof.h"

namespace moeprof::engine::cuda {

// What every chunk of a layer shares: streams, handles, sizes and the compute scratch (the
// compute stream runs one chunk's experts at a time).
struct ChunkContext {
  cudaStream_t compute = nullptr;
  cudaStream_t comm = nullptr;
  cublasHandle_t cublas = nullptr;
  ncclComm_t nccl = nullptr;
  MPI_Comm mpi = MPI_COMM_NULL;
  uint32_t hidden = 0, ffn = 0, top_k = 0, num_experts = 0;
  DeviceArray<float> grouped_in, grouped_out, scratch, ones;
  DeviceArray<uint32_t> grouped_to_row, num_rows;
  DeviceArray<int32_t> row_to_grouped;
};

class CudaChunk {
 public:
  CudaChunk();
  ~CudaChunk();
  CudaChunk(const CudaChunk&) = delete;
  CudaChunk& operator=(const CudaChunk&) = delete;

  DispatchPlan plan;  // tokens [token_begin, token_end) of the batch
  uint32_t token_begin = 0, token_end = 0;
  std::vector<int32_t> recv_rows;    // per peer, known after the count exchange
  std::vector<int32_t> recv_expert;  // expert of each received row
  moeprof_span dispatch_span{}, combine_span{};

  // The send rows from the batch's normalised states h, on the compute stream.
  void gather(ChunkContext& c, const float* h);
  // Once recv_rows is known: every device buffer of this chunk at its size for this layer, so
  // nothing is allocated (which would stall the device) while NCCL work is in flight.
  void reserve(ChunkContext& c);
  // Expert ids over MPI (MPI_Ialltoallv, as the CPU backend), the rows over NCCL on the comm
  // stream once the gather is done. finish_dispatch waits for both.
  void start_dispatch(ChunkContext& c);
  void finish_dispatch();
  // The held experts over the received rows, on the compute stream after the dispatch;
  // returns when they have run.
  void run_experts(ChunkContext& c, std::span<const kernels::cuda::ExpertFfnWeights> experts);
  // The expert outputs back over NCCL (comm stream, after the experts); finish_combine waits.
  void start_combine(ChunkContext& c);
  void finish_combine();
  // y[token] += the token's kept choices' weighted expert outputs, in choice order, on the
  // compute stream after the combine.
  void weighted_sum(ChunkContext& c, const float* topk_weights, float* y);

  uint64_t send_row_count() const { return plan.row_to_pair.size(); }
  uint64_t recv_row_count() const;  // from recv_rows

 private:
  DeviceArray<float> send_, recv_, expert_out_, combined_;
  DeviceArray<uint32_t> row_to_pair_, num_send_rows_;
  DeviceArray<int32_t> pair_to_row_;
  std::unique_ptr<RowsAlltoallv> expert_ids_;
  cudaEvent_t gathered_ = nullptr, dispatched_ = nullptr, computed_ = nullptr, combined_event_ = nullptr;
};

}  // namespace moeprof::engine::cuda
