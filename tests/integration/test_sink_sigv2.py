"""AWS Signature Version 2 and virtual-hosted-style addressing, with real
clients against a real `vsink serve`:

- boto3 with signature_version='s3' (SigV2 header form): put/get/head, the
  bytes, the MD5 ETag and the `stored` event;
- boto3's default generate_presigned_url for a custom endpoint (SigV2
  query form: AWSAccessKeyId/Expires/Signature) used with curl for PUT and
  GET, and `vsink presign --sigv2` the same way;
- s3cmd with signature_v2 = True: put and get;
- refusals, each leaving nothing behind: an expired URL (AccessDenied
  "Request has expired"), a tampered one, an unknown key
  (InvalidAccessKeyId), a wrong secret (SignatureDoesNotMatch), a skewed
  Date (RequestTimeTooSkewed), a wrong Content-MD5 under a valid SigV2
  signature (BadDigest: no payload hash is signed, the body is still
  checked);
- `--no-sigv2`: every SigV2 form refused 403 AccessDenied saying so, SigV4
  still served;
- `--domain localhost`: BUCKET.localhost in the Host header, with boto3's
  addressing_style='virtual' under SigV4 and SigV2, curl with a virtual-
  hosted SigV2 URL, and path style on the same sink.
"""
import base64
import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

from vsharness import (KEY_ID, SECRET, Sink, check, fail, pattern,
                       s3_error_code, sha256)

BUCKET = "videos"


def client(sink, sigv="s3", style="path", endpoint=None):
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint or sink.endpoint, region_name="us-east-1",
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
        config=Config(signature_version=sigv,
                      s3={"addressing_style": style},
                      retries={"max_attempts": 1}))


def default_client(sink):
    """What a user writes: no signature version, no addressing style."""
    import boto3
    return boto3.client("s3", endpoint_url=sink.endpoint,
                        region_name="us-east-1", aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET)


def curl(args, timeout=60):
    out = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}"] +
                         args, capture_output=True, timeout=timeout)
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code or 0), body


def stored(sink, key):
    return [e for e in sink.manifest_events("stored") if e.get("key") == key]


def sign_v2(secret, sts):
    mac = hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def v2_url(sink, method, path, expires_at, key_id=KEY_ID, secret=SECRET):
    """A SigV2 presigned URL signed here, independent of vsink and boto3."""
    sts = "%s\n\n\n%d\n%s" % (method, expires_at, path)
    q = urllib.parse.urlencode([("AWSAccessKeyId", key_id),
                                ("Signature", sign_v2(secret, sts)),
                                ("Expires", str(expires_at))])
    return "%s%s?%s" % (sink.endpoint, path, q)


def http_date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


def refused(sink, method, url, body, headers, status, code, what,
            msg_part=None):
    """One refused request: its status and code, and nothing left."""
    before = sink.object_files()
    events = len(sink.manifest_events("stored"))
    st, _, data = sink.request(method, url, body=body, headers=headers)
    check(st == status and s3_error_code(data) == code,
          "%s: want %d %s, got %d %r" % (what, status, code, st, data[:300]))
    if msg_part:
        check(msg_part.encode() in data, "%s: message lacks %r: %r" %
              (what, msg_part, data[:400]))
    check(sink.object_files() == before, "%s left files: %s" %
          (what, sorted(set(sink.object_files()) - set(before))))
    check(len(sink.manifest_events("stored")) == events,
          "%s recorded a stored event" % what)
    check(not sink.temp_files(), "%s left temp files" % what)
    print("sigv2: %s -> %d %s" % (what, status, code))
    return data


# ---- boto3, SigV2 header form ---------------------------------------------------

