// A shared library with its own copy of NVTX (NVTX is header-only: every library that uses
// it initialises the injection library again). The workload calls into it so that the NVTX
// source is initialised twice in one process.
#include <nvtx3/nvToolsExt.h>

extern "C" __attribute__((visibility("default"))) void nvtx_plugin_work() {
  nvtxRangePushA("from the plugin library");
  nvtxRangePop();
}
