// The runtime and driver calls that launch kernels: their activity records give each kernel
// its launch time and thread, and their callbacks remember the step of each launch.
#pragma once

#include <cupti_callbacks.h>

#include <span>

namespace moeprof::cupti {

std::span<const CUpti_CallbackId> runtime_launch_callbacks();
std::span<const CUpti_CallbackId> driver_launch_callbacks();

}  // namespace moeprof::cupti
