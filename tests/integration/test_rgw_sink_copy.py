"""CopyObject and UploadPartCopy through `vsink serve --store s3://` against
a real Ceph RGW: the sink copies on the cluster (server-side), names the
source's cluster version, and records the copy as it records a PUT.

- boto3 copy_object, metadata directive COPY (the source's content type and
  user metadata) and REPLACE (the request's), ETag the source's MD5, a
  `stored` event with "source":"copy", the source version and the SHA-256;
- a copy of an older version by versionId copies that version's bytes;
- x-amz-copy-source-if-match / -if-none-match that do not hold: 412;
- a copy onto itself: 400 InvalidRequest without REPLACE, a new version
  with it;
- a 40 MiB object stored in cluster parts: the copy reads back identical,
  its event carries the SHA-256 (the sink hashes the source once, since a
  multipart object has none in its metadata), and the copy's cluster
  object carries it as x-amz-meta-vsink-sha256 (so a copy of the copy
  reads nothing back; both copies are timed);
- aws cli `s3 cp s3://videos/k s3://videos/k2` and rclone's server-side
  copy (when rclone is installed);
- boto3 upload_part_copy with CopySourceRange into a client multipart
  upload, then Complete: GET equals the source's range bytes;
- a copy from a missing key: 404 NoSuchKey, nothing stored;
- RGW's gateway stopped: a copy is 503, nothing left, no event; an
  UploadPartCopy is 503 and makes no part."""
import hashlib
import os
import shutil
import subprocess
import time

from rgw import start_or_skip
import vsharness as h

CLUSTER = "vsink-copy"
PREFIX = "nodes/c"
MiB = 1 << 20


def cluster_key(key, bucket="videos"):
    return "%s/%s/%s" % (PREFIX, bucket, key)


def md5(b):
    return hashlib.md5(b).hexdigest()


def code_of(call):
    """The S3 error (code, status) a call fails with, or (None, 200)."""
    try:
        call()
        return None, 200
    except c.exceptions.ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"])


def nothing_at(key):
    return "Versions" not in s3.list_object_versions(
        Bucket=CLUSTER, Prefix=cluster_key(key)) and not [
        e for e in sink.manifest_events("stored") if e["key"] == key]


def one_copy_event(key, sha, src_key, src_vid):
    ev = [e for e in sink.manifest_events("stored") if e["key"] == key]
    h.check(len(ev) == 1, "one stored event for %s: %r" % (key, ev))
    e = ev[0]
    h.check(e.get("source") == "copy" and e.get("sha256") == sha and
            e["copySource"]["key"] == src_key and
            e["copySource"]["versionId"] == src_vid,
            "the copy's stored event: %r" % e)
    return e


rgw = start_or_skip("sinkcopy", 1536)
s3 = rgw.client()
rgw.versioned_bucket(CLUSTER)
env = rgw.sink_env(h.env_with_keys())
ARGS = ["--store", "s3://%s/%s" % (CLUSTER, PREFIX),
        "--s3-endpoint", rgw.endpoint]
sink = h.Sink(args=ARGS, env=env, tag="s3copy").start()
c = h.boto3_client(sink)

# ---- COPY and REPLACE -----------------------------------------------------
body = h.pattern(70000, seed=3)
src = c.put_object(Bucket="videos", Key="src/a.mp4", Body=body,
                   ContentType="video/mp4", Metadata={"shot": "7"},
                   CacheControl="max-age=60")
src_vid = src["VersionId"]
r = c.copy_object(Bucket="videos", Key="dst/copy.mp4",
                  CopySource="videos/src/a.mp4")
h.check(r["CopyObjectResult"]["ETag"].strip('"') == md5(body),
        "a copy's ETag is the source's MD5: %r" % r)
h.check(r.get("CopySourceVersionId") == src_vid and r.get("VersionId"),
        "versions named: %r" % r)
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("dst/copy.mp4"))
h.check(hd["VersionId"] == r["VersionId"], "the cluster's version: %r" % hd)
h.check(hd["Metadata"].get("vsink-sha256") == h.sha256(body) and
        hd["Metadata"].get("vsink-intent") and
        hd["Metadata"]["vsink-intent"] !=
        s3.head_object(Bucket=CLUSTER, Key=cluster_key("src/a.mp4"))
        ["Metadata"]["vsink-intent"],
        "the copy carries the SHA-256 and an intent token of its own: %r" %
        hd["Metadata"])
g = c.get_object(Bucket="videos", Key="dst/copy.mp4")
h.check(g["Body"].read() == body and g["ContentType"] == "video/mp4" and
        g["Metadata"] == {"shot": "7"} and g["CacheControl"] == "max-age=60",
        "COPY keeps type and metadata: %r %r" % (g["ContentType"],
                                                  g["Metadata"]))
one_copy_event("dst/copy.mp4", h.sha256(body), "src/a.mp4", src_vid)

r = c.copy_object(Bucket="videos", Key="dst/replaced.bin",
                  CopySource="videos/src/a.mp4", MetadataDirective="REPLACE",
                  ContentType="application/x-test", Metadata={"take": "2"})
