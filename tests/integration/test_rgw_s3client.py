"""The S3 client's store calls (include/vsink/s3.h) against a real S3 server
(Ceph RGW), through the test driver vsink-s3tool, each checked against what
boto3 reads back:
- PutObject from a file and from memory: bytes, ETag (the MD5), content
  type, kept headers (x-amz-meta-*, Cache-Control, ...) stored and read
  back by HEAD; If-None-Match: * on an existing key is refused (VS_ERR_EXISTS, the
  object unchanged) and accepted on a new one; a wrong secret is VS_ERR_AUTH;
- multipart: 3 parts (5, 5 and 3 MiB) from one temporary file, completed
  from our own list of ETags, then HEAD: size and the "-3" ETag of the MD5s;
  a Complete naming an ETag the store does not have fails (InvalidPart) and
  leaves no object; an upload is listed by ListMultipartUploads with its
  time, then aborted and gone from the list; aborting again is NoSuchUpload;
- GetObject: whole, ranged across a part boundary, open-ended, past the end
  (416), a missing key (NoSuchKey), all byte-for-byte;
- constant memory: 48 MiB up in 8 MiB parts and down again by processes
  whose peak RSS stays under 24 MiB;
- a versioned bucket: two PUTs give two version ids, each readable by id;
  a DELETE makes a delete marker (its id returned), HEAD then fails with
  NoSuchKey, ListObjectVersions shows both versions and the marker, a
  version-specific DELETE of the marker brings the key back;
- ListObjectsV2 with prefix, delimiter and pages of 2 followed by the
  continuation token, keys with control bytes, '+', '%', spaces and
  markup (encoding-type=url); ListObjectVersions paged by its markers;
- GetBucketVersioning: never, enabled, suspended."""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

from rgw import start_or_skip

S3TOOL = os.environ["VSINK_S3TOOL"]
VS_ERR = {"invalid": 1, "notfound": 2, "exists": 3, "auth": 9, "net": 11}
MiB = 1024 * 1024


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


rgw = start_or_skip("s3client", 1024)
s3 = rgw.client()
PLAIN = rgw.create_bucket("vsink-s3c")
VERS = rgw.create_bucket("vsink-s3v")
work = tempfile.mkdtemp(prefix="vsink-it-s3c-")


def tool(*args, secret=None, want=0):
    """Runs vsink-s3tool; returns (fields, lines, stderr)."""
    env = dict(os.environ)
    env["VSINK_ACCESS_KEY_ID"] = rgw.access_key
    env["VSINK_SECRET_ACCESS_KEY"] = secret or rgw.secret
    cmd = [S3TOOL, "--endpoint", rgw.endpoint, "--timeout-ms", "60000"]
    r = subprocess.run(cmd + [str(a) for a in args], env=env,
                       capture_output=True, timeout=120)
    out, err = r.stdout.decode(), r.stderr.decode()
    check(r.returncode == want, "%s: want exit %d, got %d: %s" %
          (" ".join(map(str, args)), want, r.returncode, err))
    fields, lines = {}, []
    for line in out.splitlines():
        if "\t" in line:
            lines.append(line.split("\t"))
        elif "=" in line:
            k, _, v = line.partition("=")
            fields[k] = v
    return fields, lines, err


