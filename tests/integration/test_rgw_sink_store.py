"""`vsink serve --store s3://BUCKET/PREFIX` against a real Ceph RGW: the
sink keeps its objects in a cluster bucket and serves them from there.

- refused at start while the cluster bucket has no versioning, with the
  command that turns it on; refused for a bucket the cluster lacks;
- boto3 and curl PUT through the sink land under PREFIX/<bucket>/<key> in
  the cluster, with the sink's MD5 ETag and the manifest's SHA-256;
- a body larger than a part (40 MiB) goes up as a multipart upload on the
  cluster (its ETag ends "-N"), reads back identical through the sink,
  whole and by Range, and leaves no multipart upload open;
- a second PUT is a second version (the cluster's version ids), each
  readable by versionId; DELETE makes a delete marker (cluster and sink
  agree), ListObjectsV2 / ListObjectVersions through the sink;
- a client's multipart upload is a cluster multipart upload: parts sent to
  two sinks on the same prefix, ListParts and ListMultipartUploads from
  either, Complete checked (order, ETags) and its object hashed whole for
  the stored event; Abort leaves nothing; aws cli's multipart `s3 cp`;
  another node's sweeper (--multipart-expiry) aborts a stale upload and
  drops its journal;
- CopyObject is served (a server-side copy on the cluster; the details are
  test_rgw_sink_copy.py's): the copy lands under the prefix with a
  `stored` event "source":"copy";
- `vsink verify --store s3://` re-hashes the objects streamed from the
  cluster, and names a version deleted behind the sink's back;
- a 300 MiB upload keeps the sink's peak RSS bounded (spooled parts, not
  memory);
- RGW stopped: a PUT is 503 ServiceUnavailable and leaves nothing; started
  again: the next PUT lands."""
import base64
import hashlib
import os
import subprocess
import time
import urllib.parse

from rgw import start_or_skip
import vsharness as h

CLUSTER = "vsink-cluster"
PREFIX = "nodes/a"


def cluster_key(key, bucket="videos"):
    return "%s/%s/%s" % (PREFIX, bucket, key)


def md5(b):
    return hashlib.md5(b).hexdigest()


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


rgw = start_or_skip("sinkstore", 1536)
s3 = rgw.client()
rgw.create_bucket(CLUSTER)

env = rgw.sink_env(h.env_with_keys())
ARGS = ["--store", "s3://%s/%s" % (CLUSTER, PREFIX),
        "--s3-endpoint", rgw.endpoint]


def start_refused(args, want):
    data = h.tmpdir("s3refused")
    out = subprocess.run([h.VSINK, "serve", "--listen", "127.0.0.1:0",
                          "--data", data] + args, env=env,
                         capture_output=True, timeout=60)
    err = out.stderr.decode(errors="replace")
    h.check(out.returncode != 0, "sink started with %s" % args)
    h.check(want in err, "refusal says %r: %s" % (want, err))
    print("refused as it should: %s" % err.strip().splitlines()[-1])


# ---- start-up checks ---------------------------------------------------------
start_refused(ARGS, "put-bucket-versioning")
start_refused(["--store", "s3://no-such-cluster-bucket",
               "--s3-endpoint", rgw.endpoint], "no-such-cluster-bucket")
start_refused(["--store", "s3://%s" % CLUSTER], "--s3-endpoint")
start_refused(ARGS + ["--bucket", "manifest"], "manifest")
secret_env = dict(env)
del secret_env["VSINK_S3_SECRET_ACCESS_KEY"]
out = subprocess.run([h.VSINK, "serve", "--listen", "127.0.0.1:0", "--data",
                      h.tmpdir("s3nokey")] + ARGS, env=secret_env,
                     capture_output=True, timeout=60)
h.check(out.returncode != 0 and b"VSINK_S3_SECRET_ACCESS_KEY" in out.stderr,
        "no cluster secret: refused naming it: %r" % out.stderr)
h.check(rgw.secret.encode() not in out.stderr, "secret in an error")

