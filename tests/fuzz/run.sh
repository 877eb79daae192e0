#!/usr/bin/env bash
# Runs the libFuzzer targets of a VSINK_FUZZ=ON build and prints, per
# target, executions, coverage (libFuzzer's cov = edges, ft = features) and
# corpus size. Exits 1 if any target crashed, leaked, hung or broke an
# invariant; its reproducer is then in BUILD/fuzz-artifacts/.
#
#   tests/fuzz/run.sh BUILD [--time S] [--runs N] [--jobs J] [TARGET...]
#
# --time S: stop each target after S seconds; --runs N: after N executions
# (whichever comes first when both are given). --jobs J targets at a time
# (default 2). TARGETs default to every fuzz_* in BUILD/tests/fuzz. Each
# target starts from its seeds (tests/fuzz/corpus/NAME) plus what earlier
# runs in BUILD found (BUILD/fuzz-corpus/NAME); new inputs go there, never
# into the repository.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD [--time S] [--runs N] [--jobs J] [TARGET...]}
shift
build=$(cd "$build" && pwd)
time_s=0 runs=-1 jobs=2 targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --time) time_s=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $build/tests/fuzz" >&2
  exit 1
fi
if [ "$time_s" = 0 ] && [ "$runs" = -1 ]; then
  echo "run.sh: give --time or --runs" >&2
  exit 2
fi
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"

# One target: its log in fuzz-logs/NAME.log, its summary in NAME.sum.
one() {
  local name=$1 work="$build/fuzz-corpus/$1" log="$build/fuzz-logs/$1.log"
  local rc=0
  mkdir -p "$work"
  # -timeout: one input taking 10 s is a hang, and a failure.
  # ASan: leaks fail the run (libFuzzer checks after each input).
  "$build/tests/fuzz/fuzz_$name" -max_total_time="$time_s" -runs="$runs" \
    -timeout=10 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$name-" \
    "$work" "$src/corpus/$name" >"$log" 2>&1 || rc=$?
  local done_line execs
  done_line=$(grep -a 'DONE ' "$log" | tail -n 1 || true)
  execs=$(grep -a '^stat::number_of_executed_units' "$log" | tail -n 1 |
          awk '{print $2}' || true)
  printf '%-14s %-4s execs=%-10s cov=%-5s ft=%-6s corpus=%s rc=%d\n' \
    "$name" "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "${execs:-?}" \
    "$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")" \
    "$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")" \
    "$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$done_line")" \
    "$rc" >"$build/fuzz-logs/$name.sum"
  return $rc
}

pids=() names=() failed=0
wait_one() {
  local pid=${pids[0]} name=${names[0]}
  pids=("${pids[@]:1}") names=("${names[@]:1}")
  if ! wait "$pid"; then
    failed=1
    echo "== fuzz_$name failed; the end of its log:"
    grep -av '^#[0-9]' "$build/fuzz-logs/$name.log" | tail -n 40
  fi
  cat "$build/fuzz-logs/$name.sum"
}
for t in "${targets[@]}"; do
  one "$t" &
  pids+=($!) names+=("$t")
  [ ${#pids[@]} -ge "$jobs" ] && wait_one
done
while [ ${#pids[@]} -gt 0 ]; do wait_one; done
exit $failed
