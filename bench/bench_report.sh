#!/bin/bash
# The report benchmark of issue 4: a manifest of OUTPUTS outputs (default
# 1,000,000, about 3 events each, gzip segments from five writers) folded by
# `vsink report --group-by day --format csv`; prints wall time and peak RSS
# (targets: under 3 s and under 200 MiB on a 2-core machine).
#
#   bench/bench_report.sh [OUTPUTS]
# Environment: BUILD (default build-bench), MANIFEST (default
# /tmp/vsink-bench-manifest-OUTPUTS; generated once, then reused).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
outputs=${1:-1000000}
build=${BUILD:-$src/build-bench}
manifest=${MANIFEST:-/tmp/vsink-bench-manifest-$outputs}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target vsink_cli manifest_gen -j"$(nproc)" >/dev/null

if [ ! -f "$manifest/.complete" ]; then
  rm -rf "$manifest"
  echo "generating $manifest ..."
  "$build/bench/manifest_gen" "$manifest" "$outputs"
  touch "$manifest/.complete"
fi
echo "manifest: $(du -sh "$manifest" | cut -f1) in" \
  "$(ls "$manifest" | grep -c jsonl) segments" \
  "($(ls "$manifest" | grep -c 'jsonl.gz$') gzip), $(nproc) CPUs"

out=$(mktemp /tmp/vsink-bench-report.XXXXXX)
trap 'rm -f "$out" "$out.time"' EXIT
set +e
/usr/bin/time -v "$build/vsink" report --manifest "$manifest" \
  --group-by day --format csv --now 2027-01-01 >"$out" 2>"$out.time"
rc=$?
set -e
if [ $rc -gt 1 ]; then
  cat "$out.time" >&2
  exit 1
fi
tail -n 1 "$out"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out.time")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out.time")
cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$out.time")
printf 'vsink report --group-by day --format csv: wall %s, peak RSS %d MiB, CPU %s\n' \
  "$wall" $((rss / 1024)) "$cpu"
