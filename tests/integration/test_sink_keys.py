"""Every key S3 accepts is stored (issue 11): folder markers ("photos/"),
empty, "." and ".." segments, a leading '/', control characters, segments
starting with the layout's own '@', segments over the filesystem's
255-byte name limit, 1024-byte keys, unicode, and keys that differ only by
characters the escaping cares about.

Over 200 generated keys are PUT with boto3 to a real `vsink serve`, then:
listed (ListObjectsV2 paged, with and without delimiter '/' and a few
prefixes, ListObjects v1, ListObjectVersions) in S3's byte order, computed
here from the keys; read back byte-identical; copied and uploaded by
multipart for a sample; every file the sink made is inside the bucket's
folder, no name is over 255 bytes and no component is "." or ".."; every
key is deleted and the listing is then empty (versions: delete markers).
Finally a folder written by the previous layout (its names as that layout
gave them, made by hand here) is read, listed and extended."""
import atexit
import hashlib
import os
import subprocess
import sys
import tempfile

from vsharness import Sink, check, boto3_client, tmpdir

# keys of 1024 slashes are 1025 nested folders: deeper than the default
# recursion limit of os.walk (3.11) and shutil.rmtree
sys.setrecursionlimit(20000)

# on tmpfs when there is one: this test is about names, and 600 fsynced
# PUTs (one key is 1,025 nested folders) take minutes on a disk
SHM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
data = tempfile.mkdtemp(prefix="vsink-it-keys-", dir=SHM)
atexit.register(subprocess.call, ["rm", "-rf", data])
sink = Sink(data=data, tag="keys").start()
s3 = boto3_client(sink)
B = "videos"


def ordered(keys):
    return sorted(keys, key=lambda k: k.encode())


def body_of(key):
    k = key.encode()
    return hashlib.sha256(k).digest() + k


# ---- the keys --------------------------------------------------------------
FORMS = ["", ".", "..", "...", ".x", "@", "@@", "@x", "@=", "@=.", "@>",
         "@current", "@20261124T121500123Z-a1b2c3", "%", "%41", "%2F", "a b",
         "+", "\t", "\n", "\r", "\x01", "\x1f", "\x7f", "caf\u00e9",
         "\u20ac", "\U0001f3ac", "?#&", "~", "a" * 253, "a" * 254,
         "a" * 255, "a" * 256, "@" + "b" * 254, "@" + "b" * 255,
         "c" * 300, "c" * 506, "c" * 507, "c" * 509, "\u00e9" * 200,
         "d" * 253 + "..", "@" + "d" * 252 + ".."]
keys = set()
for f in FORMS:
    for k in [f, "p/" + f, f + "/x", f + "/", "x/" + f + "/" + f,
              "/" + f]:
        if 0 < len(k.encode()) <= 1024:
            keys.add(k)
keys.update(["photos/", "a//b", "a/./b", "a/../b", "./x", "../x",
             "../../etc/passwd", "a/", "a", "a!", "a/b", "//", "///a",
             "a" * 1024, "/" * 1024, "\u00e9" * 512,
             ("s" * 300 + "/") * 3 + "t" * 121,
             "e/" + "\U0001f3ac" * 255, "a@", "@a", "@@a", "@=a", "@>a",
             "a/@", "a/@@", "a/@current", "a/@current/b"])
keys = ordered(keys)
check(len(keys) >= 200, "only %d keys" % len(keys))
print("keys:", len(keys))

for k in keys:
    r = s3.put_object(Bucket=B, Key=k, Body=body_of(k))
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "PUT %r" % k)


# ---- listing ----------------------------------------------------------------
def list_v2(**kw):
    out, pfx, tok = [], [], None
    for _ in range(1000):
        args = dict(Bucket=B, MaxKeys=37, **kw)
        if tok:
            args["ContinuationToken"] = tok
        r = s3.list_objects_v2(**args)
        out += [o["Key"] for o in r.get("Contents", [])]
        pfx += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            return out, pfx
        tok = r["NextContinuationToken"]
    check(False, "list did not end")


def expected(prefix="", delim=None):
    objs, pfx = [], []
    for k in keys:
        if not k.startswith(prefix):
            continue
        rest = k[len(prefix):]
        if delim and delim in rest:
            p = prefix + rest[:rest.index(delim) + 1]
            if p not in pfx:
                pfx.append(p)
        else:
            objs.append(k)
    return objs, ordered(pfx)


got, _ = list_v2()
check(got == keys, "ListObjectsV2 order: first difference at %r" %
      next(((a, b) for a, b in zip(got, keys) if a != b), len(got)))
for prefix in ["", "a/", "/", "//", "p/", "x/", "@", "a", "x/.", "c" * 300]:
    got = list_v2(Prefix=prefix, Delimiter="/")
    want = expected(prefix, "/")
    check(got[0] == want[0], "delimiter '/' prefix %r contents: %r != %r" %
          (prefix, got[0][:5], want[0][:5]))
    check(ordered(got[1]) == want[1],
          "delimiter '/' prefix %r prefixes: %r != %r" %
          (prefix, got[1][:5], want[1][:5]))
# "a/" is a common prefix at the top and an object under its own prefix
check("a/" in list_v2(Delimiter="/")[1], "a/ not a common prefix")
check("a/" in list_v2(Prefix="a/", Delimiter="/")[0], "a/ not an object")
for start in ["a", "a/", "a//", "/", "@", "p/.", "zzz"]:
    got, _ = list_v2(StartAfter=start)
    want = [k for k in keys if k.encode() > start.encode()]
    check(got == want, "StartAfter %r" % start)
