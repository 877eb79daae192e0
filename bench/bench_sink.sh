#!/bin/bash
# Ingest against the machine's limits and nginx, all measured in one run and
# printed as one table (issue 9). Single uploads use curl -T, the client
# most users have:
#   limits  dd bs=1M oflag=direct, the same + conv=fdatasync (O_DIRECT made
#           durable: the device cache flushed) and conv=fdatasync alone (SIZE
#           to the data disk),
#           one core's SHA-256 and MD5 time for SIZE (openssl speed -evp)
#   a       one SIZE PUT: nginx (dav_methods PUT, page cache only), nginx
#           then fsync of the file and its folder (durable, like vsink),
#           vsink default (MD5 ETag + SHA-256, fsync before 200), vsink
#           --etag sha256
#   d       GET of the SIZE object: nginx (sendfile) vs vsink, cold (page
#           cache dropped) and warm (read once before); nginx serves a hard
#           link to the file vsink stored: the same file
#   b       64 concurrent 16 MiB PUTs (bench/putload, libcurl multi),
#           aggregate MiB/s; the client is first timed against nginx
#           answering 204 and discarding the body, and its CPU is printed
#   c       256 slow uploads in flight: vsink's peak RSS
# Every measurement of a round runs in a rotating order (no server always
# first), the data of the previous one is removed, dirty pages are written
# (sync) and the page cache is dropped (echo 3 > drop_caches) before it when
# permitted; the body curl sends lives in /dev/shm, which dropping does not
# touch. Medians and ranges over RUNS rounds; server CPU seconds (utime +
# stime of every thread, nginx's master and workers) and curl's CPU per run.
#
# Environment: BENCH_SIZE_MB (1024), BENCH_RUNS (5), PHASES ("limits a d b
# c"), BUILD (build-sinkbench, a Release build made here), TMPDIR (the data
# disk: both servers and dd), THREADS (vsink --threads), KEEP=1 keeps the
# work folder, BASE_VSINK (another build's vsink, say an earlier commit's)
# and BASE_ENV (an environment, VAR=VALUE ...): either starts two more sinks,
# default and sha256, with that binary and environment, measured beside the
# others in (a) and (b): a before/after in one run. Run as root (nginx's
# workers, drop_caches). Not in ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build-sinkbench}
runs=${BENCH_RUNS:-${RUNS:-5}}
size_mb=${BENCH_SIZE_MB:-1024}
size=$((size_mb << 20))
phases=${PHASES:-limits a d b c}
mid=$((16 << 20))
slow_size=$((2 << 20))
slow_rate=$((256 << 10))
tick=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/vsink-bench.XXXXXX")
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=$work
body=$(mktemp "$shm/vsink-bench-body.XXXXXX")
pids=
cleanup() {
  local p
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -f "$body"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target vsink_cli putload -j2 >/dev/null
vsink=$build/vsink
putload=$build/bench/putload
head -c "$size" /dev/urandom >"$body"

has() { [[ " $phases " == *" $1 "* ]]; }
has_base() { [ -n "${BASE_ENV:-}${BASE_VSINK:-}" ]; }
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket();
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() { # URL: until it answers at all, up to 10 s
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

can_drop=0
if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then can_drop=1; fi
settle() { # written out, then (if permitted) nothing cached
  sync
  ((can_drop)) && echo 3 >/proc/sys/vm/drop_caches
  return 0
}

# ---- servers ---------------------------------------------------------------
export VSINK_ACCESS_KEY_ID=AKIDBENCHSINK000001
VSINK_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=')
export VSINK_SECRET_ACCESS_KEY

nport=$(free_port)
mkdir -p "$work/nginx/root" "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<EOF
user root;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $work/nginx/root;
    client_max_body_size 0;
    location /discard/ { return 204; }
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' \
  2>>"$work/nginx/error.log" &
npid=$!
pids+=" $npid"
wait_http "http://127.0.0.1:$nport/"

declare -A port pid
start_vsink() { # NAME [ARGS...]: a fresh sink with its own data folder
  local n=$1 e='' bin=$vsink
  shift
  port[$n]=$(free_port)
  rm -rf "${work:?}/${n:?}"
  case $n in vbase | vbsha) e=${BASE_ENV:-} bin=${BASE_VSINK:-$vsink} ;; esac
  # shellcheck disable=SC2086
  env $e "$bin" serve --listen "127.0.0.1:${port[$n]}" --data "$work/$n" \
    --bucket bench --max-connections-per-ip 1024 \
    ${THREADS:+--threads "$THREADS"} "$@" >"$work/$n.out" 2>"$work/$n.log" &
  pid[$n]=$!
  pids+=" ${pid[$n]}"
  wait_http "http://127.0.0.1:${port[$n]}/healthz"
}
stop_vsink() {
  kill "${pid[$1]}"
  wait "${pid[$1]}" || true
}
start_vsink vsink
start_vsink vsha --etag sha256
if has_base; then
  start_vsink vbase
  start_vsink vbsha --etag sha256
fi

cpu_s() { # SERVER: CPU seconds it has used so far
  local ps p t=0
  case $1 in
    nginx) ps="$npid $(pgrep -P "$npid" | tr '\n' ' ')" ;;
    *) ps=${pid[$1]} ;;
  esac
  for p in $ps; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
