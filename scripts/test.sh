#!/usr/bin/env bash
# Builds vsink twice (plain, and with AddressSanitizer + UBSan) and runs
# every test under ctest in both; the plain build also runs each unit test
# under valgrind (ctest label 'valgrind').
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

echo "== plain build"
run_suite build
echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DVSINK_SANITIZE=ON
