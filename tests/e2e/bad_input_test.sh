#!/usr/bin/env bash
# info, check and export on files that are not good traces: a non-zero exit, one line on
# stderr naming the file, no crash, no output file.
# usage: bad_input_test.sh MOEPROF WORKLOAD DBTOOL WORKDIR
source "$(dirname "$0")/lib.sh"
moeprof=$1 workload=$2 dbtool=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

expect_exit 0 "$moeprof" run -o good.db -- "$workload" --steps 30
size=$(stat -c %s good.db)
echo "this is not a database" >text.db
: >empty.db
"$dbtool" foreign foreign.db
head -c $((size / 2)) good.db >truncated.db
cp good.db newer.db && "$dbtool" set-version newer.db 999
cp good.db corrupt.db
head -c 8192 /dev/zero | tr '\0' 'x' | dd of=corrupt.db bs=1 seek=$((size / 2)) conv=notrunc status=none

check_bad() {  # FILE COMMAND...
  local file=$1
  shift
  local code=0
  rm -f out.csv
  "$@" >out.txt 2>err.txt || code=$?
  [ "$code" != 0 ] || fail "'$*' succeeded on $file"
  [ "$code" -lt 128 ] || fail "'$*' crashed (exit $code)"
  expect_one_error_line "$file"
  [ ! -e out.csv ] || fail "'$*' wrote out.csv"
  ! ls | grep -q 'out.csv.tmp' || fail "'$*' left a temporary file"
}

for file in missing.db text.db empty.db foreign.db truncated.db newer.db; do
  check_bad "$file" "$moeprof" info "$file"
  check_bad "$file" "$moeprof" info --json "$file"
  check_bad "$file" "$moeprof" check "$file"
  check_bad "$file" "$moeprof" export "$file" --what expert-load --format csv
  check_bad "$file" "$moeprof" export "$file" --what a2a --format csv -o out.csv
done
check_bad corrupt.db "$moeprof" check corrupt.db
check_bad newer.db "$moeprof" info newer.db
grep -qi "newer" err.txt || fail "a newer schema is not called that: $(cat err.txt)"

# Unknown flags: exit 2, one line.
for command in info check export; do
  expect_exit 2 "$moeprof" "$command" good.db --bogus
  expect_one_error_line "--bogus"
done
expect_exit 2 "$moeprof" frobnicate
expect_one_error_line "frobnicate"
echo "PASS"
