"""Real S3 clients against a running sink: curl -T to a presigned URL, the
AWS command line (header-signed SigV4), boto3 presigned GET and PUT. Each
stored object must read back byte for byte and have its manifest event."""
import hashlib
import json
import os
import subprocess
import urllib.request

from vsharness import (Sink, check, env_with_keys, KEY_ID, SECRET, sha256,
                       pattern, tmpdir, boto3_client)

sink = Sink(tag="clients").start()
work = tmpdir("clients-files")

# curl -T to a presigned PUT URL, then read back with a presigned GET
src = os.path.join(work, "clip one+~.mp4")
data = pattern(3 * 1024 * 1024 + 17, seed=7)
with open(src, "wb") as f:
    f.write(data)
key = "out/2026/11/24/6f1c2a3b-0d4e-4f5a-9b6c-7d8e9fa0b1c2 é+~.mp4"
put_url = sink.presign("PUT", "videos/" + key)
r = subprocess.run(["curl", "-sS", "-f", "-T", src, put_url, "-D", "-",
                    "-o", "/dev/null"], capture_output=True, timeout=60)
check(r.returncode == 0, "curl -T failed: %s %s" % (r.stdout, r.stderr))
headers = r.stdout.decode().lower()
check("etag: \"%s\"" % hashlib.md5(data).hexdigest() in headers,
      "ETag is not the MD5 (as S3's): %s" % headers)
check("x-amz-version-id:" in headers, "no x-amz-version-id in %s" % headers)
get_url = sink.presign("GET", "videos/" + key)
r = subprocess.run(["curl", "-sS", "-f", get_url], capture_output=True,
                   timeout=60)
check(r.returncode == 0 and r.stdout == data, "curl GET differs")
r = subprocess.run(["curl", "-sS", "-f", "-H", "Range: bytes=100-199",
                    get_url], capture_output=True, timeout=60)
check(r.stdout == data[100:200], "Range GET differs")

ev = [e for e in sink.manifest_events("stored") if e["key"] == key]
check(len(ev) == 1, "want one stored event for the curl upload: %s" % ev)
check(ev[0]["sha256"] == sha256(data) and ev[0]["bytes"] == len(data),
      "stored event wrong: %s" % ev[0])
check(ev[0]["taskUUID"] == "6f1c2a3b-0d4e-4f5a-9b6c-7d8e9fa0b1c2",
      "taskUUID not taken from the key: %s" % ev[0])
check(ev[0]["remote"] == "127.0.0.1", "remote: %s" % ev[0])

# the AWS command line, header-signed (Debian's awscli at /usr/bin/aws)
aws_env = env_with_keys({"AWS_ACCESS_KEY_ID": KEY_ID,
                         "AWS_SECRET_ACCESS_KEY": SECRET,
                         "AWS_DEFAULT_REGION": "us-east-1",
                         "AWS_CONFIG_FILE": "/dev/null",
                         "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
awsdata = pattern(1024 * 1024 + 5, seed=8)
asrc = os.path.join(work, "aws.bin")
with open(asrc, "wb") as f:
    f.write(awsdata)


def aws(*args):
    out = subprocess.run(["/usr/bin/aws", "--endpoint-url", sink.endpoint,
                          "s3api"] + list(args), env=aws_env,
                         capture_output=True, timeout=120)
    check(out.returncode == 0, "aws %s failed: %s" % (args[0], out.stderr))
    return json.loads(out.stdout or b"{}")


put = aws("put-object", "--bucket", "videos", "--key", "aws/dir/a b.bin",
          "--body", asrc, "--content-type", "video/mp4")
# awscli sends Content-MD5, so the ETag is the MD5, as on S3
check(put.get("ETag") == '"%s"' % hashlib.md5(awsdata).hexdigest(),
      "aws put ETag %s" % put)
head = aws("head-object", "--bucket", "videos", "--key", "aws/dir/a b.bin")
check(head["ContentLength"] == len(awsdata), "head length %s" % head)
check(head["ContentType"] == "video/mp4", "head content type %s" % head)
dst = os.path.join(work, "aws.out")
aws("get-object", "--bucket", "videos", "--key", "aws/dir/a b.bin", dst)
with open(dst, "rb") as f:
    check(f.read() == awsdata, "aws get-object bytes differ")

# boto3: presigned PUT and GET, sent with urllib
s3 = boto3_client(sink)
bdata = pattern(200000, seed=9)
url = s3.generate_presigned_url("put_object", Params={
    "Bucket": "videos", "Key": "boto/ünï code/x y+z.mp4"}, ExpiresIn=600)
req = urllib.request.Request(url, data=bdata, method="PUT")
with urllib.request.urlopen(req, timeout=60) as resp:
    check(resp.status == 200, "boto3 presigned PUT %d" % resp.status)
url = s3.generate_presigned_url("get_object", Params={
    "Bucket": "videos", "Key": "boto/ünï code/x y+z.mp4"}, ExpiresIn=600)
with urllib.request.urlopen(url, timeout=60) as resp:
    check(resp.read() == bdata, "boto3 presigned GET bytes differ")
# boto3's own header-signed calls too
obj = s3.get_object(Bucket="videos", Key="boto/ünï code/x y+z.mp4",
                    Range="bytes=10-19")
check(obj["Body"].read() == bdata[10:20], "boto3 ranged get_object")

keys = sorted(e["key"] for e in sink.manifest_events("stored"))
check(keys == sorted([key, "aws/dir/a b.bin", "boto/ünï code/x y+z.mp4"]),
      "manifest keys %s" % keys)
check(sink.stop() == 0, "sink exit status")
print("clients: curl, aws s3api, boto3 OK")