def boto3_header_form(sink):
    c = client(sink, "s3")
    data = pattern(300 * 1024, seed=21)
    r = c.put_object(Bucket=BUCKET, Key="v2/boto3 clip.mp4", Body=data,
                     ContentType="video/mp4", Metadata={"take": "3"})
    etag = r["ETag"].strip('"')
    check(etag == hashlib.md5(data).hexdigest(), "ETag %s is not the MD5" %
          etag)
    got = c.get_object(Bucket=BUCKET, Key="v2/boto3 clip.mp4")["Body"].read()
    check(got == data, "SigV2 GET returned other bytes")
    h = c.head_object(Bucket=BUCKET, Key="v2/boto3 clip.mp4")
    check(h["ContentLength"] == len(data), "HEAD length %s" %
          h["ContentLength"])
    ev = stored(sink, "v2/boto3 clip.mp4")
    check(len(ev) == 1 and ev[0]["sha256"] == sha256(data),
          "stored event: %s" % ev)
    print("sigv2: boto3 signature_version='s3' put/get/head ok")


def content_md5_checked(sink):
    body = b"the body that is sent"
    wrong = base64.b64encode(hashlib.md5(b"another body").digest()).decode()
    t = int(time.time())
    path = "/%s/v2/md5.bin" % BUCKET
    sts = "PUT\n%s\n\n%s\n%s" % (wrong, http_date(t), path)
    hdrs = {"Date": http_date(t), "Content-MD5": wrong,
            "Authorization": "AWS %s:%s" % (KEY_ID, sign_v2(SECRET, sts))}
    refused(sink, "PUT", sink.endpoint + path, body, hdrs, 400, "BadDigest",
            "SigV2 PUT with a signed but wrong Content-MD5")
    right = base64.b64encode(hashlib.md5(body).digest()).decode()
    sts = "PUT\n%s\n\n%s\n%s" % (right, http_date(t), path)
    hdrs.update({"Content-MD5": right, "Authorization": "AWS %s:%s" %
                 (KEY_ID, sign_v2(SECRET, sts))})
    st, _, data = sink.request("PUT", sink.endpoint + path, body=body,
                               headers=hdrs)
    check(st == 200, "SigV2 PUT with the right Content-MD5: %d %r" %
          (st, data[:300]))


# ---- presigned URLs ----------------------------------------------------------------

def presigned_urls(sink, work):
    c = default_client(sink)
    data = pattern(200 * 1024, seed=22)
    src = os.path.join(work, "clip.mp4")
    with open(src, "wb") as f:
        f.write(data)
    put = c.generate_presigned_url("put_object", Params={
        "Bucket": BUCKET, "Key": "v2/presigned clip.mp4"}, ExpiresIn=600)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(put).query)
    check(set(q) == {"AWSAccessKeyId", "Signature", "Expires"},
          "boto3's default presigned URL is not SigV2 here: %s" % put)
    st, body = curl(["-T", src, put])
    check(st == 200, "curl PUT to boto3's default URL: %d %r" % (st, body))
    get = c.generate_presigned_url("get_object", Params={
        "Bucket": BUCKET, "Key": "v2/presigned clip.mp4"}, ExpiresIn=600)
    st, body = curl([get])
    check(st == 200 and body == data, "curl GET with boto3's default URL: "
          "%d, %d bytes" % (st, len(body)))
    ev = stored(sink, "v2/presigned clip.mp4")
    check(len(ev) == 1 and ev[0]["sha256"] == sha256(data),
          "stored event: %s" % ev)
    # a second PUT keeps the first as an older version, as under SigV4
    st, _ = curl(["-T", "/dev/null", put])
    check(st == 200, "second PUT: %d" % st)
    check(len(stored(sink, "v2/presigned clip.mp4")) == 2, "two versions")
    # vsink's own SigV2 presigner, for PUT and GET
    for method in ("PUT", "GET"):
        out = subprocess.run(
            [os.environ.get("VSINK", "vsink"), "presign", "--sigv2",
             "--method", method, "--endpoint", sink.endpoint, "--data",
             sink.data, "--expires", "300", "videos/v2/by vsink.bin"],
            env=sink.env, capture_output=True, timeout=30)
        check(out.returncode == 0, "vsink presign --sigv2: %s" % out.stderr)
        url = out.stdout.decode().strip()
        check("AWSAccessKeyId=" in url and "X-Amz-" not in url, url)
        if method == "PUT":
            st, _ = curl(["-T", src, url])
        else:
            st, body = curl([url])
            check(body == data, "GET via vsink presign --sigv2: other bytes")
        check(st == 200, "curl %s via vsink presign --sigv2: %d" %
              (method, st))
    print("sigv2: boto3's default presigned URL and vsink presign --sigv2 "
          "with curl ok")


