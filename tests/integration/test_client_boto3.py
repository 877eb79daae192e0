"""boto3 (Debian's 1.26, under /usr/bin/python3) against a real sink, one
complete workflow (issue 8, Proof):

- put_object with ChecksumAlgorithm CRC32 and SHA256: the checksum is
  answered, stored and returned with ChecksumMode=ENABLED;
- list_objects_v2 (delimiter, paginator), copy_object, delete_object and
  delete_objects of a prefix: delete markers, every version survives;
- an overwrite keeps the earlier version: list_object_versions shows both,
  get_object(VersionId=) reads the old bytes;
- boto3's default generate_presigned_url (with a custom endpoint: SigV2,
  AWSAccessKeyId/Expires/Signature) used by curl for a PUT and a GET;
- multipart, above s3transfer's 8 MiB threshold: upload_file of 1 KiB /
  20 MiB / 200 MiB, download_file, SHA-256 compared, one `stored` event
  each with the whole object's SHA-256, S3's "-N" ETag; upload_file with
  ChecksumAlgorithm CRC32 (a checksum per part; S3's composite if any);
  the managed copy of the 20 MiB object (UploadPartCopy); by hand:
  create_multipart_upload, upload_part, upload_part_copy, list_parts,
  list_multipart_uploads, complete_multipart_upload and
  abort_multipart_upload (nothing left behind, no event)."""
import base64
import hashlib
import os
import subprocess
import urllib.parse
import zlib

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from vsharness import (Sink, check, boto3_client, tmpdir, KEY_ID, SECRET,
                       ClientFiles, file_sha256, multipart_etag, md5_etag,
                       check_stored_once, stored_of, version_count, pattern,
                       sha256, Stopwatch, MiB)

sw = Stopwatch("boto3")
sink = Sink(tag="c-boto3").start()
s3 = boto3_client(sink)
work = tmpdir("c-boto3-work")
PART = 8 * MiB  # s3transfer's multipart_threshold and multipart_chunksize
B = "videos"


def get(key, **kw):
    return s3.get_object(Bucket=B, Key=key, **kw)["Body"].read()


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32_raw(data):
    return zlib.crc32(data).to_bytes(4, "big")


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


# ---- checksum algorithms on a single PUT ---------------------------------------
small = pattern(1024, seed=41)
for algo, want in (("CRC32", b64(crc32_raw(small))),
                   ("SHA256", b64(hashlib.sha256(small).digest()))):
    key = "boto/ck/%s.bin" % algo.lower()
    r = s3.put_object(Bucket=B, Key=key, Body=small, ChecksumAlgorithm=algo)
    check(r.get("Checksum" + algo) == want, "put_object %s: %s" % (algo, r))
    h = s3.head_object(Bucket=B, Key=key, ChecksumMode="ENABLED")
    check(h.get("Checksum" + algo) == want, "head_object %s: %s" %
          (algo, h.get("Checksum" + algo)))
    g = s3.get_object(Bucket=B, Key=key, ChecksumMode="ENABLED")
    check(g["Body"].read() == small and g.get("Checksum" + algo) == want,
          "get_object %s" % algo)
    check(h["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), "ETag %s" %
          h["ETag"])
    check_stored_once(sink, key, sha256(small), 1024, "put_object " + algo)
sw.step("put_object ChecksumAlgorithm CRC32, SHA256")

# ---- list, copy, overwrite and versions, delete ------------------------------
bodies = {}
for i in range(12):
    key = "boto/tree/%s/f%02d.mp4" % ("ab"[i % 2], i)
    bodies[key] = pattern(300 + i, seed=420 + i)
    s3.put_object(Bucket=B, Key=key, Body=bodies[key])
r = s3.list_objects_v2(Bucket=B, Prefix="boto/", Delimiter="/")
check([p["Prefix"] for p in r.get("CommonPrefixes", [])] ==
      ["boto/ck/", "boto/tree/"] and not r.get("Contents"),
      "list_objects_v2 delimiter: %s" % r)
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=B, Prefix="boto/tree/", PaginationConfig={"PageSize": 5}):
    keys += [(o["Key"], o["Size"], o["ETag"]) for o in page["Contents"]]
