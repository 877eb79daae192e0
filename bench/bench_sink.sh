#!/bin/bash
# vsink serve against nginx's WebDAV PUT (Debian's nginx-light), both on
# loopback in one run, measured with one client (bench/putload):
#   (a) one 1 GiB PUT                      time, vsink/nginx (target <= 1.0)
#   (b) 64 concurrent 16 MiB PUTs          aggregate MiB/s, vsink/nginx
#                                          (target >= 1.2)
#   (c) 256 slow uploads in flight         vsink's peak RSS (target <= 24 MiB)
# Medians over RUNS runs; (a) and (b) alternate which server goes first, and
# every run starts with the page cache's dirty data written (sync), so one
# server's write-back does not land in the other's time.
#
# Environment: BUILD (default build-sinkbench), RUNS (5), TMPDIR (the data
# of both servers; one filesystem), THREADS (vsink --threads, default its
# own), PHASES (default "a b c": which measurements to run), KEEP=1 keeps
# the work folder. Run as root (nginx's workers write as
# root into the temporary folder). Not part of ctest.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build-sinkbench}
runs=${RUNS:-5}
big=$((1 << 30))
mid=$((16 << 20))
slow_size=$((2 << 20))
slow_rate=$((256 << 10))

work=$(mktemp -d "${TMPDIR:-/tmp}/vsink-bench.XXXXXX")
vpid=
npid=
lpid=
cleanup() {
  for p in $lpid $vpid $npid; do
    kill "$p" 2>/dev/null || true
  done
  for p in $lpid $vpid $npid; do
    wait "$p" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSINK_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target vsink_cli putload -j"$(nproc)" >/dev/null
vsink=$build/vsink
putload=$build/bench/putload

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

median() { sort -g | awk '{v[NR]=$1} END {m=int((NR+1)/2);
  print (NR%2) ? v[m] : (v[m]+v[m+1])/2}'; }

export VSINK_ACCESS_KEY_ID=AKIDBENCHSINK000001
VSINK_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=')
export VSINK_SECRET_ACCESS_KEY

# ---- nginx ---------------------------------------------------------------
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
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $work/nginx/root;
    client_max_body_size 0;
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
wait_http "http://127.0.0.1:$nport/"

# ---- vsink ---------------------------------------------------------------
vport=
start_vsink() {
  vport=$(free_port)
  rm -rf "$work/vsink"
  "$vsink" serve --listen "127.0.0.1:$vport" --data "$work/vsink" \
    --bucket bench --max-connections-per-ip 1024 \
    ${THREADS:+--threads "$THREADS"} >"$work/vsink.out" 2>"$work/vsink.log" &
  vpid=$!
  wait_http "http://127.0.0.1:$vport/healthz"
}
stop_vsink() {
  kill "$vpid"
  wait "$vpid" || true
  vpid=
}
start_vsink

# URL files: vsink's presigned, nginx's plain, same keys.
urls() { # NAME COUNT
  local i
  : >"$work/$1.vsink"
  : >"$work/$1.nginx"
  for i in $(seq "$2"); do
    "$vsink" presign --endpoint "http://127.0.0.1:$vport" \
      "bench/$1/obj$i.bin" >>"$work/$1.vsink"
    echo "http://127.0.0.1:$nport/$1/obj$i.bin" >>"$work/$1.nginx"
  done
}

clean_data() {
  rm -rf "$work/vsink/buckets/bench/"* "$work/nginx/root/"*
  sync
}

put() { # SERVER NAME INFLIGHT SIZE -> prints TOTAL seconds and MiB/s
  local out
  out=$("$putload" -n "$3" -s "$4" "$work/$2.$1") || {
    echo "putload against $1 failed:" >&2
    grep -v '^REQ .* 20[014] ' <<<"$out" >&2 || true
    exit 1
  }
  awk '$1 == "TOTAL" {print $2, $6}' <<<"$out"
}

# CPU seconds (user + system) a server has used: vsink's process, or
# nginx's master and workers.
cpu_s() {
  local pids=$vpid p t=0
  [ "$1" = nginx ] && pids="$npid $(pgrep -P "$npid" | tr '\n' ' ')"
  for p in $pids; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  bc -l <<<"$t / $(getconf CLK_TCK)"
}

declare -A secs mibs cpus
measure() { # LABEL NAME INFLIGHT SIZE
  local r s c0 c
  for r in $(seq "$runs"); do
    for s in $( ((r % 2)) && echo vsink nginx || echo nginx vsink); do
      clean_data
      c0=$(cpu_s "$s")
      res=$(put "$s" "$2" "$3" "$4")
      c=$(bc -l <<<"$(cpu_s "$s") - $c0")
      read -r t m <<<"$res"
      secs[$1.$s]+="$t "
      mibs[$1.$s]+="$m "
      cpus[$1.$s]+="$c "
      printf '  %s run %d %-5s %8.3f s %8.1f MiB/s  server CPU %5.2f s\n' \
        "$1" "$r" "$s" "$t" "$m" "$c"
    done
  done
}
med() { tr ' ' '\n' <<<"$1" | grep . | median; }

phases=${PHASES:-a b c}
has() { [[ " $phases " == *" $1 "* ]]; }
if has a; then
  echo "== (a) one 1 GiB PUT, $runs runs"
  urls big 1
  measure a big 1 "$big"
fi
if has b; then
  echo "== (b) 64 concurrent 16 MiB PUTs, $runs runs"
  urls mid 64
  measure b mid 64 "$mid"
fi

# ---- (c): a fresh vsink per run, so VmHWM is this phase's peak -----------
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
has c && echo "== (c) 256 uploads in flight (2 MiB each at 256 KiB/s), $runs runs"
hwm_all=
rss_all=
has c || runs_c=0
for r in $(seq "${runs_c:-$runs}"); do
  stop_vsink
  start_vsink
  urls slow 256
  "$putload" -n 256 -s "$slow_size" -r "$slow_rate" "$work/slow.vsink" \
    >"$work/slow.out" &
  lpid=$!
  peak=0
  maxflight=0
  while kill -0 "$lpid" 2>/dev/null; do
    v=$(rss_kib "$vpid" VmRSS)
    ((v > peak)) && peak=$v
    f=$(curl -s "http://127.0.0.1:$vport/metrics" |
        awk '$1 == "vsink_uploads_in_flight" {print $2}')
    ((${f:-0} > maxflight)) && maxflight=$f
    sleep 0.2
  done
  wait "$lpid" || { echo "slow uploads failed" >&2; exit 1; }
  lpid=
  hwm=$(rss_kib "$vpid" VmHWM)
  hwm_all+="$hwm "
  rss_all+="$peak "
  printf '  c run %d  VmHWM %6.1f MiB  sampled RSS max %6.1f MiB  ' \
    "$r" "$(bc -l <<<"$hwm/1024")" "$(bc -l <<<"$peak/1024")"
  printf 'uploads in flight max %s  %s\n' "$maxflight" \
    "$(awk '$1 == "TOTAL" {print $4 " ok, " $5 " failed"}' \
      "$work/slow.out")"
  clean_data
done

# ---- summary ---------------------------------------------------------------
verdict() { (($(bc -l <<<"$1"))) && echo met || echo MISSED; }
echo
echo "== medians over $runs runs ($(nproc) CPUs, $(uname -r))"
if has a; then
  a_v=$(med "${secs[a.vsink]}"); a_n=$(med "${secs[a.nginx]}")
  printf '(a) 1 GiB PUT:        vsink %.3f s, nginx %.3f s, ratio %.2fx' \
    "$a_v" "$a_n" "$(bc -l <<<"$a_v/$a_n")"
  echo "  (target <= 1.0x: $(verdict "$a_v <= $a_n"))"
  printf '    server CPU per run: vsink %.2f s, nginx %.2f s\n' \
    "$(med "${cpus[a.vsink]}")" "$(med "${cpus[a.nginx]}")"
fi
if has b; then
  b_v=$(med "${mibs[b.vsink]}"); b_n=$(med "${mibs[b.nginx]}")
  printf '(b) 64 x 16 MiB:      vsink %.1f MiB/s, nginx %.1f MiB/s, ' \
    "$b_v" "$b_n"
  printf 'ratio %.2fx' "$(bc -l <<<"$b_v/$b_n")"
  echo "  (target >= 1.2x: $(verdict "$b_v >= 1.2*$b_n"))"
  printf '    server CPU per run: vsink %.2f s, nginx %.2f s\n' \
    "$(med "${cpus[b.vsink]}")" "$(med "${cpus[b.nginx]}")"
fi
if has c; then
  c_h=$(med "$hwm_all"); c_r=$(med "$rss_all")
  printf '(c) 256 in flight:    vsink VmHWM %.1f MiB, sampled RSS %.1f MiB' \
    "$(bc -l <<<"$c_h/1024")" "$(bc -l <<<"$c_r/1024")"
  echo "  (target <= 24 MiB: $(verdict "$c_h <= 24*1024"))"
fi