def presigned_refusals(sink):
    path = "/%s/v2/refused.bin" % BUCKET
    now = int(time.time())
    refused(sink, "PUT", v2_url(sink, "PUT", path, now - 5), b"x" * 100, {},
            403, "AccessDenied", "expired SigV2 URL", "Request has expired")
    good = v2_url(sink, "PUT", path, now + 300)
    refused(sink, "PUT", good.replace("refused.bin", "refuses.bin"),
            b"x" * 100, {}, 403, "SignatureDoesNotMatch",
            "SigV2 URL with the key changed")
    refused(sink, "GET", good, None, {}, 403, "SignatureDoesNotMatch",
            "SigV2 PUT URL used for GET")
    later = good.replace("Expires=%d" % (now + 300),
                         "Expires=%d" % (now + 3000))
    refused(sink, "PUT", later, b"x" * 100, {}, 403,
            "SignatureDoesNotMatch", "SigV2 URL with Expires pushed back")
    refused(sink, "PUT", v2_url(sink, "PUT", path, now + 300,
                                key_id="AKIDNOSUCHKEY"), b"x" * 100, {},
            403, "InvalidAccessKeyId", "SigV2 URL with an unknown key")
    refused(sink, "PUT", v2_url(sink, "PUT", path, now + 300,
                                secret="not-the-secret"), b"x" * 100, {},
            403, "SignatureDoesNotMatch", "SigV2 URL with a wrong secret")
    refused(sink, "PUT", sink.endpoint + path + "?AWSAccessKeyId=" + KEY_ID +
            "&Expires=%d" % (now + 300), b"x" * 100, {}, 403,
            "AccessDenied", "SigV2 URL without Signature", "Signature")
    # header form: a Date 20 minutes off
    t = now - 1200
    sts = "PUT\n\n\n%s\n%s" % (http_date(t), path)
    refused(sink, "PUT", sink.endpoint + path, b"x" * 100,
            {"Date": http_date(t), "Authorization": "AWS %s:%s" %
             (KEY_ID, sign_v2(SECRET, sts))}, 403, "RequestTimeTooSkewed",
            "SigV2 header with a Date 20 minutes old")
    # metadata appended to a signed request's query (the sink would store
    # it) is not signed by it
    sts = "PUT\n\n\n%s\n%s" % (http_date(now), path)
    refused(sink, "PUT", sink.endpoint + path + "?x-amz-meta-who=mallory",
            b"x" * 100, {"Date": http_date(now), "Authorization": "AWS %s:%s"
                         % (KEY_ID, sign_v2(SECRET, sts))}, 403,
            "SignatureDoesNotMatch", "SigV2 header, x-amz-meta-* added to "
            "the query")
    refused(sink, "PUT", good + "&x-amz-meta-who=mallory", b"x" * 100, {},
            403, "SignatureDoesNotMatch", "SigV2 URL, x-amz-meta-* added")
    check(not stored(sink, "v2/refused.bin"), "a refused PUT was stored")


# ---- s3cmd -------------------------------------------------------------------------

