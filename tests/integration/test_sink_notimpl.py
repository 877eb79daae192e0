"""Requests the sink does not implement are refused, never served as another
one: with a stored object, every sub-resource call, copy, multipart call,
delete and semantics-changing PUT header, sent by real clients (boto3, the
AWS command line, curl --aws-sigv4) or signed here, gets S3's status and XML
code, and the object's bytes, its versions, the data folder and the
manifest stay exactly as they were. (Before the route table, PUT ?acl,
?tagging, ?partNumber&uploadId and copy-object replaced the object with the
request's body, and GET ?acl/?tagging/?attributes returned the video.)"""
import hashlib
import hmac
import os
import shutil
import subprocess
import time
import urllib.parse

from vsharness import (Sink, check, fail, env_with_keys, s3_error_code,
                       KEY_ID, SECRET, pattern, boto3_client)

sink = Sink(tag="notimpl").start()
s3 = boto3_client(sink)
KEY = "gen/clip.mp4"
BODY = pattern(70000, seed=3)
OTHER = b"<Tagging><TagSet/></Tagging>"  # what a wrong PUT would store

s3.put_object(Bucket="videos", Key=KEY, Body=BODY, ContentType="video/mp4")
# what real clients send with a plain PUT still works: rclone's
# x-amz-acl: private and x-amz-meta-*, an SDK's x-id
s3.put_object(Bucket="videos", Key=KEY, Body=BODY, ACL="private",
              Metadata={"mtime": "1700000000.5"})
base_files = sink.object_files()
base_events = sink.manifest_events()
check(len([e for e in base_events if e["event"] == "stored"]) == 2,
      "setup: two stored events")
refused = 0


def unchanged(name):
    got = s3.get_object(Bucket="videos", Key=KEY)["Body"].read()
    check(got == BODY, "%s: the object changed (%d bytes, %s...)"
          % (name, len(got), got[:40]))
    check(sink.object_files() == base_files,
          "%s: the data folder changed: %s" % (name, sink.object_files()))
    check(not sink.temp_files(), "%s: temporary file left" % name)
    check(sink.manifest_events() == base_events,
          "%s: the manifest changed" % name)


def boto(name, code, status, call, **params):
    global refused
    try:
        getattr(s3, call)(**params)
        fail("%s: %s was accepted" % (name, call))
    except s3.exceptions.ClientError as e:
        err = e.response["Error"]
        st = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(err.get("Code") == code and st == status,
              "%s: want %d %s, got %d %s" % (name, status, code, st, err))
    unchanged(name)
    refused += 1
    print("ok  boto3 %-40s %d %s" % (name, status, code))


V, K = {"Bucket": "videos"}, {"Bucket": "videos", "Key": KEY}
NI = "NotImplemented"
boto("put_object_acl", NI, 501, "put_object_acl", ACL="public-read", **K)
boto("put_object_acl private", NI, 501, "put_object_acl", ACL="private",
     **K)
boto("put_object_tagging", NI, 501, "put_object_tagging",
     Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}, **K)
# CopyObject is implemented (test_sink_copy); onto itself without REPLACE
# it is S3's InvalidRequest, and still never a PUT of its empty body
boto("copy_object onto itself", "InvalidRequest", 400, "copy_object",
     CopySource={"Bucket": "videos", "Key": KEY}, **K)
# multipart uploads are implemented (test_sink_multipart): on an upload
# that does not exist each is NoSuchUpload, and never a PUT of its body
NSU = "NoSuchUpload"
boto("upload_part to no upload", NSU, 404, "upload_part", UploadId="x",
     PartNumber=2, Body=OTHER, **K)
boto("upload_part_copy to no upload", NSU, 404, "upload_part_copy",
     UploadId="x", PartNumber=1, CopySource="videos/" + KEY, **K)
