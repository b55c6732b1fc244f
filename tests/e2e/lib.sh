# Helpers shared by the end-to-end test scripts (sourced).
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_exit CODE CMD...: runs CMD (stdout to out.txt, stderr to err.txt) and checks its
# exit code.
expect_exit() {
  local want=$1
  shift
  local got=0
  "$@" >out.txt 2>err.txt || got=$?
  if [ "$got" != "$want" ]; then
    echo "--- stdout" >&2; cat out.txt >&2
    echo "--- stderr" >&2; cat err.txt >&2
    fail "'$*' exited $got, expected $want"
  fi
}

# One line on stderr (err.txt), starting with "moeprof: " and containing $1.
expect_one_error_line() {
  local lines
  lines=$(wc -l <err.txt)
  [ "$lines" = 1 ] || { cat err.txt >&2; fail "expected one line on stderr, got $lines"; }
  grep -q '^moeprof: ' err.txt || { cat err.txt >&2; fail "stderr does not start with 'moeprof: '"; }
  grep -qF -- "$1" err.txt || { cat err.txt >&2; fail "stderr does not mention '$1'"; }
}

# json_field FILE EXPRESSION: evaluates a Python expression over the parsed JSON `j`.
json_field() {
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