v1, marker = [], ""
for _ in range(1000):
    r = s3.list_objects(Bucket=B, Marker=marker, MaxKeys=53)
    v1 += [o["Key"] for o in r.get("Contents", [])]
    if not r["IsTruncated"]:
        break
    marker = v1[-1]
check(v1 == keys, "ListObjects v1")
vers, km, vm = [], None, None
for _ in range(1000):
    args = dict(Bucket=B, MaxKeys=41)
    if km is not None:
        args.update(KeyMarker=km, VersionIdMarker=vm)
    r = s3.list_object_versions(**args)
    vers += [v["Key"] for v in r.get("Versions", [])]
    if not r["IsTruncated"]:
        break
    km, vm = r["NextKeyMarker"], r["NextVersionIdMarker"]
check(vers == keys, "ListObjectVersions")

# ---- reading, copying, multipart -------------------------------------------
for k in keys:
    b = s3.get_object(Bucket=B, Key=k)["Body"].read()
    check(b == body_of(k), "GET %r: %d bytes" % (k, len(b)))
    s3.head_object(Bucket=B, Key=k)
def fit(k):
    """k cut to 1024 bytes, from its middle."""
    b = k.encode()
    return k if len(b) <= 1024 else (b[:500] + b[len(b) - 524:]).decode()


SAMPLE = ["photos/", "a//b", "a/../b", "../x", "@current", "a" * 1024,
          "\t", "c" * 507 + "/", "/" + "@=."]
for k in SAMPLE:
    dst = fit("copy/" + k)
    s3.copy_object(Bucket=B, Key=dst, CopySource={"Bucket": B, "Key": k})
    check(s3.get_object(Bucket=B, Key=dst)["Body"].read() == body_of(k),
          "copy of %r" % k)
    mk = fit(k + "/mpu/..")
    up = s3.create_multipart_upload(Bucket=B, Key=mk)["UploadId"]
    p1 = b"x" * (5 << 20)
    e1 = s3.upload_part(Bucket=B, Key=mk, UploadId=up, PartNumber=1,
                        Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=B, Key=mk, UploadId=up, PartNumber=2,
                        Body=body_of(mk))["ETag"]
    s3.complete_multipart_upload(
        Bucket=B, Key=mk, UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    got = s3.get_object(Bucket=B, Key=mk)["Body"].read()
    check(got == p1 + body_of(mk), "multipart %r" % mk)
    keys.append(dst)
    keys.append(mk)
keys = ordered(keys)
check(list_v2()[0] == keys, "listing after copies and multipart")


# ---- on disk ------------------------------------------------------------------
def disk_check():
    root = os.path.realpath(data)
    bdir = os.path.join(root, "buckets", B)
    versions = 0
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            check(len(os.fsencode(n)) <= 255, "name over 255 bytes: %r" % p)
            check(n not in (".", ".."), "dot name %r" % p)
            check(os.path.realpath(p).startswith(root + "/"),
                  "%r resolves outside the data folder" % p)
            if n.startswith("@2") and not n.endswith(".json"):
                check(os.path.realpath(p).startswith(bdir + "/"),
                      "version %r outside the bucket" % p)
                versions += 1
    return versions


n = disk_check()
check(n >= len(keys), "%d version files for %d keys" % (n, len(keys)))
check(sorted(os.listdir(os.path.join(data, "buckets"))) == [B],
      "buckets: %r" % os.listdir(os.path.join(data, "buckets")))

# ---- deleting -----------------------------------------------------------------
for k in keys:
    s3.delete_object(Bucket=B, Key=k)
check(list_v2() == ([], []), "listing after deleting every key")
try:
    s3.get_object(Bucket=B, Key="a//b")
    check(False, "GET of a deleted key")
except s3.exceptions.NoSuchKey:
    pass
r = s3.list_object_versions(Bucket=B, Prefix="a/", MaxKeys=1000)
check(any(m["Key"] == "a/" for m in r.get("DeleteMarkers", [])),
      "no delete marker for a/")
disk_check()
sink.stop()

# ---- a folder of the previous layout -----------------------------------------
# That layout stored a segment as it is, or with one more '@' in front when
# it started with '@'. A version's files are moved by hand to where it put
# key "@x%25/@@y/é" (the key's files themselves do not name the key).
old = tmpdir("keys-old")
s2 = Sink(data=old, tag="keys-old").start()
c2 = boto3_client(s2)
c2.put_object(Bucket=B, Key="seed", Body=b"old layout")
s2.stop()
vb = os.path.join(old, "buckets", B)
os.makedirs(os.path.join(vb, "@@x%25", "@@@y"))
os.rename(os.path.join(vb, "seed"),
          os.path.join(vb, "@@x%25", "@@@y", "\u00e9"))
s2 = Sink(data=old, tag="keys-old2").start()
c2 = boto3_client(s2)
OLD = "@x%25/@@y/\u00e9"
check(c2.get_object(Bucket=B, Key=OLD)["Body"].read() == b"old layout",
      "old layout key not found")
got = [o["Key"] for o in c2.list_objects_v2(Bucket=B).get("Contents", [])]
check(got == [OLD], "old layout listing: %r" % got)
c2.put_object(Bucket=B, Key=OLD, Body=b"new version")
check(c2.get_object(Bucket=B, Key=OLD)["Body"].read() == b"new version",
      "new version over the old layout")
check(len(c2.list_object_versions(Bucket=B)["Versions"]) == 2,
      "versions over the old layout")
check(os.path.isdir(os.path.join(vb, "@@x%25", "@@@y", "\u00e9")),
      "the new version went elsewhere")
s2.stop()
print("ok")
sys.exit(0)
