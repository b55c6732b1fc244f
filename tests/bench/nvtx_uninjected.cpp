// NVTX in a library of its own, initialised before NVTX_INJECTION64_PATH is set: its calls
// cost what NVTX costs a program when no tool is attached (the NVTX benchmark's baseline).
#include <nvtx3/nvToolsExt.h>

#define BENCH_EXPORT extern "C" __attribute__((visibility("default")))

BENCH_EXPORT void uninjected_start() { nvtxInitialize(nullptr); }
BENCH_EXPORT int uninjected_push(const char* name) { return nvtxRangePushA(name); }
BENCH_EXPORT int uninjected_pop() { return nvtxRangePop(); }
