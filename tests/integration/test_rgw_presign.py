"""vsink's SigV4 and S3 client against a real S3 server (Ceph RGW, which
checks signatures for real):
- `vsink presign` PUT URLs that curl -T uploads into RGW, for keys with
  spaces, unicode and reserved characters, read back identical by boto3;
- the same URL with one character of the signature, the key or the expiry
  changed, used with another method, expired, or signed with a wrong secret
  or an unknown key id: refused by RGW with 403, nothing stored;
- vs_s3_head (through the test driver vsink-s3head) against boto3's
  head_object: size, ETag, content type, Last-Modified, version id; a missing
  key or bucket, a wrong secret, a skewed clock, a dead or silent server and
  bad input, each with its precise error;
- vs_s3_presign_put: the same URL as `vsink presign`, accepted by RGW."""
import calendar
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from rgw import start_or_skip

VSINK = os.environ["VSINK"]
S3HEAD = os.environ["VSINK_S3HEAD"]
VS_ERR = {"invalid": 1, "notfound": 2, "toolarge": 7, "auth": 9, "net": 11}


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


rgw = start_or_skip("presign", 1024)
s3 = rgw.client()
BUCKET = rgw.create_bucket("vsink-presign")
work = tempfile.mkdtemp(prefix="vsink-it-rgw-")


def keys_env(key_id=None, secret=None):
    env = dict(os.environ)
    env["VSINK_ACCESS_KEY_ID"] = key_id or rgw.access_key
    env["VSINK_SECRET_ACCESS_KEY"] = secret or rgw.secret
    return env


def amz_date(unix_s):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(unix_s))


def presign(key, method="PUT", expires=3600, date=None, env=None,
            bucket=BUCKET):
    cmd = [VSINK, "presign", "--endpoint", rgw.endpoint, "--region",
           "us-east-1", "--method", method, "--expires", str(expires)]
    if date is not None:
        cmd += ["--date", amz_date(date)]
    out = subprocess.run(cmd + ["%s/%s" % (bucket, key)],
                         env=env or keys_env(), capture_output=True,
                         timeout=30)
    check(out.returncode == 0, "vsink presign failed: %s" % out.stderr)
    return out.stdout.decode().strip()


def curl(url, method="PUT", upload=None):
    """Sends url with curl; returns (status, body)."""
    cmd = ["curl", "-sS", "-g", "--max-time", "30", "-o", "-", "-w",
           "\n%{http_code}", "-X", method]
    if upload:
        cmd += ["-T", upload]
    r = subprocess.run(cmd + [url], capture_output=True, timeout=60)
    check(r.returncode == 0, "curl failed: %s" % r.stderr)
    body, _, status = r.stdout.rpartition(b"\n")
    return int(status), body


def s3_code(body):
    import xml.etree.ElementTree as ET
    try:
        return ET.fromstring(body).findtext("Code")
    except ET.ParseError:
        return None


def exists(key, bucket=BUCKET):
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except s3.exceptions.ClientError as e:
        check(e.response["Error"]["Code"] in ("404", "NoSuchKey"),
              "head_object %r: %s" % (key, e))
        return False


def write_file(name, data):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def refused(url, method, upload, want_code, what):
    status, body = curl(url, method, upload)
    check(status == 403, "%s: want 403, got %d %s" % (what, status, body))
    check(s3_code(body) == want_code,
          "%s: want %s, got %s" % (what, want_code, body))


# ---- presigned PUT with curl -T, read back with boto3 ----------------------
KEYS = ["clip.mp4",
        "out/2026/11/24/6f1c2a3b 0d4e.mp4",
        "ünïcödé/ビデオ 01.webm",
        "plus+sign/a+b=c&d;e,f.mp4",
        "odd/(paren)!*'~@$ #%.mov"]
for i, key in enumerate(KEYS):
    data = hashlib.sha256(key.encode()).digest() * (1000 + i * 37)
    src = write_file("up%d.bin" % i, data)
    url = presign(key)
    status, body = curl(url, "PUT", src)
    check(status == 200, "PUT %r: %d %s" % (key, status, body))
    got = s3.get_object(Bucket=BUCKET, Key=key)
    check(got["Body"].read() == data, "object %r reads back different" % key)
    check(got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(),
          "ETag of %r: %s" % (key, got["ETag"]))
listed = sorted(o["Key"] for o in
                s3.list_objects_v2(Bucket=BUCKET)["Contents"])
check(listed == sorted(KEYS), "bucket holds %s, want %s" % (listed, KEYS))
print("presigned PUT: %d keys stored and read back" % len(KEYS))

