#include "config.h"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <cstring>
#include <string_view>

#include "moeprof/nccl/profiler_abi.h"

namespace moeprof::nccl {
namespace {

// A whole non-negative number (decimal, or hex with 0x), no sign, no trailing text.
bool parse_number(std::string_view text, uint64_t* out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return false;
  *out = value;
  return true;
}

struct EventName {
  const char* name;
  int bits;
};
constexpr EventName kEventNames[] = {
    {"group", MOEPROF_NCCL_PROFILE_GROUP},
    {"coll", MOEPROF_NCCL_PROFILE_COLL},
    {"p2p", MOEPROF_NCCL_PROFILE_P2P},
    {"proxyop", MOEPROF_NCCL_PROFILE_PROXY_OP},
    {"proxystep", MOEPROF_NCCL_PROFILE_PROXY_STEP},
    {"proxyctrl", MOEPROF_NCCL_PROFILE_PROXY_CTRL},
    {"kernelch", MOEPROF_NCCL_PROFILE_KERNEL_CH},
    {"netplugin", MOEPROF_NCCL_PROFILE_NET_PLUGIN},
    {"groupapi", MOEPROF_NCCL_PROFILE_GROUP_API},
    {"collapi", MOEPROF_NCCL_PROFILE_COLL_API},
    {"p2papi", MOEPROF_NCCL_PROFILE_P2P_API},
    {"kernellaunch", MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH},
    {"none", 0},
    {"all", (MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH << 1) - 1},
};

bool event_bits(std::string_view token, int* bits) {
  for (const EventName& e : kEventNames)
    if (token.size() == std::strlen(e.name) && strncasecmp(token.data(), e.name, token.size()) == 0) {
      *bits = e.bits;
      return true;
    }
  uint64_t number = 0;
  if (!parse_number(token, &number) || number > static_cast<uint64_t>((MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH << 1) - 1))
    return false;
  *bits = static_cast<int>(number);
  return true;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int32_t first_int(EnvLookup lookup, std::initializer_list<const char*> names, int32_t minimum) {
  for (const char* name : names) {
    const char* text = lookup(name);
    uint64_t value = 0;
    if (text != nullptr && *text != '\0' && parse_number(text, &value) && value >= static_cast<uint64_t>(minimum) &&
        value <= INT32_MAX)
      return static_cast<int32_t>(value);
  }
  return -1;
}

}  // namespace

PoolSizes PoolSizes::for_pool(uint32_t pool) noexcept {
  PoolSizes sizes;
  sizes.tasks = pool;
  sizes.groups = std::max<uint32_t>(4, pool / 16);
  return sizes;
}

bool parse_pool(const char* text, uint32_t* out) noexcept {
  uint64_t value = 0;
  if (text == nullptr || !parse_number(trimmed(text), &value) || value == 0 || value > kMaxPool) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

bool parse_event_mask(const char* text, int* out) noexcept {
  if (text == nullptr) return false;
  int mask = 0;
  std::string_view rest(text);
  bool any = false;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view token = trimmed(rest.substr(0, comma));
    int bits = 0;
    if (token.empty() || !event_bits(token, &bits)) return false;
    mask |= bits;
    any = true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!any) return false;
  // The model groups collective and P2P events by their Group event.
  if (mask & (MOEPROF_NCCL_PROFILE_COLL | MOEPROF_NCCL_PROFILE_P2P)) mask |= MOEPROF_NCCL_PROFILE_GROUP;
  *out = mask;
  return true;
}

Config config_from(EnvLookup lookup) noexcept {
  Config config;
  if (lookup == nullptr) return config;
  if (const char* text = lookup("MOEPROF_NCCL_POOL"); text != nullptr) {
    uint32_t pool = kDefaultPool;
    if (parse_pool(text, &pool))
      config.pools = PoolSizes::for_pool(pool);
    else
      config.bad_pool = "MOEPROF_NCCL_POOL";
  }
  if (const char* text = lookup("MOEPROF_NCCL_EVENTS"); text != nullptr) {
    if (!parse_event_mask(text, &config.event_mask)) config.bad_events = "MOEPROF_NCCL_EVENTS";
  }
  config.world_size = first_int(lookup, {"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}, 1);
  config.world_rank = first_int(lookup, {"RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}, 0);
  return config;
}

bool spans_world(const Config& config, int32_t nranks, int32_t rank) noexcept {
  if (nranks <= 0 || config.world_size != nranks) return false;
  return config.world_rank < 0 || config.world_rank == rank;
}

}  // namespace moeprof::nccl