check(keys == [(k, len(b), '"%s"' % hashlib.md5(b).hexdigest())
               for k, b in sorted(bodies.items())],
      "list_objects_v2 paginated: %s" % keys)
sw.step("list_objects_v2 (delimiter, paginator)")

r = s3.copy_object(Bucket=B, Key="boto/copy/f00.mp4",
                   CopySource={"Bucket": B, "Key": "boto/tree/a/f00.mp4"})
check(get("boto/copy/f00.mp4") == bodies["boto/tree/a/f00.mp4"], "copy")
ev = check_stored_once(sink, "boto/copy/f00.mp4",
                       sha256(bodies["boto/tree/a/f00.mp4"]), 300, "copy")
check(ev["source"] == "copy" and ev["copySource"]["key"] ==
      "boto/tree/a/f00.mp4", "copy event: %s" % ev)
sw.step("copy_object")

key = "boto/tree/a/f00.mp4"
newer = pattern(5000, seed=43)
s3.put_object(Bucket=B, Key=key, Body=newer)
vs = s3.list_object_versions(Bucket=B, Prefix=key)["Versions"]
check([(v["IsLatest"], v["Size"]) for v in vs] == [(True, 5000),
                                                    (False, 300)],
      "list_object_versions after an overwrite: %s" % vs)
old_id = vs[1]["VersionId"]
check(old_id == stored_of(sink, key)[0]["versionId"], "old version id")
check(get(key) == newer and get(key, VersionId=old_id) == bodies[key],
      "get_object(VersionId=) of the old version")
sw.step("overwrite, list_object_versions, get_object(VersionId)")

r = s3.delete_object(Bucket=B, Key="boto/tree/b/f01.mp4")
check(r.get("DeleteMarker") is True and r.get("VersionId"),
      "delete_object: %s" % r)
check(error_code(s3.head_object, Bucket=B, Key="boto/tree/b/f01.mp4") ==
      "404", "head after delete_object")
live = [o["Key"] for o in s3.list_objects_v2(
    Bucket=B, Prefix="boto/tree/").get("Contents", [])]
r = s3.delete_objects(Bucket=B, Delete={
    "Objects": [{"Key": k} for k in live], "Quiet": False})
check(sorted(d["Key"] for d in r.get("Deleted", [])) == sorted(live) and
      not r.get("Errors") and
      all(d.get("DeleteMarker") for d in r["Deleted"]),
      "delete_objects: %s" % r)
check(not s3.list_objects_v2(Bucket=B, Prefix="boto/tree/").get("Contents"),
      "delete_objects: keys still listed")
check(version_count(s3, "boto/tree/") == 13 + 12,
      "after the deletes: %d versions and markers" %
      version_count(s3, "boto/tree/"))
for k, b in bodies.items():
    v = stored_of(sink, k)[0]["versionId"]
    check(get(k, VersionId=v) == b, "after delete: %s's version lost" % k)
check(len([e for e in sink.manifest_events("deleted")
           if e["key"].startswith("boto/tree/")]) == 12, "deleted events")
sw.step("delete_object, delete_objects; the versions survive")

# ---- boto3's default presigned URL (SigV2 with a custom endpoint) + curl -----
plain = boto3.client("s3", endpoint_url=sink.endpoint,
                     region_name="us-east-1", aws_access_key_id=KEY_ID,
                     aws_secret_access_key=SECRET)
src = ClientFiles("c-boto3", seed=44)
sw.step("made the 1 KiB / 20 MiB / 200 MiB files")
key = "boto/presigned/20m.bin"
url = plain.generate_presigned_url("put_object", Params={
    "Bucket": B, "Key": key}, ExpiresIn=600)