g = c.get_object(Bucket="videos", Key="dst/replaced.bin")
h.check(g["Body"].read() == body and
        g["ContentType"] == "application/x-test" and
        g["Metadata"] == {"take": "2"} and "CacheControl" not in g,
        "REPLACE: the request's: %r %r" % (g["ContentType"], g["Metadata"]))
one_copy_event("dst/replaced.bin", h.sha256(body), "src/a.mp4", src_vid)

# ---- a specific version -------------------------------------------------------
body2 = h.pattern(5000, seed=4)
c.put_object(Bucket="videos", Key="src/a.mp4", Body=body2)
r = c.copy_object(Bucket="videos", Key="dst/old.bin",
                  CopySource={"Bucket": "videos", "Key": "src/a.mp4",
                              "VersionId": src_vid})
h.check(c.get_object(Bucket="videos", Key="dst/old.bin")["Body"].read() ==
        body and r["CopySourceVersionId"] == src_vid,
        "the version named is the version copied")
one_copy_event("dst/old.bin", h.sha256(body), "src/a.mp4", src_vid)

# ---- source conditions ------------------------------------------------------
cur = c.head_object(Bucket="videos", Key="src/a.mp4")["ETag"]
h.check(code_of(lambda: c.copy_object(
    Bucket="videos", Key="dst/cond.bin", CopySource="videos/src/a.mp4",
    CopySourceIfMatch='"%s"' % md5(b"other"))) == ("PreconditionFailed", 412),
    "copy-source-if-match that differs: 412")
h.check(code_of(lambda: c.copy_object(
    Bucket="videos", Key="dst/cond.bin", CopySource="videos/src/a.mp4",
    CopySourceIfNoneMatch=cur)) == ("PreconditionFailed", 412),
    "copy-source-if-none-match that matches: 412")
h.check(nothing_at("dst/cond.bin"), "nothing stored for a refused copy")
c.copy_object(Bucket="videos", Key="dst/cond.bin",
              CopySource="videos/src/a.mp4", CopySourceIfMatch=cur)
h.check(c.get_object(Bucket="videos", Key="dst/cond.bin")["Body"].read() ==
        body2, "copy-source-if-match that holds: copied")

# ---- onto itself ----------------------------------------------------------------
h.check(code_of(lambda: c.copy_object(
    Bucket="videos", Key="src/a.mp4", CopySource="videos/src/a.mp4")) ==
    ("InvalidRequest", 400), "self-copy without REPLACE: 400")
n_before = len(s3.list_object_versions(
    Bucket=CLUSTER, Prefix=cluster_key("src/a.mp4"))["Versions"])
r = c.copy_object(Bucket="videos", Key="src/a.mp4",
                  CopySource="videos/src/a.mp4", MetadataDirective="REPLACE",
                  Metadata={"touched": "1"}, ContentType="video/mp4")
g = c.get_object(Bucket="videos", Key="src/a.mp4")
h.check(g["Body"].read() == body2 and g["Metadata"] == {"touched": "1"} and
        g["VersionId"] == r["VersionId"], "self-copy with REPLACE: %r" %
        g["Metadata"])
h.check(len(s3.list_object_versions(
    Bucket=CLUSTER, Prefix=cluster_key("src/a.mp4"))["Versions"]) ==
    n_before + 1, "one more version")

# ---- a source stored in cluster parts ---------------------------------------
big = h.pattern(40 * MiB, seed=9)
c.put_object(Bucket="videos", Key="big/src.bin", Body=big)
bsrc = c.head_object(Bucket="videos", Key="big/src.bin")
h.check(bsrc["ETag"].strip('"').endswith("-5"),
        "the source is in cluster parts: %r" % bsrc["ETag"])
t0 = time.monotonic()
r = c.copy_object(Bucket="videos", Key="big/copy.bin",
                  CopySource="videos/big/src.bin")
print("40 MiB copy, source in cluster parts (read back once to hash): "
      "%.2f s" % (time.monotonic() - t0))
g = c.get_object(Bucket="videos", Key="big/copy.bin")
h.check(g["Body"].read() == big, "the 40 MiB copy reads back identical")
h.check(g["ETag"] == r["CopyObjectResult"]["ETag"],
        "the answered ETag is the one GET shows: %r / %r" %
        (g["ETag"], r["CopyObjectResult"]["ETag"]))
print("ETag of a copy of a multipart source: %s (source %s)" %
      (g["ETag"], bsrc["ETag"]))
one_copy_event("big/copy.bin", h.sha256(big), "big/src.bin",
               bsrc["VersionId"])
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("big/copy.bin"))
h.check(hd["Metadata"].get("vsink-sha256") == h.sha256(big),
        "the cluster copy carries the SHA-256: %r" % hd["Metadata"])
t0 = time.monotonic()
r = c.copy_object(Bucket="videos", Key="big/copy2.bin",
                  CopySource="videos/big/copy.bin")
print("40 MiB copy of that copy (its SHA-256 in its metadata): %.2f s" %
      (time.monotonic() - t0))
one_copy_event("big/copy2.bin", h.sha256(big), "big/copy.bin",
               hd["VersionId"])

