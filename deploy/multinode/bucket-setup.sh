#!/usr/bin/env bash
# Prepares the cluster bucket for vsink sink nodes; safe to run again.
#   VSINK_S3_ACCESS_KEY_ID=... VSINK_S3_SECRET_ACCESS_KEY=... \
#     deploy/multinode/bucket-setup.sh --endpoint http://rgw:7480 \
#       --bucket vsink-archive --prefix prod [--region us-east-1] \
#       [--abort-days 1]
# 1. creates the bucket unless it exists (a bucket owned by someone else,
#    or any other error, stops here);
# 2. turns versioning on (the sink refuses to start without it under
#    --on-existing version: a second PUT must never destroy the first);
# 3. sets the lifecycle rule "vsink-abort-mpu[-PREFIX]": multipart uploads
#    under PREFIX/ not completed DAYS after they began are aborted (what a
#    node that died mid-upload left), keeping every other rule as it is;
# 4. prints the versioning and lifecycle configuration the bucket now has.
# Needs awscli (Debian: apt-get install awscli) and python3. The keys come
# from the environment only, never the command line.
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" >&2
  exit 2
}

endpoint= bucket= prefix= region=us-east-1 days=1
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) endpoint=${2:?}; shift 2 ;;
    --bucket) bucket=${2:?}; shift 2 ;;
    --prefix) prefix=${2?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --abort-days) days=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "bucket-setup: unknown option '$1'" >&2; usage ;;
  esac
done
[ -n "$endpoint" ] && [ -n "$bucket" ] || usage
case "$days" in
  ''|*[!0-9]*|0) echo "bucket-setup: --abort-days '$days': 1 or more" >&2
                 exit 2 ;;
esac
: "${VSINK_S3_ACCESS_KEY_ID:?bucket-setup: set VSINK_S3_ACCESS_KEY_ID}"
: "${VSINK_S3_SECRET_ACCESS_KEY:?bucket-setup: set VSINK_S3_SECRET_ACCESS_KEY}"
prefix=${prefix#/}
prefix=${prefix%/}

# A private awscli set-up: no profile or credentials file of the caller's
# can change what is done; path-style addressing works with any endpoint.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[default]\nregion = %s\ns3 =\n  addressing_style = path\n' \
  "$region" >"$work/config"
export AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID="$VSINK_S3_ACCESS_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$VSINK_S3_SECRET_ACCESS_KEY"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
export AWS_DEFAULT_REGION="$region" AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
AWS=${AWS:-aws}
s3api() { "$AWS" --endpoint-url "$endpoint" --output json s3api "$@"; }

# 1. the bucket
if s3api head-bucket --bucket "$bucket" 2>"$work/err"; then
  echo "bucket $bucket: exists"
elif grep -q '(404)\|Not Found\|NoSuchBucket' "$work/err"; then
  if [ "$region" = us-east-1 ]; then
    s3api create-bucket --bucket "$bucket" >/dev/null
  else
    s3api create-bucket --bucket "$bucket" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
  echo "bucket $bucket: created"
else
  echo "bucket-setup: HEAD $bucket failed:" >&2
  cat "$work/err" >&2
  exit 1
fi

# 2. versioning
s3api put-bucket-versioning --bucket "$bucket" \
  --versioning-configuration Status=Enabled

# 3. the lifecycle rule, merged into whatever rules the bucket has. awscli
# 2.9 fails on an error without <Message> (Ceph RGW sends none for
# NoSuchLifecycleConfiguration) before naming it: its --debug log has the
# answer's body, so the code is looked for there (nothing of it is shown:
# it holds request signatures).
if s3api get-bucket-lifecycle-configuration --bucket "$bucket" --debug \
     >"$work/old.json" 2>"$work/err"; then
  :
elif grep -q 'NoSuchLifecycleConfiguration' "$work/err"; then
  echo '{"Rules": []}' >"$work/old.json"
else
  echo "bucket-setup: reading the lifecycle configuration failed:" >&2
  tail -n 1 "$work/err" >&2
  exit 1
fi
python3 - "$work/old.json" "$prefix" "$days" >"$work/new.json" <<'PY'
import json, sys
old, prefix, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
rules = json.load(open(old)).get("Rules", [])
rid = "vsink-abort-mpu" + ("-" + prefix.replace("/", "-") if prefix else "")
rule = {"ID": rid, "Status": "Enabled",
        "Filter": {"Prefix": prefix + "/" if prefix else ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}
rules = [r for r in rules if r.get("ID") != rid] + [rule]
json.dump({"Rules": rules}, sys.stdout)
PY
s3api put-bucket-lifecycle-configuration --bucket "$bucket" \
  --lifecycle-configuration "file://$work/new.json"

# 4. what the bucket has now
echo "versioning:"
s3api get-bucket-versioning --bucket "$bucket"
echo "lifecycle:"
s3api get-bucket-lifecycle-configuration --bucket "$bucket"
