"""curl (Debian's 7.88) against a real sink, one complete workflow (issue 8,
Proof): `--aws-sigv4` requests and presigned URLs, as a script without an
SDK would do it.

- `--aws-sigv4` PUT (-T) of 1 KiB and 20 MiB, GET back (SHA-256
  compared), HEAD, a Range GET; the MD5 ETag; one `stored` event each;
- a presigned PUT and GET of 200 MiB (`vsink presign`, SigV4 query), and
  boto3's default presigned URL (SigV2 query with a custom endpoint) for a
  PUT and a GET;
- x-amz-checksum-sha256 / -crc32 on a PUT: stored and returned with
  x-amz-checksum-mode: ENABLED; a wrong one is 400 BadDigest, nothing kept;
- ListObjectsV2 with a delimiter; CopyObject (x-amz-copy-source);
- an overwrite keeps the earlier version: GET ?versions lists both,
  GET ?versionId= reads the old bytes;
- DELETE: a delete marker (404 with x-amz-delete-marker), the versions
  survive; DELETE ?versionId= refused (403) without --allow-purge;
- multipart by hand: POST ?uploads, PUT ?partNumber&uploadId (three parts of
  the 20 MiB file), GET ?uploadId (ListParts), GET ?uploads
  (ListMultipartUploads), POST ?uploadId (Complete: S3's "-3" ETag, one
  `stored` event with the whole object's SHA-256), and DELETE ?uploadId
  (Abort) of another: nothing left."""
import base64
import hashlib
import os
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

import boto3

from vsharness import (Sink, check, boto3_client, tmpdir, KEY_ID, SECRET,
                       ClientFiles, file_sha256, md5_etag, check_stored_once,
                       stored_of, s3_error_code, pattern, sha256, Stopwatch,
                       MiB)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
sw = Stopwatch("curl")
sink = Sink(tag="c-curl").start()
s3 = boto3_client(sink)
work = tmpdir("c-curl-work")
E = sink.endpoint
SIGV4 = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
         "%s:%s" % (KEY_ID, SECRET), "-H",
         "x-amz-content-sha256: UNSIGNED-PAYLOAD"]


def curl(args, signed=True, timeout=180, out="-"):
    """Runs curl; returns (status, headers (lower-case names), body (or
    nothing: the body went to the file out))."""
    hdr = os.path.join(work, "headers")
    cmd = ["curl", "-sS", "--max-time", str(timeout - 10), "-D", hdr,
           "-o", out] + (SIGV4 if signed else []) + args
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    check(r.returncode == 0, "curl %s: exit %d %s" % (args[-1][:120],
                                                     r.returncode, r.stderr))
    with open(hdr, "rb") as f:
        blocks = f.read().decode(errors="replace").split("\r\n\r\n")
    lines = [b for b in blocks if b.startswith("HTTP/")][-1].split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, r.stdout


def url(key, query=""):
    """The URL of key (of the bucket when key is empty). curl 7.88's
    --aws-sigv4 signs the query as written (fixed in later curls), so it is
    written here as SigV4 canonicalises it: values %-encoded, parameters
    sorted, `=` after a name without a value (`?uploads=`)."""
    q = sorted(p if "=" in p else p + "=" for p in query.split("&") if p)
    return "%s/videos%s%s" % (E, "/" + urllib.parse.quote(key) if key else
                              "", "?" + "&".join(q) if q else "")


def get_ok(key, query="", **kw):
    st, h, body = curl([url(key, query)], **kw)
    check(st == 200, "GET %s?%s: %d %r" % (key, query, st, body[:300]))
    return body


# ---- --aws-sigv4: PUT, GET, HEAD, Range -------------------------------------------
src = ClientFiles("c-curl", seed=81)
sw.step("made the 1 KiB / 20 MiB / 200 MiB files")
for n in ("1k.bin", "20m.bin"):
    st, h, body = curl(["-T", src.path[n], url("curl/up/" + n)])
    check(st == 200, "PUT %s: %d %r" % (n, st, body[:300]))
    check(h.get("etag") == md5_etag(src.path[n]), "PUT %s: ETag %s" %
          (n, h.get("etag")))
    check_stored_once(sink, "curl/up/" + n, src.sha[n], src.size[n], "PUT")
    p = os.path.join(work, "back-" + n)
    st, _, _ = curl([url("curl/up/" + n)], out=p)
    check(st == 200 and file_sha256(p) == src.sha[n], "GET %s: %d" % (n, st))
    os.unlink(p)
