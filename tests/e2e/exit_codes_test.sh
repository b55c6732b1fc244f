#!/usr/bin/env bash
# `moeprof run` returns what the command returned, forwards signals, never overwrites a
# trace by accident, and refuses to start without its agent.
# usage: exit_codes_test.sh MOEPROF WORKLOAD DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
moeprof=$1 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

expect_exit 7 "$moeprof" run -o exit7.db -- sh -c 'exit 7'
expect_exit 0 "$moeprof" info --json exit7.db
[ "$(json_field out.txt 'j["run"]["exit_code"]')" = 7 ] || fail "exit code 7 not in the trace"
[ "$(json_field out.txt 'j["run"]["command"]')" = "sh -c 'exit 7'" ] || fail "command: $(json_field out.txt 'j["run"]["command"]')"

expect_exit 0 "$moeprof" run -o true.db -- true

# Killed by a signal: 128 + N.
expect_exit 143 "$moeprof" run -o term.db -- sh -c 'kill -TERM $$'

# A SIGTERM to moeprof reaches the command (which then dies of it).
"$moeprof" run -o forwarded.db -- sh -c 'echo started >started.txt; exec sleep 30' >/dev/null 2>forwarded.err &
pid=$!
for _ in $(seq 100); do [ -s started.txt ] && break; sleep 0.1; done
[ -s started.txt ] || fail "the command did not start"
start=$(date +%s)
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
[ "$code" = 143 ] || { cat forwarded.err >&2; fail "forwarded SIGTERM: exit $code, expected 143"; }
[ $(($(date +%s) - start)) -lt 10 ] || fail "the forwarded signal did not end the command"
expect_exit 0 "$moeprof" info --json forwarded.db
[ "$(json_field out.txt 'j["run"]["exit_code"]')" = 143 ] || fail "exit code 143 not in the trace"

# A command that cannot be executed: 127, one line, no trace left behind.
expect_exit 127 "$moeprof" run -o missing.db -- ./no-such-command --flag
expect_one_error_line "no-such-command"
[ ! -e missing.db ] || fail "a trace was left for a command that never ran"

# Default names never overwrite; -o refuses an existing file unless -f.
expect_exit 0 "$moeprof" run -- true
expect_exit 0 "$moeprof" run -- true
[ -e moeprof-trace.db ] && [ -e moeprof-trace-1.db ] || fail "default trace names: $(ls)"
cp exit7.db exit7.copy
expect_exit 2 "$moeprof" run -o exit7.db -- true
expect_one_error_line "exit7.db"
cmp exit7.db exit7.copy || fail "an existing trace was modified"
expect_exit 3 "$moeprof" run -f -o exit7.db -- sh -c 'exit 3'
expect_exit 0 "$moeprof" info --json exit7.db
[ "$(json_field out.txt 'j["run"]["exit_code"]')" = 3 ] || fail "-f did not overwrite"

# Without the agent library nothing runs.
expect_exit 2 env MOEPROF_AGENT_PATH="$work/no-agent.so" "$moeprof" run -o noagent.db -- touch ran.txt
expect_one_error_line "no-agent.so"
[ ! -e ran.txt ] && [ ! -e noagent.db ] || fail "moeprof ran the command without its agent"

# Bad command lines.
expect_exit 2 "$moeprof" run --routing sometimes -- true
expect_one_error_line "--routing"
expect_exit 2 "$moeprof" run -o x.db
expect_one_error_line "missing the command"
expect_exit 2 "$moeprof" run --bogus -- true
expect_one_error_line "--bogus"
echo "PASS"