url() { # SERVER KEY METHOD
  if [ "$1" = nginx ]; then
    echo "http://127.0.0.1:$nport/$2"
  else
    "$vsink" presign --endpoint "http://127.0.0.1:${port[$1]}" \
      --method "$3" "bench/$2"
  fi
}
clean_data() {
  rm -rf "$work/vsink/buckets/bench/"* "$work/vsha/buckets/bench/"* \
    "$work/vbase/buckets/bench/"* "$work/vbsha/buckets/bench/"* \
    "$work/nginx/root/"* "$work/dd.bin"
}

declare -A val
rec() { val[$1]+="$2 "; } # KEY VALUE: one run's figure
TIMEFORMAT='%U %S'
timed_curl() { # ARGS...: "HTTP_CODE WALL CURL_CPU"
  local t
  t=$( { time curl -s "$@" -w '%{http_code} %{time_total}' \
           >"$work/curl.out" 2>/dev/null; } 2>&1 ) || true
  echo "$(cat "$work/curl.out") $(awk '{print $1 + $2}' <<<"$t")"
}
now() { date +%s.%N; }

# ---- one measurement each -------------------------------------------------
limit_dd() { # NAME DD-FLAG...
  local t0 t1
  settle
  t0=$(now)
  dd if=/dev/zero of="$work/dd.bin" bs=1M count="$size_mb" "${@:2}" \
    2>/dev/null
  t1=$(now)
  rm -f "$work/dd.bin"
  rec "$1" "$(bc -l <<<"$t1 - $t0")"
  printf '  %-12s %8.3f s\n' "$1" "$(bc -l <<<"$t1 - $t0")"
}
limit_hash() { # ALGO: one core's time for SIZE bytes
  local rate
  rate=$(openssl speed -mr -evp "$1" -bytes 1048576 -seconds 1 2>/dev/null |
         awk -F: '/^\+F:/ {print $NF}')
  rec "$1" "$(bc -l <<<"$size / $rate")"
  printf '  %-12s %8.3f s\n' "$1" "$(bc -l <<<"$size / $rate")"
}
put_one() { # SERVER [sync]: one PUT of the body
  local s=$1 key="a/obj.bin" c0 c1 r code wall ccpu t0 syncs=0
  clean_data
  settle
  c0=$(cpu_s "$s")
  t0=$(now)
  r=$(timed_curl -o /dev/null -T "$body" "$(url "$s" "$key" PUT)")
  read -r code wall ccpu <<<"$r"
  if [ "${2:-}" = sync ]; then # fsync the file and its folder, as vsink does
    sync "$work/nginx/root/$key" "$work/nginx/root/a"
    syncs=$(bc -l <<<"$(now) - $t0 - $wall")
    wall=$(bc -l <<<"$wall + $syncs")
  fi
  c1=$(cpu_s "$s")
  case $code in 2*) ;; *) echo "PUT to $s answered $code" >&2; exit 1 ;; esac
  local name=$s${2:++$2}
  rec "a.$name" "$wall"
  rec "acpu.$name" "$(bc -l <<<"($c1 - $c0) / $tick * 1024 / $size_mb")"
  rec "accpu.$name" "$ccpu"
  printf '  %-12s %8.3f s  server CPU %5.2f s  curl CPU %5.2f s%s\n' \
    "$name" "$wall" "$(bc -l <<<"($c1 - $c0) / $tick")" "$ccpu" \
    "$( [ "$syncs" = 0 ] || printf '  (sync %.3f s)' "$syncs")"
}
get_one() { # SERVER: cold then warm GET of the object PUT by put_get
  local s=$1 r code wall ccpu c0 c1 u
  u=$(url "$s" d/obj.bin GET)
  for temp in cold warm; do
    [ $temp = cold ] && settle
    c0=$(cpu_s "$s")
    r=$(timed_curl -o /dev/null "$u")
    c1=$(cpu_s "$s")
    read -r code wall ccpu <<<"$r"
    [ "$code" = 200 ] || { echo "GET from $s answered $code" >&2; exit 1; }
    rec "d$temp.$s" "$wall"
    rec "dcpu$temp.$s" "$(bc -l <<<"($c1 - $c0) / $tick * 1024 / $size_mb")"
    printf '  %-12s %-4s %8.3f s  server CPU %5.2f s  curl CPU %5.2f s\n' \
      "$s" $temp "$wall" "$(bc -l <<<"($c1 - $c0) / $tick")" "$ccpu"
  done
}
mid_urls() { # SERVER -> URL file for (b)
  local i f=$work/b.$1
  : >"$f"
  for i in $(seq 64); do
    if [ "$1" = discard ]; then
      echo "http://127.0.0.1:$nport/discard/obj$i.bin" >>"$f"
    else
      url "$1" "b/obj$i.bin" PUT >>"$f"
    fi
  done
}
put_mid() { # SERVER [sync]
  local s=$1 name=$1${2:++$2} c0 c1 t0 t1 t out cpu
  clean_data
  settle
  [ "$s" = discard ] || c0=$(cpu_s "$s")
  t0=$(now)
  { t=$( { time "$putload" -n 64 -s "$mid" "$work/b.$s" >"$work/b.out"; } \
         2>&1 ); } || { echo "putload against $s failed" >&2; exit 1; }
  if [ "${2:-}" = sync ]; then
    sync "$work/nginx/root/b/"* "$work/nginx/root/b"
  fi
  t1=$(now)
  cpu=$(awk '{print $1 + $2}' <<<"$t")
  out=$(bc -l <<<"64 * 16 / ($t1 - $t0)")
  rec "b.$name" "$out"
  rec "bccpu.$name" "$cpu"
  if [ "$s" = discard ]; then
    printf '  %-12s %8.1f MiB/s  client CPU %5.2f s\n' "$name" "$out" "$cpu"
  else
    c1=$(cpu_s "$s")
    rec "bcpu.$name" "$(bc -l <<<"($c1 - $c0) / $tick")"
    printf '  %-12s %8.1f MiB/s  server CPU %5.2f s  client CPU %5.2f s\n' \
      "$name" "$out" "$(bc -l <<<"($c1 - $c0) / $tick")" "$cpu"
  fi
}

