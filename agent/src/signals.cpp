#include "signals.h"

#include <signal.h>
#include <time.h>

#include <atomic>
#include <cerrno>

#include "hot_state.h"
#include "wake.h"

namespace moeprof::agent::signals {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT};
constexpr int kWaitSteps = 100;           // x 5 ms: at most half a second
constexpr long kWaitStepNs = 5'000'000;

struct sigaction g_previous[2];
std::atomic<int> g_request{kNone};
std::atomic<unsigned> g_served{0};

int slot_of(int sig) { return sig == SIGTERM ? 0 : 1; }

bool has_function(const struct sigaction& action) {
  if (action.sa_flags & SA_SIGINFO) return action.sa_sigaction != nullptr;
  return action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN;
}

void handle(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const struct sigaction& previous = g_previous[slot_of(sig)];
  const bool chained = has_function(previous);
  if (recording() && wake::fd() >= 0) {
    const unsigned served = g_served.load(std::memory_order_acquire);
    const int wanted = chained ? kFlush : kFinal;
    int current = g_request.load(std::memory_order_relaxed);
    while (current < wanted && !g_request.compare_exchange_weak(current, wanted, std::memory_order_acq_rel)) {
    }
    wake::signal();
    const timespec step{0, kWaitStepNs};
    for (int i = 0; i < kWaitSteps && g_served.load(std::memory_order_acquire) == served; ++i) nanosleep(&step, nullptr);
  }
  if (chained) {
    errno = saved_errno;
    if (previous.sa_flags & SA_SIGINFO) previous.sa_sigaction(sig, info, context);
    else previous.sa_handler(sig);
    return;
  }
  sigaction(sig, &previous, nullptr);
  raise(sig);  // delivered as soon as this handler returns (the signal is blocked until then)
  errno = saved_errno;
}

}  // namespace

void install() {
  for (int sig : kSignals) {
    struct sigaction previous;
    if (sigaction(sig, nullptr, &previous) != 0) continue;
    const bool ours = (previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction == handle;
    const bool ignored = !(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_IGN;
    if (ours || ignored) continue;
    // Our handler is not in place, so it cannot be reading this while we write it.
    g_previous[slot_of(sig)] = previous;
    struct sigaction action{};
    action.sa_sigaction = handle;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
}

Request take_request() { return static_cast<Request>(g_request.exchange(kNone, std::memory_order_acq_rel)); }

void request_done() { g_served.fetch_add(1, std::memory_order_acq_rel); }

}  // namespace moeprof::agent::signals
