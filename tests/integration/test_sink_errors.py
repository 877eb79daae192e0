"""The sink's error table, row by row: each bad request gets S3's status and
XML code, and leaves no file (temporary or final) and no manifest line."""
import hashlib
import base64
import socket
import time
import urllib.parse

from vsharness import (Sink, check, fail, env_with_keys, s3_error_code,
                       KEY_ID, SECRET, pattern, boto3_client)

sink = Sink(tag="errors", args=["--max-object-size", "1MiB"]).start()
BODY = b"x" * 1000
# one stored object, for the GET/precondition rows
ok_url = sink.presign("PUT", "videos/exists.mp4")
st, _, _ = sink.request("PUT", ok_url, BODY)
check(st == 200, "setup PUT %d" % st)
# a multipart upload (CRC32 parts) with two small parts, for its rows
_s3 = boto3_client(sink)
UID = _s3.create_multipart_upload(Bucket="videos", Key="mpu.mp4",
                                  ChecksumAlgorithm="CRC32")["UploadId"]
PART_ETAGS = [_s3.upload_part(Bucket="videos", Key="mpu.mp4", UploadId=UID,
                              PartNumber=n, Body=b)["ETag"]
              for n, b in ((1, BODY), (2, b"y" * 1000))]
baseline_files = sink.object_files()
baseline_events = len(sink.manifest_events())


def amz(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def expect(name, status, code, method, url, body=None, headers=None):
    st, hdrs, data = sink.request(method, url, body, headers)
    got = s3_error_code(data) if data else None
    if st != status or (code and got != code):
        fail("%s: want %d %s, got %d %s: %s" % (name, status, code, st, got,
                                               data[:300]))
    check(hdrs.get("content-type", "").startswith("application/xml") or
          method == "HEAD", "%s: error body is not XML" % name)
    check(sink.object_files() == baseline_files,
          "%s: files changed: %s" % (name, sink.object_files()))
    check(not sink.temp_files(), "%s: temp file left" % name)
    check(len(sink.manifest_events()) == baseline_events,
          "%s: a manifest line was written" % name)
    print("ok  %-44s %d %s" % (name, st, got))


def tamper(url, param, value):
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    q = [(k, value if k == param else v) for k, v in q if
         value is not None or k != param]
    return urllib.parse.urlunsplit(u._replace(
        query=urllib.parse.urlencode(q, quote_via=urllib.parse.quote)))


now = time.time()
put = lambda key, **kw: sink.presign("PUT", "videos/" + key, **kw)

expect("no authentication", 403, "AccessDenied", "PUT",
       sink.endpoint + "/videos/a.mp4", BODY)
expect("expired URL", 403, "AccessDenied", "PUT",
       put("a.mp4", expires=60, date=amz(now - 7200)), BODY)
expect("not yet valid", 403, "AccessDenied", "PUT",
       put("a.mp4", date=amz(now + 3600)), BODY)
url = put("a.mp4")
sig = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)[
    "X-Amz-Signature"][0]
bad = ("0" if sig[0] != "0" else "1") + sig[1:]
expect("wrong signature", 403, "SignatureDoesNotMatch", "PUT",
       tamper(url, "X-Amz-Signature", bad), BODY)
expect("signed for another key", 403, "SignatureDoesNotMatch", "PUT",
       put("b.mp4").replace("/videos/b.mp4", "/videos/a.mp4"), BODY)
expect("signed for another method", 403, "SignatureDoesNotMatch", "PUT",
       sink.presign("GET", "videos/a.mp4"), BODY)
other = Sink(data=sink.data, env=env_with_keys(
    {"VSINK_ACCESS_KEY_ID": "AKIDUNKNOWN000000"}))
other.endpoint = sink.endpoint
expect("unknown access key", 403, "InvalidAccessKeyId", "PUT",
       other.presign("PUT", "videos/a.mp4"), BODY)
expect("expires over 7 days", 400, "AuthorizationQueryParametersError",
       "PUT", tamper(url, "X-Amz-Expires", "604801"), BODY)
expect("missing X-Amz-Date", 400, "AuthorizationQueryParametersError",
       "PUT", tamper(url, "X-Amz-Date", None), BODY)