pipe_waits() { # SINK -> its /metrics vsink_pipe_waits_total: "store sha256 md5"
  curl -s "http://127.0.0.1:${port[$1]}/metrics" | awk '
    /^vsink_pipe_waits_total/ {split($1, a, "\""); w[a[2]] = $2}
    END {print w["store"] + 0, w["sha256"] + 0, w["md5"] + 0}'
}
rotate() { # ROUND ITEMS...: the items rotated by ROUND/2, in reverse order
  # in odd rounds: a rotation alone keeps each item behind the same
  # neighbour, and the second of two sinks measured one after the other
  # took 0.1-0.27 s longer per GiB whichever binary it was
  local r=$1 n k=$(($1 / 2))
  shift
  n=$#
  local a=("$@") i
  for ((i = 0; i < n; i++)); do
    if ((r % 2)); then echo "${a[(k + n - 1 - i) % n]}"
    else echo "${a[(k + i) % n]}"; fi
  done
}

echo "== $runs rounds, ${size_mb} MiB, $(nproc) CPUs, $(uname -r)," \
  "page cache dropped: $( ((can_drop)) && echo yes || echo "NO (not permitted)")"
for r in $(seq "$runs"); do
  echo "-- round $r"
  items=
  has limits && items+=" dd-direct dd-direct-sync dd-fdatasync sha256 md5"
  has a && items+=" nginx nginx+sync vsink vsha"
  has a && has_base && items+=" vbase vbsha"
  # shellcheck disable=SC2086
  for it in $(rotate "$r" $items); do
    case $it in
      dd-direct) limit_dd dd-direct oflag=direct ;;
      dd-direct-sync) limit_dd dd-direct-sync oflag=direct conv=fdatasync ;;
      dd-fdatasync) limit_dd dd-fdatasync conv=fdatasync ;;
      sha256 | md5) limit_hash "$it" ;;
      nginx+sync) put_one nginx sync ;;
      *) put_one "$it" ;;
    esac
  done
  if has d; then
    clean_data
    curl -sf -o /dev/null -T "$body" "$(url vsink d/obj.bin PUT)"
    # nginx serves the very file vsink stored (a hard link): both GETs read
    # the same blocks. One read first, untimed: the first read of a file
    # written with O_DIRECT took 2.5-3.0 s here, every later cold one
    # (guest page cache dropped) 0.8-1.0 s, whichever server made it: the
    # virtual disk's host caches what it has read
    f=$(find "$work/vsink/buckets/bench/d/obj.bin" -maxdepth 1 -type f \
          -name '@*' ! -name '*.json' | head -1)
    mkdir -p "$work/nginx/root/d"
    ln "$f" "$work/nginx/root/d/obj.bin"
    cat "$f" >/dev/null
    for s in $(rotate "$r" nginx vsink); do get_one "$s"; done
  fi
