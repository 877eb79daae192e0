"""Bucket operations with real clients: ListBuckets, HeadBucket,
CreateBucket, GetBucketLocation and GetBucketVersioning from boto3, the AWS
command line (s3 ls, s3 mb, s3api), rclone (lsd, and a default `rclone
copy`, which sends CreateBucket before its upload) and s3cmd ls; the error
rows (status, S3 code, nothing left behind); --allow-bucket-create: a
created bucket has its folder, is listed, takes objects, and is served
with the same creation date after a restart without the option; creation
dates of configured buckets are stable across restarts."""
import http.client
import os
import subprocess
import threading
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from vsharness import (Sink, check, boto3_client, KEY_ID, SECRET, tmpdir,
                       s3_error_code)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def err_code(exc):
    return exc.response["Error"]["Code"], \
        exc.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(fn, code, status, what):
    try:
        fn()
    except Exception as e:  # botocore.exceptions.ClientError
        got = err_code(e) if hasattr(e, "response") else (repr(e), None)
        check(got == (code, status), "%s: %s, want %s %s" % (what, got, code,
                                                             status))
        return
    fail_msg = "%s: succeeded, want %s" % (what, code)
    check(False, fail_msg)


def raw(sink, method, path, body=b"", headers=None, region="us-east-1"):
    """A request signed here with botocore's SigV4 (body hash signed)."""
    url = sink.endpoint + path
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers=dict(headers or {}))
    creds = botocore.credentials.Credentials(KEY_ID, SECRET)
    botocore.auth.S3SigV4Auth(creds, "s3", region).add_auth(req)
    return sink.request(method, url, body=body, headers=dict(req.headers))


def listed(s3):
    r = s3.list_buckets()
    return [(b["Name"], b["CreationDate"]) for b in r["Buckets"]], r["Owner"]


def bucket_dirs(sink):
    d = os.path.join(sink.data, "buckets")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def state_list(sink):
    p = os.path.join(sink.data, "state", "buckets")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [ln.split() for ln in f if not ln.startswith("#")]


home = tmpdir("buckets-home")
cenv = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
            HOME=home, AWS_CONFIG_FILE=os.path.join(home, "none"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"))
cenv.pop("AWS_CA_BUNDLE", None)
cenv.pop("AWS_PROFILE", None)


def run(cmd, ok=True, timeout=120):
    r = subprocess.run(cmd, capture_output=True, env=cenv, timeout=timeout)
    if ok:
        check(r.returncode == 0, "%s: exit %d\n%s\n%s" % (
            " ".join(cmd[:6]), r.returncode, r.stdout.decode()[-2000:],
            r.stderr.decode()[-2000:]))
    return r.returncode, r.stdout.decode(), r.stderr.decode()


# ---- a sink serving its configured buckets only ----------------------------
sink = Sink(args=["--bucket", "videos", "--bucket", "media"],
            tag="buckets").start()
s3 = boto3_client(sink)
ENDPOINT = sink.endpoint

before, owner = listed(s3)
check([n for n, _ in before] == ["media", "videos"],
      "list_buckets: %s" % before)
check(len(owner.get("ID", "")) == 64 and owner.get("DisplayName") == "vsink",
      "owner: %s" % owner)
check(all(d.year >= 2020 for _, d in before), "creation dates: %s" % before)
r = s3.head_bucket(Bucket="videos")
check(r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") ==
      "us-east-1", "head_bucket region: %s" % r["ResponseMetadata"])
expect_error(lambda: s3.head_bucket(Bucket="nope-bucket"), "404", 404,
             "head_bucket of an unknown bucket")

# CreateBucket of a served bucket: 200 as S3 answers its owner
for kw in ({}, {"CreateBucketConfiguration":
                {"LocationConstraint": "us-east-1"}}):
    r = s3.create_bucket(Bucket="videos", **kw)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 200 and
          r.get("Location") == "/videos", "create_bucket videos %s: %s" %
          (kw, r))
expect_error(lambda: s3.create_bucket(
    Bucket="videos",
    CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}),
    "IllegalLocationConstraintException", 400, "create_bucket eu-west-1")
# of another bucket: refused, and nothing made
files = sink.object_files()
expect_error(lambda: s3.create_bucket(Bucket="newbucket"), "AccessDenied",
             403, "create_bucket without --allow-bucket-create")
check("newbucket" not in bucket_dirs(sink) and
      [n for n, _ in listed(s3)[0]] == ["media", "videos"] and
      sink.object_files() == files, "a refused CreateBucket left something")
