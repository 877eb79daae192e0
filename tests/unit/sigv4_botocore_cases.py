"""Header-signed S3 requests made by botocore, for test_sigv4_botocore.c.

Prints N records, one field a line:
  CASE / method / url / unix time / payload hash / key id / secret /
  region / n / n extra "Name: value" header lines given to the signer
  (n is -1 when botocore signed with a Date header, which vsink's signer
  does not produce) / m / m header lines as sent, Host included.
"""
import datetime
import random
import sys
from unittest import mock
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
rnd = random.Random(424242)
KEY_CHARS = list("abcXYZ019 +%~!*()'$&=?#,;:@-_.") + ["é", "日本", "🎬", "//"]
QUERY = [("uploadId", "2~ab/c+d=="), ("partNumber", "3"), ("versionId", "a b"),
         ("prefix", "x/y z"), ("list-type", "2"), ("uploads", None),
         ("delimiter", "/"), ("max-keys", "1000"), ("tagging", None),
         ("response-content-type", "video/mp4; q=1")]
HEADERS = [("Range", "bytes=0-9"), ("Content-Type", "video/mp4"),
           ("x-amz-meta-title", "  a  long   title "), ("If-None-Match", "*"),
           ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
           ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
           ("Content-Length", "21"), ("X-Amz-Meta-Uni", "été")]
TARGETS = [("http://127.0.0.1:9000", "us-east-1"),
           ("https://s3.amazonaws.com", "us-east-1"),
           ("http://localhost:80", "eu-west-3"),
           ("https://Minio.Example:9443", "us-east-1")]


class Frozen(datetime.datetime):
    instant = None

    @classmethod
    def utcnow(cls):
        return cls.instant

    @classmethod
    def now(cls, tz=None):
        return cls.instant.replace(tzinfo=tz) if tz else cls.instant


def one(i):
    endpoint, region = TARGETS[i % len(TARGETS)]
    method = rnd.choice(["GET", "PUT", "HEAD", "POST", "DELETE"])
    key = "".join(rnd.choice(KEY_CHARS) for _ in range(rnd.randint(1, 20)))
    url = endpoint + "/bucket-" + str(i % 7) + "/" + quote(key, safe="/~")
    params = rnd.sample(QUERY, rnd.randint(0, 3))
    if params:
        url += "?" + "&".join(quote(k, safe="-_.~") if v is None else
                              quote(k, safe="-_.~") + "=" +
                              quote(v, safe="-_.~") for k, v in params)
    extra = rnd.sample(HEADERS, rnd.randint(0, 4))
    use_date = i % 10 == 9
    headers = dict(extra)
    if use_date:
        headers["Date"] = "placeholder, botocore rewrites it"
    body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
    req = AWSRequest(method=method, url=url, headers=headers, data=body)
    unsigned = rnd.random() < 0.4
    req.context["client_config"] = Config(
        s3={"payload_signing_enabled": not unsigned})
    Frozen.instant = datetime.datetime(2000, 1, 1) + datetime.timedelta(
        seconds=rnd.randint(0, 40 * 365 * 86400))
    key_id, secret = "VSKEY%04d" % i, "sec/ret+%d" % rnd.getrandbits(64)
    auth = botocore.auth.S3SigV4Auth(Credentials(key_id, secret), "s3",
                                     region)
    with mock.patch.object(botocore.auth.datetime, "datetime", Frozen):
        auth.add_auth(req)
    sent = [(k, v) for k, v in req.headers.items()]
    sent.append(("Host", botocore.auth._host_from_url(url)))
    t = int((Frozen.instant - datetime.datetime(1970, 1, 1)).total_seconds())
    lines = ["CASE", method, url, str(t), req.headers["X-Amz-Content-SHA256"],
             key_id, secret, region]
    lines.append("-1" if use_date else str(len(extra)))
    if not use_date:
        lines += ["%s: %s" % kv for kv in extra]
    lines.append(str(len(sent)))
    lines += ["%s: %s" % kv for kv in sent]
    print("\n".join(lines))


for n in range(N):
    one(n)
