// The CUDA backend of moe-engine (--backend cuda): one GPU per rank (its local rank modulo
// the devices it sees), NCCL for the dispatch and combine all-to-alls, the kernels of
// kernels/ for gating, permutation and the grouped expert FFN. Routing decisions, capacity
// and the dispatch layout are planned on the host from the GPU's top-k (the same code as
// the CPU backend, so both send the same rows to the same ranks), and every event goes
// through the same Recorder calls.
#pragma once

#include <mpi.h>

#include <memory>

#include "../instrumentation.h"
#include "../layer_backend.h"
#include "../model_config.h"

namespace moeprof::engine {

// Collective over `comm` (creates its NCCL communicator). Throws on a CUDA or NCCL failure.
std::unique_ptr<LayerBackend> make_cuda_layer_backend(const ModelConfig& model, MPI_Comm comm, int32_t local_rank,
                                                      Recorder& recorder);

}  // namespace moeprof::engine