def write_file(name, data):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def body_of(bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def absent(bucket, key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except s3.exceptions.ClientError as e:
        return e.response["Error"]["Code"] in ("404", "NoSuchKey")


# ---- GetBucketVersioning: never, enabled, suspended --------------------------
f, _, _ = tool("versioning", PLAIN)
check(f["status"] == "never", "fresh bucket: %s" % f)
s3.put_bucket_versioning(Bucket=VERS,
                         VersioningConfiguration={"Status": "Enabled"})
f, _, _ = tool("versioning", VERS)
check(f["status"] == "enabled", "enabled bucket: %s" % f)
SUSP = rgw.create_bucket("vsink-s3s")
s3.put_bucket_versioning(Bucket=SUSP,
                         VersioningConfiguration={"Status": "Enabled"})
s3.put_bucket_versioning(Bucket=SUSP,
                         VersioningConfiguration={"Status": "Suspended"})
f, _, _ = tool("versioning", SUSP)
check(f["status"] == "suspended", "suspended bucket: %s" % f)
_, _, err = tool("versioning", "vsink-nosuchbucket", want=VS_ERR["notfound"])
check("NoSuchBucket" in err, "missing bucket: %s" % err)
print("ok: GetBucketVersioning never / enabled / suspended / NoSuchBucket")

# ---- PutObject, If-None-Match -------------------------------------------------
data = os.urandom(300 * 1024) + b"end"
src = write_file("small.bin", data)
f, _, _ = tool("put", PLAIN, "dir/small.bin", src, "--type", "video/mp4")
check(f["etag"] == hashlib.md5(data).hexdigest(), "put etag: %s" % f)
check(f["version_id"] == "", "unversioned bucket gave a version: %s" % f)
check(body_of(PLAIN, "dir/small.bin") == data, "put: bytes differ")
h = s3.head_object(Bucket=PLAIN, Key="dir/small.bin")
check(h["ContentType"] == "video/mp4", "content type: %s" % h["ContentType"])
memdata = b"from memory \x00\xff" * 1000
f, _, _ = tool("put", PLAIN, "a b/\u00e9t\u00e9+~.txt",
               write_file("mem.bin", memdata), "--mem")
check(f["etag"] == hashlib.md5(memdata).hexdigest(), "mem put: %s" % f)
check(body_of(PLAIN, "a b/\u00e9t\u00e9+~.txt") == memdata,
      "mem put: bytes differ")
empty = write_file("empty.bin", b"")
f, _, _ = tool("put", PLAIN, "empty", empty)
check(f["etag"] == hashlib.md5(b"").hexdigest(), "empty put: %s" % f)
check(body_of(PLAIN, "empty") == b"", "empty put: bytes")

f, _, _ = tool("put", PLAIN, "meta.bin", src, "--header",
               "x-amz-meta-task:task-1", "--header", "X-Amz-Meta-Seed: 42",
               "--header", "cache-control:max-age=60", "--header",
               "content-disposition:attachment; filename=\"a b.mp4\"")
h = s3.head_object(Bucket=PLAIN, Key="meta.bin")
check(h["Metadata"] == {"task": "task-1", "seed": "42"} and
      h["CacheControl"] == "max-age=60" and
      h["ContentDisposition"] == 'attachment; filename="a b.mp4"',
      "kept headers stored: %s" % h)
_, hl, _ = tool("head", PLAIN, "meta.bin")
got = sorted(x[1] for x in hl if x[0] == "header")
check(got == sorted(["x-amz-meta-task:task-1", "x-amz-meta-seed:42",
                     "cache-control:max-age=60",
                     'content-disposition:attachment; filename="a b.mp4"']),
      "kept headers read back: %s" % hl)
other = write_file("other.bin", b"must not replace")
_, _, err = tool("put", PLAIN, "dir/small.bin", other, "--if-none-match",
                 want=VS_ERR["exists"])
check("412" in err, "If-None-Match on an existing key: %s" % err)
check(body_of(PLAIN, "dir/small.bin") == data, "If-None-Match replaced it")
f, _, _ = tool("put", PLAIN, "fresh", other, "--if-none-match")
check(body_of(PLAIN, "fresh") == b"must not replace", "If-None-Match new key")
_, _, err = tool("put", PLAIN, "denied", other, secret="wrong" * 8,
                 want=VS_ERR["auth"])
check("403 SignatureDoesNotMatch" in err, "wrong secret: %s" % err)
check(absent(PLAIN, "denied"), "a refused PUT stored something")
print("ok: PutObject (file, memory, empty, kept headers), If-None-Match 412, "
      "403")

# ---- multipart ----------------------------------------------------------------
big = os.urandom(13 * MiB)
bigf = write_file("big.bin", big)
f, _, _ = tool("mpu", PLAIN, "mpu/big.bin", bigf, 5 * MiB, "--type",
               "video/mp4", "--header", "x-amz-meta-task:t-mpu")
check(f["parts"] == "3", "parts: %s" % f)
md5s = b"".join(hashlib.md5(big[i:i + 5 * MiB]).digest()
                for i in range(0, len(big), 5 * MiB))
want_etag = hashlib.md5(md5s).hexdigest() + "-3"
check(f["etag"] == want_etag, "complete etag %s, want %s" %
      (f["etag"], want_etag))
h, _, _ = tool("head", PLAIN, "mpu/big.bin")
check(h["bytes"] == str(len(big)) and h["etag"] == want_etag and
      h["content_type"] == "video/mp4", "HEAD after complete: %s" % h)
h = s3.head_object(Bucket=PLAIN, Key="mpu/big.bin")
check(h["Metadata"] == {"task": "t-mpu"}, "multipart metadata: %s" % h)
check(hashlib.sha256(body_of(PLAIN, "mpu/big.bin")).digest() ==
      hashlib.sha256(big).digest(), "multipart bytes differ")
print("ok: multipart 3 parts from one file, HEAD size and ETag")

# step by step: a wrong ETag in Complete, then listing and abort
f, _, _ = tool("mpu-create", PLAIN, "mpu/steps.bin")
uid = f["upload_id"]
t0 = time.time()
e1 = tool("mpu-part", PLAIN, "mpu/steps.bin", uid, 1, bigf, 0, 5 * MiB)[0]
e2 = tool("mpu-part", PLAIN, "mpu/steps.bin", uid, 2, bigf, 5 * MiB, 1000)[0]
check(e1["etag"] == hashlib.md5(big[:5 * MiB]).hexdigest(), "part 1: %s" % e1)
_, _, err = tool("mpu-complete", PLAIN, "mpu/steps.bin", uid,
                 "1:" + e1["etag"], "2:" + "0" * 32, want=VS_ERR["invalid"])
check("InvalidPart" in err, "complete with a wrong ETag: %s" % err)
check(absent(PLAIN, "mpu/steps.bin"), "a failed Complete left an object")
_, _, err = tool("mpu-complete", PLAIN, "mpu/steps.bin", uid,
                 "2:" + e2["etag"], "1:" + e1["etag"], want=VS_ERR["invalid"])
check("out of order" in err, "parts out of order: %s" % err)
_, parts, _ = tool("mpu-parts", PLAIN, "mpu/steps.bin", uid)
check([p[1:] for p in parts] == [["1", str(5 * MiB), e1["etag"]],
                                 ["2", "1000", e2["etag"]]],
      "ListParts: %s" % parts)
_, _, err = tool("mpu-parts", PLAIN, "mpu/steps.bin", "no-such-upload",
                 want=VS_ERR["notfound"])
# AWS: NoSuchUpload; Ceph RGW answers NoSuchKey: either way not found
check("NoSuchUpload" in err or "NoSuchKey" in err,
      "ListParts of no upload: %s" % err)
_, ups, _ = tool("mpu-list", PLAIN, "--prefix", "mpu/")
check([u[1:3] for u in ups] == [["mpu/steps.bin", uid]],
      "ListMultipartUploads: %s" % ups)
check(abs(int(ups[0][3]) / 1000 - t0) < 120, "initiated: %s" % ups)
f2, _, _ = tool("mpu-create", PLAIN, "mpu/other.bin")
_, ups, _ = tool("mpu-list", PLAIN)
check(sorted(u[2] for u in ups) == sorted([uid, f2["upload_id"]]),
      "two uploads listed: %s" % ups)
tool("mpu-abort", PLAIN, "mpu/steps.bin", uid)
tool("mpu-abort", PLAIN, "mpu/other.bin", f2["upload_id"])
_, ups, _ = tool("mpu-list", PLAIN)
check(ups == [], "uploads left after abort: %s" % ups)
check(s3.list_multipart_uploads(Bucket=PLAIN).get("Uploads", []) == [],
      "boto3 still lists uploads")
_, _, err = tool("mpu-abort", PLAIN, "mpu/steps.bin", uid,
                 want=VS_ERR["notfound"])
check("NoSuchUpload" in err, "abort twice: %s" % err)
_, _, err = tool("mpu-part", PLAIN, "mpu/steps.bin", uid, 3, bigf, 0, 10,
                 want=VS_ERR["notfound"])
check("NoSuchUpload" in err, "part of an aborted upload: %s" % err)
check(absent(PLAIN, "mpu/steps.bin"), "an aborted upload left an object")
print("ok: Complete with a wrong ETag (InvalidPart), ListMultipartUploads, "
      "abort, NoSuchUpload")

# ---- GetObject ----------------------------------------------------------------
out = os.path.join(work, "out.bin")
f, _, _ = tool("get", PLAIN, "mpu/big.bin", out)
check(read_file(out) == big and f["bytes"] == str(len(big)), "whole get")
first, last = 5 * MiB - 1000, 5 * MiB + 99
f, _, _ = tool("get", PLAIN, "mpu/big.bin", out, "--range",
               "%d-%d" % (first, last))
check(read_file(out) == big[first:last + 1], "ranged get across parts")
check(f["bytes"] == str(last - first + 1), "ranged length: %s" % f)
tool("get", PLAIN, "mpu/big.bin", out, "--range", "%d-" % (len(big) - 7))
check(read_file(out) == big[-7:], "open-ended range")
tool("get", PLAIN, "dir/small.bin", out, "--range", "0-0")
check(read_file(out) == data[:1], "one-byte range")
_, _, err = tool("get", PLAIN, "dir/small.bin", out, "--range",
                 "%d-" % (len(data) + 10), want=VS_ERR["invalid"])
check("416" in err and "InvalidRange" in err, "range past the end: %s" % err)
_, _, err = tool("get", PLAIN, "nope", out, want=VS_ERR["notfound"])
check("404 NoSuchKey" in err, "missing key: %s" % err)
print("ok: GetObject whole, ranged, open-ended, 416, NoSuchKey")

# constant memory: a 48 MiB object up in 8 MiB parts and down again, each
# by a process whose peak RSS stays far below the object's size
def peak_rss_mib(*args):
    f, _, _ = tool(*args)
    return int(f["peak_rss_kib"]) / 1024.0


huge = os.urandom(48 * MiB)
hugef = write_file("huge.bin", huge)
up = peak_rss_mib("mpu", PLAIN, "huge.bin", hugef, 8 * MiB)
down = peak_rss_mib("get", PLAIN, "huge.bin", out)
check(read_file(out) == huge, "48 MiB round trip differs")
check(up < 24 and down < 24, "peak RSS: upload %.1f MiB, download %.1f MiB"
      % (up, down))
s3.delete_object(Bucket=PLAIN, Key="huge.bin")
del huge
print("ok: 48 MiB up (6 parts) and down with peak RSS %.1f / %.1f MiB" %
      (up, down))

# ---- a versioned bucket: versions and delete markers -------------------------
v1d, v2d = b"version one" * 100, b"version two" * 200
v1 = tool("put", VERS, "clip.mp4", write_file("v1", v1d))[0]["version_id"]
v2 = tool("put", VERS, "clip.mp4", write_file("v2", v2d))[0]["version_id"]
check(v1 and v2 and v1 != v2, "two versions: %r %r" % (v1, v2))
tool("get", VERS, "clip.mp4", out, "--version", v1)
check(read_file(out) == v1d, "get version 1")
tool("get", VERS, "clip.mp4", out)
check(read_file(out) == v2d, "get current")
h, _, _ = tool("head", VERS, "clip.mp4", "--version", v1)
check(h["version_id"] == v1 and h["bytes"] == str(len(v1d)),
      "head version 1: %s" % h)
d, _, _ = tool("delete", VERS, "clip.mp4")
check(d["delete_marker"] == "1" and d["version_id"] not in ("", v1, v2),
      "delete made no marker: %s" % d)
marker = d["version_id"]
# (AWS adds x-amz-delete-marker: true to these 404s, RGW does not: the
# listing below is what tells a marker from a missing key)
_, _, err = tool("head", VERS, "clip.mp4", want=VS_ERR["notfound"])
check("404 NoSuchKey" in err, "head after delete: %s" % err)
_, _, err = tool("head", VERS, "clip.mp4", "--version", marker,
                 want=VS_ERR["notfound"])
check("NoSuchKey" in err, "head of the marker's version: %s" % err)
_, ents, _ = tool("versions", VERS, "--prefix", "clip")
got = [(e[4], e[5], e[6]) for e in ents if e[0] == "entry"]
check(sorted(got) == sorted([(marker, "1", "1"), (v2, "0", "0"),
                             (v1, "0", "0")]),
      "versions after delete: %s" % ents)
for e in ents:
    if e[4] != marker:
        check(int(e[2]) in (len(v1d), len(v2d)) and len(e[3]) == 32 and
              int(e[7]) > 0, "version entry: %s" % e)
_, ents, _ = tool("list", VERS)
check(all(e[1] != "clip.mp4" for e in ents), "deleted key listed: %s" % ents)
d, _, _ = tool("delete", VERS, "clip.mp4", "--version", marker)
check(d["delete_marker"] == "1" and d["version_id"] == marker,
      "removing the marker: %s" % d)
tool("get", VERS, "clip.mp4", out)
check(read_file(out) == v2d, "the key came back after the marker went")
d, _, _ = tool("delete", VERS, "clip.mp4", "--version", v1)
check(d["delete_marker"] == "0" and d["version_id"] == v1, "purge: %s" % d)
_, _, err = tool("get", VERS, "clip.mp4", out, "--version", v1,
                 want=VS_ERR["notfound"])
check("NoSuch" in err, "purged version: %s" % err)
print("ok: versions, delete marker, HEAD of a deleted key, version delete")

# ---- listings -------------------------------------------------------------------
AWKWARD = ["l/e &<>\"'.mp4", "l/f+g h%2B\u00e9", "l/ctl\x01\x1f\x7f"]
for k in ["l/a/1", "l/a/2", "l/b/1", "l/c", "l/d"] + AWKWARD:
    s3.put_object(Bucket=PLAIN, Key=k, Body=k.encode())
f, ents, _ = tool("list", PLAIN, "--prefix", "l/", "--delimiter", "/")
check(sorted(e[1] for e in ents if e[0] == "entry") ==
      sorted(["l/c", "l/d"] + AWKWARD), "entries: %s" % ents)
check(sorted(e[1] for e in ents if e[0] == "prefix") == ["l/a/", "l/b/"],
      "common prefixes: %s" % ents)
check(f["truncated"] == "0", "not truncated: %s" % f)
e = [e for e in ents if e[1] == "l/c"][0]
check(e[2] == "3" and e[3] == hashlib.md5(b"l/c").hexdigest() and
      abs(int(e[7]) / 1000 - time.time()) < 300, "entry fields: %s" % e)
keys, token, pages = [], None, 0
while True:
    args = ["list", PLAIN, "--prefix", "l/", "--max-keys", "2"]
    if token:
        args += ["--token", token]
    f, ents, _ = tool(*args)
    pages += 1
    keys += [e[1] for e in ents if e[0] == "entry"]
    if f["truncated"] != "1":
        break
    token = f["next_token"]
    check(token, "truncated without a token")
want = sorted(o["Key"] for o in
              s3.list_objects_v2(Bucket=PLAIN, Prefix="l/")["Contents"])
check(keys == want and pages == 4, "pages of 2: %s in %d pages" %
      (keys, pages))
for i in range(3):
    s3.put_object(Bucket=VERS, Key="pv", Body=b"%d" % i)
seen, km, vm = [], None, None
while True:
    args = ["versions", VERS, "--prefix", "pv", "--max-keys", "1"]
    if km:
        args += ["--key-marker", km, "--version-marker", vm]
    f, ents, _ = tool(*args)
    seen += [e[4] for e in ents if e[0] == "entry"]
    if f["truncated"] != "1":
        break
    km, vm = f["next_key_marker"], f["next_version_marker"]
want = [v["VersionId"] for v in
        s3.list_object_versions(Bucket=VERS, Prefix="pv")["Versions"]]
check(seen == want and len(seen) == 3, "version pages: %s vs %s" %
      (seen, want))
print("ok: ListObjectsV2 prefix/delimiter/pages, ListObjectVersions pages")

rgw.stop()
print("PASS")