check(sorted(e[2] for e in state_list(sink)) == ["media", "videos"],
      "bucket list: %s" % state_list(sink))

r = s3.get_bucket_location(Bucket="videos")
check(r.get("LocationConstraint") is None, "location: %s" % r)
st, _, body = raw(sink, "GET", "/videos?location")
check(st == 200 and body.endswith(
    b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b'</LocationConstraint>'), "raw location: %s %s" % (st, body))
r = s3.get_bucket_versioning(Bucket="videos")
check(r.get("Status") == "Enabled", "versioning: %s" % r)
expect_error(lambda: s3.get_bucket_location(Bucket="nope-bucket"),
             "NoSuchBucket", 404, "location of an unknown bucket")
expect_error(lambda: s3.put_bucket_versioning(
    Bucket="videos", VersioningConfiguration={"Status": "Suspended"}),
    "NotImplemented", 501, "put_bucket_versioning")
print("buckets: boto3 rows ok")

# ---- error rows: status, code, nothing left ------------------------------------
CBC = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/'
       b'2006-03-01/"><LocationConstraint>%s</LocationConstraint>'
       b'</CreateBucketConfiguration>')
ROWS = [
    ("malformed XML", "PUT", "/videos", b"<CreateBucketConfiguration>", {},
     400, "MalformedXML"),
    ("another root element", "PUT", "/videos", b"<Foo/>", {}, 400,
     "MalformedXML"),
    ("a directory bucket's Location", "PUT", "/videos",
     b"<CreateBucketConfiguration><Location><Name>x</Name></Location>"
     b"</CreateBucketConfiguration>", {}, 501, "NotImplemented"),
    ("another region", "PUT", "/videos", CBC % b"ap-south-1", {}, 400,
     "IllegalLocationConstraintException"),
    ("a body over 64 KiB", "PUT", "/videos", b" " * (65 * 1024), {}, 400,
     "EntityTooLarge"),
    ("a bad Content-MD5", "PUT", "/videos", CBC % b"us-east-1",
     {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, 400, "BadDigest"),
    ("x-amz-acl public-read", "PUT", "/videos", b"",
     {"x-amz-acl": "public-read"}, 501, "NotImplemented"),
    ("Object Lock", "PUT", "/videos", b"",
     {"x-amz-bucket-object-lock-enabled": "true"}, 501, "NotImplemented"),
    ("an unknown bucket", "PUT", "/other-bucket", b"", {}, 403,
     "AccessDenied"),
    ("a bucket with a key", "PUT", "/videos/k?location", b"", {}, 501,
     "NotImplemented"),
    ("ListBuckets pagination", "GET", "/?max-buckets=1", b"", {}, 501,
     "NotImplemented"),
    ("location of an unknown bucket", "GET", "/other-bucket?location", b"",
     {}, 404, "NoSuchBucket"),
    ("versioning of an unknown bucket", "GET", "/other-bucket?versioning",
     b"", {}, 404, "NoSuchBucket"),
]
files, lst = sink.object_files(), state_list(sink)
for name, method, path, body, hdrs, status, code in ROWS:
    st, _, rb = raw(sink, method, path, body, hdrs)
    check((st, s3_error_code(rb)) == (status, code),
          "%s: %s %s, want %s %s" % (name, st, rb[:300], status, code))
    check(sink.object_files() == files and state_list(sink) == lst and
          bucket_dirs(sink) == [], "%s: something was left" % name)
# a body that is not the one signed
url = sink.endpoint + "/videos"
req = botocore.awsrequest.AWSRequest(method="PUT", url=url,
                                     data=CBC % b"us-east-1")
botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET),
                          "s3", "us-east-1").add_auth(req)
st, _, rb = sink.request("PUT", url, body=CBC % b"eu-west-1",
                         headers=dict(req.headers))
check((st, s3_error_code(rb)) == (400, "XAmzContentSHA256Mismatch"),
      "a body other than the one signed: %s %s" % (st, rb[:300]))
print("buckets: error rows ok (%d)" % (len(ROWS) + 1))

# ---- the AWS command line ----------------------------------------------------------
AWS = ["/usr/bin/aws", "--endpoint-url", ENDPOINT]
_, out, _ = run(AWS + ["s3", "ls"])
check([ln.split()[-1] for ln in out.splitlines()] == ["media", "videos"],
      "aws s3 ls: %s" % out)
