#!/bin/bash
# The soak (issue 7): MINUTES (default 30) of mixed uploads, GETs, webhooks
# and hostile connections against one `vsink serve` on 127.0.0.1; the
# server's RSS and open descriptors are sampled every INTERVAL seconds and
# printed as a table, then first/last/max and a verdict (flat or not).
# Exit status 0 only when both are flat, no legitimate request failed and
# SIGTERM exited 0. The load itself is bench/soak_driver.py.
#
#   bench/soak.sh [MINUTES]
#
# Environment: VSINK (a vsink binary to use; otherwise one is built in
# BUILD, default build-soak, Release), INTERVAL (10), TMPDIR (the data
# folder; at most 32 objects of <= 64 MiB are kept). Loopback only; uses
# source addresses 127.0.0.1-127.0.0.9 (Linux routes 127/8 to lo).
# Not part of ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-30}
if [ -z "${VSINK:-}" ]; then
  build=${BUILD:-$src/build-soak}
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
    >/dev/null
  cmake --build "$build" --target vsink_cli -j"$(nproc)" >/dev/null
  VSINK=$build/vsink
fi
export VSINK
exec /usr/bin/python3 "$src/bench/soak_driver.py" "$minutes" \
  --interval "${INTERVAL:-10}"
