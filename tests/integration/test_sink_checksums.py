"""x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} are verified on PUT
(issue 8), as S3 does:

- a right one: 200, echoed, kept with the version (metadata and `stored`
  event) and returned by HEAD/GET with x-amz-checksum-mode: ENABLED (whole
  objects only), also after a restart;
- a wrong one: 400 BadDigest "The <ALG> you specified did not match the
  calculated checksum.", nothing stored, no event (the old bug: a bad
  x-amz-checksum-sha256 got the Content-MD5 message);
- a malformed one, two of them, or an x-amz-sdk-checksum-algorithm that
  disagrees: 400 InvalidRequest before the body (Expect: 100-continue gets
  the error, not a 100); one vsink does not verify: 501.

Clients: this python's boto3 (Debian's 1.26: ChecksumAlgorithm= for CRC32,
CRC32C, SHA1, SHA256), Debian's aws CLI (--checksum-algorithm), requests
signed here for each algorithm including CRC64NVME, and, when a python on
the machine has boto3 >= 1.36 (which sends x-amz-checksum-crc32 on every
put_object and checks GET's checksum by default), that boto3 and its aws CLI.
The values sent are computed here by Python (zlib, hashlib, awscrt when
present, and CRC32C/CRC64NVME written out below), so the C code is checked
against independent implementations on random data."""
import base64
import glob
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

from rawhttp import connect, read_response, target
from vsharness import (Sink, check, fail, env_with_keys, boto3_client,
                       KEY_ID, SECRET)

# ---- the checksums, in Python ------------------------------------------------


def _table(poly):
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (poly if c & 1 else 0)
        t.append(c)
    return t


_T32C, _T64 = _table(0x82F63B78), _table(0x9A6C9329AC4BC9B5)


def _crc(table, mask, data):
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def crc32c_py(data):
    return _crc(_T32C, 0xFFFFFFFF, data)


def crc64nvme_py(data):
    return _crc(_T64, 0xFFFFFFFFFFFFFFFF, data)


check(crc32c_py(b"123456789") == 0xE3069283, "python CRC32C check value")
check(crc64nvme_py(b"123456789") == 0xAE8B14860A799888,
      "python CRC64NVME check value")
try:
    from awscrt import checksums as crt
    check(crt.crc32c(b"123456789") == 0xE3069283, "awscrt CRC32C")
except ImportError:
    crt = None


def digest(alg, data):
    if alg == "crc32":
        return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    if alg == "crc32c":
        v = crt.crc32c(data) if crt else crc32c_py(data)
        return v.to_bytes(4, "big")
    if alg == "crc64nvme":
        return crc64nvme_py(data).to_bytes(8, "big")
    return hashlib.new(alg, data).digest()


def b64(alg, data):
    return base64.b64encode(digest(alg, data)).decode()


ALGS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]
LABEL = {a: a.upper() for a in ALGS}
rnd = random.Random(8)


