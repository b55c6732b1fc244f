// A decoded kernel as the agent's C ABI takes it (moeprof_record_gpu_kernel).
#pragma once

#include "activity_decoder.h"
#include "kernel_names.h"
#include "moeprof/moeprof.h"

namespace moeprof::cupti {

// `name` must outlive the record call (the agent copies it there).
moeprof_gpu_kernel to_gpu_kernel(const KernelEvent& event, const KernelName& name);

}  // namespace moeprof::cupti
