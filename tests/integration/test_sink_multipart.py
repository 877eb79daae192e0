"""Multipart uploads (issue 8) with boto3 against a real sink.

- Create (content type, user metadata, checksum algorithm), UploadPart
  (Content-MD5, x-amz-checksum-crc32 verified per part), a part uploaded
  again replaces the first, ListParts (pages), ListMultipartUploads
  (prefix, delimiter, markers, pages), Complete: the object is the parts
  the client lists, byte for byte; its ETag is the MD5 of the parts' MD5s
  "-N"; exactly one `stored` event with the whole object's SHA-256; the
  upload is gone; GET/HEAD ?partNumber=N serve part N with
  x-amz-mp-parts-count;
- Complete's refusals leave nothing (no object, no event) and the upload
  usable: InvalidPart (unknown part, wrong ETag), InvalidPartOrder,
  EntityTooSmall, MalformedXML, a whole-object checksum header on a
  COMPOSITE upload (501), and a retry that fixes the list then succeeds;
- a FULL_OBJECT CRC32 upload: Complete's x-amz-checksum-crc32 is checked
  against the whole object's (BadDigest, nothing stored; then 200) and
  kept for GET/HEAD;
- UploadPart to no upload or a wrong key: NoSuchUpload, nothing left;
  partNumber 0 / 10001: InvalidArgument; BadDigest for a wrong Content-MD5
  or CRC32 (the part stays as it was);
- Abort: 204, the part files gone, NoSuchUpload afterwards;
- UploadPartCopy, whole and x-amz-copy-source-range;
- boto3 upload_file / download_file through s3transfer's multipart path;
- the sweeper: --multipart-expiry 2s aborts a forgotten upload, counted
  in /metrics;
- --on-existing reject and If-None-Match: * on Complete: 412, nothing
  committed; parts that make an object over --max-object-size: 400
  EntityTooLarge."""
import hashlib
import os
import time
import urllib.request

import boto3.s3.transfer
from botocore.exceptions import ClientError

from vsharness import (Sink, check, boto3_client, pattern, sha256, tmpdir,
                       s3_error_code)

MiB = 1 << 20
sink = Sink(tag="mpu").start()
s3 = boto3_client(sink)


def err_code(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], \
            e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def stored(key):
    return [e for e in sink.manifest_events("stored") if e["key"] == key]


def mpu_dirs():
    root = os.path.join(sink.data, ".multipart", "videos")
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def complete_url(key, uid):
    return s3.generate_presigned_url(
        "complete_multipart_upload", ExpiresIn=600,
        Params={"Bucket": "videos", "Key": key, "UploadId": uid})


def etag_of(parts):
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    return "%s-%d" % (hashlib.md5(md5s).hexdigest(), len(parts))


# ---- the whole path ----------------------------------------------------------
key = "out/2026/12/02/clip one+~.mp4"
p1, p2, p3 = pattern(5 * MiB, 1), pattern(5 * MiB, 2), pattern(1000, 3)
up = s3.create_multipart_upload(Bucket="videos", Key=key,
                                ContentType="video/mp4",
                                Metadata={"prompt": "a dancer"},
                                CacheControl="max-age=60")
uid = up["UploadId"]
check(up["Key"] == key and up["Bucket"] == "videos" and len(uid) == 32,
      "CreateMultipartUpload answer: %s" % up)
r1 = s3.upload_part(Bucket="videos", Key=key, UploadId=uid, PartNumber=1,
                    Body=pattern(5 * MiB, 9))  # replaced below
s3.upload_part(Bucket="videos", Key=key, UploadId=uid, PartNumber=1, Body=p1)
r2 = s3.upload_part(Bucket="videos", Key=key, UploadId=uid, PartNumber=2,
                    Body=p2, ContentMD5=__import__("base64").b64encode(
                        hashlib.md5(p2).digest()).decode())
