"""GetObject, HeadObject and PutObject as S3 has them (issue 8, "Objects"):

- the ETag is the body's MD5 (s3cmd compares it: with the old SHA-256 ETag
  `s3cmd put` retried six times, storing six versions, and failed); s3cmd
  put/get now succeed at once and store exactly one version;
- `--etag sha256` keeps the old behaviour (SHA-256 ETag, MD5 only when
  Content-MD5 is sent);
- user metadata (x-amz-meta-*, S3's 2 KiB limit: 400 MetadataTooLarge,
  nothing kept) and Cache-Control, Content-Disposition, Content-Encoding,
  Content-Language, Expires: kept with the version (metadata file and
  `stored` event) and returned by GET and HEAD (boto3 round trip);
- response-content-* parameters of a signed GET/HEAD override them;
- conditional GET/HEAD: If-Match (412), If-None-Match (304),
  If-Modified-Since (304), If-Unmodified-Since (412), S3's precedence rules,
  with and without Range; boto3 get_object(IfMatch=, Range=) as s3transfer
  sends it;
- PutObject If-Match: 412 (nothing kept) when the ETag differs, 404 when
  the key holds nothing, a new version when it matches;
- partNumber=1 of an object stored by one PUT: the whole object (206 with
  its Content-Range, as S3) and no x-amz-mp-parts-count; other parts 416
  InvalidPartNumber;
- an object stored by an older vsink (metadata without the new fields, a
  SHA-256 ETag) is still served with the ETag it was stored with."""
import datetime
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from vsharness import (Sink, check, fail, boto3_client, s3_error_code,
                       pattern, KEY_ID, SECRET)

BUCKET = "videos"


def md5(b):
    return hashlib.md5(b).hexdigest()


def key_dir(sink, key):
    return os.path.join(sink.data, "buckets", BUCKET, key)


def versions(sink, key):
    d = key_dir(sink, key)
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d)
                  if f.startswith("@") and f != "@current" and
                  not f.endswith(".json"))


def stored(sink, key):
    return [e for e in sink.manifest_events("stored") if e.get("key") == key]


def client_error(fn, *a, **kw):
    from botocore.exceptions import ClientError
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Code"))
    fail("%s succeeded, an error was expected" % fn.__name__)


# ---- the ETag, metadata and content headers ---------------------------------


def metadata_round_trip(sink, s3):
    body = pattern(300000, seed=3)
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5,
                                tzinfo=datetime.timezone.utc)
    meta = {"Camera": "A7", "take": "12", "note": "two words, a comma"}
    r = s3.put_object(Bucket=BUCKET, Key="meta/clip.mp4", Body=body,
                      ContentType="video/mp4", Metadata=meta,
                      CacheControl="max-age=600",
                      ContentDisposition='attachment; filename="clip.mp4"',
                      ContentEncoding="identity", ContentLanguage="en-GB",
                      Expires=expires)
    check(r["ETag"] == '"%s"' % md5(body),
          "PUT ETag %s is not the MD5 %s" % (r["ETag"], md5(body)))
    want_meta = dict((k.lower(), v) for k, v in meta.items())
    for name, got in (("HEAD", s3.head_object(Bucket=BUCKET,
                                              Key="meta/clip.mp4")),
                      ("GET", s3.get_object(Bucket=BUCKET,
                                            Key="meta/clip.mp4"))):
        check(got["ETag"] == '"%s"' % md5(body), "%s ETag %s" %
              (name, got["ETag"]))
        check(got["Metadata"] == want_meta, "%s Metadata %r, want %r" %
              (name, got["Metadata"], want_meta))
        check(got["CacheControl"] == "max-age=600", name + " CacheControl")
        check(got["ContentDisposition"] == 'attachment; filename="clip.mp4"',
              name + " ContentDisposition")
        check(got["ContentEncoding"] == "identity", name + " ContentEncoding")
        check(got["ContentLanguage"] == "en-GB", name + " ContentLanguage")
        check(got["Expires"] == expires, "%s Expires %r" %
              (name, got.get("Expires")))
        check(got["ContentType"] == "video/mp4", name + " ContentType")
        if name == "GET":
            check(got["Body"].read() == body, "GET body differs")
    # kept with the version: its metadata file and its stored event
    ev = stored(sink, "meta/clip.mp4")
    check(len(ev) == 1, "one stored event, got %d" % len(ev))
    check(ev[0]["etag"] == md5(body), "event etag %s" % ev[0]["etag"])
    h = ev[0].get("headers") or {}
    check(h.get("x-amz-meta-camera") == "A7" and
          h.get("cache-control") == "max-age=600" and
          h.get("content-language") == "en-GB",
          "stored event headers: %r" % h)
    metas = glob.glob(os.path.join(key_dir(sink, "meta/clip.mp4"), "@*.json"))
    check(len(metas) == 1, "one metadata file: %r" % metas)
    with open(metas[0]) as f:
        m = json.load(f)
    check(m["headers"]["x-amz-meta-note"] == "two words, a comma",
          "metadata file headers: %r" % m.get("headers"))
    # an object without any: no headers field at all
    s3.put_object(Bucket=BUCKET, Key="meta/plain", Body=b"x")
    check("headers" not in stored(sink, "meta/plain")[0],
          "an object without metadata has an event without headers")
    got = s3.head_object(Bucket=BUCKET, Key="meta/plain")
    check(got["Metadata"] == {} and "CacheControl" not in got,
          "plain object's HEAD: %r" % got)


