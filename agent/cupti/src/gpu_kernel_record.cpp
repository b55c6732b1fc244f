#include "gpu_kernel_record.h"

namespace moeprof::cupti {

moeprof_gpu_kernel to_gpu_kernel(const KernelEvent& event, const KernelName& name) {
  moeprof_gpu_kernel k{};
  k.struct_size = sizeof k;
  k.device = event.device;
  k.start_ns = event.start_ns;
  k.end_ns = event.end_ns;
  k.step = event.step;
  k.launch_ns = event.launch_ns;
  k.launch_tid = event.launch_tid;
  k.stream = event.stream;
  k.correlation_id = event.correlation_id;
  k.layer = name.kind.layer;
  k.compute_kind = name.kind.compute_kind;
  for (int i = 0; i < 3; ++i) {
    k.grid[i] = event.grid[i];
    k.block[i] = event.block[i];
  }
  k.name = name.name.c_str();
  return k;
}

}  // namespace moeprof::cupti