def randbytes(n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


# CRC32C of the same random bytes by both Python implementations
if crt:
    sample = randbytes(5000)
    check(crt.crc32c(sample) == crc32c_py(sample), "awscrt vs python CRC32C")

# ---- the sink and what it keeps -----------------------------------------------
sink = Sink(tag="cksum").start()
s3 = boto3_client(sink)
n_ok = n_refused = 0


def stored_events():
    return sink.manifest_events("stored")


def error_of(body):
    root = ET.fromstring(body)
    return root.findtext("Code"), root.findtext("Message")


def put(key, body, headers):
    url = sink.presign("PUT", "videos/" + key)
    return sink.request("PUT", url, body, headers)


def expect_ok(key, body, alg, headers=None):
    """PUT with the right checksum: 200, echoed, kept, returned."""
    global n_ok
    value = b64(alg, body)
    h = {"x-amz-checksum-" + alg: value}
    h.update(headers or {})
    before = len(stored_events())
    st, rh, data = put(key, body, h)
    check(st == 200, "%s %s: %d %s" % (key, alg, st, data[:300]))
    check(rh.get("x-amz-checksum-" + alg) == value,
          "%s: echo %r, want %r" % (key, rh.get("x-amz-checksum-" + alg),
                                    value))
    evs = stored_events()
    check(len(evs) == before + 1, "%s: one stored event" % key)
    check(evs[-1]["key"] == key and evs[-1].get("checksum") == {alg: value},
          "%s: event checksum %r" % (key, evs[-1].get("checksum")))
    returned(key, body, alg, value)
    n_ok += 1
    return value


def returned(key, body, alg, value):
    url = sink.presign("GET", "videos/" + key)
    mode = {"x-amz-checksum-mode": "ENABLED"}
    st, h, got = sink.request("GET", url, None, mode)
    check(st == 200 and got == body, "%s: GET %d" % (key, st))
    check(h.get("x-amz-checksum-" + alg) == value,
          "%s: GET with checksum mode: %r" % (key, h))
    check(h.get("x-amz-checksum-type") == "FULL_OBJECT", "%s: type" % key)
    st, h, _ = sink.request("HEAD", sink.presign("HEAD", "videos/" + key),
                            None, mode)
    check(st == 200 and h.get("x-amz-checksum-" + alg) == value,
          "%s: HEAD with checksum mode: %d %r" % (key, st, h))
    st, h, _ = sink.request("GET", url)
    check(not any(k.startswith("x-amz-checksum") for k in h),
          "%s: checksum without checksum mode" % key)
    # a range is not the object the checksum describes
    if not body:
        return
    st, h, got = sink.request("GET", url, None, dict(mode, Range="bytes=0-3"))
    check(st == 206 and got == body[:4] and
          not any(k.startswith("x-amz-checksum") for k in h),
          "%s: ranged GET %d %r" % (key, st, h))


def expect_refused(name, key, body, headers, status, code, message,
                   expect100=False):
    """Refused with S3's code and message; nothing kept, no event. With
    expect100, only the head is sent: the answer must come before the
    body (no 100 Continue)."""
    global n_refused
    files, events = sink.object_files(), stored_events()
    if expect100:
        path = target(sink.presign("PUT", "videos/" + key))
        head = "PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n" \
               "Expect: 100-continue\r\n" % (path, sink.host, sink.port,
                                              len(body))
        head += "".join("%s: %s\r\n" % kv for kv in headers.items())
        s = connect(sink)
        s.sendall(head.encode("latin-1") + b"\r\n")
        resp = read_response(s)
        s.close()
        check(resp is not None, "%s: no answer before the body" % name)
        st, _, data = resp
    else:
        st, _, data = put(key, body, headers)
    got = error_of(data) if data else (None, None)
    check(st == status and got == (code, message),
          "%s: want %d %s %r, got %d %r" % (name, status, code, message, st,
                                            got))
    check(sink.object_files() == files and not sink.temp_files(),
          "%s: files changed: %s" % (name, sink.object_files()))
    check(stored_events() == events, "%s: an event was written" % name)
    n_refused += 1
    print("ok  %-52s %d %s" % (name, st, code))


# ---- every algorithm, signed here ---------------------------------------------
bodies = {}
for alg in ALGS:
    for size in (0, 1, 7, 8, 9, 100, 4096 + 3, 70001, 2 * 1024 * 1024 + 5):
        body = randbytes(size) if size < 100000 else \
            hashlib.sha256(str(size).encode()).digest() * (size // 32) + \
            b"x" * (size % 32)
        key = "raw/%s/%d.bin" % (alg, size)
        expect_ok(key, body, alg,
                  {"x-amz-sdk-checksum-algorithm": LABEL[alg]}
                  if size % 2 else None)
        bodies[key] = (body, alg)
    print("ok  %-52s 200, echoed, kept, returned" % (alg + ": 9 sizes"))

for alg in ALGS:
    body = randbytes(5000)
    other = bytearray(body)
    other[4321] ^= 0x10  # one bit of the body differs from what was hashed
    n = len(digest(alg, body))
    expect_refused("%s wrong" % alg, "bad/%s" % alg, body,
                   {"x-amz-checksum-" + alg: b64(alg, bytes(other))}, 400,
                   "BadDigest", "The %s you specified did not match the "
                   "calculated checksum." % LABEL[alg])
    invalid = "Value for x-amz-checksum-%s header is invalid." % alg
    short = base64.b64encode(digest(alg, body)[:n - 1]).decode()
    for what, value in (("one byte short", short),
                        ("one byte long", base64.b64encode(
                            digest(alg, body) + b"\0").decode()),
                        ("not base64", "!" * len(b64(alg, body))),
                        ("empty", "")):
        expect_refused("%s %s" % (alg, what), "bad/%s" % alg, body,
                       {"x-amz-checksum-" + alg: value}, 400,
                       "InvalidRequest", invalid)
    expect_refused("%s malformed, Expect: 100-continue" % alg, "bad/%s" % alg,
                   body, {"x-amz-checksum-" + alg: short}, 400,
                   "InvalidRequest", invalid, expect100=True)

body = randbytes(3000)
expect_refused("crc32 + crc32c", "bad/two", body,
               {"x-amz-checksum-crc32": b64("crc32", body),
                "x-amz-checksum-crc32c": b64("crc32c", body)}, 400,
               "InvalidRequest", "Expecting a single x-amz-checksum- header. "
               "Multiple checksum Types are not allowed.", expect100=True)
expect_refused("sha1 + sha256, both right", "bad/two", body,
               {"x-amz-checksum-sha1": b64("sha1", body),
                "x-amz-checksum-sha256": b64("sha256", body)}, 400,
               "InvalidRequest", "Expecting a single x-amz-checksum- header. "
               "Multiple checksum Types are not allowed.")
expect_refused("sdk algorithm CRC32C, crc32 sent", "bad/sdk", body,
               {"x-amz-checksum-crc32": b64("crc32", body),
                "x-amz-sdk-checksum-algorithm": "CRC32C"}, 400,
               "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm "
               "header is invalid.", expect100=True)
expect_refused("sdk algorithm alone", "bad/sdk", body,
               {"x-amz-sdk-checksum-algorithm": "SHA1"}, 400,
               "InvalidRequest", "x-amz-sdk-checksum-algorithm specified, "
               "but no corresponding x-amz-checksum-* or x-amz-trailer "
               "headers were found.")
expect_refused("x-amz-checksum-xxhash64 (not verified)", "bad/other", body,
               {"x-amz-checksum-xxhash64": "AAAAAAAAAAA="}, 501,
               "NotImplemented", "x-amz-checksum-xxhash64: only CRC32, "
               "CRC32C, CRC64NVME, SHA1 and SHA256 checksums are verified "
               "by vsink")
expect_refused("sdk algorithm XXHASH3 (not verified)", "bad/other", body,
               {"x-amz-sdk-checksum-algorithm": "XXHASH3"}, 501,
               "NotImplemented", "x-amz-sdk-checksum-algorithm: only CRC32, "
               "CRC32C, CRC64NVME, SHA1 and SHA256 are verified by vsink")
# a trailer is an aws-chunked body's (test_sink_awschunked.py)
expect_refused("x-amz-trailer on a whole body", "bad/trailer", body,
               {"x-amz-trailer": "x-amz-checksum-crc32"}, 400,
               "InvalidArgument", "aws-chunked bodies (Content-Encoding: "
               "aws-chunked, x-amz-decoded-content-length, x-amz-trailer) "
               "need x-amz-content-sha256: STREAMING-...")
# Content-MD5 right, the checksum wrong: the checksum's message
md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
expect_refused("Content-MD5 right, crc64nvme wrong", "bad/md5", body,
               {"Content-MD5": md5,
                "x-amz-checksum-crc64nvme": b64("crc64nvme", body[1:])}, 400,
               "BadDigest", "The CRC64NVME you specified did not match the "
               "calculated checksum.")
expect_ok("raw/md5-and-crc32.bin", body, "crc32", {"Content-MD5": md5})
bodies["raw/md5-and-crc32.bin"] = (body, "crc32")

# ---- boto3 ------------------------------------------------------------------
import boto3
import botocore
print("boto3 %s, botocore %s (%s)" % (boto3.__version__, botocore.__version__,
                                      sys.executable))
CK = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C",
      "sha1": "ChecksumSHA1", "sha256": "ChecksumSHA256",
      "crc64nvme": "ChecksumCRC64NVME"}
boto_algs = ["crc32", "sha1", "sha256"]
if crt:  # botocore computes CRC32C only with awscrt
    boto_algs.insert(1, "crc32c")
for alg in boto_algs:
    body, key = randbytes(300000), "boto/%s.bin" % alg
    before = len(stored_events())
    r = s3.put_object(Bucket="videos", Key=key, Body=body,
                      ChecksumAlgorithm=LABEL[alg])
    check(r.get(CK[alg]) == b64(alg, body), "boto3 %s: %r" % (alg, r))
    check(stored_events()[before:][0].get("checksum") ==
          {alg: b64(alg, body)}, "boto3 %s: event" % alg)
    h = s3.head_object(Bucket="videos", Key=key, ChecksumMode="ENABLED")
    check(h.get(CK[alg]) == b64(alg, body), "boto3 head %s: %r" % (alg, h))
    # botocore checks the body against the checksum it is given back
    g = s3.get_object(Bucket="videos", Key=key, ChecksumMode="ENABLED")
    check(g.get(CK[alg]) == b64(alg, body) and g["Body"].read() == body,
          "boto3 get %s" % alg)
    bodies[key] = (body, alg)
    # a checksum the caller gives, wrong: refused by the sink
    try:
        s3.put_object(Bucket="videos", Key=key + ".bad", Body=body,
                      **{CK[alg]: b64(alg, body + b"!")})
        fail("boto3 %s: a wrong checksum was accepted" % alg)
    except s3.exceptions.ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "BadDigest" and LABEL[alg] in err["Message"],
              "boto3 %s wrong: %r" % (alg, err))
    print("ok  boto3 put_object ChecksumAlgorithm=%-14s 200; wrong: 400"
          % LABEL[alg])