s3.put_bucket_versioning(Bucket=CLUSTER,
                         VersioningConfiguration={"Status": "Enabled"})
sink = h.Sink(args=ARGS, env=env, tag="s3store").start()
print("sink on %s stores into %s/%s/%s" % (sink.endpoint, rgw.endpoint,
                                           CLUSTER, PREFIX))
c = h.boto3_client(sink)

# ---- small objects -----------------------------------------------------------
small = h.pattern(3000, seed=2)
r = c.put_object(Bucket="videos", Key="clips/a.mp4", Body=small,
                 ContentType="video/mp4", Metadata={"shot": "7"})
h.check(r["ETag"].strip('"') == md5(small), "ETag is the MD5: %r" % r)
vid1 = r.get("VersionId")
h.check(vid1, "a version id: %r" % r)
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("clips/a.mp4"))
h.check(hd["ContentLength"] == 3000 and hd["VersionId"] == vid1,
        "in the cluster under the prefix, same version: %r" % hd)
h.check(hd["ContentType"] == "video/mp4", "content type kept: %r" % hd)
g = c.get_object(Bucket="videos", Key="clips/a.mp4")
h.check(g["Body"].read() == small, "GET through the sink")
h.check(g["ContentType"] == "video/mp4" and g["Metadata"] == {"shot": "7"},
        "type and user metadata through the sink: %r %r" %
        (g["ContentType"], g["Metadata"]))
h.check(g["ETag"].strip('"') == md5(small), "GET ETag: %r" % g["ETag"])
g = c.get_object(Bucket="videos", Key="clips/a.mp4", Range="bytes=100-199")
h.check(g["Body"].read() == small[100:200] and
        g["ContentRange"] == "bytes 100-199/3000", "a range")
ev = [e for e in sink.manifest_events("stored") if e["key"] == "clips/a.mp4"]
h.check(len(ev) == 1 and ev[0]["sha256"] == h.sha256(small) and
        ev[0]["versionId"] == vid1, "one stored event: %r" % ev)

# ---- a second version, then a marker ----------------------------------------
small2 = h.pattern(2000, seed=3)
vid2 = c.put_object(Bucket="videos", Key="clips/a.mp4",
                    Body=small2)["VersionId"]
h.check(vid2 and vid2 != vid1, "a new version")
h.check(c.get_object(Bucket="videos", Key="clips/a.mp4")["Body"].read() ==
        small2, "the current is the newest")
h.check(c.get_object(Bucket="videos", Key="clips/a.mp4",
                     VersionId=vid1)["Body"].read() == small,
        "the first by its version id")
vs = c.list_object_versions(Bucket="videos", Prefix="clips/")
ids = [v["VersionId"] for v in vs.get("Versions", [])]
h.check(set(ids) == {vid1, vid2}, "both versions listed: %r" % vs)
d = c.delete_object(Bucket="videos", Key="clips/a.mp4")
h.check(d.get("DeleteMarker"), "DELETE made a marker: %r" % d)
try:
    c.get_object(Bucket="videos", Key="clips/a.mp4")
    h.fail("GET after DELETE succeeded")
except c.exceptions.NoSuchKey:
    pass
cv = s3.list_object_versions(Bucket=CLUSTER, Prefix=cluster_key("clips/"))
h.check(len(cv.get("Versions", [])) == 2 and
        len(cv.get("DeleteMarkers", [])) == 1,
        "the cluster kept both versions and has the marker: %r" % cv)
h.check(c.get_object(Bucket="videos", Key="clips/a.mp4",
                     VersionId=vid2)["Body"].read() == small2,
        "a version behind the marker still reads")

# ---- listing -----------------------------------------------------------------
for k in ("list/x/1", "list/x/2", "list/y", "list/z/3"):
    c.put_object(Bucket="videos", Key=k, Body=k.encode())
ls = c.list_objects_v2(Bucket="videos", Prefix="list/", Delimiter="/")
h.check([o["Key"] for o in ls.get("Contents", [])] == ["list/y"] and
        [p["Prefix"] for p in ls.get("CommonPrefixes", [])] ==
        ["list/x/", "list/z/"], "ListObjectsV2 with a delimiter: %r" % ls)
