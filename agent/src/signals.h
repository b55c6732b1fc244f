// A final flush on SIGTERM / SIGINT. The handler (async-signal-safe only) asks the flusher
// for a flush, waits for it at most ~500 ms, then hands the signal on: to the handler that
// was installed before ours, or, if that was the default action, by restoring it and
// raising the signal again. With the default action the process is about to die, so the
// flush also ends the stream (Goodbye); a chained handler may keep the process alive, so
// then it is a plain flush. Signals that were ignored are left alone.
#pragma once

namespace moeprof::agent::signals {

enum Request : int { kNone = 0, kFlush = 1, kFinal = 2 };

// Installs the handlers, unless they are in place: at every moeprof_init, so a program that
// replaced them meanwhile gets them back, chaining to its own.
void install();
// The flusher: what a signal handler asked for since the last call (kFinal wins).
Request take_request();
// The flusher: the request taken has been served.
void request_done();

}  // namespace moeprof::agent::signals