r3 = s3.upload_part(Bucket="videos", Key=key, UploadId=uid, PartNumber=3,
                    Body=p3)
check(r2["ETag"] == '"%s"' % hashlib.md5(p2).hexdigest(),
      "a part's ETag is its MD5: %s" % r2["ETag"])
lp = s3.list_parts(Bucket="videos", Key=key, UploadId=uid, MaxParts=2)
check([p["PartNumber"] for p in lp["Parts"]] == [1, 2] and lp["IsTruncated"]
      and lp["NextPartNumberMarker"] == 2, "ListParts page 1: %s" % lp)
check(lp["Parts"][0]["ETag"] == '"%s"' % hashlib.md5(p1).hexdigest() and
      lp["Parts"][0]["Size"] == len(p1), "part 1 was replaced: %s" % lp)
lp = s3.list_parts(Bucket="videos", Key=key, UploadId=uid,
                   PartNumberMarker=2)
check([p["PartNumber"] for p in lp["Parts"]] == [3] and
      not lp["IsTruncated"], "ListParts page 2: %s" % lp)
lu = s3.list_multipart_uploads(Bucket="videos")
check([(u["Key"], u["UploadId"]) for u in lu["Uploads"]] == [(key, uid)],
      "ListMultipartUploads: %s" % lu)
check(not stored(key), "nothing is stored before Complete")

parts = [{"PartNumber": 1, "ETag": '"%s"' % hashlib.md5(p1).hexdigest()},
         {"PartNumber": 2, "ETag": r2["ETag"]},
         {"PartNumber": 3, "ETag": r3["ETag"]}]
done = s3.complete_multipart_upload(Bucket="videos", Key=key, UploadId=uid,
                                    MultipartUpload={"Parts": parts})
whole = p1 + p2 + p3
check(done["ETag"] == '"%s"' % etag_of([p1, p2, p3]),
      "ETag is the MD5 of the MD5s -3: %s" % done["ETag"])
check(done.get("VersionId"), "Complete names the version: %s" % done)
got = s3.get_object(Bucket="videos", Key=key)
body = got["Body"].read()
check(body == whole, "the object is the three parts")
check(got["ContentType"] == "video/mp4" and
      got["Metadata"] == {"prompt": "a dancer"} and
      got["CacheControl"] == "max-age=60",
      "Create's content type and metadata kept: %s" % got)
ev = stored(key)
check(len(ev) == 1, "one stored event: %s" % ev)
check(ev[0]["sha256"] == sha256(whole) and ev[0]["bytes"] == len(whole) and
      ev[0]["source"] == "multipart" and ev[0]["uploadId"] == uid and
      ev[0]["etag"] == etag_of([p1, p2, p3]) and ev[0].get("parts") == 3,
      "stored event: %s" % ev[0])
check(mpu_dirs() == [], "the upload is gone: %s" % mpu_dirs())
check(s3.list_multipart_uploads(Bucket="videos").get("Uploads", []) == [],
      "no upload listed after Complete")
check(err_code(s3.list_parts, Bucket="videos", Key=key, UploadId=uid) ==
      ("NoSuchUpload", 404), "ListParts after Complete")
# a part of the object
g2 = s3.get_object(Bucket="videos", Key=key, PartNumber=2)
check(g2["Body"].read() == p2 and g2["PartsCount"] == 3 and
      g2["ContentRange"] == "bytes %d-%d/%d" % (len(p1), len(p1) + len(p2) - 1,
                                               len(whole)),
      "GET ?partNumber=2: %s" % {k: g2[k] for k in ("ContentRange",
                                                    "PartsCount")})
h3 = s3.head_object(Bucket="videos", Key=key, PartNumber=3)
check(h3["ContentLength"] == len(p3) and h3["PartsCount"] == 3,
      "HEAD ?partNumber=3: %s" % h3)
check(err_code(s3.head_object, Bucket="videos", Key=key,
               PartNumber=4)[1] == 416, "partNumber past the last part: 416")