expect("wrong region", 400, "AuthorizationQueryParametersError", "PUT",
       put("a.mp4", region="eu-west-1"), BODY)
expect("no such bucket", 404, "NoSuchBucket", "PUT",
       sink.presign("PUT", "nobucket/a.mp4"), BODY)
expect("no such key", 404, "NoSuchKey", "GET",
       sink.presign("GET", "videos/missing.mp4"))
s3 = boto3_client(sink)
expect("no such version", 404, "NoSuchVersion", "GET",
       s3.generate_presigned_url("get_object", Params={
           "Bucket": "videos", "Key": "exists.mp4",
           "VersionId": "20000101T000000000Z-000000"}))
expect("body over --max-object-size", 400, "EntityTooLarge", "PUT",
       put("big.mp4"), b"y" * (1024 * 1024 + 1))
expect("bad Content-MD5", 400, "BadDigest", "PUT", put("md5.mp4"), BODY,
       {"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest())
        .decode()})
expect("malformed Content-MD5", 400, "InvalidDigest", "PUT", put("md5.mp4"),
       BODY, {"Content-MD5": "not-base64!"})
expect("bad x-amz-checksum-sha256", 400, "BadDigest", "PUT",
       put("ck.mp4"), BODY,
       {"x-amz-checksum-sha256": base64.b64encode(
           hashlib.sha256(b"other").digest()).decode()})
# vsink presign refuses such a key itself; boto3 signs it
expect("key over 1024 bytes", 400, "KeyTooLongError", "PUT",
       s3.generate_presigned_url("put_object", Params={
           "Bucket": "videos", "Key": "k" * 1025}), BODY)
# "a/../b.mp4", "a//b", "a/b/", control bytes are keys S3 takes, stored
# inside the bucket (test_sink_keys); a NUL byte cannot be held
for bad_key in ["nul\x00byte.mp4", "\x00"]:
    # boto3 presigns these (argv cannot carry a NUL byte)
    expect("unsafe key %r" % bad_key, 400, "InvalidArgument", "PUT",
           s3.generate_presigned_url("put_object", Params={
               "Bucket": "videos", "Key": bad_key}), BODY)
expect("invalid UTF-8 key", 400, "InvalidArgument", "PUT",
       sink.presign_raw("PUT", "/videos/%FF%FE.mp4"), BODY)
# the same signer, on a valid path, is accepted: the row above is not a
# signature failure in disguise
st, _, _ = sink.request("PUT", sink.presign_raw("PUT", "/videos/raw%20ok.mp4"),
                        BODY)
check(st == 200, "raw-signed valid path: %d" % st)
# a multipart upload (CRC32 parts) with two small parts, for its rows
_s3 = boto3_client(sink)
UID = _s3.create_multipart_upload(Bucket="videos", Key="mpu.mp4",
                                  ChecksumAlgorithm="CRC32")["UploadId"]
PART_ETAGS = [_s3.upload_part(Bucket="videos", Key="mpu.mp4", UploadId=UID,
                              PartNumber=n, Body=b)["ETag"]
              for n, b in ((1, BODY), (2, b"y" * 1000))]
baseline_files = sink.object_files()
baseline_events = len(sink.manifest_events())
expect("If-None-Match: * on an existing key", 412, "PreconditionFailed",
       "PUT", put("exists.mp4"), BODY, {"If-None-Match": "*"})
expect("POST to an object", 405, "MethodNotAllowed", "POST",
       sink.presign("POST", "videos/exists.mp4"), BODY)
expect("missing Content-Length", 411, "MissingContentLength", "PUT",
       put("nolen.mp4"), None)

# DELETE never destroys a stored object (header-signed, from boto3): it
# adds a delete marker and the version stays readable (test_sink_delete)
kept = s3.head_object(Bucket="videos", Key="exists.mp4")["VersionId"]
d = s3.delete_object(Bucket="videos", Key="exists.mp4")
check(d.get("DeleteMarker") is True, "DELETE: %s" % d)
check(s3.head_object(Bucket="videos", Key="exists.mp4",
                     VersionId=kept)["ContentLength"] > 0,
      "DELETE destroyed the version")
