"""aws-chunked PUT bodies with real clients and forged ones.

- raw SigV4 requests: STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk
  signature checked in its chain), ...-PAYLOAD-TRAILER and
  STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer: stored bytes,
  stored event, checksum echoed; a forged chunk, a chunk moved, a wrong
  trailer checksum, a forged trailer signature, a wrong decoded length, bad
  framing, an oversized x-amz-decoded-content-length: S3's error, nothing
  stored, no event.
- restic (minio-go: STREAMING-AWS4-HMAC-SHA256-PAYLOAD over plain HTTP):
  init, backup, check, restore, files compared.
- through a local TLS terminator (Debian's nginx, throwaway certificate):
  the requests aws cli >= 2.23 sends by default (neither it nor boto3 >=
  1.36 is in Debian 12, so the wire form is built here): a PUT and
  multipart parts as STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32
  trailer; and boto3 >= 1.36 itself (the pyenv python3, when present):
  put_object and upload_file.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time

from awschunked import crc32_b64, sign_request, signed_body, unsigned_body
from vsharness import (KEY_ID, SECRET, Sink, check, fail, pattern,
                       s3_error_code, sha256, tmpdir)

sink = Sink(args=["--max-object-size", "10000000"], tag="awsc").start()
N_STORED = 0


def put(key, mode, data, body_fn, extra=None, decoded=None):
    path = "/videos/" + key
    hdrs = {"Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length":
            str(len(data) if decoded is None else decoded)}
    hdrs.update(extra or {})
    hdrs = dict((k, v) for k, v in hdrs.items() if v is not None)
    h, k, amz, scope, seed = sign_request(sink, path, mode, hdrs)
    body = body_fn(k, amz, scope, seed)
    return sink.request("PUT", sink.endpoint + path, body, h)


def stored(key):
    return [e for e in sink.manifest_events("stored") if e["key"] == key]


def accepted(what, key, data, st, hd, body, cksum=None):
    global N_STORED
    check(st == 200, "%s: %d %s" % (what, st, body[:300]))
    N_STORED += 1
    gs, gh, got = sink.request("GET", sink.presign("GET", "videos/" + key))
    check(gs == 200 and got == data, "%s: GET gave %d, %d bytes" %
          (what, gs, len(got)))
    ev = stored(key)
    check(len(ev) == 1 and ev[0]["sha256"] == sha256(data) and
          ev[0]["bytes"] == len(data), "%s: stored event %s" % (what, ev))
    if cksum:
        check(hd.get("x-amz-checksum-crc32") == cksum,
              "%s: checksum echoed %s" % (what, hd))
        check(ev[0].get("checksum") == {"crc32": cksum},
              "%s: checksum kept %s" % (what, ev[0]))
    print("ok: %s" % what)


def refused(what, key, st, body, status, code):
    check(st == status and s3_error_code(body) == code,
          "%s: wanted %d %s, got %d %s" % (what, status, code, st,
                                           body[:300]))
    check(not stored(key), "%s: a stored event" % what)
    files = [f for f in sink.object_files() if key in f]
    check(not files, "%s: files left %s" % (what, files))
    check(not sink.temp_files(), "%s: temp files %s" % (what,
                                                        sink.temp_files()))
    gs, _, _ = sink.request("GET", sink.presign("GET", "videos/" + key))
    check(gs == 404, "%s: GET after a refusal gave %d" % (what, gs))
    print("ok: %s -> %d %s" % (what, status, code))


def raw_rows():
    data = pattern(200000, seed=3)
    small = b"hello aws-chunked"
    SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    SIGNED_T = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    UNSIGNED_T = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    crc = crc32_b64(data)
    tr = {"x-amz-trailer": "x-amz-checksum-crc32"}
    st, hd, b = put("signed.bin", SIGNED, data, lambda k, a, s, seed:
                    signed_body(k, a, s, seed, data, 65536))
    accepted("signed 64 KiB chunks", "signed.bin", data, st, hd, b)
    st, hd, b = put("signed-small.bin", SIGNED, small, lambda k, a, s, seed:
                    signed_body(k, a, s, seed, small, 8192))
    accepted("signed, one chunk", "signed-small.bin", small, st, hd, b)
    st, hd, b = put("signed-t.bin", SIGNED_T, data, lambda k, a, s, seed:
                    signed_body(k, a, s, seed, data, 65536,
                                "x-amz-checksum-crc32:" + crc), tr)
    accepted("signed with a signed CRC32 trailer", "signed-t.bin", data, st,
             hd, b, crc)
    st, hd, b = put("unsigned-t.bin", UNSIGNED_T, data, lambda k, a, s, seed:
                    unsigned_body(data, 65536, "x-amz-checksum-crc32:" + crc),
                    tr)
    accepted("unsigned with a CRC32 trailer", "unsigned-t.bin", data, st, hd,
             b, crc)
    # refusals
    st, _, b = put("forged.bin", SIGNED, data, lambda k, a, s, seed:
                   signed_body(k, a, s, seed, data, 65536, forge="chunk"))
    refused("a payload byte changed after signing", "forged.bin", st, b, 403,
            "SignatureDoesNotMatch")
    st, _, b = put("swapped.bin", SIGNED, data, lambda k, a, s, seed:
                   signed_body(k, a, s, seed, data, 65536, forge="swap"))
    refused("two signed chunks swapped", "swapped.bin", st, b, 403,
            "SignatureDoesNotMatch")
    st, _, b = put("other-seed.bin", SIGNED, data, lambda k, a, s, seed:
                   signed_body(k, a, s, "0" * 64, data, 65536))
    refused("chunks chained from another seed", "other-seed.bin", st, b,
            403, "SignatureDoesNotMatch")
    st, _, b = put("tsig.bin", SIGNED_T, data, lambda k, a, s, seed:
                   signed_body(k, a, s, seed, data, 65536,
                               "x-amz-checksum-crc32:" + crc,
                               forge="trailer-sig"), tr)
    refused("a forged trailer signature", "tsig.bin", st, b, 403,
            "SignatureDoesNotMatch")
    st, _, b = put("badcrc.bin", UNSIGNED_T, data, lambda k, a, s, seed:
                   unsigned_body(data, 65536, "x-amz-checksum-crc32:AAAAAA=="),
                   tr)
    refused("a wrong CRC32 trailer", "badcrc.bin", st, b, 400, "BadDigest")
    st, _, b = put("badsig-crc.bin", SIGNED_T, data, lambda k, a, s, seed:
                   signed_body(k, a, s, seed, data, 65536,
                               "x-amz-checksum-crc32:AAAAAA=="), tr)
    refused("a signed but wrong CRC32 trailer", "badsig-crc.bin", st, b,
            400, "BadDigest")
    st, _, b = put("short.bin", SIGNED, data, lambda k, a, s, seed:
                   signed_body(k, a, s, seed, data, 65536),
                   decoded=len(data) + 1)
    refused("decoded length one more than the body", "short.bin", st, b, 400,
            "IncompleteBody")
    st, _, b = put("long.bin", SIGNED, data, lambda k, a, s, seed:
                   signed_body(k, a, s, seed, data, 65536),
                   decoded=len(data) - 1)
    refused("decoded length one less than the body", "long.bin", st, b, 400,
            "IncompleteBody")
    st, _, b = put("framing.bin", UNSIGNED_T, small, lambda k, a, s, seed:
                   b"5\r\n" + small + b"\r\n0\r\n\r\n")
    refused("a chunk size that lies", "framing.bin", st, b, 400,
            "IncompleteBody")
    st, _, b = put("cut.bin", UNSIGNED_T, small, lambda k, a, s, seed:
                   unsigned_body(small, 8, None)[:-5])
    refused("a body cut before its end", "cut.bin", st, b, 400,
            "IncompleteBody")
    st, _, b = put("big.bin", UNSIGNED_T, small, lambda k, a, s, seed:
                   unsigned_body(small, 8, None), decoded=10000001)
    refused("x-amz-decoded-content-length over the limit", "big.bin", st, b,
            400, "EntityTooLarge")
    st, _, b = put("nolen.bin", UNSIGNED_T, small, lambda k, a, s, seed:
                   unsigned_body(small, 8, None),
                   extra={"x-amz-decoded-content-length": None})
    refused("no x-amz-decoded-content-length", "nolen.bin", st, b, 411,
            "MissingContentLength")
    st, _, b = put("presig.bin", "UNSIGNED-PAYLOAD", small,
                   lambda k, a, s, seed: unsigned_body(small, 8, None))
    refused("Content-Encoding: aws-chunked on an unsigned whole body",
            "presig.bin", st, b, 400, "InvalidArgument")



class Relay:
    """A TCP relay to the sink that notes the x-amz-content-sha256 values
    clients send, to show which body form they used."""

    def __init__(self):
        import threading
        self.seen = set()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.stop_flag = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def pump(self, a, b, sniff):
        import re
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if sniff:
                    for m in re.finditer(rb"(?i)x-amz-content-sha256: *"
                                         rb"([A-Z0-9-]+)\r\n", d):
                        self.seen.add(m.group(1).decode())
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve(self):
        import threading
        while not self.stop_flag:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            u = socket.create_connection((sink.host, sink.port))
            threading.Thread(target=self.pump, args=(c, u, True),
                             daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, False),
                             daemon=True).start()

    def close(self):
        self.stop_flag = True
        self.t.join(5)
        self.lsock.close()


def restic_row():
    if not shutil.which("restic"):
        print("skip: restic absent")
        return
    src, dst, cache = tmpdir("restic-src"), tmpdir("restic-dst"), \
        tmpdir("restic-cache")
    relay = Relay()
    for i in range(5):
        with open(os.path.join(src, "clip%d.mp4" % i), "wb") as f:
            f.write(pattern(30000 + i * 70001, seed=10 + i))
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID,
               AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               RESTIC_PASSWORD="vsink-test", RESTIC_CACHE_DIR=cache,
               RESTIC_REPOSITORY="s3:http://127.0.0.1:%d/videos/repo" %
               relay.port)
    before = len(sink.manifest_events("stored"))

    def run(*args):
        out = subprocess.run(["restic", "--no-lock"] + list(args)
                             if args[0] == "check" else
                             ["restic"] + list(args), env=env,
                             capture_output=True, timeout=240)
        check(out.returncode == 0, "restic %s: %s %s\n%s" %
              (args[0], out.stdout[-2000:], out.stderr[-2000:],
               sink.log()[-3000:]))
        return out.stdout.decode()

    run("init")
    run("backup", src)
    run("check", "--read-data")
    run("restore", "latest", "--target", dst)
    for i in range(5):
        name = "clip%d.mp4" % i
        with open(os.path.join(src, name), "rb") as f:
            a = f.read()
        with open(os.path.join(dst, src.lstrip("/"), name), "rb") as f:
            check(f.read() == a, "restic restore: %s differs" % name)
    after = len(sink.manifest_events("stored"))
    check(after > before + 3, "restic stored %d objects" % (after - before))
    relay.close()
    check("STREAMING-AWS4-HMAC-SHA256-PAYLOAD" in relay.seen,
          "restic sent no signed aws-chunked body: %s" % relay.seen)
    print("ok: restic init/backup/check/restore, %d objects, bodies %s" %
          (after - before, sorted(relay.seen)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


BOTO_SCRIPT = r'''
import sys, hashlib, os
import boto3
from botocore.config import Config
ep, key_id, secret, path = sys.argv[1:5]
c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                 aws_access_key_id=key_id, aws_secret_access_key=secret,
                 verify=False, config=Config(s3={"addressing_style": "path"},
                                             retries={"max_attempts": 1}))
seen = set()
def note(request, **kw):
    v = request.headers.get("x-amz-content-sha256")
    if v:
        seen.add(v.decode() if isinstance(v, bytes) else v)
c.meta.events.register("before-send.s3", note)
data = open(path, "rb").read()
r = c.put_object(Bucket="videos", Key="boto/put.bin", Body=data)
print("put", r.get("ChecksumCRC32"))
c.upload_file(path, "videos", "boto/upload.bin")
print("upload ok")
got = c.get_object(Bucket="videos", Key="boto/upload.bin")["Body"].read()
assert got == data
print("sha", hashlib.sha256(got).hexdigest())
print("seen", sorted(seen))
'''


class TLS:
    """nginx (Debian's nginx-light) terminating TLS with a throwaway
    certificate in front of the sink, as a user deploys it."""

    def __init__(self):
        self.d = d = tmpdir("tls")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-keyout", d + "/key.pem", "-out", d + "/cert.pem"],
                       check=True, capture_output=True, timeout=60)
        self.port = free_port()
        conf = d + "/nginx.conf"
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"d": d, "port": self.port,
                                  "sink": sink.port})
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-c", conf, "-p", d],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        self.host = "127.0.0.1:%d" % self.port

    def request(self, method, path, body, headers):
        import http.client
        import ssl
        ctx = ssl.create_default_context(cafile=self.d + "/cert.pem")
        ctx.check_hostname = False
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx,
                                        timeout=60)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), \
            data

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


NGINX_CONF = """
pid %(d)s/nginx.pid; daemon off; error_log %(d)s/error.log;
events { worker_connections 64; }
http {
  access_log off; client_body_temp_path %(d)s/body;
  proxy_temp_path %(d)s/proxy; fastcgi_temp_path %(d)s/fcgi;
  uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
  server {
    listen 127.0.0.1:%(port)d ssl;
    ssl_certificate %(d)s/cert.pem; ssl_certificate_key %(d)s/key.pem;
    client_max_body_size 0;
    location / {
      proxy_pass http://127.0.0.1:%(sink)d;
      proxy_http_version 1.1;
      proxy_request_buffering off;
      proxy_set_header Host $http_host;
    }
  }
}
"""

UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def cli223_put(tls, path, data, query="", method="PUT"):
    """What aws cli >= 2.23 and boto3 >= 1.36 send over HTTPS by default
    (neither is in Debian 12, so the wire form is built here): an
    unsigned aws-chunked body in 64 KiB chunks with a CRC32 trailer."""
    hdrs = {"Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-sdk-checksum-algorithm": "CRC32"}
    h, _, _, _, _ = sign_request(sink, path, UNSIGNED_TRAILER, hdrs,
                                 tls.host, method, query)
    body = unsigned_body(data, 65536, "x-amz-checksum-crc32:" +
                         crc32_b64(data))
    h["Content-Length"] = str(len(body))
    return tls.request(method, path + ("?" + query if query else ""), body,
                       h)


def tls_signed(tls, method, path, query="", body=b"", headers=None):
    h, _, _, _, _ = sign_request(sink, path,
                                 hashlib.sha256(body).hexdigest(),
                                 headers or {}, tls.host, method, query)
    return tls.request(method, path + ("?" + query if query else ""), body,
                       h)


def cli223_tls_rows(tls):
    """A PUT and a multipart upload whose parts are aws-chunked with CRC32
    trailers, through the TLS terminator: stored, echoed, recorded."""
    import re
    data = pattern(3 * 1024 * 1024 + 17, seed=21)
    st, hd, body = cli223_put(tls, "/videos/tls/put.bin", data)
    check(st == 200 and hd.get("x-amz-checksum-crc32") == crc32_b64(data),
          "aws-chunked PUT over TLS: %d %s %s" % (st, hd, body[:300]))
    st, _, body = tls_signed(tls, "POST", "/videos/tls/mpu.bin", "uploads=",
                             headers={"x-amz-checksum-algorithm": "CRC32"})
    uid = re.search(rb"<UploadId>([0-9a-f]+)</UploadId>", body)
    check(st == 200 and uid, "CreateMultipartUpload over TLS: %s" % body)
    uid = uid.group(1).decode()
    parts = [pattern(5 * 1024 * 1024, 22), pattern(70001, 23)]
    xml = "<CompleteMultipartUpload>"
    for n, p in enumerate(parts, 1):
        st, hd, body = cli223_put(tls, "/videos/tls/mpu.bin", p,
                                  "partNumber=%d&uploadId=%s" % (n, uid))
        check(st == 200 and hd.get("etag") == '"%s"' %
              hashlib.md5(p).hexdigest() and
              hd.get("x-amz-checksum-crc32") == crc32_b64(p),
              "aws-chunked UploadPart over TLS: %d %s %s" % (st, hd,
                                                             body[:300]))
        xml += ("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>"
                "<ChecksumCRC32>%s</ChecksumCRC32></Part>" %
                (n, hd["etag"], crc32_b64(p)))
    xml = (xml + "</CompleteMultipartUpload>").encode()
    st, _, body = tls_signed(tls, "POST", "/videos/tls/mpu.bin",
                             "uploadId=" + uid, xml)
    check(st == 200 and b"<ETag>" in body, "Complete over TLS: %s" % body)
    for key, whole in (("tls/put.bin", data), ("tls/mpu.bin",
                                               b"".join(parts))):
        ev = stored(key)
        check(len(ev) == 1 and ev[0]["sha256"] == sha256(whole),
              "%s: stored event %s" % (key, ev))
    print("ok: aws cli 2.23's aws-chunked CRC32-trailer PUT and multipart "
          "parts over TLS (nginx)")


def boto3_tls_row(tls):
    py = shutil.which("python3")
    if not py or os.path.realpath(py) == os.path.realpath("/usr/bin/python3"):
        print("skip: no python3 besides Debian's (boto3 >= 1.36 needed)")
        return
    v = subprocess.run([py, "-c", "import boto3; print(boto3.__version__)"],
                       capture_output=True)
    ver = tuple(int(x) for x in v.stdout.decode().strip().split(".")[:2]) \
        if v.returncode == 0 else (0, 0)
    if ver < (1, 36):
        print("skip: boto3 %s" % (ver,))
        return
    data_path = tls.d + "/clip.bin"
    data = pattern(3 * 1024 * 1024 + 17, seed=7)
    with open(data_path, "wb") as f:
        f.write(data)
    out = subprocess.run([py, "-W", "ignore", "-c", BOTO_SCRIPT,
                          "https://127.0.0.1:%d" % tls.port, KEY_ID, SECRET,
                          data_path], capture_output=True, timeout=120)
    check(out.returncode == 0, "boto3 over TLS: %s %s\n%s" %
          (out.stdout, out.stderr[-3000:], sink.log()[-2000:]))
    check(b"put " + crc32_b64(data).encode() in out.stdout,
          "boto3: put_object's CRC32 echoed: %s" % out.stdout)
    check(b"STREAMING-UNSIGNED-PAYLOAD-TRAILER" in out.stdout,
          "boto3 sent no aws-chunked body: %s" % out.stdout)
    for key in ("boto/put.bin", "boto/upload.bin"):
        ev = stored(key)
        check(len(ev) == 1 and ev[0]["sha256"] == sha256(data),
              "boto3 %s: stored event %s" % (key, ev))
    print("ok: boto3 %s put_object/upload_file over TLS (aws-chunked, "
          "CRC32 trailer)" % (ver,))


raw_rows()
restic_row()
tls = TLS()
try:
    cli223_tls_rows(tls)
    boto3_tls_row(tls)
finally:
    tls.stop()
sink.stop()
print("all ok")