# ---- Complete's refusals ------------------------------------------------------
key2 = "refusals.mp4"
uid2 = s3.create_multipart_upload(Bucket="videos", Key=key2)["UploadId"]
a = s3.upload_part(Bucket="videos", Key=key2, UploadId=uid2, PartNumber=1,
                   Body=pattern(5 * MiB, 4))["ETag"]
b = s3.upload_part(Bucket="videos", Key=key2, UploadId=uid2, PartNumber=2,
                   Body=pattern(1000, 5))["ETag"]
small = s3.upload_part(Bucket="videos", Key=key2, UploadId=uid2,
                       PartNumber=3, Body=pattern(1000, 6))["ETag"]
before = len(sink.manifest_events())
for parts, want in [
        ([{"PartNumber": 1, "ETag": a}, {"PartNumber": 4, "ETag": b}],
         "InvalidPart"),
        ([{"PartNumber": 1, "ETag": b}, {"PartNumber": 2, "ETag": b}],
         "InvalidPart"),
        ([{"PartNumber": 2, "ETag": b}, {"PartNumber": 1, "ETag": a}],
         "InvalidPartOrder"),
        ([{"PartNumber": 1, "ETag": a}, {"PartNumber": 2, "ETag": b},
          {"PartNumber": 3, "ETag": small}], "EntityTooSmall")]:
    code = err_code(s3.complete_multipart_upload, Bucket="videos", Key=key2,
                    UploadId=uid2, MultipartUpload={"Parts": parts})
    check(code[0] == want and code[1] == 400, "%s: want %s, got %s" %
          (parts, want, code))
for xml, hdrs, want in [
        (b"<CompleteMultipartUpload><Part>", {}, (400, "MalformedXML")),
        (b"<Complete/>", {}, (400, "MalformedXML")),
        (("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s"
          "</ETag></Part></CompleteMultipartUpload>" % a).encode(),
         {"x-amz-checksum-crc32": "AAAAAA=="}, (501, "NotImplemented"))]:
    st, _, body = sink.request("POST", complete_url(key2, uid2), xml, hdrs)
    check((st, s3_error_code(body)) == want, "Complete %r: %s %s" %
          (xml[:40], st, body[:200]))
check(len(sink.manifest_events()) == before and not stored(key2),
      "refused Completes recorded nothing")
check(err_code(s3.head_object, Bucket="videos", Key=key2)[1] == 404,
      "refused Completes made no object")
done = s3.complete_multipart_upload(
    Bucket="videos", Key=key2, UploadId=uid2,
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": a},
                               {"PartNumber": 2, "ETag": b}]})
check(s3.get_object(Bucket="videos", Key=key2)["Body"].read() ==
      pattern(5 * MiB, 4) + pattern(1000, 5),
      "after the refusals the upload completes with the parts listed "
      "(part 3, left out, is not in the object)")

# ---- UploadPart's refusals ------------------------------------------------------
uid3 = s3.create_multipart_upload(Bucket="videos", Key="k3",
                                  ChecksumAlgorithm="CRC32")["UploadId"]