s3.put_object(Bucket="videos", Key="exists.mp4", Body=BODY)
baseline_files = sink.object_files()  # the marker and the new version
baseline_events = len(sink.manifest_events())
print("ok  DELETE adds a delete marker and keeps the version")

# the payload hash a header-signed client signed must match the body
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
creds = Credentials(KEY_ID, SECRET)
# botocore signs the hash of the body it is given: sign one body, send
# another
areq = AWSRequest(method="PUT", url=sink.endpoint + "/videos/sha.mp4",
                  data=b"other")
S3SigV4Auth(creds, "s3", "us-east-1").add_auth(areq)
check(areq.headers["X-Amz-Content-SHA256"] ==
      hashlib.sha256(b"other").hexdigest(), "botocore signed another hash")
expect("x-amz-content-sha256 mismatch", 400, "XAmzContentSHA256Mismatch",
       "PUT", areq.url, BODY, dict(areq.headers.items()))
areq = AWSRequest(method="PUT", url=sink.endpoint + "/videos/sha.mp4",
                  data=BODY)
S3SigV4Auth(creds, "s3", "us-east-1").add_auth(areq)
hdrs = dict(areq.headers.items())
# an hour off, on the credential's own day (else the answer is, rightly,
# AuthorizationHeaderMalformed: from 00:00 to 01:00 UTC an hour back is
# yesterday)
hdrs["X-Amz-Date"] = amz(now - 3600 if time.gmtime(now).tm_hour >= 1
                         else now + 3600)
expect("header-signed, clock skewed", 403, "RequestTimeTooSkewed", "PUT",
       areq.url, BODY, hdrs)

# ---- multipart uploads ------------------------------------------------------


def mpu_url(op, key="mpu.mp4", **params):
    p = dict({"Bucket": "videos", "Key": key}, **params)
    return s3.generate_presigned_url(op, Params=p, ExpiresIn=600)


def complete_xml(parts):
    return ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e)
        for n, e in parts)).encode()


NOUP = "0" * 32
expect("UploadPart to no upload", 404, "NoSuchUpload", "PUT",
       mpu_url("upload_part", UploadId=NOUP, PartNumber=1), BODY)
expect("UploadPart for another key", 404, "NoSuchUpload", "PUT",
       mpu_url("upload_part", key="other.mp4", UploadId=UID, PartNumber=1),
       BODY)
expect("UploadPart partNumber 0", 400, "InvalidArgument", "PUT",
       mpu_url("upload_part", UploadId=UID, PartNumber=0), BODY)
expect("UploadPart partNumber 10001", 400, "InvalidArgument", "PUT",
       mpu_url("upload_part", UploadId=UID, PartNumber=10001), BODY)
expect("UploadPart over the size limit", 400, "EntityTooLarge", "PUT",
       mpu_url("upload_part", UploadId=UID, PartNumber=3), b"z" * (2 << 20))