boto("complete_multipart_upload of none", NSU, 404,
     "complete_multipart_upload", UploadId="x",
     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"e"'}]}, **K)
boto("abort_multipart_upload of none", NSU, 404, "abort_multipart_upload",
     UploadId="x", **K)
boto("list_parts of none", NSU, 404, "list_parts", UploadId="x", **K)
boto("get_object_acl", NI, 501, "get_object_acl", **K)
# GetObjectTagging answers the empty set vsink's objects have
# (test_sink_objects); writing tags stays refused
boto("delete_object_tagging", NI, 501, "delete_object_tagging", **K)
boto("get_object_attributes", NI, 501, "get_object_attributes",
     ObjectAttributes=["ETag", "ObjectSize"], **K)
boto("get_object_retention", NI, 501, "get_object_retention", **K)
boto("put_object_retention", NI, 501, "put_object_retention",
     Retention={"Mode": "GOVERNANCE",
                "RetainUntilDate": "2030-01-01T00:00:00Z"}, **K)
boto("put_object_legal_hold", NI, 501, "put_object_legal_hold",
     LegalHold={"Status": "ON"}, **K)
boto("restore_object", NI, 501, "restore_object",
     RestoreRequest={"Days": 1}, **K)
# DeleteObject and DeleteObjects add delete markers: test_sink_delete; a
# purge (versionId) is refused unless vsink serve --allow-purge
boto("delete_object versionId", "AccessDenied", 403, "delete_object",
     VersionId="20000101T000000000Z-000000", **K)
boto("create_multipart_upload Tagging", NI, 501, "create_multipart_upload",
     Tagging="a=b", **K)
# ListBuckets, GetBucketLocation, GetBucketVersioning and CreateBucket:
# test_sink_buckets
boto("get_bucket_acl", NI, 501, "get_bucket_acl", **V)
boto("put_bucket_policy", NI, 501, "put_bucket_policy", Policy="{}", **V)
boto("delete_bucket", NI, 501, "delete_bucket", **V)
# a PUT whose headers change what it means
P = dict(K, Body=OTHER)
boto("put_object Tagging", NI, 501, "put_object", Tagging="a=b", **P)
boto("put_object ACL public-read", NI, 501, "put_object",
     ACL="public-read", **P)
boto("put_object GrantRead", NI, 501, "put_object", GrantRead="id=x", **P)
boto("put_object SSE AES256", NI, 501, "put_object",
     ServerSideEncryption="AES256", **P)
boto("put_object SSE aws:kms", NI, 501, "put_object",
     ServerSideEncryption="aws:kms", SSEKMSKeyId="k", **P)
boto("put_object StorageClass GLACIER", NI, 501, "put_object",
     StorageClass="GLACIER", **P)
boto("put_object WebsiteRedirectLocation", NI, 501, "put_object",
     WebsiteRedirectLocation="/x", **P)
boto("put_object ObjectLockMode", NI, 501, "put_object",
     ObjectLockMode="GOVERNANCE",
     ObjectLockRetainUntilDate="2030-01-01T00:00:00Z", **P)
boto("put_object ObjectLockLegalHold", NI, 501, "put_object",
     ObjectLockLegalHoldStatus="ON", **P)
# checksums are verified now (test_sink_checksums.py): a wrong one is
# refused and leaves everything as it was
boto("put_object ChecksumCRC32 wrong", "BadDigest", 400, "put_object",
     ChecksumCRC32="AAAAAA==", **P)

# ---- signed here: raw sub-resources, presigned and header-signed ------------
SCOPE_SVC = ("us-east-1", "s3", "aws4_request")


def _key(day):
    k = ("AWS4" + SECRET).encode()
    for part in (day,) + SCOPE_SVC:
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def _q(pairs):
    return "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                               urllib.parse.quote(v, safe="-_.~"))
                    for k, v in sorted(pairs))