done
declare -A waits_a
for s in vsink vsha; do waits_a[$s]=$(pipe_waits "$s"); done

if has b; then
  echo "== (b) 64 concurrent 16 MiB PUTs, $runs rounds"
  bset="discard nginx nginx+sync vsink vsha"
  ! has_base || bset+=" vbase vbsha"
  for s in $bset; do [ $s = nginx+sync ] || mid_urls $s; done
  for r in $(seq "$runs"); do
    # shellcheck disable=SC2086
    for s in $(rotate "$r" $bset); do
      case $s in nginx+sync) put_mid nginx sync ;; *) put_mid "$s" ;; esac
    done
  done
fi
declare -A waits_b
for s in vsink vsha; do waits_b[$s]=$(pipe_waits "$s"); done

# ---- (c): a fresh vsink per run, so VmHWM is this phase's peak -----------
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
if has c; then
  echo "== (c) 256 uploads in flight (2 MiB each at 256 KiB/s), $runs runs"
  : >"$work/slow.urls"
  for r in $(seq "$runs"); do
    stop_vsink vsink
    start_vsink vsink
    : >"$work/slow.urls"
    for i in $(seq 256); do url vsink "slow/obj$i.bin" PUT >>"$work/slow.urls"; done
    "$putload" -n 256 -s "$slow_size" -r "$slow_rate" "$work/slow.urls" \
      >"$work/slow.out" &
    lpid=$!
    peak=0
    maxflight=0
    for _ in $(seq 600); do # at most 2 minutes
      kill -0 "$lpid" 2>/dev/null || break
      v=$(rss_kib "${pid[vsink]}" VmRSS)
      ((v > peak)) && peak=$v
      f=$(curl -s "http://127.0.0.1:${port[vsink]}/metrics" |
          awk '$1 == "vsink_uploads_in_flight" {print $2}')
      ((${f:-0} > maxflight)) && maxflight=$f
      sleep 0.2
    done
    kill "$lpid" 2>/dev/null || true
    wait "$lpid" || { echo "slow uploads failed" >&2; exit 1; }
    hwm=$(rss_kib "${pid[vsink]}" VmHWM)
    rec c.hwm "$(bc -l <<<"$hwm / 1024")"
    rec c.rss "$(bc -l <<<"$peak / 1024")"
    printf '  c run %d  VmHWM %6.1f MiB  sampled RSS max %6.1f MiB  ' \
      "$r" "$(bc -l <<<"$hwm/1024")" "$(bc -l <<<"$peak/1024")"
    printf 'uploads in flight max %s  %s\n' "$maxflight" \
      "$(awk '$1 == "TOTAL" {print $4 " ok, " $5 " failed"}' "$work/slow.out")"
    clean_data
  done
