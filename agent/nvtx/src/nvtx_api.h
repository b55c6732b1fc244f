// The NVTX 3 types and callback ids, without NVTX's own implementation: this library is the
// tool NVTX calls into, not a program that calls NVTX.
#pragma once

#ifndef NVTX_NO_IMPL
#define NVTX_NO_IMPL
#endif
#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvToolsExtPayload.h>
