#!/bin/bash
# Where a vsink PUT's CPU goes: one `vsink serve` (Release build with debug
# info), one SIZE PUT with curl -T from /dev/shm, recorded with
# `perf record -g` attached to the server for exactly that request, then
# the top of `perf report` (self time, by symbol) and the same by DSO.
#
# Environment: BENCH_SIZE_MB (1024), ETAG ("" = the default MD5 ETag, or
# sha256), BUILD (build-perfput), TMPDIR (the data disk), TOP (25 lines),
# KEEP=1 keeps the work folder (perf.data in it). Needs Debian's linux-perf
# and root (or kernel.perf_event_paranoid <= 0). Not in ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build-perfput}
size_mb=${BENCH_SIZE_MB:-1024}
top=${TOP:-25}
work=$(mktemp -d "${TMPDIR:-/tmp}/vsink-perf.XXXXXX")
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=$work
body=$(mktemp "$shm/vsink-perf-body.XXXXXX")
vpid=
ppid_=
cleanup() {
  [ -z "$ppid_" ] || kill -INT "$ppid_" 2>/dev/null || true
  [ -z "$vpid" ] || kill "$vpid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$body"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVSINK_TESTS=OFF >/dev/null
cmake --build "$build" --target vsink_cli -j2 >/dev/null
head -c $((size_mb << 20)) /dev/urandom >"$body"

export VSINK_ACCESS_KEY_ID=AKIDPERFPUT00000001
VSINK_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=')
export VSINK_SECRET_ACCESS_KEY
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket();
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/vsink" serve --listen "127.0.0.1:$port" --data "$work/data" \
  --bucket bench ${ETAG:+--etag "$ETAG"} >/dev/null 2>"$work/vsink.log" &
vpid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done
url=$("$build/vsink" presign --endpoint "http://127.0.0.1:$port" \
      --method PUT bench/perf.bin)
sync
echo 3 2>/dev/null >/proc/sys/vm/drop_caches || true

perf record -g -o "$work/perf.data" -p "$vpid" 2>"$work/perf.log" &
ppid_=$!
sleep 1 # perf attaches
curl -s -o /dev/null -w 'PUT %{http_code} in %{time_total} s\n' -T "$body" "$url"
kill -INT "$ppid_"
wait "$ppid_" || true
ppid_=
echo "== self time by symbol (top $top)"
perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio \
  -g none --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep . |
  head -n "$top"
echo "== inclusive (children): system calls and digest calls"
perf report -i "$work/perf.data" --children --sort sym --stdio \
  -g none 2>/dev/null | grep -v '^#' |
  grep -E '__x64_sys_|ksys_write|ext4_buffered_write|EVP_Digest' | head -n 12
echo "== by thread"
perf report -i "$work/perf.data" --no-children --sort pid --stdio \
  -g none 2>/dev/null | grep -v '^#' | grep . | head -n 10
echo "== by DSO"
perf report -i "$work/perf.data" --no-children --sort dso --stdio \
  -g none 2>/dev/null | grep -v '^#' | grep . | head -n 10
