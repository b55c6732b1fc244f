// The NCCL source's settings, read from the environment once:
//   MOEPROF_NCCL_POOL    event objects (collective and P2P) per communicator; a sixteenth as
//                        many group objects (at least 4). Default 1024, at most 1048576.
//   MOEPROF_NCCL_EVENTS  which NCCL event types to ask for: names separated by commas
//                        (coll, p2p, group, proxyop, proxystep, proxyctrl, kernelch,
//                        netplugin, groupapi, collapi, p2papi, kernellaunch), "none", "all",
//                        or a number (NCCL's mask bits). Default "coll,p2p". coll and p2p
//                        bring group with them (the model groups their events by it). Types
//                        moeprof does not record only cost NCCL their callbacks.
//   WORLD_SIZE, OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_NTASKS (the first set): the job's size,
//   and RANK, OMPI_COMM_WORLD_RANK, PMI_RANK, SLURM_PROCID this process's rank, which say
//   whether a communicator spans the job (its ranks are then world ranks).
#pragma once

#include <cstdint>

namespace moeprof::nccl {

inline constexpr uint32_t kDefaultPool = 1024;
inline constexpr uint32_t kMaxPool = 1u << 20;
inline constexpr int kDefaultEvents = 0x7;  // group | coll | p2p

struct PoolSizes {
  uint32_t tasks = kDefaultPool;  // collective and P2P events
  uint32_t groups = kDefaultPool / 16;
  uint32_t scratch = 4;           // all-to-all aggregations at once (threads emitting)
  static PoolSizes for_pool(uint32_t pool) noexcept;
};

struct Config {
  PoolSizes pools;
  int event_mask = kDefaultEvents;
  int32_t world_size = -1;  // -1: unknown
  int32_t world_rank = -1;
  // Set when a variable was not understood (its default is used): the variable's name.
  const char* bad_pool = nullptr;
  const char* bad_events = nullptr;
};

// Parsers of one value each; false (and *out untouched) when `text` is not valid.
bool parse_pool(const char* text, uint32_t* out) noexcept;
bool parse_event_mask(const char* text, int* out) noexcept;

// Reads the variables through `lookup` (getenv, or a test's table).
using EnvLookup = const char* (*)(const char* name);
Config config_from(EnvLookup lookup) noexcept;

// Whether the ranks of a communicator of `nranks` in which this process is `rank` are world
// ranks: the communicator spans the job and this process has the same rank in both.
bool spans_world(const Config& config, int32_t nranks, int32_t rank) noexcept;

}  // namespace moeprof::nccl