# ---- the AWS command lines ------------------------------------------------------
aws_env = env_with_keys({"AWS_ACCESS_KEY_ID": KEY_ID,
                         "AWS_SECRET_ACCESS_KEY": SECRET,
                         "AWS_DEFAULT_REGION": "us-east-1",
                         "AWS_CONFIG_FILE": "/dev/null",
                         "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                         "AWS_MAX_ATTEMPTS": "1"})
tmp = os.path.dirname(sink.stderr_path)


def aws(binary, *args):
    out = subprocess.run([binary, "--endpoint-url", sink.endpoint] +
                         list(args), env=aws_env, capture_output=True,
                         timeout=120)
    check(out.returncode == 0, "%s %s: %s" % (binary, args, out.stderr[-400:]))
    return out.stdout.decode()


if os.path.exists("/usr/bin/aws"):
    for alg in ("crc32", "sha1"):
        body, key = randbytes(20000), "cli/%s.bin" % alg
        path = os.path.join(tmp, "cli.bin")
        with open(path, "wb") as f:
            f.write(body)
        r = json.loads(aws("/usr/bin/aws", "s3api", "put-object", "--bucket",
                           "videos", "--key", key, "--body", path,
                           "--checksum-algorithm", LABEL[alg]))
        check(r.get(CK[alg]) == b64(alg, body), "aws cli %s: %r" % (alg, r))
        bodies[key] = (body, alg)
        print("ok  /usr/bin/aws s3api put-object --checksum-algorithm %s"
              % LABEL[alg])
else:
    print("note: no /usr/bin/aws; its rows skipped")

# ---- a boto3 that sends CRC32 by default (>= 1.36), wherever it is ------------
MODERN = r'''
import json, sys, boto3, botocore
from botocore.config import Config
endpoint, key_id, secret, key, path = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key_id, aws_secret_access_key=secret,
                  config=Config(s3={"addressing_style": "path"},
                                retries={"max_attempts": 1}))
sent = []
s3.meta.events.register("before-send.s3.*", lambda request, **kw:
                        sent.append({k.lower(): v for k, v in
                                     request.headers.items()}))
body = open(path, "rb").read()
r = s3.put_object(Bucket="videos", Key=key, Body=body)
put_hdrs = {k: v.decode() if isinstance(v, bytes) else v
            for k, v in sent[-1].items() if k.startswith("x-amz-")}
# the default since 1.36: GET asks for the checksum and checks the body
g = s3.get_object(Bucket="videos", Key=key)
ok = g["Body"].read() == body
get_hdrs = {k: v.decode() if isinstance(v, bytes) else v
            for k, v in sent[-1].items() if k.startswith("x-amz-")}
s3.upload_file(path, "videos", key + ".upload_file")
print(json.dumps({"version": boto3.__version__, "put": put_hdrs,
                  "crc32": r.get("ChecksumCRC32"), "get": get_hdrs,
                  "get_crc32": g.get("ChecksumCRC32"), "same": ok}))
'''


def modern_pythons():
    seen, out = set(), []
    for p in [sys.executable, shutil.which("python3")] + \
            sorted(glob.glob(os.path.expanduser(
                "~/.pyenv/versions/*/bin/python3"))):
        if not p or not os.path.exists(p) or os.path.realpath(p) in seen:
            continue
        seen.add(os.path.realpath(p))
        v = subprocess.run([p, "-c", "import boto3; print(boto3.__version__,"
                            " boto3.__file__)"], capture_output=True,
                           timeout=60)
        if v.returncode:
            continue
        ver, where = v.stdout.decode().split()
        if where in seen:  # a shim and the python it runs
            continue
        seen.add(where)
        if tuple(int(x) for x in ver.split(".")[:2]) >= (1, 36):
            out.append(p)
    return out


modern = modern_pythons()
for py in modern:
    body = randbytes(150000)
    path = os.path.join(tmp, "modern.bin")
    with open(path, "wb") as f:
        f.write(body)
    key = "modern/%d.bin" % len(bodies)
    out = subprocess.run([py, "-c", MODERN, sink.endpoint, KEY_ID, SECRET,
                          key, path], capture_output=True, timeout=120)
    check(out.returncode == 0, "%s: %s" % (py, out.stderr.decode()[-800:]))
    r = json.loads(out.stdout)
    check(r["put"].get("x-amz-checksum-crc32") == b64("crc32", body),
          "boto3 %s sent %r" % (r["version"], r["put"]))
    check(r["crc32"] == b64("crc32", body) and r["same"] and
          r["get"].get("x-amz-checksum-mode") == "ENABLED" and
          r["get_crc32"] == b64("crc32", body),
          "boto3 %s: %r" % (r["version"], r))
    bodies[key] = (body, "crc32")
    bodies[key + ".upload_file"] = (body, "crc32")
    print("ok  boto3 %s (%s): default x-amz-checksum-crc32 200, GET checked"
          % (r["version"], py))
    aws_bin = os.path.join(os.path.dirname(py), "aws")
    if os.path.exists(aws_bin):
        ver = aws(aws_bin, "--version").strip() or "aws"
        cp_key = "modern/cp-%d.bin" % len(bodies)
        aws(aws_bin, "s3", "cp", path, "s3://videos/" + cp_key)
        back = os.path.join(tmp, "back.bin")
        aws(aws_bin, "s3", "cp", "s3://videos/" + cp_key, back)
        with open(back, "rb") as f:
            check(f.read() == body, "aws s3 cp round trip")
        ev = stored_events()[-1]
        check(ev["key"] == cp_key and
              ev.get("checksum") == {"crc32": b64("crc32", body)},
              "aws s3 cp event %r" % ev)
        bodies[cp_key] = (body, "crc32")
        print("ok  %s (%s): s3 cp up (crc32) and down" % (aws_bin, ver))
if not modern:
    print("note: no python here has boto3 >= 1.36; default-CRC32 rows "
          "skipped")

# ---- kept across a restart ---------------------------------------------------------
check(sink.stop() == 0, "sink exit status")
sink.start()
for key in ("raw/crc64nvme/70001.bin", "raw/sha1/9.bin", "boto/crc32.bin"):
    body, alg = bodies[key]
    returned(key, body, alg, b64(alg, body))
evs = stored_events()
check(len(evs) == len(bodies), "stored events %d, objects %d"
      % (len(evs), len(bodies)))
for e in evs:
    body, alg = bodies[e["key"]]
    check(e.get("checksum") == {alg: b64(alg, body)},
          "event %s: %r" % (e["key"], e.get("checksum")))
check(sink.stop() == 0, "sink exit status")
print("checksums: %d uploads verified and kept, %d refused with S3's answer"
      % (n_ok, n_refused))