run(AWS + ["s3", "mb", "s3://videos"])
rc, out, err = run(AWS + ["s3", "mb", "s3://cli-new"], ok=False)
check(rc != 0 and "AccessDenied" in err and
      "cli-new" not in bucket_dirs(sink), "aws s3 mb of another bucket: "
      "%d %s %s" % (rc, out, err))
_, out, _ = run(AWS + ["s3api", "get-bucket-versioning", "--bucket",
                       "videos"])
check('"Enabled"' in out, "s3api get-bucket-versioning: %s" % out)
_, out, _ = run(AWS + ["s3api", "get-bucket-location", "--bucket", "media"])
check('"LocationConstraint": null' in out, "s3api get-bucket-location: %s" %
      out)
_, out, _ = run(AWS + ["s3api", "list-buckets", "--query", "Buckets[].Name",
                       "--output", "text"])
check(out.split() == ["media", "videos"], "s3api list-buckets: %s" % out)
run(AWS + ["s3api", "head-bucket", "--bucket", "media"])
print("buckets: aws cli rows ok")

# ---- rclone: lsd, and a default copy (CreateBucket first) ---------------------------
cenv.update({"RCLONE_CONFIG_VS_TYPE": "s3", "RCLONE_CONFIG_VS_PROVIDER": "Other",
             "RCLONE_CONFIG_VS_ENDPOINT": ENDPOINT,
             "RCLONE_CONFIG_VS_ACCESS_KEY_ID": KEY_ID,
             "RCLONE_CONFIG_VS_SECRET_ACCESS_KEY": SECRET,
             "RCLONE_CONFIG_VS_REGION": "us-east-1",
             "RCLONE_CONFIG_VS_FORCE_PATH_STYLE": "true"})
RC = ["rclone", "--config", os.path.join(home, "rclone.conf")]
_, out, _ = run(RC + ["lsd", "vs:"])
check([ln.split()[-1] for ln in out.splitlines()] == ["media", "videos"],
      "rclone lsd: %s" % out)
src = os.path.join(home, "clip.mp4")
payload = os.urandom(3000)
with open(src, "wb") as f:
    f.write(payload)
n_log = len(sink.log_lines())
run(RC + ["copy", src, "vs:media/rc/"])
creates = [e for e in sink.log_lines()[n_log:] if e.get("method") == "PUT"
           and e.get("bucket") == "media" and "key" not in e]
check(creates and all(e["status"] == 200 for e in creates),
      "rclone copy sent no CreateBucket, or it failed: %s" %
      sink.log_lines()[n_log:])
got = s3.get_object(Bucket="media", Key="rc/clip.mp4")["Body"].read()
check(got == payload, "rclone copy: the object differs")
check([e for e in sink.manifest_events("stored")
       if e.get("key") == "rc/clip.mp4"], "rclone copy: no stored event")
print("buckets: rclone rows ok (%d CreateBucket)" % len(creates))

# ---- s3cmd ---------------------------------------------------------------------------
cfg = os.path.join(home, "s3cfg")
with open(cfg, "w") as f:
    f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
            "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
            "bucket_location = us-east-1\n" % (KEY_ID, SECRET, ENDPOINT[7:],
                                               ENDPOINT[7:]))
_, out, _ = run(["s3cmd", "-c", cfg, "ls"])
check([ln.split()[-1] for ln in out.splitlines()] ==
      ["s3://media", "s3://videos"], "s3cmd ls: %s" % out)
print("buckets: s3cmd rows ok")

# ---- restart: the same creation dates --------------------------------------------
check(sink.stop() == 0, "sink did not stop cleanly")
sink = Sink(data=sink.data, args=["--bucket", "videos", "--bucket", "media"],
            tag="buckets").start()
s3 = boto3_client(sink)
check(listed(s3)[0] == before, "dates after a restart: %s, were %s" %
      (listed(s3)[0], before))
check(sink.stop() == 0, "sink did not stop cleanly")
# served only while configured: media is not, and keeps its line (date)
sink = Sink(data=sink.data, args=["--bucket", "videos"], tag="buckets")
sink.start()
s3 = boto3_client(sink)
check(listed(s3)[0] == before[1:], "media no longer configured: %s" %
      listed(s3)[0])
expect_error(lambda: s3.head_bucket(Bucket="media"), "404", 404,
             "head_bucket of a bucket no longer configured")
