#!/bin/sh
# The price of the MD5 ETag: 1 GiB PUTs (curl -T, a presigned URL) taken in
# turn by three sinks on 127.0.0.1, RUNS times each:
#   thread  the default: past the first MiB through the pump (server/pump.h)
#   inline  the same code built with -DPIPE_AFTER=UINT64_MAX: all inline
#   sha256  --etag sha256: no MD5 at all
# Prints each PUT's wall time and the sink's CPU seconds (user + system,
# from /proc, every thread), then the medians and the extra over sha256.
# CPU seconds hardly move when other processes share the cores; wall time
# does (run it on a quiet machine). Environment: RUNS (5), SIZE_MIB (1024),
# TMPDIR (the data folders: the disk measured), BUILD (build-etagbench),
# KEEP=1 keeps the work folder.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
SIZE_MIB=${SIZE_MIB:-1024}
BUILD=${BUILD:-$SRC/build-etagbench}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vsink-etagbench.XXXXXX")
cleanup() {
  for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
for v in thread inline; do
  flags=""
  [ $v = inline ] && flags="-DPIPE_AFTER=UINT64_MAX"
  cmake -S "$SRC" -B "$BUILD-$v" -DCMAKE_BUILD_TYPE=Release \
        -DVSINK_TESTS=OFF -DCMAKE_C_FLAGS="$flags" >/dev/null
  cmake --build "$BUILD-$v" -j2 --target vsink_cli >/dev/null
done
export VSINK_ACCESS_KEY_ID=AKIDETAGBENCH VSINK_SECRET_ACCESS_KEY=etag-bench-secret
F=$WORK/body.bin
head -c $((SIZE_MIB << 20)) /dev/urandom > "$F"
PIDS=""
port=29470
for v in thread inline sha256; do
  port=$((port + 1))
  bin=$BUILD-thread/vsink
  extra=""
  [ $v = inline ] && bin=$BUILD-inline/vsink
  [ $v = sha256 ] && extra="--etag sha256"
  mkdir -p "$WORK/$v"
  # shellcheck disable=SC2086
  "$bin" serve --listen 127.0.0.1:$port --data "$WORK/$v" $extra \
    >/dev/null 2>"$WORK/$v.log" &
  PIDS="$PIDS $!"
  eval "PID_$v=$! PORT_$v=$port"
done
for v in thread inline sha256; do
  eval "p=\$PORT_$v"
  i=0
  until curl -sf -o /dev/null "http://127.0.0.1:$p/healthz"; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "sink $v did not start"; exit 1; }
    sleep 0.1
  done
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
echo "variant run wall_s cpu_s"
r=0
while [ $r -lt "$RUNS" ]; do
  r=$((r + 1))
  for v in thread inline sha256; do
    eval "p=\$PORT_$v pid=\$PID_$v"
    url=$("$BUILD-thread/vsink" presign --endpoint "http://127.0.0.1:$p" \
          --method PUT "videos/run$r.bin")
    c0=$(cpu "$pid")
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -T "$F" "$url")
    c1=$(cpu "$pid")
    [ "${out%% *}" = 200 ] || { echo "$v: PUT answered $out"; exit 1; }
    echo "$v $r ${out#* } $(echo "$c0 $c1 $TICK" | awk '{printf "%.2f", ($2 - $1) / $3}')"
    rm -rf "$WORK/$v/buckets/videos/run$r.bin"
  done
done | tee "$WORK/runs.txt"
awk '
  { wall[$1] = wall[$1] " " $3; cpu[$1] = cpu[$1] " " $4 }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for(i = 1; i <= n; i++) for(j = i + 1; j <= n; j++)
      if(a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    ws = median(wall["sha256"]); cs = median(cpu["sha256"])
    for(v in wall)
      printf "median %-7s wall %6.2f s (%+5.1f %%)  cpu %6.2f s (%+5.1f %%)\n", v,
             median(wall[v]), 100 * (median(wall[v]) / ws - 1),
             median(cpu[v]), 100 * (median(cpu[v]) / cs - 1)
  }' "$WORK/runs.txt"