def presign(method, path, params=()):
    """A presigned URL for path (already %-encoded) with extra query
    parameters, signed over host only (extra headers travel unsigned)."""
    now = time.gmtime()
    amz, day = time.strftime("%Y%m%dT%H%M%SZ", now), \
        time.strftime("%Y%m%d", now)
    scope = "/".join((day,) + SCOPE_SVC)
    q = list(params) + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "%s/%s" % (KEY_ID, scope)),
        ("X-Amz-Date", amz), ("X-Amz-Expires", "600"),
        ("X-Amz-SignedHeaders", "host")]
    host = "%s:%d" % (sink.host, sink.port)
    creq = "\n".join([method, path, _q(q), "host:" + host, "", "host",
                      "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(_key(day), sts.encode(), hashlib.sha256).hexdigest()
    return "%s%s?%s&X-Amz-Signature=%s" % (sink.endpoint, path, _q(q), sig)


def raw(name, status, code, method, url, body=None, headers=None):
    global refused
    st, hdrs, data = sink.request(method, url, body, headers)
    got = s3_error_code(data) if data else None
    if st != status or (code and got != code):
        fail("%s: want %d %s, got %d %s: %s" % (name, status, code, st, got,
                                               data[:200]))
    check(method == "HEAD" or hdrs.get("content-type", "")
          .startswith("application/xml"), "%s: error is not XML" % name)
    unchanged(name)
    refused += 1
    print("ok  %-46s %d %s" % (name, st, got))


OBJ = "/videos/gen/clip.mp4"
for sub in ("acl", "tagging", "attributes", "uploads", "restore", "select",
            "legal-hold", "retention", "torrent", "versions", "location"):
    if sub != "tagging":  # GetObjectTagging: test_sink_objects
        raw("GET ?%s" % sub, 501, NI, "GET", presign("GET", OBJ,
                                                     [(sub, "")]))
    raw("PUT ?%s" % sub, 501, NI, "PUT", presign("PUT", OBJ, [(sub, "")]),
        OTHER)
raw("PUT ?partNumber=2&uploadId=x", 404, "NoSuchUpload", "PUT",
    presign("PUT", OBJ, [("partNumber", "2"), ("uploadId", "x")]), OTHER)
raw("PUT ?partNumber=2", 501, NI, "PUT",
    presign("PUT", OBJ, [("partNumber", "2")]), OTHER)
# partNumber and the six response-* overrides are GetObject/HeadObject's
# (test_sink_objects); an unknown response-* and any on PUT are not
raw("GET ?response-foo", 501, NI, "GET",
    presign("GET", OBJ, [("response-foo", "text/plain")]))
raw("PUT ?response-content-type", 501, NI, "PUT",
    presign("PUT", OBJ, [("response-content-type", "text/plain")]), OTHER)
raw("PUT ?versionId", 501, NI, "PUT",
    presign("PUT", OBJ, [("versionId", "x")]), OTHER)
raw("PUT ?x-id=CopyObject", 501, NI, "PUT",
    presign("PUT", OBJ, [("x-id", "CopyObject")]), OTHER)
raw("PUT ?unknown-parameter", 501, NI, "PUT",
    presign("PUT", OBJ, [("unknown-parameter", "1")]), OTHER)
raw("PUT ?x-amz-acl=public-read (hoisted)", 501, NI, "PUT",
    presign("PUT", OBJ, [("x-amz-acl", "public-read")]), OTHER)
raw("PUT ?x-amz-checksum-sha256 (hoisted)", 501, NI, "PUT",
    presign("PUT", OBJ, [("x-amz-checksum-sha256", "AAAA")]), OTHER)
raw("PUT ?x-amz-checksum-crc32 (hoisted)", 501, NI, "PUT",
    presign("PUT", OBJ, [("x-amz-checksum-crc32", "AAAAAA==")]), OTHER)
raw("HEAD ?acl", 501, None, "HEAD", presign("HEAD", OBJ, [("acl", "")]))
raw("POST ?uploads with SSE", 501, NI, "POST",
    presign("POST", OBJ, [("uploads", "")]), b"",
    {"x-amz-server-side-encryption": "AES256"})
raw("POST ?select", 501, NI, "POST",
    presign("POST", OBJ, [("select", ""), ("select-type", "2")]), OTHER)
raw("POST to an object", 405, "MethodNotAllowed", "POST",
    presign("POST", OBJ), OTHER)
raw("DELETE ?versionId (a purge)", 403, "AccessDenied", "DELETE",
    presign("DELETE", OBJ, [("versionId", "20000101T000000000Z-000000")]))
# x-amz-copy-source makes it CopyObject, which takes no body: never a PUT
for val in ("/videos/gen/clip.mp4", "videos/other.mp4"):
    raw("PUT with x-amz-copy-source %s and a body" % val, 400,
        "InvalidRequest", "PUT", presign("PUT", OBJ), OTHER,
        {"x-amz-copy-source": val})
for hdr, val in [("x-amz-tagging", "a=b"),
                 ("x-amz-checksum-xxhash64", "AAAAAAAAAAA="),
                 ("x-amz-sdk-checksum-algorithm", "XXHASH64"),
                 ("x-amz-server-side-encryption-customer-algorithm",
                  "AES256"),
                 ("x-amz-grant-full-control", "id=x"),
                 ("x-amz-acl", "public-read-write"),
                 ("x-amz-storage-class", "DEEP_ARCHIVE"),
                 ("x-amz-website-redirect-location", "/x"),
                 ("x-amz-object-lock-mode", "COMPLIANCE"),
                 ("x-amz-write-offset-bytes", "0")]:
    raw("PUT with %s" % hdr, 501, NI, "PUT", presign("PUT", OBJ), OTHER,
        {hdr: val})
# verified checksums that do not hold, or do not parse: S3's 400s
for hdr, val, code in [
        ("x-amz-checksum-crc32", "AAAAAA==", "BadDigest"),
        ("x-amz-checksum-crc32c", "AAAAAA==", "BadDigest"),
        ("x-amz-checksum-sha1", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "BadDigest"),
        ("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=", "BadDigest"),
        ("x-amz-checksum-crc64nvme", "AAAAAA==", "InvalidRequest"),
        ("x-amz-sdk-checksum-algorithm", "CRC32", "InvalidRequest")]:
    raw("PUT with %s: %s" % (hdr, val), 400, code, "PUT",
        presign("PUT", OBJ), OTHER, {hdr: val})

# refusals come after authentication (S3's order): an unsigned caller
# learns nothing but AccessDenied ...
raw("unsigned PUT ?acl", 403, "AccessDenied", "PUT",
    sink.endpoint + OBJ + "?acl", OTHER)
raw("unsigned DELETE", 403, "AccessDenied", "DELETE", sink.endpoint + OBJ)
# ... except what no signature could make right
raw("PATCH (no such S3 method)", 405, "MethodNotAllowed", "PATCH",
    sink.endpoint + OBJ, OTHER)
raw("OPTIONS (CORS preflight)", 501, NI, "OPTIONS", sink.endpoint + OBJ)
# aws-chunked is decoded now (test_sink_awschunked.py); its headers on a
# whole body are refused, and a bad signature is still a bad signature
for hdr, val in [("x-amz-trailer", "x-amz-checksum-crc32"),
                 ("Content-Encoding", "aws-chunked"),
                 ("x-amz-decoded-content-length", "28")]:
    raw("PUT with %s on a whole body" % hdr, 400, "InvalidArgument", "PUT",
        presign("PUT", OBJ), OTHER, {hdr: val})
raw("aws-chunked (STREAMING-...), malformed signature", 400,
    "AuthorizationHeaderMalformed", "PUT", sink.endpoint + OBJ,
    OTHER, {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "Authorization": "AWS4-HMAC-SHA256 Credential=x, "
                             "SignedHeaders=host, Signature=0"})
raw("browser form upload", 501, NI, "POST", sink.endpoint + "/videos",
    b"--b\r\n\r\n--b--\r\n",
    {"Content-Type": "multipart/form-data; boundary=b"})

# ---- the AWS command line and curl --aws-sigv4 --------------------------------
aws_bin = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else \
    shutil.which("aws")
aws_env = env_with_keys({"AWS_ACCESS_KEY_ID": KEY_ID,
                         "AWS_SECRET_ACCESS_KEY": SECRET,
                         "AWS_DEFAULT_REGION": "us-east-1",
                         "AWS_CONFIG_FILE": "/dev/null",
                         "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                         "AWS_MAX_ATTEMPTS": "1"})


def cli(name, *args):
    global refused
    out = subprocess.run([aws_bin, "--endpoint-url", sink.endpoint, "s3api"]
                         + list(args), env=aws_env, capture_output=True,
                         timeout=120)
    err = out.stderr.decode()
    check(out.returncode != 0 and "(NotImplemented)" in err,
          "aws %s: exit %d, %s" % (name, out.returncode, err[-300:]))
    unchanged("aws " + name)
    refused += 1
    print("ok  aws s3api %-36s NotImplemented" % name)


if aws_bin:
    B, KK = ["--bucket", "videos"], ["--key", KEY]
    cli("put-object-acl", "put-object-acl", "--acl", "private", *B, *KK)
    cli("put-object-tagging", "put-object-tagging", "--tagging",
        "TagSet=[{Key=a,Value=b}]", *B, *KK)
    cli("get-object-acl", "get-object-acl", *B, *KK)
    cli("get-bucket-policy", "get-bucket-policy", *B)
else:
    print("note: no aws command line, its rows skipped")

# curl 7.88's --aws-sigv4 signs "?tagging" as "tagging" where SigV4 wants
# "tagging=", so its sub-resource rows go to presigned URLs
SIGV4 = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
         "%s:%s" % (KEY_ID, SECRET), "-H",
         "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
for name, args in [
        ("PUT ?tagging (presigned)",
         ["-X", "PUT", "--data-binary", OTHER.decode(),
          presign("PUT", OBJ, [("tagging", "")])]),
        ("GET ?acl (presigned)", [presign("GET", OBJ, [("acl", "")])])]:
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}"] + args,
                         capture_output=True, timeout=60)
    body, _, status = out.stdout.rpartition(b"\n")
    check(status == b"501" and s3_error_code(body) == NI,
          "curl %s: %s %s %s" % (name, status, body[:200], out.stderr))
    unchanged("curl " + name)
    refused += 1
    print("ok  curl %-41s 501 %s" % (name, NI))

# the sink still serves and stores after all that
again = pattern(1000, seed=4)
s3.put_object(Bucket="videos", Key="gen/after.mp4", Body=again)
check(s3.get_object(Bucket="videos", Key="gen/after.mp4")["Body"].read() ==
      again, "a plain PUT after the refusals")
check(sink.stop() == 0, "sink exit status")
print("notimpl: %d refused requests, the object, its versions and the "
      "manifest unchanged" % refused)