def s3cmd_v2(sink, work):
    s3cmd = shutil.which("s3cmd")
    if not s3cmd:
        print("sigv2: s3cmd not installed: its rows skipped")
        return
    cfg = os.path.join(work, "s3cfg")
    hostport = "%s:%d" % (sink.host, sink.port)
    with open(cfg, "w") as f:
        f.write("[default]\naccess_key = %s\nsecret_key = %s\n"
                "host_base = %s\nhost_bucket = %s\nuse_https = False\n"
                "signature_v2 = True\nbucket_location = us-east-1\n"
                "check_ssl_certificate = False\n" %
                (KEY_ID, SECRET, hostport, hostport))
    src = os.path.join(work, "s3cmd.bin")
    data = pattern(2 << 20, seed=23)
    with open(src, "wb") as f:
        f.write(data)
    env = dict(os.environ, HOME=work)
    out = subprocess.run([s3cmd, "-c", cfg, "--debug", "put", src,
                          "s3://%s/v2/s3cmd.bin" % BUCKET],
                         capture_output=True, timeout=120, env=env)
    text = (out.stdout + out.stderr).decode(errors="replace")
    check(out.returncode == 0, "s3cmd (v2) put failed: %s" % text[-3000:])
    check("Using signature v2" in text and "Using signature v4" not in text
          and "SignHeaders: 'PUT\\n" in text,
          "s3cmd did not sign with SigV2: %s" % text[-2000:])
    check(len(stored(sink, "v2/s3cmd.bin")) == 1, "s3cmd put: one version")
    dst = os.path.join(work, "s3cmd.back")
    out = subprocess.run([s3cmd, "-c", cfg, "get",
                          "s3://%s/v2/s3cmd.bin" % BUCKET, dst],
                         capture_output=True, timeout=120, env=env)
    text = (out.stdout + out.stderr).decode(errors="replace")
    check(out.returncode == 0, "s3cmd (v2) get failed: %s" % text[-3000:])
    with open(dst, "rb") as f:
        check(f.read() == data, "s3cmd get: other bytes")
    print("sigv2: s3cmd signature_v2 = True put/get ok")


# ---- --no-sigv2 ------------------------------------------------------------------

def no_sigv2(work):
    sink = Sink(args=["--no-sigv2"], tag="nosigv2").start()
    try:
        path = "/%s/v2/refused.bin" % BUCKET
        now = int(time.time())
        data = refused(sink, "PUT", v2_url(sink, "PUT", path, now + 300),
                       b"x" * 100, {}, 403, "AccessDenied",
                       "--no-sigv2: SigV2 URL", "--no-sigv2")
        check(b"Signature Version 2" in data, "message: %r" % data)
        sts = "PUT\n\n\n%s\n%s" % (http_date(now), path)
        refused(sink, "PUT", sink.endpoint + path, b"x" * 100,
                {"Date": http_date(now), "Authorization": "AWS %s:%s" %
                 (KEY_ID, sign_v2(SECRET, sts))}, 403, "AccessDenied",
                "--no-sigv2: SigV2 header", "--no-sigv2")
        from botocore.exceptions import ClientError
        try:
            client(sink, "s3").put_object(Bucket=BUCKET, Key="v2/x",
                                          Body=b"x")
            fail("--no-sigv2: boto3 SigV2 PUT accepted")
        except ClientError as e:
            check(e.response["Error"]["Code"] == "AccessDenied", str(e))
        client(sink, "s3v4").put_object(Bucket=BUCKET, Key="v4/ok",
                                        Body=b"ok")
        check(len(stored(sink, "v4/ok")) == 1, "--no-sigv2: SigV4 PUT")
        check(sink.stop() == 0, "--no-sigv2 sink exit status")
    finally:
        sink.stop()
    print("sigv2: --no-sigv2 refuses both forms, SigV4 still served")


# ---- virtual-hosted style --------------------------------------------------------

_real_getaddrinfo = socket.getaddrinfo


def _localhost_getaddrinfo(host, *args, **kw):
    # BUCKET.localhost is loopback (RFC 6761); glibc's files+dns does not
    # say so on this machine, curl does by itself. Only this process.
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kw)


