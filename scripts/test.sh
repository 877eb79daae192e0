#!/usr/bin/env bash
# Builds vsink twice (plain, and with AddressSanitizer + UBSan) and runs
# every test under ctest in both; the plain build also runs each unit test
# under valgrind (ctest label 'valgrind'). Then builds the libFuzzer targets
# with clang (tests/fuzz), runs the unit tests of what they found under
# clang's sanitizers, and runs each target for VSINK_FUZZ_SECONDS (20) s,
# two at a time; any crash fails. Warnings are errors in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

run_suite() { # build-dir cmake-args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSINK_WERROR=ON \
    "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 ||
    { tail -n 80 "$dir/build.log"; return 1; }
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

run_fuzz() { # build-dir
  local dir=$1 found
  found=$(cd tests/unit && ls test_*_fuzzfound.c | sed 's/\.c$//')
  CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVSINK_WERROR=ON -DVSINK_FUZZ=ON >/dev/null
  # shellcheck disable=SC2086 # one target name a word
  cmake --build "$dir" -j"$jobs" --target vsink_fuzzers $found \
    >"$dir/build.log" 2>&1 || { tail -n 80 "$dir/build.log"; return 1; }
  (cd "$dir" && ctest --output-on-failure -R '^unit/test_.*_fuzzfound$')
  tests/fuzz/run.sh "$dir" --time "${VSINK_FUZZ_SECONDS:-20}" --jobs 2
}

echo "== plain build"
run_suite build
echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DVSINK_SANITIZE=ON
echo "== fuzzers (clang libFuzzer + ASan + UBSan)"
run_fuzz build-fuzz
