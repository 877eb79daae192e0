"""vsink presign against botocore's generate_presigned_url, byte for byte.

For a few hundred generated object keys (spaces, unicode, '+', '%', '~',
'!', '*', '(', deep paths, long keys...) and all four methods, botocore
(Debian's python3-boto3) and `vsink presign` sign at the same frozen
instant; the two URLs must be identical. Exits non-zero on any mismatch
and says how many URLs it compared.
"""
import datetime
import os
import random
import subprocess
import sys
import tempfile
from unittest import mock

import boto3
import botocore.auth
from botocore.config import Config

VSINK = os.environ.get("VSINK")
KEY_ID = "VSBOTOCORE000000TEST"
SECRET = "Zm9vYmFy/+botocore+compare/0123456789ab"
N_KEYS = 250
METHODS = [("get_object", "GET"), ("put_object", "PUT"),
           ("head_object", "HEAD"), ("get_object", "POST")]
# (endpoint, region): the default first, then ports botocore leaves out of
# the Host it signs, https, another region.
TARGETS = [("http://127.0.0.1:9000", "us-east-1")] * 6 + [
    ("http://localhost:80", "us-east-1"), ("https://s3.example.test", "eu-west-3"),
    ("https://Store.Example.TEST:8443", "us-east-1")]
BUCKETS = ["videos", "my.bucket-1", "b12", "out-2026"]

PIECES = (list("abcXYZ0189 +%~!*()'$&=?#,;:@[]\"<>^`{}|\\-_.\t")
          + ["é", "ü", "ß", "日本", "🎬", "\u00a0", "Ω", "ﬁ", "%20", "%2F",
             "..", "//", "+ +", "~~", " "])


def make_key(rnd, i):
    """Keys of every shape: short, deep, long, odd characters."""
    shape = i % 5
    if shape == 0:  # deep path
        parts = ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 4)))
                 for _ in range(rnd.randint(5, 40))]
        key = "/".join(parts)
    elif shape == 1:  # long
        key = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(200, 300)))
    else:
        key = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 30)))
    while len(key.encode()) > 1024:
        key = key[:-1]
    return key or "x"


class FrozenDatetime(datetime.datetime):
    instant = None

    @classmethod
    def utcnow(cls):
        return cls.instant

    @classmethod
    def now(cls, tz=None):
        return cls.instant.replace(tzinfo=tz) if tz else cls.instant


def botocore_url(clients, endpoint, region, op, method, bucket, key,
                 expires, instant):
    client = clients.get((endpoint, region))
    if client is None:
        session = boto3.session.Session(aws_access_key_id=KEY_ID,
                                        aws_secret_access_key=SECRET,
                                        region_name=region)
        client = session.client("s3", endpoint_url=endpoint, config=Config(
            s3={"addressing_style": "path"}, signature_version="s3v4"))
        clients[(endpoint, region)] = client
    FrozenDatetime.instant = instant
    with mock.patch.object(botocore.auth.datetime, "datetime", FrozenDatetime):
        return client.generate_presigned_url(
            op, Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires,
            HttpMethod=method)


def vsink_url(creds, data, endpoint, region, method, bucket, key, expires,
              instant):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VSINK_") or k == "VSINK"}
    args = [VSINK, "presign", "--method", method, "--expires", str(expires),
            "--endpoint", endpoint, "--region", region, "--credentials",
            creds, "--data", data, "--date",
            instant.strftime("%Y%m%dT%H%M%SZ"), "--",
            (bucket + "/" + key).encode()]
    p = subprocess.run(args, capture_output=True, env=env, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("vsink presign exited %d: %s"
                           % (p.returncode, p.stderr.decode(errors="replace")))
    out = p.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1, repr(out)
    return out[:-1]


def main():
    if not VSINK:
        print("VSINK (the vsink binary) is not set", file=sys.stderr)
        return 2
    rnd = random.Random(20260101)
    clients = {}
    compared = mismatched = 0
    with tempfile.TemporaryDirectory(prefix="vsink-presign-") as tmp:
        creds = os.path.join(tmp, "credentials")
        with open(creds, "w") as f:
            f.write("# test key\n%s %s\n" % (KEY_ID, SECRET))
        data = os.path.join(tmp, "data")
        for i in range(N_KEYS):
            key = make_key(rnd, i)
            bucket = rnd.choice(BUCKETS)
            endpoint, region = TARGETS[i % len(TARGETS)]
            for op, method in METHODS:
                instant = datetime.datetime(2000, 1, 1) + datetime.timedelta(
                    seconds=rnd.randint(0, 40 * 365 * 86400))
                expires = rnd.choice([1, 60, 3600, 86400, 604800,
                                      rnd.randint(1, 604800)])
                want = botocore_url(clients, endpoint, region, op, method,
                                    bucket, key, expires, instant)
                got = vsink_url(creds, data, endpoint, region, method, bucket,
                                key, expires, instant)
                compared += 1
                if got != want:
                    mismatched += 1
                    if mismatched <= 5:
                        print("MISMATCH key=%r method=%s\n  botocore %s\n"
                              "  vsink    %s" % (key, method, want, got))
        if os.path.exists(data):
            print("presign must not create the data folder", file=sys.stderr)
            return 1
    print("compared %d presigned URLs with botocore %s: %d mismatches"
          % (compared, botocore.__version__, mismatched))
    return 1 if mismatched or compared < 800 else 0


if __name__ == "__main__":
    sys.exit(main())
