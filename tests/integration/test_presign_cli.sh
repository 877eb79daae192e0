#!/bin/bash
# vsink presign: where credentials come from, and a precise error with exit
# status 2 for each bad option (3 when credentials are missing). Secrets
# never appear on stdout or stderr.
set -u
: "${VSINK:?VSINK must name the vsink binary}"
unset VSINK_ACCESS_KEY_ID VSINK_SECRET_ACCESS_KEY
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vsink-presign-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fails=0
checks=0

# expect STATUS WORDS ARGS...: runs vsink presign ARGS, wants the exit
# status and WORDS in its stderr (WORDS empty: stdout must be one URL).
expect() {
  local want=$1 words=$2
  shift 2
  local out err rc
  out=$("$VSINK" presign "$@" 2>"$tmp/err")
  rc=$?
  err=$(cat "$tmp/err")
  checks=$((checks + 1))
  if [ "$rc" != "$want" ]; then
    echo "FAIL: presign $* -> exit $rc, want $want; stderr: $err"
    fails=$((fails + 1))
  elif [ -n "$words" ] && [[ "$err" != *"$words"* ]]; then
    echo "FAIL: presign $* -> stderr '$err' lacks '$words'"
    fails=$((fails + 1))
  elif [ -z "$words" ] && [[ "$out" != http*"X-Amz-Signature="* ]]; then
    echo "FAIL: presign $* -> stdout '$out' is not a URL"
    fails=$((fails + 1))
  fi
  for s in envsecret/abc filesecret/xyz datadirsecret; do
    if [[ "$out$err" == *"$s"* ]]; then
      echo "FAIL: presign $* printed a secret"
      fails=$((fails + 1))
    fi
  done
  printf '%s' "$out" >"$tmp/out"
}

D=20260101T000000Z
# No credentials anywhere: a clear error, status 3, no folder created.
expect 3 "no credentials: set VSINK_ACCESS_KEY_ID" videos/a.mp4
[ -e vsink-data ] && { echo "FAIL: presign created ./vsink-data"; fails=$((fails + 1)); }
expect 3 "--credentials" --credentials "$tmp/none" videos/a.mp4

# Bad options come first, credentials or not.
expect 2 "--method 'DELETE': use PUT, GET, HEAD or POST" --method DELETE videos/a
expect 2 "--expires '0': a whole number of seconds from 1 to 604800" --expires 0 videos/a
expect 2 "--expires '604801'" --expires 604801 videos/a
expect 2 "--expires '1h'" --expires 1h videos/a
expect 2 "--expires '-5'" --expires -5 videos/a
expect 2 "--date '2026-01-01': use YYYYMMDDTHHMMSSZ" --date 2026-01-01 videos/a
expect 2 "--date '20260230T000000Z'" --date 20260230T000000Z videos/a
expect 2 "--region 'US East'" --region "US East" videos/a
expect 2 "must start with http:// or https://" --endpoint ftp://h videos/a
expect 2 "must be scheme://host[:port], no path" --endpoint http://h:9000/base videos/a
expect 2 "bad port" --endpoint http://h:99999 videos/a
expect 2 "needs a host" --endpoint http://user@h videos/a
expect 2 "unknown option '--bogus'" --bogus videos/a
expect 2 "--expires needs a value" videos/a --expires
expect 2 "which object? give BUCKET/KEY"
expect 2 "give exactly one BUCKET/KEY" videos/a videos/b
expect 2 "give BUCKET/KEY, like videos/clip.mp4" videos
expect 2 "give BUCKET/KEY, like videos/clip.mp4" videos/
expect 2 "bucket 'Videos': bucket name has 'V' (0x56) at 0" Videos/a
expect 2 "bucket 'ab'" ab/a
expect 2 "bucket '-ab'" -- -ab/a
expect 2 "key is 1025 bytes; S3 allows at most 1024" "videos/$(head -c 1025 /dev/zero | tr '\0' k)"
expect 2 "key is not valid UTF-8" "videos/$(printf 'a\xff')"
"$VSINK" presign --help | grep -q "usage: vsink presign" || { echo "FAIL: --help"; fails=$((fails + 1)); }

# From the environment.
export VSINK_ACCESS_KEY_ID=VSENVKEY VSINK_SECRET_ACCESS_KEY=envsecret/abc
expect 0 "" --date $D "videos/my clip+1.mp4"
grep -q "^http://127.0.0.1:9000/videos/my%20clip%2B1.mp4?.*X-Amz-Credential=VSENVKEY%2F20260101%2F" "$tmp/out" ||
  { echo "FAIL: env URL $(cat "$tmp/out")"; fails=$((fails + 1)); }
# Half of the pair is an error, not a fall-through to a file.
unset VSINK_SECRET_ACCESS_KEY
expect 3 "VSINK_ACCESS_KEY_ID is set but VSINK_SECRET_ACCESS_KEY is not" videos/a
unset VSINK_ACCESS_KEY_ID

# From DATA_DIR/credentials, then --credentials over everything.
mkdir -p data && printf 'VSDATAKEY datadirsecret\n' >data/credentials
expect 0 "" --data data --date $D --method GET --expires 60 videos/a
grep -q "X-Amz-Credential=VSDATAKEY%2F.*X-Amz-Expires=60&" "$tmp/out" ||
  { echo "FAIL: data-dir URL $(cat "$tmp/out")"; fails=$((fails + 1)); }
printf '# two keys: the first signs\nVSFILEKEY filesecret/xyz\nVSOLD old\n' >creds
export VSINK_ACCESS_KEY_ID=VSENVKEY VSINK_SECRET_ACCESS_KEY=envsecret/abc
expect 0 "" --credentials creds --data data --date $D videos/a
grep -q "X-Amz-Credential=VSFILEKEY%2F" "$tmp/out" ||
  { echo "FAIL: --credentials URL $(cat "$tmp/out")"; fails=$((fails + 1)); }
printf 'VSFILEKEY\n' >badcreds
expect 3 "badcreds line 1: expected 'KEYID SECRET'" --credentials badcreds videos/a

# --date makes the URL reproducible; without it, it is now.
"$VSINK" presign --date $D videos/a >a1 && "$VSINK" presign --date $D videos/a >a2
cmp -s a1 a2 || { echo "FAIL: same --date, different URLs"; fails=$((fails + 1)); }
today=$(date -u +%Y%m%d)
"$VSINK" presign videos/a | grep -q "X-Amz-Date=${today}T" ||
  { echo "FAIL: default date is not today"; fails=$((fails + 1)); }

echo "presign CLI: $checks checks, $fails failures"
[ "$fails" = 0 ]