def etag_md5_default(sink):
    body = pattern(70000, seed=5)
    st, h, _ = sink.request("PUT", sink.presign("PUT", BUCKET + "/etag/o"),
                            body=body)
    check(st == 200 and h.get("etag") == '"%s"' % md5(body),
          "no Content-MD5 sent: the ETag is still the MD5: %r" % h)


def metadata_in_query(sink, s3):
    # x-amz-meta-* in a presigned URL's query (the router takes them there)
    url = presign_query(sink, "PUT", "meta/query", {"x-amz-meta-Shot": "3",
                                                   "x-amz-meta-a": "x y"})
    st, _, data = sink.request("PUT", url, body=b"q")
    check(st == 200, "presigned PUT with metadata: %d %r" % (st, data))
    got = s3.head_object(Bucket=BUCKET, Key="meta/query")
    check(got["Metadata"] == {"shot": "3", "a": "x y"},
          "query metadata: %r" % got["Metadata"])
    # botocore's presigned PUT signs Metadata as headers, to be sent
    url = s3.generate_presigned_url("put_object", Params={
        "Bucket": BUCKET, "Key": "meta/query2", "Metadata": {"take": "9"}},
        ExpiresIn=600)
    st, _, data = sink.request("PUT", url, body=b"q",
                               headers={"x-amz-meta-take": "9"})
    check(st == 200, "botocore presigned PUT with metadata: %d" % st)
    got = s3.head_object(Bucket=BUCKET, Key="meta/query2")
    check(got["Metadata"] == {"take": "9"}, "presigned header metadata: %r"
          % got["Metadata"])


def metadata_limit(sink, s3):
    # 2 KiB of names (less x-amz-meta-) and values: accepted, one byte more
    # refused with nothing kept
    ok = {"a": "v" * 2047}
    s3.put_object(Bucket=BUCKET, Key="meta/limit", Body=b"ok", Metadata=ok)
    check(s3.head_object(Bucket=BUCKET, Key="meta/limit")["Metadata"] == ok,
          "2 KiB of metadata kept")
    before = (sink.object_files(), len(sink.manifest_events("stored")))
    for meta in ({"a": "v" * 2048}, {"k%d" % i: "x" * 100 for i in range(20)}):
        st, code = client_error(s3.put_object, Bucket=BUCKET,
                                Key="meta/toolarge", Body=b"no",
                                Metadata=meta)
        check((st, code) == (400, "MetadataTooLarge"),
              "over 2 KiB: %s %s" % (st, code))
    check((sink.object_files(), len(sink.manifest_events("stored"))) ==
          before, "a refused PUT left something")


def etag_sha256_mode():
    sink = Sink(args=["--etag", "sha256"], tag="etag256")
    sink.start()
    body = b"sha256 mode"
    # presigned, so that no Content-MD5 comes (botocore adds one to
    # put_object)
    st, h, _ = sink.request("PUT", sink.presign("PUT", BUCKET + "/k"),
                            body=body)
    check(st == 200 and h.get("etag") ==
          '"%s"' % hashlib.sha256(body).hexdigest(),
          "--etag sha256: ETag %s" % h.get("etag"))
    s3 = boto3_client(sink)
    r = s3.put_object(Bucket=BUCKET, Key="k2", Body=body,
                      ContentMD5=__import__("base64").b64encode(
                          hashlib.md5(body).digest()).decode())
    check(r["ETag"] == '"%s"' % md5(body),
          "--etag sha256 with Content-MD5: ETag %s" % r["ETag"])
    ev = dict((e["key"], e) for e in sink.manifest_events("stored"))
    check(ev["k"]["etag"] == hashlib.sha256(body).hexdigest() and
          ev["k2"]["etag"] == md5(body), "events: %r" % ev)
    check(sink.stop() == 0, "sink exit status")