# ---- tampered, misused, expired and wrongly signed URLs --------------------
src = write_file("t.bin", b"must never be stored")
key = "tamper/target.mp4"
url = presign(key)
u = urllib.parse.urlsplit(url)
sig_at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
flip = "0" if url[sig_at] != "0" else "1"
refused(url[:sig_at] + flip + url[sig_at + 1:], "PUT", src,
        "SignatureDoesNotMatch", "signature changed")
refused(url.replace("target.mp4", "targeT.mp4"), "PUT", src,
        "SignatureDoesNotMatch", "key changed")
check(not exists("tamper/targeT.mp4"), "tampered key was stored")
refused(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601"), "PUT", src,
        "SignatureDoesNotMatch", "expiry changed")
refused(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=36000"), "PUT", src,
        "SignatureDoesNotMatch", "expiry lengthened")
refused(url, "POST", src, "SignatureDoesNotMatch", "method changed")
refused(url.replace("/" + BUCKET + "/", "/other-bucket/"), "PUT", src,
        "SignatureDoesNotMatch", "bucket changed")

now = int(time.time())
old = presign(key, expires=60, date=now - 7200)
refused(old, "PUT", src, "AccessDenied", "expired URL")
bad_secret = presign(key, env=keys_env(secret=rgw.secret[:-1] + "X"))
refused(bad_secret, "PUT", src, "SignatureDoesNotMatch", "wrong secret")
bad_id = presign(key, env=keys_env(key_id="VSINKNOSUCHKEY000001"))
refused(bad_id, "PUT", src, "InvalidAccessKeyId", "unknown key id")
check(not exists(key), "a refused PUT stored %r" % key)
status, _ = curl(url, "PUT", src)
check(status == 200, "the untampered URL was refused: %d" % status)
print("tampered, expired and wrongly signed URLs: refused with 403")


# ---- vs_s3_head through vsink-s3head ---------------------------------------
def s3head(bucket, key, *opts, env=None, timeout=60):
    r = subprocess.run([S3HEAD, "--endpoint", opts_endpoint(opts),
                        "--region", "us-east-1"] + strip_endpoint(opts) +
                       [bucket, key], env=env or keys_env(),
                       capture_output=True, timeout=timeout)
    fields = dict(line.split("=", 1) for line in
                  r.stdout.decode().splitlines() if "=" in line)
    return r.returncode, fields, r.stderr.decode()


def opts_endpoint(opts):
    return opts[opts.index("--endpoint") + 1] if "--endpoint" in opts \
        else rgw.endpoint


def strip_endpoint(opts):
    opts = list(opts)
    if "--endpoint" in opts:
        i = opts.index("--endpoint")
        del opts[i:i + 2]
    return opts


def head_matches(bucket, key):
    rc, f, err = s3head(bucket, key)
    check(rc == 0, "vs_s3_head %r failed (%d): %s" % (key, rc, err))
    h = s3.head_object(Bucket=bucket, Key=key)
    check(int(f["bytes"]) == h["ContentLength"],
          "bytes %s != %s" % (f["bytes"], h["ContentLength"]))
    check(f["etag"] == h["ETag"].strip('"'),
          "etag %s != %s" % (f["etag"], h["ETag"]))
    check(f["content_type"] == h["ContentType"],
          "content type %r != %r" % (f["content_type"], h["ContentType"]))
    mtime = calendar.timegm(h["LastModified"].utctimetuple()) * 1000
    check(int(f["mtime_ms"]) == mtime, "mtime %s != %d" % (f["mtime_ms"],
                                                            mtime))
    check(f["version_id"] == h.get("VersionId", "null"),
          "version %s != %s" % (f["version_id"], h.get("VersionId")))
    return f


for key in KEYS:
    head_matches(BUCKET, key)
s3.put_object(Bucket=BUCKET, Key="typed/clip one.mp4", Body=b"x" * 12345,
              ContentType="video/mp4")
f = head_matches(BUCKET, "typed/clip one.mp4")
check(f["bytes"] == "12345" and f["content_type"] == "video/mp4",
      "typed object: %s" % f)
s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
check(head_matches(BUCKET, "empty")["bytes"] == "0", "empty object size")

versioned = rgw.versioned_bucket("vsink-versioned")
v1 = s3.put_object(Bucket=versioned, Key="v.mp4", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket=versioned, Key="v.mp4", Body=b"two!")["VersionId"]
f = head_matches(versioned, "v.mp4")
check(f["version_id"] == v2 and v1 != v2 and f["bytes"] == "4",
      "versioned HEAD: %s (v1 %s, v2 %s)" % (f, v1, v2))