st, h, _ = curl(["-I", url("curl/up/20m.bin")])
check(st == 200 and h.get("content-length") == str(20 * MiB) and
      h.get("etag") == md5_etag(src.path["20m.bin"]), "HEAD: %d %s" % (st, h))
st, h, body = curl(["-H", "Range: bytes=%d-%d" % (9 * MiB, 9 * MiB + 99),
                    url("curl/up/20m.bin")])
with open(src.path["20m.bin"], "rb") as f:
    f.seek(9 * MiB)
    want = f.read(100)
check(st == 206 and body == want, "Range GET: %d" % st)
sw.step("--aws-sigv4 PUT/GET 1 KiB and 20 MiB, HEAD, Range")

# ---- presigned URLs: vsink's (SigV4) for 200 MiB, boto3's default (SigV2) ------
put = sink.presign("PUT", "videos/curl/up/200m.bin")
st, h, body = curl(["-T", src.path["200m.bin"], put], signed=False,
                   timeout=300)
check(st == 200 and h.get("etag") == md5_etag(src.path["200m.bin"]),
      "presigned PUT 200 MiB: %d %s %r" % (st, h.get("etag"), body[:300]))
check_stored_once(sink, "curl/up/200m.bin", src.sha["200m.bin"], 200 * MiB,
                  "presigned PUT")
p = os.path.join(work, "back-200m")
st, _, _ = curl([sink.presign("GET", "videos/curl/up/200m.bin")],
                signed=False, timeout=300, out=p)
check(st == 200 and file_sha256(p) == src.sha["200m.bin"],
      "presigned GET 200 MiB: %d" % st)
