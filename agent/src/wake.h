// The process-wide eventfd that wakes the flusher: written by moeprof_flush, by a producer
// whose ring passed half full, by shutdown and by the signal handler (write() on an eventfd
// is async-signal-safe). It is created once and never closed, so a signal handler can never
// write to a descriptor number that has meanwhile been reused.
#pragma once

namespace moeprof::agent::wake {

// Creates the eventfd on first use; false (and errno set) if that failed.
bool open();
// -1 until open() succeeded.
int fd();
void signal();
// Consumes pending wake-ups.
void drain();
// In a forked child: the inherited eventfd is shared with the parent, so the same number
// now gets a fresh one of its own.
void renew_after_fork();

}  // namespace moeprof::agent::wake