# ---- conditional GET and HEAD -----------------------------------------------


def http_date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


def conditional_matrix(sink, s3):
    body = pattern(1000, seed=7)
    etag = md5(body)
    s3.put_object(Bucket=BUCKET, Key="cond/obj", Body=body)
    head = s3.head_object(Bucket=BUCKET, Key="cond/obj")
    mtime = int(head["LastModified"].timestamp())
    E, X = '"%s"' % etag, '"%s"' % ("0" * 32)
    before, after, same = http_date(mtime - 3600), http_date(mtime + 3600), \
        http_date(mtime)
    rows = [
        # alone
        ({"If-Match": E}, 200), ({"If-Match": X}, 412),
        ({"If-Match": "*"}, 200), ({"If-Match": etag}, 200),  # unquoted
        ({"If-Match": "%s, %s" % (X, E)}, 200),
        ({"If-Match": "W/" + E}, 412),  # strong comparison
        ({"If-None-Match": E}, 304), ({"If-None-Match": X}, 200),
        ({"If-None-Match": "*"}, 304), ({"If-None-Match": "W/" + E}, 304),
        ({"If-Modified-Since": before}, 200),
        ({"If-Modified-Since": after}, 304),
        ({"If-Modified-Since": same}, 304),
        ({"If-Modified-Since": "not a date"}, 200),  # ignored
        ({"If-Unmodified-Since": before}, 412),
        ({"If-Unmodified-Since": after}, 200),
        ({"If-Unmodified-Since": same}, 200),
        # S3's precedence rules
        ({"If-Match": E, "If-Unmodified-Since": before}, 200),
        ({"If-None-Match": E, "If-Modified-Since": before}, 304),
        ({"If-Match": X, "If-None-Match": X}, 412),
        ({"If-None-Match": X, "If-Modified-Since": after}, 200),
        ({"If-Match": E, "If-None-Match": E}, 304),
        ({"If-Unmodified-Since": before, "If-None-Match": E}, 412),
    ]
    url_get = sink.presign("GET", BUCKET + "/cond/obj")
    url_head = sink.presign("HEAD", BUCKET + "/cond/obj")
    n = 0
    for hdrs, want in rows:
        for method, url in (("GET", url_get), ("HEAD", url_head)):
            for ranged in (False, True):
                h = dict(hdrs)
                if ranged:
                    h["Range"] = "bytes=10-19"
                st, rh, data = sink.request(method, url, headers=h)
                exp = 206 if (want == 200 and ranged) else want
                check(st == exp, "%s %r: %d, want %d" % (method, h, st, exp))
                if st == 304:
                    check(data == b"" and rh.get("etag") == E,
                          "304 without body, with ETag: %r" % rh)
                if st == 412 and method == "GET":
                    check(s3_error_code(data) == "PreconditionFailed",
                          "412 code: %r" % data)
                if st in (200, 206) and method == "GET":
                    check(data == (body[10:20] if ranged else body),
                          "%r: wrong bytes" % h)
                n += 1
    # If-Range: a range only while the object is the one named
    st, _, data = sink.request("GET", url_get,
                               headers={"Range": "bytes=0-9", "If-Range": E})
    check(st == 206 and data == body[:10], "If-Range matching: %d" % st)
    st, _, data = sink.request("GET", url_get,
                               headers={"Range": "bytes=0-9", "If-Range": X})
    check(st == 200 and data == body, "If-Range not matching: %d" % st)
    # boto3, as s3transfer sends it: If-Match on a ranged GET
    r = s3.get_object(Bucket=BUCKET, Key="cond/obj", Range="bytes=0-99",
                      IfMatch=E)
    check(r["Body"].read() == body[:100], "boto3 ranged If-Match")
    st, code = client_error(s3.get_object, Bucket=BUCKET, Key="cond/obj",
                            Range="bytes=0-99", IfMatch=X)
    check((st, code) == (412, "PreconditionFailed"), "boto3 If-Match: %s" % st)
    st, _ = client_error(s3.head_object, Bucket=BUCKET, Key="cond/obj",
                         IfNoneMatch=E)
    check(st == 304, "boto3 head If-None-Match: %s" % st)
    return n