print("vs_s3_head agrees with boto3 head_object")


def head_fails(bucket, key, want_rc, want_text, *opts, env=None):
    t = time.monotonic()
    rc, f, err = s3head(bucket, key, *opts, env=env)
    check(rc == want_rc, "HEAD %s/%s %s: want exit %d, got %d (%s)" %
          (bucket, key, opts, want_rc, rc, err))
    check(want_text in err, "HEAD %s/%s: %r not in %r" %
          (bucket, key, want_text, err))
    check(not f, "a failed HEAD printed fields: %s" % f)
    return time.monotonic() - t


head_fails(BUCKET, "no/such key.mp4", VS_ERR["notfound"],
           "HTTP 404 NoSuchKey")
head_fails("vsink-no-such-bucket", "k", VS_ERR["notfound"],
           "HTTP 404 NoSuchBucket")
head_fails(BUCKET, KEYS[0], VS_ERR["auth"], "HTTP 403 SignatureDoesNotMatch",
           env=keys_env(secret="wrong" + rgw.secret))
head_fails(BUCKET, KEYS[0], VS_ERR["auth"], "HTTP 403 InvalidAccessKeyId",
           env=keys_env(key_id="VSINKNOSUCHKEY000001"))
head_fails(BUCKET, KEYS[0], VS_ERR["auth"], "HTTP 403 RequestTimeTooSkewed",
           "--skew", "3600")
rc, f, err = s3head(BUCKET, KEYS[0], "--skew", "60")
check(rc == 0, "a 60 s clock skew must still work: %s" % err)

# transport errors: nobody listening; a server that never answers
dead = socket.socket()
dead.bind(("127.0.0.1", 0))
dead_port = dead.getsockname()[1]
dead.close()
head_fails(BUCKET, "k", VS_ERR["net"], "HEAD vsink-presign/k:",
           "--endpoint", "http://127.0.0.1:%d" % dead_port)
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)
took = head_fails(BUCKET, "k", VS_ERR["net"], "timed out", "--endpoint",
                  "http://127.0.0.1:%d" % silent.getsockname()[1],
                  "--timeout-ms", "700")
silent.close()
check(took < 5, "the 700 ms timeout took %.1f s" % took)

# bad input never reaches the network
head_fails("AB", "k", VS_ERR["invalid"], "bucket")
# (keys with empty, "." or ".." segments are S3 keys: issue 11; only what
# no key may be is refused before a request)
head_fails(BUCKET, "k" * 1025, VS_ERR["toolarge"], "the limit is 1024")
head_fails(BUCKET, "k\udcff", VS_ERR["invalid"], "not valid UTF-8")
head_fails(BUCKET, "k", VS_ERR["invalid"], "http:// or https://",
           "--endpoint", "ftp://127.0.0.1:1")
head_fails(BUCKET, "k", VS_ERR["invalid"], "no path",
           "--endpoint", rgw.endpoint + "/base")
print("vs_s3_head errors: not found, auth, network, bad input")

# ---- vs_s3_presign_put: vsink presign's URL, accepted by RGW ---------------
key = "presign-put/ünï code+1.mp4"
date = int(time.time()) - 5
r = subprocess.run([S3HEAD, "--endpoint", rgw.endpoint + "/", "--region",
                    "us-east-1", "--presign-put", "--date", str(date),
                    "--expires", "900", BUCKET, key], env=keys_env(),
                   capture_output=True, timeout=30)
check(r.returncode == 0, "vs_s3_presign_put failed: %s" % r.stderr)
url = r.stdout.decode().strip()
check(url == presign(key, expires=900, date=date),
      "vs_s3_presign_put and vsink presign differ:\n%s" % url)
data = b"presigned by vs_s3_presign_put" * 100
status, body = curl(url, "PUT", write_file("pp.bin", data))
check(status == 200, "PUT to vs_s3_presign_put's URL: %d %s" % (status, body))
check(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data,
      "vs_s3_presign_put object reads back different")
r = subprocess.run([S3HEAD, "--endpoint", rgw.endpoint, "--presign-put",
                    "--expires", "604801", BUCKET, key], env=keys_env(),
                   capture_output=True, timeout=30)
check(r.returncode == VS_ERR["invalid"] and b"expires" in r.stderr,
      "expires over 7 days: %d %s" % (r.returncode, r.stderr))
print("vs_s3_presign_put: same URL as vsink presign, accepted by RGW")

t = time.monotonic()
rgw.stop()
print("RGW stopped in %.1f s" % (time.monotonic() - t))
print("PASS")
