#!/bin/bash
# Listing: the same 100,000 keys in vsink and in Ceph RGW (one run, both on
# loopback), then ListObjectsV2 against each: a full paginated listing, one
# page with a prefix, one with a prefix and a delimiter; vsink's RSS while
# it lists. The fill (many parallel small PUTs through bench/putload) is
# timed and printed too. The measuring is in bench/bench_list.py.
#
# Environment: BUILD (default build-listbench), KEYS (100000), INFLIGHT (64
# PUTs in flight), RUNS (3), TMPDIR (vsink's data). Needs the Ceph packages
# of scripts/install-deps.sh --test. Not part of ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build-listbench}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target vsink_cli putload -j2 >/dev/null
export SRC=$src VSINK=$build/vsink PUTLOAD=$build/bench/putload
exec /usr/bin/python3 "$src/bench/bench_list.py"