# ---- response-* overrides, partNumber ---------------------------------------


def presign_query(sink, method, key, params):
    """A SigV4 presigned URL with extra query parameters, signed by
    botocore's own signer (its HeadObject model has no response-*)."""
    import urllib.parse
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = "%s/%s/%s?%s" % (sink.endpoint, BUCKET, key,
                           urllib.parse.urlencode(params))
    req = AWSRequest(method=method, url=url)
    S3SigV4QueryAuth(Credentials(KEY_ID, SECRET), "s3", "us-east-1",
                     expires=600).add_auth(req)
    return req.url


def overrides(sink, s3):
    body = b"override me"
    s3.put_object(Bucket=BUCKET, Key="ovr/o", Body=body, ContentType="a/b",
                  CacheControl="max-age=1", Metadata={"m": "1"})
    params = {"response-content-type": "text/plain; charset=utf-8",
              "response-content-language": "fr",
              "response-expires": "Tue, 06 May 2031 07:08:09 GMT",
              "response-cache-control": "no-cache",
              "response-content-disposition":
                  'attachment; filename="d\u00e9j\u00e0 vu.mp4"',
              "response-content-encoding": "gzip"}
    for method in ("GET", "HEAD"):
        url = presign_query(sink, method, "ovr/o", params)
        st, h, data = sink.request(method, url)
        check(st == 200, "%s with response-*: %d %r" % (method, st, data))
        check(h.get("content-type") == "text/plain; charset=utf-8" and
              h.get("content-language") == "fr" and
              h.get("cache-control") == "no-cache" and
              h.get("content-encoding") == "gzip" and
              h.get("expires", "").startswith("Tue, 06 May 2031") and
              h.get("content-disposition", "").startswith("attachment;") and
              h.get("x-amz-meta-m") == "1",
              "%s overridden headers: %r" % (method, h))
        check(list(h).count("cache-control") == 1, "one Cache-Control")
        if method == "GET":
            check(data == body, "GET body")
    # a 304 carries what a cache refreshes: Cache-Control (RFC 9110)
    st, h, data = sink.request("GET", sink.presign("GET", BUCKET + "/ovr/o"),
                               headers={"If-None-Match": '"%s"' % md5(body)})
    check(st == 304 and h.get("cache-control") == "max-age=1" and
          data == b"", "304 with the stored Cache-Control: %d %r" % (st, h))
    # boto3 header-signed GET with overrides
    r = s3.get_object(Bucket=BUCKET, Key="ovr/o", ResponseContentType="x/y")
    check(r["ContentType"] == "x/y" and r["CacheControl"] == "max-age=1",
          "boto3 ResponseContentType: %r" % r["ResponseMetadata"])
    # a value that could split the answer is refused
    url = presign_query(sink, "GET", "ovr/o", {
        "response-content-type": "a\r\nSet-Cookie: x=y"})
    st, h, data = sink.request("GET", url)
    check(st == 400 and s3_error_code(data) == "InvalidArgument" and
          "set-cookie" not in h, "CRLF in response-content-type: %d" % st)
    # unknown response-* and any on PUT: the route table refuses them
    url = presign_query(sink, "GET", "ovr/o", {"response-foo": "a"})
    st, _, data = sink.request("GET", url)
    check(st == 501, "GET with response-foo: %d %r" % (st, data))
    url = presign_query(sink, "PUT", "ovr/p", {"response-content-type": "a"})
    st, _, data = sink.request("PUT", url, body=b"x")
    check(st == 501, "PUT with response-*: %d %r" % (st, data))
    check(not versions(sink, "ovr/p"), "a refused PUT stored something")


