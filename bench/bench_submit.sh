#!/bin/bash
# The submit benchmark of issue 3: TASKS tasks (default 1,000) from a jobs
# file sent by `vsink submit --concurrency 16` to the fake API, whose uploads
# and webhooks land in a real `vsink serve` on 127.0.0.1. Prints the wall
# time and peak RSS of the submit phase (target: under 5 s), then of a
# second run with --wait (every result polled in batches and recorded).
#
#   bench/bench_submit.sh [TASKS]
# Environment: BUILD (default build-bench-submit).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tasks=${1:-1000}
build=${BUILD:-$src/build-bench-submit}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target vsink_cli vsink-fakeapi -j"$(nproc)" \
  >/dev/null

work=$(mktemp -d /tmp/vsink-bench-submit.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export VSINK_ACCESS_KEY_ID=AKIDBENCHSUBMIT0001
export VSINK_SECRET_ACCESS_KEY=benchSubmitSecret/0123456789abcdefghij
export RUNWARE_API_KEY=bench-key

"$build/vsink" serve --listen 127.0.0.1:0 --data "$work/data" \
  --manifest "$work/sink-manifest" >"$work/sink.out" 2>"$work/sink.err" &
pids+=($!)
"$build/tests/vsink-fakeapi" --listen 127.0.0.1:0 --api-key bench-key \
  --delay-ms 200 --size 4096 --workers 16 >"$work/fake.out" \
  2>"$work/fake.err" &
pids+=($!)
for _ in $(seq 100); do
  grep -q listening "$work/sink.out" 2>/dev/null &&
    grep -q listening "$work/fake.out" 2>/dev/null && break
  sleep 0.1
done
sink=$(grep -o 'http://[0-9.:]*' "$work/sink.out" | head -1)
api=$(grep -o 'http://[0-9.:]*' "$work/fake.out" | head -1)/v1

for i in $(seq "$tasks"); do
  printf '{"prompt":"benchmark clip %d","resolution":"480p","duration":%d.%d,"seed":%d}\n' \
    "$i" $((i % 10 + 2)) $((i % 10)) "$i"
done >"$work/jobs.jsonl"
echo "$tasks tasks, $(nproc) CPUs, fake API at $api, sink at $sink"

run() { # label, extra args...
  local label=$1 rc
  shift
  set +e
  /usr/bin/time -v "$build/vsink" submit --api-url "$api" \
    --target "$sink/videos/bench" --jobs "$work/jobs.jsonl" \
    --concurrency 16 --manifest "$work/manifest-$label" "$@" \
    >"$work/$label.out" 2>"$work/$label.time"
  rc=$?
  set -e
  local ok wall rss
  ok=$(grep -c "\"status\":\"$([ "$label" = wait ] && echo complete ||
                                echo accepted)\"" "$work/$label.out" || true)
  wall=$(grep 'Elapsed (wall clock)' "$work/$label.time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$work/$label.time" | awk '{print $NF}')
  printf '%-7s exit %d, %s/%s ok, wall %s, peak RSS %d KiB\n' "$label" \
    "$rc" "$ok" "$tasks" "$wall" "$rss"
  [ "$ok" = "$tasks" ] || { tail -5 "$work/$label.time" >&2; exit 1; }
}
run submit
run wait --wait --timeout 10m