expect("UploadPart bad Content-MD5", 400, "BadDigest", "PUT",
       mpu_url("upload_part", UploadId=UID, PartNumber=3), BODY,
       {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
expect("UploadPart another checksum than the upload's", 400,
       "InvalidRequest", "PUT", mpu_url("upload_part", UploadId=UID,
                                        PartNumber=3), BODY,
       {"x-amz-checksum-sha256": base64.b64encode(
           hashlib.sha256(BODY).digest()).decode()})
expect("UploadPart wrong CRC32", 400, "BadDigest", "PUT",
       mpu_url("upload_part", UploadId=UID, PartNumber=3), BODY,
       {"x-amz-checksum-crc32": "AAAAAA=="})
C = mpu_url("complete_multipart_upload", UploadId=UID)
expect("Complete of no upload", 404, "NoSuchUpload", "POST",
       mpu_url("complete_multipart_upload", UploadId=NOUP),
       complete_xml([(1, PART_ETAGS[0])]))
expect("Complete malformed XML", 400, "MalformedXML", "POST", C,
       b"<CompleteMultipartUpload><Part>")
expect("Complete of no parts", 400, "MalformedXML", "POST", C,
       b"<CompleteMultipartUpload></CompleteMultipartUpload>")
expect("Complete naming a part not sent", 400, "InvalidPart", "POST", C,
       complete_xml([(1, PART_ETAGS[0]), (7, PART_ETAGS[1])]))
expect("Complete with a wrong ETag", 400, "InvalidPart", "POST", C,
       complete_xml([(1, PART_ETAGS[1])]))
expect("Complete out of order", 400, "InvalidPartOrder", "POST", C,
       complete_xml([(2, PART_ETAGS[1]), (1, PART_ETAGS[0])]))
expect("Complete with a small part not last", 400, "EntityTooSmall", "POST",
       C, complete_xml([(1, PART_ETAGS[0]), (2, PART_ETAGS[1])]))
expect("Complete part number 0", 400, "InvalidArgument", "POST", C,
       complete_xml([(0, PART_ETAGS[0])]))
expect("Complete body over 4 MiB", 400, "EntityTooLarge", "POST", C,
       b" " * (4 << 20 | 1))
expect("Complete with a whole-object checksum", 501, "NotImplemented",
       "POST", C, complete_xml([(1, PART_ETAGS[0])]),
       {"x-amz-checksum-crc32": "AAAAAA=="})
expect("Abort of no upload", 404, "NoSuchUpload", "DELETE",
       mpu_url("abort_multipart_upload", UploadId=NOUP))
expect("ListParts of no upload", 404, "NoSuchUpload", "GET",
       mpu_url("list_parts", UploadId=NOUP))
expect("ListParts max-parts negative", 400, "InvalidArgument", "GET",
       mpu_url("list_parts", UploadId=UID, MaxParts=-1))
expect("ListMultipartUploads bad encoding-type", 400, "InvalidArgument",
       "GET", s3.generate_presigned_url("list_multipart_uploads", Params={
           "Bucket": "videos", "EncodingType": "xml"}))
expect("CreateMultipartUpload FULL_OBJECT SHA256", 400, "InvalidRequest",
       "POST", mpu_url("create_multipart_upload"), b"",
       {"x-amz-checksum-algorithm": "SHA256",
        "x-amz-checksum-type": "FULL_OBJECT"})
expect("CreateMultipartUpload a type without an algorithm", 400,
       "InvalidRequest", "POST", mpu_url("create_multipart_upload"), b"",
       {"x-amz-checksum-type": "COMPOSITE"})
expect("UploadPartCopy of no key", 404, "NoSuchKey", "PUT",
       mpu_url("upload_part_copy", UploadId=UID, PartNumber=3,
               CopySource="videos/none.mp4"), None,
       {"x-amz-copy-source": "videos/none.mp4"})
expect("UploadPartCopy range past the end", 400, "InvalidArgument", "PUT",
       mpu_url("upload_part_copy", UploadId=UID, PartNumber=3,
               CopySource="videos/exists.mp4"), None,
       {"x-amz-copy-source": "videos/exists.mp4",
        "x-amz-copy-source-range": "bytes=0-1000"})

# A truncated upload: libmicrohttpd closes the connection when the client
# closes before Content-Length bytes, so no status can reach that client;
# what matters is that nothing is left and the request is logged aborted.
u = urllib.parse.urlsplit(put("trunc.mp4"))
s = socket.create_connection((sink.host, sink.port), timeout=10)
s.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: 100000"
           "\r\n\r\n" % (u.path, u.query, sink.host, sink.port)).encode()
          + b"z" * 5000)
s.shutdown(socket.SHUT_WR)
resp = s.recv(4096)
s.close()
check(not resp.startswith(b"HTTP/1.1 200"), "truncated upload got 200")
time.sleep(0.3)
check(sink.object_files() == baseline_files and not sink.temp_files(),
      "truncated upload left files")
check(len(sink.manifest_events()) == baseline_events,
      "truncated upload wrote an event")
check(any(l.get("aborted") == "client-abort" for l in sink.log_lines()),
      "truncated upload not logged as aborted")
print("ok  truncated upload: connection closed, nothing left")

# the server kept serving others throughout
st, _, _ = sink.request("PUT", put("after.mp4"), BODY)
check(st == 200, "PUT after the error rows: %d" % st)
log = sink.log()
check(SECRET not in log and "X-Amz-Signature" not in log,
      "a secret or signature reached the log")
check(sink.stop() == 0, "sink exit status")
print("errors: every row answered as S3 does, nothing left behind")
