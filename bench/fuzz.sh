#!/bin/bash
# The fuzzers of issue 7, run long: each target (tests/fuzz) for N million
# executions, two at a time, then per target the executions done, the
# coverage reached (libFuzzer's cov: edges, ft: features) and the corpus
# size. Any crash fails the script and leaves its reproducer in
# BUILD/fuzz-artifacts/ (make it a unit test: tests/unit/*_fuzzfound.c).
#
#   bench/fuzz.sh N [TARGET...]
# Environment: BUILD (default build-fuzz-bench), FUZZ_MAX_SECONDS (stop a
# target after that long even if it has not reached N million; default:
# no limit; the filesystem-bound store_key target does about 1,000 a
# second), JOBS (targets at a time, default 2).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
n=${1:?usage: bench/fuzz.sh N_MILLION [TARGET...]}
shift
build=${BUILD:-$src/build-fuzz-bench}
runs=$(awk -v n="$n" 'BEGIN { printf "%d", n * 1000000 }')

CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVSINK_FUZZ=ON -DVSINK_TESTS=OFF >/dev/null
cmake --build "$build" --target vsink_fuzzers -j"$(nproc)" >/dev/null

echo "fuzzing: $runs executions per target, ${JOBS:-2} at a time," \
  "$(nproc) CPUs, clang $(clang -dumpversion)"
start=$(date +%s)
rc=0
"$src/tests/fuzz/run.sh" "$build" --runs "$runs" \
  --time "${FUZZ_MAX_SECONDS:-0}" --jobs "${JOBS:-2}" "$@" || rc=$?
echo "wall time: $(( $(date +%s) - start )) s"
exit $rc