def part_numbers(sink, s3):
    body = pattern(5000, seed=9)
    s3.put_object(Bucket=BUCKET, Key="part/o", Body=body)
    r = s3.get_object(Bucket=BUCKET, Key="part/o", PartNumber=1)
    h = r["ResponseMetadata"]["HTTPHeaders"]
    check(r["Body"].read() == body, "partNumber=1: the whole object")
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 206 and
          h.get("content-range") == "bytes 0-4999/5000",
          "partNumber=1: 206 with Content-Range, as S3: %r" % h)
    check("x-amz-mp-parts-count" not in h and "PartsCount" not in r,
          "no parts count for a single-part object")
    r = s3.head_object(Bucket=BUCKET, Key="part/o", PartNumber=1)
    check(r["ContentLength"] == 5000 and "PartsCount" not in r,
          "HEAD partNumber=1: %r" % r)
    for fn in (s3.get_object, s3.head_object):
        st, code = client_error(fn, Bucket=BUCKET, Key="part/o",
                                PartNumber=2)
        check(st == 416 and code in ("InvalidPartNumber", "416"),
              "partNumber=2: %s %s" % (st, code))
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": BUCKET, "Key": "part/o", "PartNumber": 0}, ExpiresIn=600)
    st, _, data = sink.request("GET", url)
    check(st == 400 and s3_error_code(data) == "InvalidArgument",
          "partNumber=0: %d %r" % (st, data))
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": BUCKET, "Key": "part/o", "PartNumber": 1}, ExpiresIn=600)
    st, _, data = sink.request("GET", url, headers={"Range": "bytes=0-1"})
    check(st == 400 and s3_error_code(data) == "InvalidRequest",
          "partNumber with Range: %d %r" % (st, data))
    # an empty object has no byte range: 200
    s3.put_object(Bucket=BUCKET, Key="part/empty", Body=b"")
    r = s3.get_object(Bucket=BUCKET, Key="part/empty", PartNumber=1)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "empty part 1")


# ---- PutObject If-Match ------------------------------------------------------


def put_if_match(sink, s3):
    s3.put_object(Bucket=BUCKET, Key="pim/o", Body=b"one")
    url = sink.presign("PUT", BUCKET + "/pim/o")
    before = (sink.object_files(), len(sink.manifest_events("stored")))
    st, _, data = sink.request("PUT", url, body=b"two",
                               headers={"If-Match": '"%s"' % md5(b"nope")})
    check(st == 412 and s3_error_code(data) == "PreconditionFailed",
          "PUT If-Match wrong: %d %r" % (st, data))
    check((sink.object_files(), len(sink.manifest_events("stored"))) ==
          before, "a refused If-Match PUT left something")
    st, h, _ = sink.request("PUT", url, body=b"two",
                            headers={"If-Match": '"%s"' % md5(b"one")})
    check(st == 200 and h.get("etag") == '"%s"' % md5(b"two"),
          "PUT If-Match right: %d" % st)
    check(len(versions(sink, "pim/o")) == 2, "the older version survives")
    st, _, _ = sink.request("PUT", url, body=b"three",
                            headers={"If-Match": "*"})
    check(st == 200, "PUT If-Match * on an object: %d" % st)
    url = sink.presign("PUT", BUCKET + "/pim/absent")
    st, _, data = sink.request("PUT", url, body=b"x",
                               headers={"If-Match": '"%s"' % md5(b"x")})
    check(st == 404 and s3_error_code(data) == "NoSuchKey",
          "PUT If-Match on no object: %d %r" % (st, data))
    check(not versions(sink, "pim/absent"), "nothing stored")
    st, _, data = sink.request("PUT", url, body=b"x",
                               headers={"If-Match": '"a", "b"'})
    check(st == 501, "PUT If-Match with a list: %d" % st)


# ---- an object stored by an older vsink --------------------------------------


def old_layout(sink, s3):
    body = b"stored before metadata was kept"
    s3.put_object(Bucket=BUCKET, Key="old/o", Body=body,
                  Metadata={"gone": "1"})
    (meta,) = glob.glob(os.path.join(key_dir(sink, "old/o"), "@*.json"))
    with open(meta) as f:
        m = json.load(f)
    sha = hashlib.sha256(body).hexdigest()
    old = {"bytes": m["bytes"], "sha256": sha, "md5": "", "etag": sha,
           "contentType": m["contentType"], "mtime": m["mtime"],
           "versionId": m["versionId"]}
    with open(meta, "w") as f:
        f.write(json.dumps(old, separators=(",", ":")) + "\n")
    for r in (s3.head_object(Bucket=BUCKET, Key="old/o"),
              s3.get_object(Bucket=BUCKET, Key="old/o")):
        check(r["ETag"] == '"%s"' % sha, "old object's ETag: %s" % r["ETag"])
        check(r["Metadata"] == {}, "old object's metadata: %r" % r["Metadata"])
    check(s3.get_object(Bucket=BUCKET, Key="old/o",
                        IfMatch='"%s"' % sha)["Body"].read() == body,
          "old object with If-Match on its stored ETag")


