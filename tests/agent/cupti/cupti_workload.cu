// A CUDA program with a few named kernels for the CUPTI source's end-to-end test. Each step
// (moeprof_step_begin) two host threads launch the same set of kernels on their own streams;
// the last step also launches a captured CUDA graph twice. It writes its own ground truth:
// every launch (kernel, step, thread, and CLOCK_MONOTONIC before and after the launch call)
// and, per step, the time the device was synchronised (every kernel of the step ended
// before it). Exit code 77 when there is no usable GPU.
// usage: moeprof_cupti_workload OUT_CSV
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "moeprof/moeprof.h"

__global__ void moe_topk_gating_kernel(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * 0.5f + 1.0f;
}
__global__ void moe_expert_ffn_kernel(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * x[i] * 0.25f;
}
__global__ void flash_attention_fwd_kernel(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 3.0f;
}
__global__ void saxpy_plain(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = 2.0f * x[i] + 1.0f;
}
template <int N>
__global__ void scale_kernel(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= static_cast<float>(N);
}

namespace {

constexpr int kSteps = 3;
constexpr int kElements = 1 << 16;
constexpr int kBlock = 256;
constexpr int kGrid = kElements / kBlock;

int64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}
long tid() { return syscall(SYS_gettid); }

struct Truth {
  std::mutex lock;
  std::vector<std::string> rows;
  void add(const char* kind, const char* name, int step, long thread, int64_t before, int64_t after, int graph) {
    char line[256];
    std::snprintf(line, sizeof line, "%s,%s,%d,%ld,%lld,%lld,%d", kind, name, step, thread,
                  static_cast<long long>(before), static_cast<long long>(after), graph);
    const std::lock_guard guard(lock);
    rows.emplace_back(line);
  }
};
Truth g_truth;

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
  return false;
}

// Launches one kernel and notes it: the launch call is bracketed by the clock.
template <class Launch>
bool launch(const char* name, int step, Launch&& call) {
  const int64_t before = now_ns();
  call();
  const int64_t after = now_ns();
  g_truth.add("launch", name, step, tid(), before, after, 0);
  return ok(cudaGetLastError(), name);
}

bool launch_all(int step, float* x, cudaStream_t stream) {
  bool good = true;
  good &= launch("moe_topk_gating_kernel", step,
                 [&] { moe_topk_gating_kernel<<<kGrid, kBlock, 0, stream>>>(x, kElements); });
  for (int i = 0; i < 2; ++i)
    good &= launch("moe_expert_ffn_kernel", step,
                   [&] { moe_expert_ffn_kernel<<<kGrid, kBlock, 0, stream>>>(x, kElements); });
  good &= launch("flash_attention_fwd_kernel", step,
                 [&] { flash_attention_fwd_kernel<<<kGrid, kBlock, 0, stream>>>(x, kElements); });
  good &= launch("saxpy_plain", step, [&] { saxpy_plain<<<kGrid, kBlock, 0, stream>>>(x, kElements); });
  good &= launch("scale_kernel", step, [&] { scale_kernel<4><<<kGrid / 2, kBlock * 2, 0, stream>>>(x, kElements); });
  return good;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_CSV\n", argv[0]);
    return 2;
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "no usable GPU: %s\n", cudaGetErrorString(cudaGetLastError()));
    return 77;
  }
  float *a = nullptr, *b = nullptr;
  cudaStream_t sa, sb;
  if (!ok(cudaMalloc(&a, kElements * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&b, kElements * sizeof(float)), "cudaMalloc") || !ok(cudaStreamCreate(&sa), "stream") ||
      !ok(cudaStreamCreate(&sb), "stream"))
    return 1;

  bool good = true;
  for (int step = 0; step < kSteps; ++step) {
    moeprof_step_begin(step);
    bool other = true;
    std::thread second([&] { other = launch_all(step, b, sb); });
    good &= launch_all(step, a, sa);
    second.join();
    good &= other;
    if (step == kSteps - 1) {
      // Three kernels captured into a graph, launched twice: each launch's kernels share its
      // correlation id.
      cudaGraph_t graph;
      cudaGraphExec_t exec;
      good &= ok(cudaStreamBeginCapture(sa, cudaStreamCaptureModeGlobal), "capture");
      moe_topk_gating_kernel<<<kGrid, kBlock, 0, sa>>>(a, kElements);
      moe_expert_ffn_kernel<<<kGrid, kBlock, 0, sa>>>(a, kElements);
      saxpy_plain<<<kGrid, kBlock, 0, sa>>>(a, kElements);
      good &= ok(cudaStreamEndCapture(sa, &graph), "end capture");
      good &= ok(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
      for (int g = 1; g <= 2; ++g) {
        const int64_t before = now_ns();
        good &= ok(cudaGraphLaunch(exec, sa), "graph launch");
        const int64_t after = now_ns();
        for (const char* name : {"moe_topk_gating_kernel", "moe_expert_ffn_kernel", "saxpy_plain"})
          g_truth.add("launch", name, step, tid(), before, after, g);
      }
    }
    good &= ok(cudaDeviceSynchronize(), "synchronize");
    g_truth.add("synced", "", step, tid(), now_ns(), now_ns(), 0);
    moeprof_step_end(step);
  }
  if (!good) return 1;

  FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) return 1;
  std::fprintf(out, "kind,name,step,tid,before_ns,after_ns,graph\n");
  for (const std::string& row : g_truth.rows) std::fprintf(out, "%s\n", row.c_str());
  std::fclose(out);
  return 0;
}
