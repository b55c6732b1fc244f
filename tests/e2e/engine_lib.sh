# Helpers for the tests that run moe-engine under mpirun (sourced after lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/mpirun-env"

# mpi NP CMD...: CMD on NP ranks; a hang becomes a failure (exit 124) instead of a stuck test.
mpi() {
  local np=$1
  shift
  timeout 240 mpirun -np "$np" "$@"
}

# record MOEPROF DB NP CMD...: `moeprof run -o DB -- mpirun -np NP CMD...`, with the same
# protection against hangs.
record() {
  local moeprof=$1 db=$2 np=$3
  shift 3
  timeout 240 "$moeprof" run -o "$db" -- mpirun -np "$np" "$@"
}

# concat_truth DIR NAME: the ground truth files DIR/NAME.rank<R>.csv of every rank, in rank
# order, under one header.
concat_truth() {
  local dir=$1 name=$2 rank=0
  [ -s "$dir/$name.rank0.csv" ] || fail "no ground truth $dir/$name.rank0.csv"
  head -1 "$dir/$name.rank0.csv"
  while [ -f "$dir/$name.rank$rank.csv" ]; do
    tail -n +2 "$dir/$name.rank$rank.csv"
    rank=$((rank + 1))
  done
}
