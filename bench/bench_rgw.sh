#!/bin/bash
# Target (e) of issue 9: the same presigned PUT of SIZE_MIB (256) with
# curl -T into vsink and into Ceph RGW (the S3 server a user would
# otherwise run; started here as the tests start it), in turns, RUNS times.
# The measuring is in bench/bench_rgw.py.
#
# Environment: BUILD (default build-rgwbench), SIZE_MIB (256), RUNS (5),
# TMPDIR (vsink's data). Needs the Ceph packages of
# scripts/install-deps.sh --test, and root to drop the page cache between
# runs (without it the runs go on, and the header says so). Not in ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build-rgwbench}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target vsink_cli -j2 >/dev/null
export SRC=$src VSINK=$build/vsink
exec /usr/bin/python3 "$src/bench/bench_rgw.py"