ls = c.list_objects_v2(Bucket="videos", Prefix="list/", StartAfter="list/x/1")
h.check([o["Key"] for o in ls["Contents"]] == ["list/x/2", "list/y",
                                               "list/z/3"],
        "StartAfter: %r" % ls)
ls = c.list_objects_v2(Bucket="videos")
h.check("clips/a.mp4" not in [o["Key"] for o in ls["Contents"]],
        "a deleted key is not listed")

# ---- a body larger than a part: multipart on the cluster ---------------------
big = h.pattern(40 << 20, seed=5)
path = os.path.join(h.tmpdir("s3big"), "big.bin")
with open(path, "wb") as f:
    f.write(big)
url = sink.presign("PUT", "videos/big/one.bin")
out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                      "-T", path, url], capture_output=True, timeout=300)
h.check(out.stdout == b"200", "curl -T 40 MiB: %r %r" % (out.stdout,
                                                          out.stderr))
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("big/one.bin"))
h.check(hd["ContentLength"] == len(big) and "-" in hd["ETag"],
        "multipart on the cluster: %r" % hd)
g = c.get_object(Bucket="videos", Key="big/one.bin")
h.check(hashlib.sha256(g["Body"].read()).hexdigest() == h.sha256(big),
        "40 MiB read back through the sink")
g = c.get_object(Bucket="videos", Key="big/one.bin",
                 Range="bytes=%d-%d" % (9 << 20, (9 << 20) + 99999))
h.check(g["Body"].read() == big[9 << 20:(9 << 20) + 100000],
        "a range across a part boundary")
# its ETag is made of the 8 MiB parts' MD5s, which the sink computed (it
# does not hash the whole body a second time for an MD5 no one sees)
parts_etag = "%s-5" % hashlib.md5(b"".join(
    hashlib.md5(big[i:i + (8 << 20)]).digest()
    for i in range(0, len(big), 8 << 20))).hexdigest()
h.check(c.head_object(Bucket="videos", Key="big/one.bin")["ETag"].strip('"')
        == parts_etag, "the multipart ETag of the parts' MD5s")
ev = [e for e in sink.manifest_events("stored") if e["key"] == "big/one.bin"]
h.check(len(ev) == 1 and ev[0]["sha256"] == h.sha256(big) and
        ev[0]["bytes"] == len(big) and ev[0]["etag"] == parts_etag,
        "stored event of the big one: %r" % ev)
# a Content-MD5 on a body that goes up in parts is still checked whole
mid = big[:20 << 20]
try:
    c.put_object(Bucket="videos", Key="big/md5.bin", Body=mid,
                 ContentMD5=base64.b64encode(hashlib.md5(big).digest())
                 .decode())
    h.fail("a wrong Content-MD5 over 20 MiB was stored")
except c.exceptions.ClientError as e:
    h.check(e.response["Error"]["Code"] == "BadDigest",
            "wrong Content-MD5: %r" % e.response["Error"])
h.check(not s3.list_object_versions(Bucket=CLUSTER, Prefix=cluster_key(
    "big/md5.bin")).get("Versions"), "nothing of the bad digest's body")
r = c.put_object(Bucket="videos", Key="big/md5.bin", Body=mid,
                 ContentMD5=base64.b64encode(hashlib.md5(mid).digest())
                 .decode())
h.check(r["ETag"].endswith('-3"'), "the right Content-MD5: stored %r" % r)
mpus = s3.list_multipart_uploads(Bucket=CLUSTER)
h.check(not mpus.get("Uploads"), "no upload left open: %r" % mpus)
# ?partNumber of an object the cluster holds in parts: the store keeps no
# part sizes, so 501, never a wrong range; part 1 of a whole object works
try:
    c.get_object(Bucket="videos", Key="big/one.bin", PartNumber=1)
    h.fail("partNumber of a multipart-stored object was served")
