#!/bin/bash
# Ceph RGW (started here as the tests start it) against vsink in front of
# it, issue 10's bench (and target (e) of issue 9: vsink-fs against rgw):
#  1. the same presigned PUT of SIZE_MIB (256) with curl -T straight into
#     RGW, through a sink storing into that RGW (--store s3://), and into a
#     sink on its own disk, RUNS (5) rounds in rotating order: medians of
#     the wall time, curl's CPU, the sink's, RGW's, and sink/direct;
#  2. CONC (12) concurrent PUTs of AGG_MIB (64): RGW directly, one sink
#     node and three behind haproxy, AGG_RUNS (3) rounds: MiB/s.
# The measuring is in bench/bench_rgw.py (PARTS=single or agg: one only).
#
# Environment: BUILD (default build-rgwbench), SIZE_MIB, RUNS, CONC,
# AGG_MIB, AGG_RUNS, TMPDIR (vsink's data), VSINK_BASE (another vsink
# binary: one more server in part 1, "vsink-s3-base", to compare builds),
# SINK_WRAP (a command before the first sink node's, e.g. "perf record -g
# -o /tmp/sink.perf --" or "strace -f -o /tmp/sink.st -e trace=connect
# --"), KEEP_LOGS=1 (keep the sinks' logs).
# Needs the Ceph packages and haproxy of scripts/install-deps.sh --test,
# and root to drop the page cache between runs (without it the runs go on,
# and the header says so). Not in ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build-rgwbench}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target vsink_cli -j2 >/dev/null
export SRC=$src VSINK=$build/vsink
exec /usr/bin/python3 "$src/bench/bench_rgw.py"
