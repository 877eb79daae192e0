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
for bad_key in ["a/../b.mp4", "a/./b.mp4", "a//b.mp4", "a/b/", "..",
                "nul\x00byte.mp4", "ctl\x01byte.mp4", "del\x7f.mp4"]:
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
hdrs["X-Amz-Date"] = amz(now - 3600)
expect("header-signed, clock skewed", 403, "RequestTimeTooSkewed", "PUT",
       areq.url, BODY, hdrs)

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