except c.exceptions.ClientError as e:
    h.check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 501,
            "partNumber: 501 NotImplemented: %r" % e.response)
g = c.get_object(Bucket="videos", Key="list/x/1", PartNumber=1)
h.check(g["Body"].read() == b"list/x/1", "part 1 of an object stored whole")

# ---- client multipart uploads: cluster multipart uploads, any node ---------
# a second sink on the same cluster prefix: a part sent to either is the
# upload's, as behind a load balancer
sink2 = h.Sink(args=ARGS, env=env, tag="s3store2").start()
c2 = h.boto3_client(sink2)
p1, p2, p3 = (h.pattern(5 << 20, seed=21), h.pattern(5 << 20, seed=22),
              h.pattern(123457, seed=23))
up = c.create_multipart_upload(Bucket="videos", Key="mpu/clip.mp4",
                               ContentType="video/mp4",
                               Metadata={"take": "3"})
uid = up["UploadId"]
e1 = c.upload_part(Bucket="videos", Key="mpu/clip.mp4", UploadId=uid,
                   PartNumber=1, Body=p1)["ETag"]
e2 = c2.upload_part(Bucket="videos", Key="mpu/clip.mp4", UploadId=uid,
                    PartNumber=2, Body=p2)["ETag"]
e3 = c.upload_part(Bucket="videos", Key="mpu/clip.mp4", UploadId=uid,
                   PartNumber=3, Body=p3)["ETag"]
h.check(e2.strip('"') == md5(p2), "a part's ETag is its MD5: %r" % e2)
lp = c2.list_parts(Bucket="videos", Key="mpu/clip.mp4", UploadId=uid)
h.check([(p["PartNumber"], p["Size"]) for p in lp["Parts"]] ==
        [(1, 5 << 20), (2, 5 << 20), (3, 123457)], "ListParts: %r" % lp)
lu = c2.list_multipart_uploads(Bucket="videos")
h.check([(u["Key"], u["UploadId"]) for u in lu.get("Uploads", [])] ==
        [("mpu/clip.mp4", uid)], "ListMultipartUploads: %r" % lu)
try:
    c.complete_multipart_upload(
        Bucket="videos", Key="mpu/clip.mp4", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2},
                                   {"PartNumber": 1, "ETag": e1}]})
    h.fail("parts out of order completed")
except c.exceptions.ClientError as e:
    h.check(e.response["Error"]["Code"] == "InvalidPartOrder",
            "out of order: %r" % e.response["Error"])
try:
    c.complete_multipart_upload(
        Bucket="videos", Key="mpu/clip.mp4", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]})
    h.fail("a wrong ETag completed")
except c.exceptions.ClientError as e:
    h.check(e.response["Error"]["Code"] == "InvalidPart",
            "wrong ETag: %r" % e.response["Error"])
done = c2.complete_multipart_upload(
    Bucket="videos", Key="mpu/clip.mp4", UploadId=uid,
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                               {"PartNumber": 2, "ETag": e2},
                               {"PartNumber": 3, "ETag": e3}]})
whole = p1 + p2 + p3
want_etag = hashlib.md5(bytes.fromhex(md5(p1) + md5(p2) + md5(p3))
                        ).hexdigest() + "-3"
h.check(done["ETag"].strip('"') == want_etag, "Complete's ETag: %r" % done)
g = c.get_object(Bucket="videos", Key="mpu/clip.mp4")
h.check(g["Body"].read() == whole and g["ContentType"] == "video/mp4" and
        g["Metadata"] == {"take": "3"}, "the completed object")
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("mpu/clip.mp4"))
h.check(hd["ContentLength"] == len(whole) and
        hd["VersionId"] == done["VersionId"], "in the cluster: %r" % hd)
ev = [e for e in sink2.manifest_events("stored")
      if e["key"] == "mpu/clip.mp4"]
h.check(len(ev) == 1 and ev[0]["sha256"] == h.sha256(whole),
        "its stored event, with the whole SHA-256: %r" % ev)