for kw, want in [
        (dict(Key="k3", UploadId="0" * 32, PartNumber=1), "NoSuchUpload"),
        (dict(Key="k3", UploadId="../../x", PartNumber=1), "NoSuchUpload"),
        (dict(Key="other", UploadId=uid3, PartNumber=1), "NoSuchUpload"),
        (dict(Key="k3", UploadId=uid3, PartNumber=0), "InvalidArgument"),
        (dict(Key="k3", UploadId=uid3, PartNumber=10001), "InvalidArgument"),
        (dict(Key="k3", UploadId=uid3, PartNumber=1,
              ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg=="), "BadDigest"),
        (dict(Key="k3", UploadId=uid3, PartNumber=1,
              ChecksumCRC32="AAAAAA=="), "BadDigest")]:
    code = err_code(s3.upload_part, Bucket="videos", Body=b"x" * 1000, **kw)
    check(code[0] == want, "UploadPart %s: want %s, got %s" % (kw, want,
                                                               code))
ok = s3.upload_part(Bucket="videos", Key="k3", UploadId=uid3, PartNumber=1,
                    Body=b"y" * 1000, ChecksumCRC32="IKoeIg==")
check(ok.get("ChecksumCRC32") == "IKoeIg==", "the part's CRC32 echoed: %s"
      % ok)
lp = s3.list_parts(Bucket="videos", Key="k3", UploadId=uid3)
check(len(lp["Parts"]) == 1 and lp["Parts"][0]["ChecksumCRC32"] ==
      "IKoeIg==" and lp["Parts"][0]["Size"] == 1000,
      "refused parts left nothing; the good one is listed: %s" % lp["Parts"])
check(sink.temp_files() == [], "no temporary file: %s" % sink.temp_files())

# ---- Abort --------------------------------------------------------------------------
check(len(mpu_dirs()) == 1, "one upload in progress: %s" % mpu_dirs())
resp = s3.abort_multipart_upload(Bucket="videos", Key="k3", UploadId=uid3)
check(resp["ResponseMetadata"]["HTTPStatusCode"] == 204, "Abort: 204")
check(mpu_dirs() == [], "Abort removed the upload: %s" % mpu_dirs())
check(err_code(s3.upload_part, Bucket="videos", Key="k3", UploadId=uid3,
               PartNumber=2, Body=b"z")[0] == "NoSuchUpload",
      "a part after Abort")
check(err_code(s3.abort_multipart_upload, Bucket="videos", Key="k3",
               UploadId=uid3) == ("NoSuchUpload", 404), "Abort twice")

# ---- ListMultipartUploads' parameters ------------------------------------------
ids = {}
for k in ("a/1", "a/2", "b", "b", "c/d/e"):
    ids.setdefault(k, []).append(s3.create_multipart_upload(
        Bucket="videos", Key=k)["UploadId"])
lu = s3.list_multipart_uploads(Bucket="videos", Delimiter="/")
check([u["Key"] for u in lu.get("Uploads", [])] == ["b", "b"] and
      [p["Prefix"] for p in lu.get("CommonPrefixes", [])] == ["a/", "c/"],
      "delimiter: %s" % lu)
check([u["UploadId"] for u in lu["Uploads"]] == ids["b"],
      "two uploads of one key, oldest first: %s" % lu["Uploads"])
lu = s3.list_multipart_uploads(Bucket="videos", Prefix="a/")
check([u["Key"] for u in lu["Uploads"]] == ["a/1", "a/2"], "prefix: %s" % lu)
lu = s3.list_multipart_uploads(Bucket="videos", MaxUploads=2)
check(lu["IsTruncated"] and lu["NextKeyMarker"] == "a/2",
      "page of 2: %s" % lu)
lu = s3.list_multipart_uploads(Bucket="videos", KeyMarker="b",
                               UploadIdMarker=ids["b"][0])
check([(u["Key"], u["UploadId"]) for u in lu["Uploads"]] ==
      [("b", ids["b"][1]), ("c/d/e", ids["c/d/e"][0])],
      "markers: %s" % lu)
pages = s3.get_paginator("list_multipart_uploads").paginate(
    Bucket="videos", PaginationConfig={"PageSize": 2})
seen = [u["UploadId"] for p in pages for u in p.get("Uploads", [])]
check(sorted(seen) == sorted(sum(ids.values(), [])) and
      len(seen) == 5, "paginator: %s" % seen)
for k, v in ids.items():
    for u in v:
        s3.abort_multipart_upload(Bucket="videos", Key=k, UploadId=u)

# ---- UploadPartCopy ------------------------------------------------------------------
src = pattern(6 * MiB, 7)
s3.put_object(Bucket="videos", Key="src.bin", Body=src)
uid4 = s3.create_multipart_upload(Bucket="videos", Key="copied")["UploadId"]
c1 = s3.upload_part_copy(Bucket="videos", Key="copied", UploadId=uid4,
                         PartNumber=1, CopySource="videos/src.bin")
c2 = s3.upload_part_copy(Bucket="videos", Key="copied", UploadId=uid4,
                         PartNumber=2, CopySource="videos/src.bin",
                         CopySourceRange="bytes=100-1099")
check(c1["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(src).hexdigest()
      and c2["CopyPartResult"]["ETag"] == '"%s"' %
      hashlib.md5(src[100:1100]).hexdigest(), "part copy ETags: %s %s" %
      (c1, c2))
check(err_code(s3.upload_part_copy, Bucket="videos", Key="copied",
               UploadId=uid4, PartNumber=3, CopySource="videos/src.bin",
               CopySourceRange="bytes=0-%d" % len(src))[0] ==
      "InvalidArgument", "a range past the source's end")
s3.complete_multipart_upload(
    Bucket="videos", Key="copied", UploadId=uid4,
    MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": c1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": c2["CopyPartResult"]["ETag"]}]})
