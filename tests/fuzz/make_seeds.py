"""Writes the seed corpus of fuzz_sigv4 (corpus/sigv4/): requests botocore
signed with the fuzz target's key at its clock, so mode 0 starts from inputs
that verify, plus round-trip seeds for modes 1 and 2. Run once from
tests/fuzz/; the output is committed."""
import datetime
import os
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_ID, SECRET = "VSFUZZKEY0000000001", "fuzz/Secret+Key0123456789abcdefghijklmno"
T0 = datetime.datetime(2026, 1, 1)
HOST = "127.0.0.1:9000"


class Frozen(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return T0

    @classmethod
    def now(cls, tz=None):
        return T0.replace(tzinfo=tz) if tz else T0


def signed(method, path, headers, presign, body=b""):
    req = AWSRequest(method=method, url="http://" + HOST + path,
                     headers=headers, data=body)
    cls = botocore.auth.S3SigV4QueryAuth if presign else botocore.auth.S3SigV4Auth
    kw = {"expires": 3600} if presign else {}
    auth = cls(Credentials(KEY_ID, SECRET), "s3", "us-east-1", **kw)
    with mock.patch.object(botocore.auth.datetime, "datetime", Frozen):
        auth.add_auth(req)
    target = req.url[len("http://" + HOST):]
    lines = [method, target, "Host: " + HOST]
    lines += ["%s: %s" % kv for kv in req.headers.items()]
    return "\x00" + "\n".join(lines)  # mode 0


seeds = {
    "q_put": signed("PUT", "/videos/a%20b/%C3%A9t%C3%A9.mp4", {}, True),
    "q_get_version": signed("GET", "/videos/k?versionId=3", {}, True),
    "h_put_unsigned": signed("PUT", "/videos/x.mp4",
                             {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
                             False),
    "h_put_body": signed("PUT", "/videos/y~z.mp4",
                         {"Content-Type": "video/mp4",
                          "x-amz-meta-t": "  a  b "}, False, b"abc"),
    "h_post_hook": signed("POST", "/hooks/runware?x=1&y", {}, False, b"{}"),
    "round_presign": "\x01P\nvideos/a b/\u00e9.mp4\nversionId=1&x\n600",
    "round_header": "\x02G\nvideos/k~1\nuploads&prefix=a/b\n\nRange: bytes=0-9"
                    "\nX-Amz-Meta-A:  two  spaces ",
}
os.makedirs("corpus/sigv4", exist_ok=True)
for name, text in seeds.items():
    with open("corpus/sigv4/" + name, "wb") as f:
        f.write(text.encode("utf-8"))