check(set(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)) ==
      {"AWSAccessKeyId", "Signature", "Expires"},
      "the default presigned URL is not SigV2's: %s" % url)
r = subprocess.run(["curl", "-sS", "-f", "-T", src.path["20m.bin"], url,
                    "-o", "/dev/null"], capture_output=True, timeout=120)
check(r.returncode == 0, "curl PUT to boto3's URL: %s" % r.stderr)
url = plain.generate_presigned_url("get_object", Params={
    "Bucket": B, "Key": key}, ExpiresIn=600)
back = os.path.join(work, "presigned.back")
r = subprocess.run(["curl", "-sS", "-f", "-o", back, url],
                   capture_output=True, timeout=120)
check(r.returncode == 0 and file_sha256(back) == src.sha["20m.bin"],
      "curl GET with boto3's URL: %s" % r.stderr)
check_stored_once(sink, key, src.sha["20m.bin"], 20 * MiB, "presigned PUT")
sw.step("default generate_presigned_url (SigV2), curl PUT and GET 20 MiB")

# ---- multipart: upload_file / download_file -----------------------------------
cfg = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                     max_concurrency=4)
for n in src.names():
    s3.upload_file(src.path[n], B, "boto/up/" + n, Config=cfg)
events = sink.manifest_events("stored")
for n in src.names():
    ev = check_stored_once(sink, "boto/up/" + n, src.sha[n], src.size[n],
                           "upload_file", events=events)
    etag = s3.head_object(Bucket=B, Key="boto/up/" + n)["ETag"]
    want = md5_etag(src.path[n]) if src.size[n] < PART else \
        multipart_etag(src.path[n], PART)
    check(etag == want and ev.get("etag") == want.strip('"'),
          "%s: ETag %s (event %s), want %s" % (n, etag, ev.get("etag"), want))
sw.step("upload_file 1 KiB, 20 MiB, 200 MiB (multipart)")
for n in src.names():
    p = os.path.join(work, "down-" + n)
    s3.download_file(B, "boto/up/" + n, p, Config=cfg)
    check(file_sha256(p) == src.sha[n], "download_file: %s differs" % n)
    os.unlink(p)
sw.step("download_file of each, SHA-256 compared")

# a checksum per part: the object's is S3's composite, "-N"
key = "boto/ck/20m-crc32.bin"
s3.upload_file(src.path["20m.bin"], B, key, Config=cfg,
               ExtraArgs={"ChecksumAlgorithm": "CRC32"})
check_stored_once(sink, key, src.sha["20m.bin"], 20 * MiB, "CRC32 parts")
raw = b""
with open(src.path["20m.bin"], "rb") as f:
    for b in iter(lambda: f.read(PART), b""):
        raw += crc32_raw(b)
want = b64(crc32_raw(raw)) + "-3"
h = s3.head_object(Bucket=B, Key=key, ChecksumMode="ENABLED")
# vsink verifies each part's checksum and does not compute the object's
# (README): when it answers one, it must be S3's composite
check(h.get("ChecksumCRC32") in (None, want) and h["ETag"].endswith('-3"'),
      "upload_file ChecksumAlgorithm CRC32: %s %s, want %s" %
      (h.get("ChecksumCRC32"), h["ETag"], want))
sw.step("upload_file ChecksumAlgorithm CRC32 (multipart)")

# the managed copy above 8 MiB: UploadPartCopy
s3.copy({"Bucket": B, "Key": "boto/up/20m.bin"}, B, "boto/copy/20m.bin",
        Config=cfg)
check_stored_once(sink, "boto/copy/20m.bin", src.sha["20m.bin"], 20 * MiB,
                  "managed copy")
check(hashlib.sha256(get("boto/copy/20m.bin")).hexdigest() ==
      src.sha["20m.bin"], "managed copy: bytes differ")
check(s3.head_object(Bucket=B, Key="boto/copy/20m.bin")["ETag"] ==
      multipart_etag(src.path["20m.bin"], PART), "managed copy: ETag")