# ---- aws cli and rclone -----------------------------------------------------
home = h.tmpdir("s3copy-home")
cenv = h.client_env(sink, home)
h.run_ok(["aws", "--endpoint-url", sink.endpoint, "s3", "cp",
          "s3://videos/dst/copy.mp4", "s3://videos/cli/k2.mp4"], cenv,
         timeout=120, what="aws s3 cp s3:// s3://")
h.check(c.get_object(Bucket="videos", Key="cli/k2.mp4")["Body"].read() ==
        body, "aws cli's copy")
ev = [e for e in sink.manifest_events("stored") if e["key"] == "cli/k2.mp4"]
h.check(len(ev) == 1 and ev[0]["source"] == "copy", "aws cli: %r" % ev)
if shutil.which("rclone"):
    RC = ["rclone", "--config", os.path.join(home, "rclone.conf"),
          "--retries", "1", "--low-level-retries", "1"]
    h.run_ok(RC + ["copyto", "vs:videos/dst/copy.mp4",
                   "vs:videos/rc/copy.mp4"], cenv, timeout=120,
             what="rclone copyto (server-side)")
    ev = [e for e in sink.manifest_events("stored")
          if e["key"] == "rc/copy.mp4"]
    h.check(len(ev) == 1 and ev[0]["source"] == "copy" and
            ev[0]["sha256"] == h.sha256(body),
            "rclone copied on the server: %r" % ev)
else:
    print("no rclone: its server-side copy not checked")

# ---- UploadPartCopy ---------------------------------------------------------
up = c.create_multipart_upload(Bucket="videos", Key="mpu/pc.bin")
uid = up["UploadId"]
lo, hi = 3 * MiB, 11 * MiB - 1  # 8 MiB from inside the cluster parts
p1 = c.upload_part_copy(Bucket="videos", Key="mpu/pc.bin", UploadId=uid,
                        PartNumber=1, CopySource="videos/big/src.bin",
                        CopySourceRange="bytes=%d-%d" % (lo, hi))
h.check(p1["CopyPartResult"]["ETag"].strip('"') == md5(big[lo:hi + 1]),
        "the part's ETag is its bytes' MD5: %r" % p1)
tail = b"tail of the upload"
p2 = c.upload_part(Bucket="videos", Key="mpu/pc.bin", UploadId=uid,
                   PartNumber=2, Body=tail)
parts = c.list_parts(Bucket="videos", Key="mpu/pc.bin", UploadId=uid)
h.check([(p["PartNumber"], p["Size"]) for p in parts["Parts"]] ==
        [(1, hi - lo + 1), (2, len(tail))], "ListParts: %r" % parts["Parts"])
c.complete_multipart_upload(
    Bucket="videos", Key="mpu/pc.bin", UploadId=uid,
    MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": p2["ETag"]}]})
want = big[lo:hi + 1] + tail
h.check(c.get_object(Bucket="videos", Key="mpu/pc.bin")["Body"].read() ==
        want, "the completed upload is the range and the part")
h.check_stored_once(sink, "mpu/pc.bin", h.sha256(want), len(want),
                    "UploadPartCopy")
h.check(not s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads"),
        "no cluster upload left")

# ---- a missing source ---------------------------------------------------------
h.check(code_of(lambda: c.copy_object(
    Bucket="videos", Key="dst/none.bin", CopySource="videos/no/such")) ==
    ("NoSuchKey", 404), "a missing source: 404 NoSuchKey")
h.check(nothing_at("dst/none.bin"), "nothing stored for it")

# ---- the cluster away --------------------------------------------------------
pending = c.create_multipart_upload(Bucket="videos", Key="mpu/down.bin")
rgw.stop_gateway()
got = code_of(lambda: c.upload_part_copy(
    Bucket="videos", Key="mpu/down.bin", UploadId=pending["UploadId"],
    PartNumber=1, CopySource="videos/dst/copy.mp4"))
h.check(got[1] == 503, "UploadPartCopy, cluster down: 503: %r" % (got,))
t0 = time.time()
got = code_of(lambda: c.copy_object(Bucket="videos", Key="dst/down.bin",
                                    CopySource="videos/dst/copy.mp4"))
print("copy while RGW is down: %r in %.1f s" % (got, time.time() - t0))
h.check(got[1] == 503, "cluster down: 503: %r" % (got,))
rgw.start_gateway()
h.check(nothing_at("dst/down.bin"), "nothing left of the copy")
h.check(not c.list_parts(Bucket="videos", Key="mpu/down.bin",
                         UploadId=pending["UploadId"]).get("Parts"),
        "no part made while the cluster was down")
c.abort_multipart_upload(Bucket="videos", Key="mpu/down.bin",
                         UploadId=pending["UploadId"])
r = c.copy_object(Bucket="videos", Key="dst/up.bin",
                  CopySource="videos/dst/copy.mp4")
h.check(c.get_object(Bucket="videos", Key="dst/up.bin")["Body"].read() ==
        body, "served again")

h.check(sink.stop() == 0, "sink stopped cleanly: %s" % sink.log()[-2000:])
rgw.stop()
print("OK")