check(sorted(e[2] for e in state_list(sink)) == ["media", "videos"],
      "bucket list after dropping media: %s" % state_list(sink))
sink.stop()
print("buckets: restart rows ok")

# ---- --allow-bucket-create -------------------------------------------------------
sink = Sink(args=["--allow-bucket-create", "--on-existing", "overwrite"],
            tag="buckets-create").start()
s3 = boto3_client(sink)
r = s3.create_bucket(Bucket="fresh-bucket")
check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "create: %s" % r)
check("fresh-bucket" in bucket_dirs(sink), "no folder: %s" %
      bucket_dirs(sink))
s3.create_bucket(Bucket="fresh-bucket")  # again: 200, as S3 answers its owner
s3.create_bucket(Bucket="with-config", CreateBucketConfiguration={
    "LocationConstraint": "us-east-1"})
s3.put_object(Bucket="fresh-bucket", Key="a.mp4", Body=b"fresh")
check(s3.get_object(Bucket="fresh-bucket", Key="a.mp4")["Body"].read() ==
      b"fresh", "an object in a created bucket")
check("Status" not in s3.get_bucket_versioning(Bucket="fresh-bucket"),
      "versioning under --on-existing overwrite")
files, dirs = sink.object_files(), bucket_dirs(sink)
for bad, code in (("Bad_Name", "InvalidBucketName"),
                  ("ab", "InvalidBucketName"),
                  ("192.168.1.1", "InvalidBucketName"),
                  ("xn--abc", "InvalidBucketName")):
    expect_error(lambda: s3.create_bucket(Bucket=bad), code, 400,
                 "create_bucket %s" % bad)
expect_error(lambda: s3.create_bucket(
    Bucket="elsewhere", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"}),
    "IllegalLocationConstraintException", 400, "create elsewhere")
check(sink.object_files() == files and bucket_dirs(sink) == dirs,
      "refused creations left something: %s" % bucket_dirs(sink))
_, out, _ = run(["/usr/bin/aws", "--endpoint-url", sink.endpoint, "s3", "mb",
                 "s3://cli-made"])
check("make_bucket: cli-made" in out, "aws s3 mb: %s" % out)
# creations at once: each one kept (the list is written whole each time)
names = ["par-%02d" % i for i in range(8)]
errors = []


def create(name):
    try:
        boto3_client(sink).create_bucket(Bucket=name)
    except Exception as e:
        errors.append((name, e))


threads = [threading.Thread(target=create, args=(n,)) for n in names]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
check(not errors, "parallel creations: %s" % errors)
created, _ = listed(s3)
want = sorted(["cli-made", "fresh-bucket", "videos", "with-config"] + names)
check([n for n, _ in created] == want, "list_buckets: %s" % created)
check(sorted(e[2] for e in state_list(sink)) == want and
      all(e[1] == ("configured" if e[2] == "videos" else "created")
          for e in state_list(sink)), "bucket list: %s" % state_list(sink))
check(sink.stop() == 0, "sink did not stop cleanly")
# after a restart without the option: still served, same dates; no others
sink = Sink(data=sink.data, tag="buckets-create").start()
s3 = boto3_client(sink)
check(listed(s3)[0] == created, "after a restart: %s, were %s" %
      (listed(s3)[0], created))
check(s3.get_object(Bucket="fresh-bucket", Key="a.mp4")["Body"].read() ==
      b"fresh", "the object after a restart")
s3.create_bucket(Bucket="fresh-bucket")
expect_error(lambda: s3.create_bucket(Bucket="another-one"), "AccessDenied",
             403, "create without the option after a restart")
sink.stop()
print("buckets: --allow-bucket-create rows ok")

# ---- a sink in another region ------------------------------------------------------
sink = Sink(args=["--region", "eu-west-1"], tag="buckets-eu").start()
s3 = boto3_client(sink, region="eu-west-1")
check(s3.get_bucket_location(Bucket="videos")["LocationConstraint"] ==
      "eu-west-1", "location in eu-west-1")
s3.create_bucket(Bucket="videos", CreateBucketConfiguration={
    "LocationConstraint": "eu-west-1"})
st, _, rb = raw(sink, "PUT", "/videos", CBC % b"us-east-1",
                region="eu-west-1")
check((st, s3_error_code(rb)) == (400, "IllegalLocationConstraintException"),
      "us-east-1 on an eu-west-1 sink: %s %s" % (st, rb[:200]))
sink.stop()
print("buckets: region rows ok")
print("test_sink_buckets: ok")