sw.step("s3.copy 20 MiB (UploadPartCopy)")

# by hand: two parts, one of them copied from a range of another object
key = "boto/hand/joined.bin"
up = s3.create_multipart_upload(Bucket=B, Key=key, ContentType="video/mp4")
uid = up["UploadId"]
p1 = pattern(5 * MiB, seed=45)
r1 = s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=1, Body=p1)
check(r1["ETag"] == '"%s"' % hashlib.md5(p1).hexdigest(), "part ETag %s" %
      r1["ETag"])
r2 = s3.upload_part_copy(Bucket=B, Key=key, UploadId=uid, PartNumber=2,
                         CopySource={"Bucket": B, "Key": "boto/up/20m.bin"},
                         CopySourceRange="bytes=0-1048575")
with open(src.path["20m.bin"], "rb") as f:
    p2 = f.read(MiB)
check(r2["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(p2).hexdigest(),
      "upload_part_copy: %s" % r2)
lp = s3.list_parts(Bucket=B, Key=key, UploadId=uid)
check([(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]] ==
      [(1, len(p1), r1["ETag"]), (2, MiB, r2["CopyPartResult"]["ETag"])],
      "list_parts: %s" % lp["Parts"])
lu = s3.list_multipart_uploads(Bucket=B, Prefix="boto/hand/")
check([(u["Key"], u["UploadId"]) for u in lu.get("Uploads", [])] ==
      [(key, uid)], "list_multipart_uploads: %s" % lu.get("Uploads"))
check(not stored_of(sink, key), "an event before Complete")
r = s3.complete_multipart_upload(
    Bucket=B, Key=key, UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["ETag"]},
        {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
want = '"%s-2"' % hashlib.md5(hashlib.md5(p1).digest() +
                              hashlib.md5(p2).digest()).hexdigest()
check(r["ETag"] == want, "complete: ETag %s, want %s" % (r["ETag"], want))
check(get(key) == p1 + p2, "completed object: bytes")
check_stored_once(sink, key, sha256(p1 + p2), len(p1) + MiB, "complete")
check(s3.head_object(Bucket=B, Key=key)["ContentType"] == "video/mp4",
      "the content type given at create")
check(not s3.list_multipart_uploads(Bucket=B).get("Uploads"),
      "completed upload still listed")
sw.step("create, upload_part, upload_part_copy, list_parts, "
        "list_multipart_uploads, complete")

key = "boto/hand/aborted.bin"
before = sink.object_files()
uid = s3.create_multipart_upload(Bucket=B, Key=key)["UploadId"]
s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=1,
               Body=pattern(MiB, seed=46))
s3.abort_multipart_upload(Bucket=B, Key=key, UploadId=uid)
check(error_code(s3.list_parts, Bucket=B, Key=key, UploadId=uid) ==
      "NoSuchUpload", "list_parts after abort")
check(not s3.list_multipart_uploads(Bucket=B).get("Uploads"),
      "aborted upload still listed")
check(error_code(s3.head_object, Bucket=B, Key=key) == "404",
      "an aborted upload is visible")
check(not stored_of(sink, key) and sink.object_files() == before,
      "an aborted upload left %s" % (set(sink.object_files()) - set(before)))
sw.step("abort_multipart_upload: nothing left")

# a multipart object overwritten keeps its version
s3.put_object(Bucket=B, Key="boto/up/20m.bin", Body=b"small now")
vs = s3.list_object_versions(Bucket=B, Prefix="boto/up/20m.bin")["Versions"]
check(len(vs) == 2 and vs[1]["ETag"] == multipart_etag(src.path["20m.bin"],
                                                        PART),
      "versions of the overwritten multipart object: %s" % vs)
check(hashlib.sha256(get("boto/up/20m.bin", VersionId=vs[1]["VersionId"]))
      .hexdigest() == src.sha["20m.bin"], "its old version's bytes")
sw.step("overwrite of a multipart object: the old version reads back")

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
