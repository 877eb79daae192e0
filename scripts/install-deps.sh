#!/usr/bin/env bash
# Installs what vsink needs from Debian 12's packages (run as root).
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also everything the tests use
set -euo pipefail
build=(build-essential cmake pkg-config libmicrohttpd-dev
       libcurl4-openssl-dev libcjson-dev zlib1g-dev libssl-dev curl)
# clang + libclang-rt-14-dev: libFuzzer and clang's sanitizers (tests/fuzz).
# e2fsprogs, xfsprogs: filesystems the store's failure tests make on loop
# devices (tests/unit/test_store_fs_directfail.c, test_sink_flushfail.py).
test=(libcmocka-dev python3 python3-boto3 awscli rclone s3cmd s4cmd restic
      valgrind nginx-light haproxy prometheus
      radosgw ceph-mon ceph-osd chromium procps util-linux
      e2fsprogs xfsprogs
      clang libclang-rt-14-dev)
pkgs=("${build[@]}")
if [ "${1:-}" = "--test" ]; then
  pkgs+=("${test[@]}")
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