fi

# ---- the table ---------------------------------------------------------------
med() { # KEY -> median
  tr ' ' '\n' <<<"${val[$1]:-}" | grep . | sort -g |
    awk '{v[NR]=$1} END {if (!NR) {print "nan"; exit}
      m=int((NR+1)/2); print (NR%2) ? v[m] : (v[m]+v[m+1])/2}'
}
rng() { # KEY -> min-max
  tr ' ' '\n' <<<"${val[$1]:-}" | grep . | sort -g |
    awk -v f="${2:-%.3f}" 'NR==1 {lo=$1} {hi=$1}
      END {if (NR) printf f "-" f, lo, hi}'
}
row() { # LABEL KEY [CPUKEY CURLCPUKEY]
  printf '| %s | %.3f s | %s | %s | %s |\n' "$1" "$(med "$2")" "$(rng "$2")" \
    "$( [ -n "${3:-}" ] && printf '%.2f' "$(med "$3")")" \
    "$( [ -n "${4:-}" ] && printf '%.2f' "$(med "$4")")"
}
ratio() { # LABEL NUM DEN TARGET-OP TARGET
  local x
  x=$(bc -l <<<"$2 / $3")
  printf '| %s | %.2fx | %s %s | %s |\n' "$1" "$x" "$4" "$5" \
    "$( (($(bc -l <<<"$x $4 $5"))) && echo met || echo MISSED)"
}

echo
echo "== medians over $runs rounds, ${size_mb} MiB ($(nproc) CPUs," \
  "$(uname -r), page cache dropped: $( ((can_drop)) && echo yes || echo no))"
echo
if has limits || has a; then
  echo "| ${size_mb} MiB | median | range | server CPU s/GiB | curl CPU s |"
  echo "|---|---|---|---|---|"
  if has limits; then
    row "dd bs=1M oflag=direct" dd-direct
    row "dd bs=1M oflag=direct conv=fdatasync" dd-direct-sync
    row "dd bs=1M conv=fdatasync" dd-fdatasync
    row "SHA-256, one core" sha256
    row "MD5, one core" md5
  fi
  if has a; then
    row "nginx PUT" a.nginx acpu.nginx accpu.nginx
    row "nginx PUT + fsync" a.nginx+sync acpu.nginx+sync accpu.nginx+sync
    row "vsink default (MD5 ETag)" a.vsink acpu.vsink accpu.vsink
    row "vsink --etag sha256" a.vsha acpu.vsha accpu.vsha
    if has_base; then
      row "vsink default, base" a.vbase acpu.vbase accpu.vbase
      row "vsink --etag sha256, base" a.vbsha acpu.vbsha accpu.vbsha
    fi
  fi
  echo