os.unlink(p)
plain = boto3.client("s3", endpoint_url=E, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
u = plain.generate_presigned_url("put_object", Params={
    "Bucket": "videos", "Key": "curl/v2/1k.bin"}, ExpiresIn=300)
check("AWSAccessKeyId=" in u and "X-Amz-" not in u, "not SigV2: %s" % u)
st, _, body = curl(["-T", src.path["1k.bin"], u], signed=False)
check(st == 200, "SigV2 presigned PUT: %d %r" % (st, body[:300]))
u = plain.generate_presigned_url("get_object", Params={
    "Bucket": "videos", "Key": "curl/v2/1k.bin"}, ExpiresIn=300)
st, _, body = curl([u], signed=False)
check(st == 200 and sha256(body) == src.sha["1k.bin"], "SigV2 GET: %d" % st)
check_stored_once(sink, "curl/v2/1k.bin", src.sha["1k.bin"], 1024, "SigV2")
sw.step("presigned PUT/GET 200 MiB (SigV4), boto3's default (SigV2)")

# ---- checksums ------------------------------------------------------------------
small = pattern(1024, seed=82)
p_small = os.path.join(work, "small.bin")
with open(p_small, "wb") as f:
    f.write(small)
ck = {"sha256": base64.b64encode(hashlib.sha256(small).digest()).decode(),
      "crc32": base64.b64encode(zlib.crc32(small).to_bytes(4, "big")).decode()}
for algo, value in ck.items():
    key = "curl/ck/%s.bin" % algo
    st, h, body = curl(["-T", p_small, "-H", "x-amz-checksum-%s: %s" %
                        (algo, value), url(key)])
    check(st == 200 and h.get("x-amz-checksum-" + algo) == value,
          "PUT x-amz-checksum-%s: %d %s %r" % (algo, st, h, body[:300]))
    st, h, body = curl(["-H", "x-amz-checksum-mode: ENABLED", url(key)])
    check(st == 200 and body == small and
          h.get("x-amz-checksum-" + algo) == value,
          "GET with checksum mode: %s" % h)
    check_stored_once(sink, key, sha256(small), 1024, "PUT " + algo)
    before = (sink.object_files(), len(sink.manifest_events()))
    bad = base64.b64encode(b"\0" * len(base64.b64decode(value))).decode()
    st, _, body = curl(["-T", p_small, "-H", "x-amz-checksum-%s: %s" %
                        (algo, bad), url("curl/ck/bad-%s.bin" % algo)])
    check(st == 400 and s3_error_code(body) == "BadDigest",
          "a wrong x-amz-checksum-%s: %d %r" % (algo, st, body[:300]))
    check((sink.object_files(), len(sink.manifest_events())) == before,
          "a wrong checksum left something")
sw.step("x-amz-checksum-sha256/-crc32: stored, returned; wrong: BadDigest")

# ---- list, copy -----------------------------------------------------------------
body = get_ok("", "list-type=2&prefix=curl%2F&delimiter=%2F")
root = ET.fromstring(body)
check([p.findtext(NS + "Prefix") for p in root.iter(NS + "CommonPrefixes")]
      == ["curl/ck/", "curl/up/", "curl/v2/"], "ListObjectsV2: %s" % body)
body = get_ok("", "list-type=2&prefix=curl%2Fup%2F")
got = [(c.findtext(NS + "Key"), int(c.findtext(NS + "Size")))
       for c in ET.fromstring(body).iter(NS + "Contents")]
check(got == [("curl/up/" + n, src.size[n]) for n in sorted(src.names())],
      "ListObjectsV2 of curl/up/: %s" % got)
st, _, body = curl(["-X", "PUT", "-H", "x-amz-copy-source: /videos/curl/up/"
                    "20m.bin", url("curl/copy/20m.bin")])
check(st == 200 and ET.fromstring(body).findtext(NS + "ETag") ==
      md5_etag(src.path["20m.bin"]), "CopyObject: %d %r" % (st, body[:300]))
ev = check_stored_once(sink, "curl/copy/20m.bin", src.sha["20m.bin"],
                       20 * MiB, "CopyObject")
check(ev["source"] == "copy", "copy event %s" % ev)
sw.step("ListObjectsV2, CopyObject")

# ---- versions, delete ------------------------------------------------------------
key = "curl/up/1k.bin"
newer = pattern(2000, seed=83)
st, _, _ = curl(["--data-binary", "", "-X", "PUT", url(key)])  # empty
check(st == 200, "PUT an empty body: %d" % st)
p_newer = os.path.join(work, "newer.bin")
with open(p_newer, "wb") as f:
    f.write(newer)
st, _, _ = curl(["-T", p_newer, url(key)])
check(st == 200 and get_ok(key) == newer, "overwrite")
body = get_ok("", "versions&prefix=" + urllib.parse.quote(key, safe=""))
vs = [(v.findtext(NS + "VersionId"), int(v.findtext(NS + "Size")),
       v.findtext(NS + "IsLatest")) for v in ET.fromstring(body).iter(
           NS + "Version")]
check([(s, l) for _, s, l in vs] == [(2000, "true"), (0, "false"),
                                     (1024, "false")],
      "ListObjectVersions: %s" % vs)
check(sha256(get_ok(key, "versionId=" + vs[2][0])) == src.sha["1k.bin"],
      "GET ?versionId= of the first version")
st, h, _ = curl(["-X", "DELETE", url(key)])
check(st == 204 and h.get("x-amz-delete-marker") == "true",
      "DELETE: %d %s" % (st, h))
st, h, body = curl([url(key)])
check(st == 404 and h.get("x-amz-delete-marker") == "true" and
      s3_error_code(body) == "NoSuchKey", "GET after DELETE: %d %s" % (st, h))
st, _, body = curl(["-X", "DELETE", url(key, "versionId=" + vs[2][0])])
check(st == 403 and s3_error_code(body) == "AccessDenied",
      "DELETE ?versionId= without --allow-purge: %d %r" % (st, body[:300]))
for vid, size, _ in vs:
    check(len(get_ok(key, "versionId=" + vid)) == size,
          "after DELETE: version %s" % vid)
check([e["key"] for e in sink.manifest_events("deleted")] == [key] and
      not sink.manifest_events("purged"), "delete events")
sw.step("overwrite, ?versions, ?versionId=, DELETE, purge refused")

# ---- multipart by hand ---------------------------------------------------------
key = "curl/mp/20m.bin"
st, _, body = curl(["-X", "POST", "-H", "Content-Type: video/mp4",
                    url(key, "uploads")])
check(st == 200, "CreateMultipartUpload: %d %r" % (st, body[:300]))
uid = ET.fromstring(body).findtext(NS + "UploadId")
check(uid, "no UploadId in %r" % body)
qid = "uploadId=" + urllib.parse.quote(uid, safe="")
etags = []
with open(src.path["20m.bin"], "rb") as f:
    for i, b in enumerate(iter(lambda: f.read(8 * MiB), b""), 1):
        p = os.path.join(work, "part%d" % i)
        with open(p, "wb") as out:
            out.write(b)
        st, h, body = curl(["-T", p, url(key, "partNumber=%d&%s" % (i, qid))])
        check(st == 200 and h.get("etag") == '"%s"' %
              hashlib.md5(b).hexdigest(), "UploadPart %d: %d %s %r" %
              (i, st, h.get("etag"), body[:300]))
        etags.append(h["etag"])
        os.unlink(p)
body = get_ok(key, qid)
parts = [(int(p.findtext(NS + "PartNumber")), p.findtext(NS + "ETag"),
          int(p.findtext(NS + "Size")))
         for p in ET.fromstring(body).iter(NS + "Part")]
check(parts == [(1, etags[0], 8 * MiB), (2, etags[1], 8 * MiB),
                (3, etags[2], 4 * MiB)], "ListParts: %s" % parts)
body = get_ok("", "uploads")
ups = [(u.findtext(NS + "Key"), u.findtext(NS + "UploadId"))
       for u in ET.fromstring(body).iter(NS + "Upload")]
check(ups == [(key, uid)], "ListMultipartUploads: %s" % ups)
check(not stored_of(sink, key), "an event before Complete")
xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
    "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, t)
    for i, t in enumerate(etags))