check(s3.get_object(Bucket="videos", Key="copied")["Body"].read() ==
      src + src[100:1100], "UploadPartCopy bytes")

# ---- s3transfer: upload_file / download_file ----------------------------------------
work = tmpdir("mpu-files")
path = os.path.join(work, "big.bin")
data = pattern(17 * MiB + 3, 11)
with open(path, "wb") as f:
    f.write(data)
cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB,
                                       multipart_chunksize=5 * MiB,
                                       max_concurrency=3)
s3.upload_file(path, "videos", "big.bin", Config=cfg)
head = s3.head_object(Bucket="videos", Key="big.bin")
check(head["ETag"].endswith('-4"'), "upload_file went multipart: %s" %
      head["ETag"])
back = os.path.join(work, "back.bin")
s3.download_file("videos", "big.bin", back, Config=cfg)
with open(back, "rb") as f:
    check(f.read() == data, "download_file gives the bytes back")
ev = stored("big.bin")
check(len(ev) == 1 and ev[0]["sha256"] == sha256(data), "upload_file's "
      "event: %s" % ev)

# ---- a FULL_OBJECT CRC32 upload: Complete's whole-object checksum checked -----------------
import base64
import re
import struct
import zlib


def crc32_b64(b):
    return base64.b64encode(struct.pack(">I", zlib.crc32(b))).decode()


url = s3.generate_presigned_url("create_multipart_upload", ExpiresIn=600,
                                Params={"Bucket": "videos", "Key": "full"})
st, _, body = sink.request("POST", url, b"", {
    "x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "FULL_OBJECT"})
uidf = re.search(rb"<UploadId>(\w+)</UploadId>", body).group(1).decode()
fp = [pattern(5 * MiB, 31), pattern(777, 32)]
fe = [s3.upload_part(Bucket="videos", Key="full", UploadId=uidf, PartNumber=n,
                     Body=b, ChecksumCRC32=crc32_b64(b))["ETag"]
      for n, b in enumerate(fp, 1)]
xml = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
    "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag><ChecksumCRC32>%s"
    "</ChecksumCRC32></Part>" % (n, e, crc32_b64(b))
    for n, (e, b) in enumerate(zip(fe, fp), 1))).encode()
whole_crc = crc32_b64(b"".join(fp))
st, _, body = sink.request("POST", complete_url("full", uidf), xml,
                           {"x-amz-checksum-crc32": crc32_b64(b"other")})
check(st == 400 and s3_error_code(body) == "BadDigest" and
      not stored("full"), "a wrong whole-object CRC32: %s %s" % (st, body))
st, _, body = sink.request("POST", complete_url("full", uidf), xml,
                           {"x-amz-checksum-crc32": whole_crc})