h.check(not c.list_multipart_uploads(Bucket="videos").get("Uploads"),
        "the upload is gone from the sink")
h.check(not s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads"),
        "and from the cluster")
h.check("Contents" not in s3.list_objects_v2(
    Bucket=CLUSTER, Prefix=PREFIX + "/.uploads/"), "its journal is gone")
# aborted: nothing left anywhere
up = c.create_multipart_upload(Bucket="videos", Key="mpu/dropped")
c2.upload_part(Bucket="videos", Key="mpu/dropped",
               UploadId=up["UploadId"], PartNumber=1, Body=p3)
c2.abort_multipart_upload(Bucket="videos", Key="mpu/dropped",
                          UploadId=up["UploadId"])
try:
    c.upload_part(Bucket="videos", Key="mpu/dropped",
                  UploadId=up["UploadId"], PartNumber=2, Body=p3)
    h.fail("a part of an aborted upload was taken")
except c.exceptions.ClientError as e:
    h.check(e.response["Error"]["Code"] == "NoSuchUpload",
            "part after abort: %r" % e.response["Error"])
h.check(not s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads"),
        "abort left no cluster upload")
h.check("Contents" not in s3.list_objects_v2(
    Bucket=CLUSTER, Prefix=cluster_key("mpu/dropped")), "nor an object")
# aws cli's own multipart (8 MiB chunks) through the sink
cli = os.path.join(h.tmpdir("s3cli"), "cli.bin")
cli_sha = h.write_file(cli, 20 << 20, 31)
cenv = dict(os.environ, AWS_ACCESS_KEY_ID=h.KEY_ID,
            AWS_SECRET_ACCESS_KEY=h.SECRET, AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
out = subprocess.run(["aws", "--endpoint-url", sink2.endpoint, "s3", "cp",
                      cli, "s3://videos/cli/cli.bin"], env=cenv,
                     capture_output=True, timeout=300)
h.check(out.returncode == 0, "aws s3 cp: %r" % out.stderr)
ev = [e for e in sink2.manifest_events("stored")
      if e["key"] == "cli/cli.bin"]
h.check(len(ev) == 1 and ev[0]["sha256"] == cli_sha and
        ev[0]["etag"].endswith("-3"), "aws cli's multipart: %r" % ev)

# ---- the sweeper: any node aborts what a dead one left ---------------------
stale = c.create_multipart_upload(Bucket="videos", Key="mpu/stale")
c.upload_part(Bucket="videos", Key="mpu/stale", UploadId=stale["UploadId"],
              PartNumber=1, Body=p3)
time.sleep(2.5)
sink3 = h.Sink(args=ARGS + ["--multipart-expiry", "2s"], env=env,
               tag="s3sweep").start()
deadline = time.time() + 30
while time.time() < deadline and (
        s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads") or
        "Contents" in s3.list_objects_v2(Bucket=CLUSTER,
                                         Prefix=PREFIX + "/.uploads/")):
    time.sleep(0.5)
h.check(not s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads"),
        "the sweeper aborted the stale upload on the cluster")
h.check("Contents" not in s3.list_objects_v2(
    Bucket=CLUSTER, Prefix=PREFIX + "/.uploads/"), "and dropped its journal")
h.check(sink3.stop() == 0, "sweeping sink stopped cleanly")

# ---- CopyObject: served on the cluster (test_rgw_sink_copy.py has more) -----
r = c.copy_object(Bucket="videos", Key="copy", CopySource="videos/list/y")
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("copy"))
h.check(hd["VersionId"] == r["VersionId"] and
        hd["ETag"] == r["CopyObjectResult"]["ETag"],
        "the copy is the cluster's new version: %r %r" % (hd, r))
ev = [e for e in sink.manifest_events("stored") if e["key"] == "copy"]
h.check(len(ev) == 1 and ev[0]["source"] == "copy" and
        ev[0]["copySource"]["key"] == "list/y", "its stored event: %r" % ev)
h.check(sink2.stop() == 0, "second sink stopped cleanly")