def virtual_hosted(work):
    sink = Sink(args=["--domain", "localhost"], tag="vhost").start()
    socket.getaddrinfo = _localhost_getaddrinfo
    try:
        ep = "http://localhost:%d" % sink.port
        data = pattern(100 * 1024, seed=24)
        for sigv in ("s3v4", "s3"):
            c = client(sink, sigv, "virtual", endpoint=ep)
            key = "vh/%s clip.mp4" % sigv
            c.put_object(Bucket=BUCKET, Key=key, Body=data)
            got = c.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            check(got == data, "virtual-hosted %s GET: other bytes" % sigv)
            check(c.head_object(Bucket=BUCKET, Key=key)["ContentLength"] ==
                  len(data), "virtual-hosted %s HEAD" % sigv)
            c.head_bucket(Bucket=BUCKET)
            ev = stored(sink, key)
            check(len(ev) == 1 and ev[0]["bucket"] == BUCKET and
                  ev[0]["sha256"] == sha256(data),
                  "virtual-hosted %s stored event: %s" % (sigv, ev))
        # the request really went to videos.localhost: the sink's log
        hosts_ok = any(e.get("key") == "vh/s3 clip.mp4" and
                       e.get("bucket") == BUCKET and e.get("status") == 200
                       for e in sink.log_lines())
        check(hosts_ok, "no log line for the virtual-hosted request")
        # boto3's default presigned URL, virtual-hosted, with curl
        import boto3
        from botocore.config import Config
        c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                         aws_access_key_id=KEY_ID,
                         aws_secret_access_key=SECRET,
                         config=Config(s3={"addressing_style": "virtual"}))
        put = c.generate_presigned_url("put_object", Params={
            "Bucket": BUCKET, "Key": "vh/curl.bin"}, ExpiresIn=300)
        check(urllib.parse.urlsplit(put).hostname == "videos.localhost" and
              "Signature=" in put, "not a virtual-hosted SigV2 URL: %s" % put)
        src = os.path.join(work, "vh.bin")
        with open(src, "wb") as f:
            f.write(data)
        st, body = curl(["-T", src, put])
        check(st == 200, "curl PUT to videos.localhost: %d %r" % (st, body))
        st, body = curl([c.generate_presigned_url("get_object", Params={
            "Bucket": BUCKET, "Key": "vh/curl.bin"}, ExpiresIn=300)])
        check(st == 200 and body == data, "curl GET from videos.localhost")
        # path style on the same sink
        c = client(sink, "s3v4", "path", endpoint=ep)
        check(c.get_object(Bucket=BUCKET, Key="vh/curl.bin")["Body"].read() ==
              data, "path style beside --domain")
        # SigV2 signs /bucket/key whichever way the bucket is named: one
        # signature serves the path-style and the virtual-hosted request
        now = int(time.time())
        url = v2_url(sink, "GET", "/videos/vh/curl.bin", now + 300)
        st, body = curl([url])
        check(st == 200 and body == data, "SigV2 path style: %d" % st)
        st, body = curl(["-H", "Host: videos.localhost:%d" % sink.port,
                         url.replace("/videos/vh/", "/vh/")])
        check(st == 200 and body == data, "SigV2 virtual-hosted, signed "
              "/bucket/key: %d %r" % (st, body[:200]))
        # the Host's bucket wins over the path: /videos/... on
        # other.localhost is the key videos/... of the bucket other
        url = v2_url(sink, "GET", "/other/videos/vh/curl.bin", now + 300)
        st, body = curl(["-H", "Host: other.localhost:%d" % sink.port,
                         url.replace("/other/videos/", "/videos/")])
        check(st == 404 and s3_error_code(body) == "NoSuchBucket",
              "other.localhost: %d %r" % (st, body[:300]))
        check(sink.stop() == 0, "vhost sink exit status")
    finally:
        socket.getaddrinfo = _real_getaddrinfo
        sink.stop()
    print("sigv2: virtual-hosted style (--domain localhost) with boto3 "
          "SigV4 and SigV2, curl, and path style beside it ok")


def main():
    try:
        import boto3  # noqa: F401
    except ImportError:
        print("boto3 not installed: skipped")
        raise SystemExit(77)
    work = tempfile.mkdtemp(prefix="vsink-sigv2-")
    try:
        sink = Sink(tag="sigv2").start()
        try:
            boto3_header_form(sink)
            content_md5_checked(sink)
            presigned_urls(sink, work)
            presigned_refusals(sink)
            s3cmd_v2(sink, work)
            check(sink.stop() == 0, "sink exit status")
        finally:
            sink.stop()
        no_sigv2(work)
        virtual_hosted(work)
    finally:
        shutil.rmtree(work, True)
    print("sigv2: all rows ok")


if __name__ == "__main__":
    main()