check(st == 200, "the right whole-object CRC32: %s %s" % (st, body))
h = s3.head_object(Bucket="videos", Key="full", ChecksumMode="ENABLED")
check(h.get("ChecksumCRC32") == whole_crc and len(stored("full")) == 1,
      "the whole object's CRC32 kept: %s" % h)

# ---- preconditions on Complete ---------------------------------------------------------
uid5 = s3.create_multipart_upload(Bucket="videos", Key="big.bin")["UploadId"]
e5 = s3.upload_part(Bucket="videos", Key="big.bin", UploadId=uid5,
                    PartNumber=1, Body=b"new")["ETag"]
xml = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s"
       "</ETag></Part></CompleteMultipartUpload>" % e5).encode()
st, _, body = sink.request("POST", complete_url("big.bin", uid5), xml,
                           {"If-None-Match": "*"})
check(st == 412 and s3_error_code(body) == "PreconditionFailed",
      "If-None-Match: * on an existing key: %s %s" % (st, body[:200]))
check(len(stored("big.bin")) == 1, "nothing recorded by the 412")
s3.abort_multipart_upload(Bucket="videos", Key="big.bin", UploadId=uid5)
sink.stop()

# ---- the sweeper and --on-existing reject -------------------------------------------------
sink = Sink(tag="mpu-sweep", args=["--multipart-expiry", "2s",
                                   "--on-existing", "reject",
                                   "--max-object-size", "6MiB"]).start()
s3 = boto3_client(sink)
# parts within the limit may not make an object over it
uid8 = s3.create_multipart_upload(Bucket="videos", Key="huge")["UploadId"]
big = [s3.upload_part(Bucket="videos", Key="huge", UploadId=uid8,
                      PartNumber=n, Body=pattern(sz, n))["ETag"]
       for n, sz in ((1, 5 * MiB), (2, 2 * MiB))]
code = err_code(s3.complete_multipart_upload, Bucket="videos", Key="huge",
                UploadId=uid8, MultipartUpload={"Parts": [
                    {"PartNumber": n, "ETag": e} for n, e in
                    enumerate(big, 1)]})
check(code == ("EntityTooLarge", 400), "7 MiB over a 6 MiB limit: %s"
      % (code,))
check(not stored("huge") and err_code(s3.head_object, Bucket="videos",
                                      Key="huge")[1] == 404,
      "nothing stored over the limit")
uid6 = s3.create_multipart_upload(Bucket="videos", Key="forgotten")["UploadId"]
s3.upload_part(Bucket="videos", Key="forgotten", UploadId=uid6, PartNumber=1,
               Body=b"abc")
s3.put_object(Bucket="videos", Key="taken", Body=b"first")
uid7 = s3.create_multipart_upload(Bucket="videos", Key="taken")["UploadId"]
e7 = s3.upload_part(Bucket="videos", Key="taken", UploadId=uid7,
                    PartNumber=1, Body=b"second")["ETag"]
code = err_code(s3.complete_multipart_upload, Bucket="videos", Key="taken",
                UploadId=uid7, MultipartUpload={"Parts": [
                    {"PartNumber": 1, "ETag": e7}]})
check(code == ("PreconditionFailed", 412), "reject policy: %s" % (code,))
check(s3.get_object(Bucket="videos", Key="taken")["Body"].read() == b"first",
      "the stored object is untouched")
deadline = time.time() + 15
while time.time() < deadline and mpu_dirs():
    time.sleep(0.3)
check(mpu_dirs() == [], "the sweeper aborted the uploads: %s" % mpu_dirs())
check(s3.list_multipart_uploads(Bucket="videos").get("Uploads", []) == [],
      "none listed after the sweep")
metrics = urllib.request.urlopen(sink.endpoint + "/metrics",
                                 timeout=10).read().decode()
check('vsink_multipart_uploads_total{event="expired"} 3' in metrics,
      "expired uploads counted: %s" % [l for l in metrics.splitlines()
                                       if "multipart" in l])
sink.stop()
print("ok")