# ---- verify re-hashes the objects streamed from the cluster ---------------
vdata = h.tmpdir("s3verify")
vargs = [h.VSINK, "verify", "--store", "s3://%s/%s" % (CLUSTER, PREFIX),
         "--s3-endpoint", rgw.endpoint, "--manifest", sink.manifest,
         "--data", vdata, "--jobs", "2"]
out = subprocess.run(vargs, env=env, capture_output=True, timeout=300)
h.check(out.returncode == 0 and b" 0 problem(s)" in out.stdout,
        "verify --store s3://: %r %r" % (out.stdout, out.stderr))
print("verify --store s3://: %s" % out.stdout.decode().strip()
      .splitlines()[-1])
gone = s3.list_object_versions(Bucket=CLUSTER, Prefix=cluster_key("list/y"))
s3.delete_object(Bucket=CLUSTER, Key=cluster_key("list/y"),
                 VersionId=gone["Versions"][0]["VersionId"])
out = subprocess.run(vargs, env=env, capture_output=True, timeout=300)
h.check(out.returncode == 1 and b"missing-object" in out.stdout + out.stderr
        and b"list/y" in out.stdout + out.stderr,
        "a version gone from the cluster: %r %r" % (out.stdout, out.stderr))
h.check(not os.listdir(vdata), "verify wrote nothing into --data")

# ---- 300 MiB: the sink's memory stays bounded --------------------------------
before = vm_hwm_kib(sink.proc.pid)
huge = os.path.join(h.tmpdir("s3huge"), "huge.bin")
h.write_file(huge, 300 << 20, 9)
url = sink.presign("PUT", "videos/big/huge.bin")
t0 = time.monotonic()
out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                      "-T", huge, url], capture_output=True, timeout=600)
took = time.monotonic() - t0
h.check(out.stdout == b"200", "curl -T 300 MiB: %r %r" % (out.stdout,
                                                           out.stderr))
after = vm_hwm_kib(sink.proc.pid)
print("300 MiB through the sink into RGW in %.1f s; sink VmHWM %d -> %d KiB"
      % (took, before, after))
h.check(after < 96 * 1024, "peak RSS %d KiB after 300 MiB" % after)
hd = s3.head_object(Bucket=CLUSTER, Key=cluster_key("big/huge.bin"))
h.check(hd["ContentLength"] == 300 << 20, "300 MiB in the cluster")
ev = [e for e in sink.manifest_events("stored") if e["key"] == "big/huge.bin"]
h.check(len(ev) == 1 and ev[0]["sha256"] == h.file_sha256(huge),
        "its stored event has its SHA-256")
s3.delete_object(Bucket=CLUSTER, Key=cluster_key("big/huge.bin"),
                 VersionId=hd["VersionId"])  # RGW keeps it in RAM

# ---- the cluster away: 503, nothing partial; back: served again --------------
rgw.stop_gateway()
down = os.path.join(h.tmpdir("s3down"), "down.bin")
h.write_file(down, 1 << 20, 11)
url = sink.presign("PUT", "videos/while-down.bin")
out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-T", down,
                      url], capture_output=True, timeout=300)
body, _, code = out.stdout.rpartition(b"\n")
h.check(code == b"503" and b"ServiceUnavailable" in body,
        "cluster down: 503 ServiceUnavailable: %r" % out.stdout[-300:])
rgw.start_gateway()
h.check("Contents" not in s3.list_objects_v2(
    Bucket=CLUSTER, Prefix=cluster_key("while-down")), "nothing stored")
h.check(not s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads"),
        "no upload left open after the failure")
h.check(not [e for e in sink.manifest_events("stored")
             if e["key"] == "while-down.bin"], "no stored event")
r = c.put_object(Bucket="videos", Key="after.bin", Body=b"back")
h.check(r["ETag"].strip('"') == md5(b"back"), "served again")

h.check(sink.stop() == 0, "sink stopped cleanly: %s" % sink.log()[-2000:])
rgw.stop()
print("OK")