st, _, body = curl(["-X", "POST", "--data-binary", xml, "-H",
                    "Content-Type: application/xml", url(key, qid)])
want = '"%s-3"' % hashlib.md5(b"".join(
    bytes.fromhex(t.strip('"')) for t in etags)).hexdigest()
check(st == 200 and ET.fromstring(body).findtext(NS + "ETag") == want,
      "CompleteMultipartUpload: %d %r, want %s" % (st, body[:400], want))
ev = check_stored_once(sink, key, src.sha["20m.bin"], 20 * MiB, "Complete")
check(ev.get("etag") == want.strip('"'), "the event's etag %s" % ev)
p = os.path.join(work, "back-mp")
st, h, _ = curl([url(key)], out=p)
check(st == 200 and file_sha256(p) == src.sha["20m.bin"] and
      h.get("etag") == want and h.get("content-type") == "video/mp4",
      "GET of the completed object: %d %s" % (st, h))
sw.step("multipart: create, 3 parts, ListParts, ListMultipartUploads, "
        "Complete")

key = "curl/mp/aborted.bin"
before = sink.object_files()
st, _, body = curl(["-X", "POST", url(key, "uploads")])
uid = ET.fromstring(body).findtext(NS + "UploadId")
qid = "uploadId=" + urllib.parse.quote(uid, safe="")
st, _, _ = curl(["-T", p_small, url(key, "partNumber=1&" + qid)])
check(st == 200, "UploadPart: %d" % st)
st, _, body = curl(["-X", "DELETE", url(key, qid)])
check(st == 204, "AbortMultipartUpload: %d %r" % (st, body[:300]))
st, _, body = curl([url(key, qid)])
check(st == 404 and s3_error_code(body) == "NoSuchUpload",
      "ListParts after Abort: %d %r" % (st, body[:300]))
check(not list(ET.fromstring(get_ok("", "uploads")).iter(NS + "Upload")),
      "uploads listed after Abort and Complete")
check(sink.object_files() == before and not stored_of(sink, key),
      "an aborted upload left %s" % (set(sink.object_files()) - set(before)))
sw.step("multipart: Abort, nothing left")

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
