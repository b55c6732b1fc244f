// Agent diagnostics: to the file or "stderr" named by MOEPROF_AGENT_LOG, else nowhere.
// Never used on the hot path.
#pragma once

namespace moeprof::agent {

// Reads MOEPROF_AGENT_LOG (called by moeprof_init).
void configure_log();
// One line, "moeprof agent[pid]: " + message.
[[gnu::format(printf, 1, 2)]] void log_line(const char* format, ...);
// Like log_line, but goes to stderr when no log is configured (the one line a user of
// `moeprof run` sees when the agent cannot start).
[[gnu::format(printf, 1, 2)]] void log_important(const char* format, ...);

}  // namespace moeprof::agent