fi
if has a && has limits; then
  echo "| (a) ratio of medians | value | target | |"
  echo "|---|---|---|---|"
  ratio "vsink default / MD5 one core" "$(med a.vsink)" "$(med md5)" "<=" 1.15
  ratio "vsink sha256 / nginx PUT + fsync" "$(med a.vsha)" \
    "$(med a.nginx+sync)" "<=" 1.0
  mx=$(printf '%s\n%s\n' "$(med dd-direct)" "$(med sha256)" | sort -g | tail -1)
  ratio "vsink sha256 / max(dd direct, SHA-256)" "$(med a.vsha)" "$mx" "<=" 1.25
  # what durability costs on top: the device's cache flushed (fsync)
  mx=$(printf '%s\n%s\n' "$(med dd-direct-sync)" "$(med sha256)" |
    sort -g | tail -1)
  ratio "vsink sha256 / max(dd direct + fdatasync, SHA-256)" "$(med a.vsha)" \
    "$mx" "<=" 1.25
  ratio "vsink default / nginx PUT + fsync" "$(med a.vsink)" \
    "$(med a.nginx+sync)" "<=" 1.0
  printf '| vsink sha256 server CPU per GiB | %.2f s | <= 1.0 s | %s |\n' \
    "$(med acpu.vsha)" \
    "$( (($(bc -l <<<"$(med acpu.vsha) <= 1.0"))) && echo met || echo MISSED)"
  echo
  # What bounds a wall time on this machine: the cores (the server's and
  # the client's CPU seconds spread over every core: no run can be faster)
  # or the disk (O_DIRECT then the device's cache flushed: durable).
  # And what the uploads waited on: each stop for a full pipe counted for
  # the lane that ended it (/metrics), over every PUT of (a) and (d).
  echo "| (a) bounds | wall | CPU floor: (server + curl CPU) / $(nproc) cores | cores busy | durable disk floor | pipe waits on store / sha256 / md5 |"
  echo "|---|---|---|---|---|---|"
  for s in vsink vsha; do
    f=$(bc -l <<<"($(med acpu.$s) * $size_mb / 1024 + $(med accpu.$s)) / $(nproc)")
    printf '| %s | %.3f s | %.3f s | %.0f %% | %.3f s | %s |\n' \
      "$( [ $s = vsink ] && echo default || echo sha256)" "$(med a.$s)" \
      "$f" "$(bc -l <<<"100 * $f / $(med a.$s)")" "$(med dd-direct-sync)" \
      "${waits_a[$s]// / / }"
  done
  echo
fi
if has d; then
  echo "| (d) GET ${size_mb} MiB | nginx | vsink | nginx/vsink time (target >= 0.9) |"
  echo "|---|---|---|---|"
  for t in cold warm; do
    printf '| %s | %.3f s (%s) | %.3f s (%s) | %.2fx |\n' $t \
      "$(med d$t.nginx)" "$(rng d$t.nginx)" "$(med d$t.vsink)" \
      "$(rng d$t.vsink)" "$(bc -l <<<"$(med d$t.nginx) / $(med d$t.vsink)")"
  done
  printf '| server CPU s/GiB (warm) | %.2f | %.2f | |\n' \
    "$(med dcpuwarm.nginx)" "$(med dcpuwarm.vsink)"
  echo
fi
if has b; then
  echo "| (b) 64 x 16 MiB | MiB/s median | range | server CPU s | client CPU s |"
  echo "|---|---|---|---|---|"
  for s in $bset; do
    printf '| %s | %.1f | %s | %s | %.2f |\n' "$s" "$(med b.$s)" \
      "$(rng b.$s %.0f)" \
      "$( [ $s = discard ] || printf '%.2f' "$(med bcpu.$s)")" \
      "$(med bccpu.$s)"
  done
  printf '| ratio vsink / nginx+fsync | default %.2fx, sha256 %.2fx (target >= 1.0) | | | |\n' \
    "$(bc -l <<<"$(med b.vsink) / $(med b.nginx+sync)")" \
    "$(bc -l <<<"$(med b.vsha) / $(med b.nginx+sync)")"
  echo
  echo "| (b) bounds | wall | CPU floor: (server + client CPU) / $(nproc) cores | cores busy | pipe waits on store / sha256 / md5 |"
  echo "|---|---|---|---|---|"
  for s in nginx+sync vsink vsha; do
    w=$(bc -l <<<"64 * 16 / $(med b.$s)")
    f=$(bc -l <<<"($(med bcpu.$s) + $(med bccpu.$s)) / $(nproc)")
    wt=
    if [ "$s" != nginx+sync ]; then
      read -r -a x <<<"${waits_a[$s]}"
      read -r -a y <<<"${waits_b[$s]}"
      wt="$((y[0] - x[0])) / $((y[1] - x[1])) / $((y[2] - x[2]))"
    fi
    printf '| %s | %.3f s | %.3f s | %.0f %% | %s |\n' "$s" "$w" "$f" \
      "$(bc -l <<<"100 * $f / $w")" "$wt"
  done
  echo
fi
if has c; then
  printf '(c) 256 in flight: vsink VmHWM %.1f MiB (%s), sampled RSS %.1f MiB' \
    "$(med c.hwm)" "$(rng c.hwm %.1f)" "$(med c.rss)"
  echo "  (target <= 24 MiB: $( (($(bc -l <<<"$(med c.hwm) <= 24"))) &&
    echo met || echo MISSED))"
fi