# ---- s3cmd ---------------------------------------------------------------------


def s3cmd_put_get(sink):
    s3cmd = shutil.which("s3cmd")
    if not s3cmd:
        print("s3cmd not installed: its rows skipped")
        return
    work = tempfile.mkdtemp(prefix="vsink-s3cmd-")
    try:
        cfg = os.path.join(work, "s3cfg")
        hostport = "%s:%d" % (sink.host, sink.port)
        with open(cfg, "w") as f:
            f.write("[default]\naccess_key = %s\nsecret_key = %s\n"
                    "host_base = %s\nhost_bucket = %s\nuse_https = False\n"
                    "signature_v2 = False\nbucket_location = us-east-1\n"
                    "check_ssl_certificate = False\n" %
                    (KEY_ID, SECRET, hostport, hostport))
        src = os.path.join(work, "clip.bin")
        data = pattern(3 << 20, seed=11)
        with open(src, "wb") as f:
            f.write(data)
        env = dict(os.environ, HOME=work)
        out = subprocess.run([s3cmd, "-c", cfg, "put", src,
                              "s3://%s/s3cmd/clip.bin" % BUCKET],
                             capture_output=True, timeout=120, env=env)
        text = (out.stdout + out.stderr).decode(errors="replace")
        check(out.returncode == 0, "s3cmd put failed: %s" % text)
        check("retr" not in text.lower() and "MD5" not in text and
              "WARNING" not in text,
              "s3cmd put complained or retried: %s" % text)
        check(len(versions(sink, "s3cmd/clip.bin")) == 1,
              "s3cmd put stored %d versions" %
              len(versions(sink, "s3cmd/clip.bin")))
        check(len(stored(sink, "s3cmd/clip.bin")) == 1, "one stored event")
        dst = os.path.join(work, "back.bin")
        out = subprocess.run([s3cmd, "-c", cfg, "get",
                              "s3://%s/s3cmd/clip.bin" % BUCKET, dst],
                             capture_output=True, timeout=120, env=env)
        text = (out.stdout + out.stderr).decode(errors="replace")
        check(out.returncode == 0 and "WARNING" not in text,
              "s3cmd get: %s" % text)
        with open(dst, "rb") as f:
            check(f.read() == data, "s3cmd get: bytes differ")
    finally:
        shutil.rmtree(work, True)


def tags_empty(sink, s3):
    """GetObjectTagging: vsink stores no tags (writing them is refused), so
    every version's set is empty; aws s3 cp between buckets reads it."""
    put = s3.put_object(Bucket=BUCKET, Key="tags/o", Body=b"t1")
    s3.put_object(Bucket=BUCKET, Key="tags/o", Body=b"t2")
    t = s3.get_object_tagging(Bucket=BUCKET, Key="tags/o")
    check(t["TagSet"] == [] and t["VersionId"] != put["VersionId"],
          "tags of the current version: %s" % t)
    t = s3.get_object_tagging(Bucket=BUCKET, Key="tags/o",
                              VersionId=put["VersionId"])
    check(t["TagSet"] == [] and t["VersionId"] == put["VersionId"],
          "tags of an older version: %s" % t)
    check(client_error(s3.get_object_tagging, Bucket=BUCKET,
                       Key="tags/none")[1] == "NoSuchKey", "no such key")
    check(client_error(s3.get_object_tagging, Bucket=BUCKET, Key="tags/o",
                       VersionId="20000101T000000000Z-000000")[1] ==
          "NoSuchVersion", "no such version")
    s3.delete_object(Bucket=BUCKET, Key="tags/o")
    check(client_error(s3.get_object_tagging, Bucket=BUCKET,
                       Key="tags/o")[1] == "NoSuchKey", "a deleted key")


def main():
    sink = Sink(tag="objects")
    sink.start()
    s3 = boto3_client(sink)
    etag_md5_default(sink)
    metadata_round_trip(sink, s3)
    metadata_in_query(sink, s3)
    metadata_limit(sink, s3)
    n = conditional_matrix(sink, s3)
    overrides(sink, s3)
    part_numbers(sink, s3)
    put_if_match(sink, s3)
    old_layout(sink, s3)
    s3cmd_put_get(sink)
    tags_empty(sink, s3)
    check(sink.stop() == 0, "sink exit status")
    etag_sha256_mode()
    print("ok: objects (%d conditional requests)" % n)


if __name__ == "__main__":
    main()
