"""The S3 store's error paths against a real Ceph RGW, with real faults:
an RGW bucket policy that denies the sink a write (set with the cluster
owner's keys: RGW enforces an explicit Deny on the owner too), radosgw
stopped (rgw.py stop_gateway), and a TCP relay between the sink and RGW
(faultproxy.py) that resets a chosen request before RGW sees it, or after
RGW carried it out (the answer lost), or every connection.

1. CreateMultipartUpload: the cluster upload is made, its journal PUT is
   denied: 500 InternalError to the client (the cluster's answer in the
   sink's log, not to the client), the cluster upload aborted, no journal,
   no upload listed by the sink; the journal PUT carried out but its
   answer lost: 503, and no journal left either;
2. UploadPart with x-amz-checksum-crc32: the part's checksum object PUT is
   denied: 500 for the part, and the part is not taken as one (ListParts
   shows no checksum for it, Complete naming it with its checksum is
   InvalidPart); retried once the fault is lifted, it is, and Complete
   gives the right object;
3. `vsink verify --store s3://` with radosgw stopped and with a closed
   port, or one that takes connections and never answers: exit 3 and the
   endpoint named, within a bound, never "problem(s)";
   a cluster that answers the open but not the reads: exit 1, every object
   a read-error, none called missing or damaged;
4. commits that fail with the cluster away (503) leave intents with pid
   0, one of them of a version that landed (the answer lost, then the
   cluster gone): they stay while it is away (the relay down, then radosgw
   stopped); back, the cleaner removes the version and drops them; no
   stored event. Again, then SIGTERM while they remain and start again:
   the start-up reconciliation removes them;
5. a 40 MiB PUT (multipart on the cluster) whose Complete is refused,
   whose Complete's answer is lost (the object landed), or whose final
   HEAD is refused: 503, then nothing visible, no upload open, no intent,
   no stored event; a client's CompleteMultipartUpload whose answer is
   lost: 503, and the version that landed is removed by the cleaner.

Bounded: every wait has a deadline, RGW and the sink are stopped at exit,
everything listens on 127.0.0.1."""
import base64
import hashlib
import json
import os
import re
import subprocess
import time
import zlib

import boto3
from botocore.config import Config

from faultproxy import FaultProxy
from rgw import start_or_skip, free_port
import vsharness as h

CLUSTER = "vsink-faults"
PREFIX = "nodes/a"


def ckey(key, bucket="videos"):
    return "%s/%s/%s" % (PREFIX, bucket, key)


def path_re(key):
    """The request target of a key's cluster object, as a regex."""
    return "^/%s/%s(\\?|$)" % (CLUSTER, ckey(key).replace(".", "\\."))


rgw = start_or_skip("s3faults", 1024)
s3 = rgw.client()
rgw.versioned_bucket(CLUSTER)
proxy = FaultProxy(rgw.port).start()

env = rgw.sink_env(h.env_with_keys())
ARGS = ["--store", "s3://%s/%s" % (CLUSTER, PREFIX),
        "--s3-endpoint", proxy.endpoint]
sink = h.Sink(args=ARGS, env=env, tag="s3faults").start()
c = h.boto3_client(sink)
# botocore's legacy max_attempts 1 still retries once: a client that
# does not, where a retry would hide what the first answer was
once = boto3.client(
    "s3", endpoint_url=sink.endpoint, region_name="us-east-1",
    aws_access_key_id=h.KEY_ID, aws_secret_access_key=h.SECRET,
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                  retries={"mode": "standard", "total_max_attempts": 1}))
INTENTS = os.path.join(sink.data, "state", "s3", "intent")


def deny(action, resource_key):
    pol = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": action,
         "Resource": "arn:aws:s3:::%s/%s" % (CLUSTER, resource_key)}]}
    s3.put_bucket_policy(Bucket=CLUSTER, Policy=json.dumps(pol))


def allow_all():
    s3.delete_bucket_policy(Bucket=CLUSTER)


def open_uploads():
    return s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads", [])


def cluster_versions(prefix):
    v = s3.list_object_versions(Bucket=CLUSTER, Prefix=prefix)
    return v.get("Versions", []) + v.get("DeleteMarkers", [])


def intents():
    """{token: pid} of the sink's intent files."""
    out = {}
    for name in os.listdir(INTENTS):
        if name.startswith("."):
            continue
        with open(os.path.join(INTENTS, name)) as f:
            for line in f:
                if line.startswith("pid "):
                    out[name] = int(line.split()[1])
    return out


def wait_for(cond, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.25)
    h.fail("not within %d s: %s" % (timeout, what))


def status_of(e):
    return e.response["ResponseMetadata"]["HTTPStatusCode"]


def stored(key, s=None):
    return [e for e in (s or sink).manifest_events("stored")
            if e["key"] == key]


def curl_put(s, key, path):
    url = s.presign("PUT", "videos/" + key)
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-T", path,
                          url], capture_output=True, timeout=300)
    body, _, code = out.stdout.rpartition(b"\n")
    return code.decode(), body


def raw_put(s, key, body):
    return s.request("PUT", s.presign("PUT", "videos/" + key), body=body)


# the path works before any fault
h.check(c.put_object(Bucket="videos", Key="ok/first", Body=b"first")
        ["ETag"].strip('"') == hashlib.md5(b"first").hexdigest(),
        "a PUT through the relay")

# ---- 1. CreateMultipartUpload: the journal PUT denied -----------------------
deny("s3:PutObject", PREFIX + "/.uploads/*")
try:
    c.create_multipart_upload(Bucket="videos", Key="c1/clip.mp4")
    h.fail("CreateMultipartUpload succeeded without its journal")
except c.exceptions.ClientError as e:
    print("1. journal PUT denied: %d %s %r" % (
        status_of(e), e.response["Error"]["Code"],
        e.response["Error"].get("Message")))
    h.check(status_of(e) == 500 and
            e.response["Error"]["Code"] == "InternalError",
            "journal PUT denied: 500 InternalError: %r" % e.response)
    h.check(rgw.secret not in str(e.response), "the secret in an answer")
allow_all()
h.check(not open_uploads(), "1. the cluster upload was aborted: %r" %
        open_uploads())
h.check(not cluster_versions(PREFIX + "/.uploads/"), "1. no journal")
h.check(not c.list_multipart_uploads(Bucket="videos").get("Uploads"),
        "1. the sink lists no upload")
why = [line for line in sink.log().splitlines()
       if "create multipart upload" in line]
print("1. the sink's log: %s" % why)
h.check(why and "AccessDenied" in why[-1] and ".uploads/" in why[-1],
        "1. the sink's log says why: %s" % sink.log()[-1500:])
# the journal PUT carried out, its answer lost: the journal must not stay
# behind an upload the client never heard of
proxy.fail("PUT", "^/%s/%s/\\.uploads/" % (CLUSTER, PREFIX), "lose_answer")
try:
    once.create_multipart_upload(Bucket="videos", Key="c1/lost.mp4")
    h.fail("CreateMultipartUpload succeeded with its journal's answer lost")
except c.exceptions.ClientError as e:
    h.check(status_of(e) == 503 and
            e.response["Error"]["Code"] == "ServiceUnavailable",
            "1. journal answer lost: 503 ServiceUnavailable: %r" % e.response)
proxy.clear()
h.check(proxy.hits_of("lose_answer"), "1. the fault happened")
h.check(not open_uploads(), "1. lost: the cluster upload was aborted: %r" %
        open_uploads())
h.check(not cluster_versions(PREFIX + "/.uploads/"),
        "1. lost: no journal left: %r" %
        cluster_versions(PREFIX + "/.uploads/"))
h.check(not c.list_multipart_uploads(Bucket="videos").get("Uploads"),
        "1. lost: the sink lists no upload: %r" %
        c.list_multipart_uploads(Bucket="videos"))
up = c.create_multipart_upload(Bucket="videos", Key="c1/clip.mp4")
c.abort_multipart_upload(Bucket="videos", Key="c1/clip.mp4",
                         UploadId=up["UploadId"])
h.check(not open_uploads(), "1. fault lifted: create and abort work")

# ---- 2. a part's checksum object PUT denied ---------------------------------
K2 = "c2/clip.mp4"
p1, p2 = h.pattern(5 << 20, seed=41), h.pattern(70001, seed=42)
up = c.create_multipart_upload(Bucket="videos", Key=K2,
                               ChecksumAlgorithm="CRC32")
uid = up["UploadId"]
deny("s3:PutObject", PREFIX + "/.uploads/*.*")  # the checksums, not journals
try:
    c.upload_part(Bucket="videos", Key=K2, UploadId=uid, PartNumber=1,
                  Body=p1, ChecksumAlgorithm="CRC32")
    h.fail("a part whose checksum was not kept succeeded")
except c.exceptions.ClientError as e:
    print("2. part checksum PUT denied: %d %s" % (
        status_of(e), e.response["Error"]["Code"]))
    h.check(status_of(e) >= 500, "2. part: 5xx: %r" % e.response)
allow_all()
# the failed part is not the upload's: naming it with the checksum the
# client computed is refused
crc1 = base64.b64encode(zlib.crc32(p1).to_bytes(4, "big")).decode()
e1 = '"%s"' % hashlib.md5(p1).hexdigest()
lp = c.list_parts(Bucket="videos", Key=K2, UploadId=uid)
print("2. ListParts after the failed part: %r" %
      [(p["PartNumber"], p.get("ChecksumCRC32")) for p in
       lp.get("Parts", [])])
h.check(all(p.get("ChecksumCRC32") != crc1 for p in lp.get("Parts", [])),
        "2. ListParts shows no checksum it did not keep: %r" % lp)
try:
    c.complete_multipart_upload(
        Bucket="videos", Key=K2, UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1,
                                    "ChecksumCRC32": crc1}]})
    h.fail("2. Complete took the part whose checksum was not kept")
except c.exceptions.ClientError as e:
    h.check(e.response["Error"]["Code"] == "InvalidPart",
            "2. Complete naming the failed part: InvalidPart: %r" %
            e.response["Error"])
h.check(not stored(K2), "2. nothing stored")
r1 = c.upload_part(Bucket="videos", Key=K2, UploadId=uid, PartNumber=1,
                   Body=p1, ChecksumAlgorithm="CRC32")
r2 = c.upload_part(Bucket="videos", Key=K2, UploadId=uid, PartNumber=2,
                   Body=p2, ChecksumAlgorithm="CRC32")
h.check(r1["ChecksumCRC32"] == crc1, "2. the retried part's checksum: %r" %
        r1)
done = c.complete_multipart_upload(
    Bucket="videos", Key=K2, UploadId=uid,
    MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32": crc1},
        {"PartNumber": 2, "ETag": r2["ETag"],
         "ChecksumCRC32": r2["ChecksumCRC32"]}]})
g = c.get_object(Bucket="videos", Key=K2)
h.check(g["Body"].read() == p1 + p2, "2. the completed object")
ev = stored(K2)
h.check(len(ev) == 1 and ev[0]["sha256"] == h.sha256(p1 + p2),
        "2. one stored event: %r" % ev)
h.check(not open_uploads() and
        not cluster_versions(PREFIX + "/.uploads/"),
        "2. no upload, journal or checksum left: %r" %
        cluster_versions(PREFIX + "/.uploads/"))

# ---- 5. a 40 MiB PUT whose Complete or final HEAD fails ---------------------
big = os.path.join(h.tmpdir("s3faultbig"), "big.bin")
big_sha = h.write_file(big, 40 << 20, 51)


def big_fails(key, method, target, action):
    proxy.fail(method, target, action)
    t0 = time.monotonic()
    code, body = curl_put(sink, key, big)
    took = time.monotonic() - t0
    proxy.clear()
    print("5. %s %s: %s in %.1f s" % (method, action, code, took))
    h.check(code == "503" and b"ServiceUnavailable" in body,
            "5. %s %s: 503 ServiceUnavailable: %s %r" % (method, action,
                                                        code, body[-300:]))
    h.check(proxy.hits_of(action), "5. the fault happened")
    wait_for(lambda: not intents(), "5. %s %s: intent cleaned: %r" %
             (method, action, intents()))
    h.check(not cluster_versions(ckey(key)), "5. %s %s: nothing on the "
            "cluster: %r" % (method, action, cluster_versions(ckey(key))))
    h.check(not open_uploads(), "5. no upload open: %r" % open_uploads())
    try:
        c.head_object(Bucket="videos", Key=key)
        h.fail("5. %s visible through the sink" % key)
    except c.exceptions.ClientError as e:
        h.check(status_of(e) == 404, "5. HEAD: 404: %r" % e.response)
    h.check(not stored(key), "5. no stored event")


big_fails("c5/complete-refused.bin", "POST",
          path_re("c5/complete-refused.bin") + r".*uploadId=", "refuse")
big_fails("c5/complete-lost.bin", "POST",
          path_re("c5/complete-lost.bin") + r".*uploadId=", "lose_answer")
big_fails("c5/head-refused.bin", "HEAD", path_re("c5/head-refused.bin"),
          "refuse")
# a client's multipart upload whose Complete landed, its answer lost
K5 = "c5/client-lost.mp4"
up = c.create_multipart_upload(Bucket="videos", Key=K5)
q1, q2 = h.pattern(5 << 20, seed=52), h.pattern(4321, seed=53)
parts = [{"PartNumber": n, "ETag": c.upload_part(
    Bucket="videos", Key=K5, UploadId=up["UploadId"], PartNumber=n,
    Body=b)["ETag"]} for n, b in ((1, q1), (2, q2))]
proxy.fail("POST", path_re(K5) + r".*uploadId=", "lose_answer")
try:
    once.complete_multipart_upload(Bucket="videos", Key=K5,
                                UploadId=up["UploadId"],
                                MultipartUpload={"Parts": parts})
    h.fail("5. a Complete whose answer was lost succeeded")
except c.exceptions.ClientError as e:
    h.check(status_of(e) == 503, "5. client Complete lost: 503: %r" %
            e.response)
proxy.clear()
h.check(proxy.hits_of("lose_answer"), "5. the fault happened")
wait_for(lambda: not cluster_versions(ckey(K5)) and not intents(),
         "5. client Complete lost: the landed version removed, the intent "
         "dropped: %r %r" % (cluster_versions(ckey(K5)), intents()))
h.check(not stored(K5), "5. client Complete lost: no stored event")
try:
    c.head_object(Bucket="videos", Key=K5)
    h.fail("5. %s visible through the sink" % K5)
except c.exceptions.ClientError as e:
    h.check(status_of(e) == 404, "5. HEAD: 404: %r" % e.response)
try:  # the client retries: the upload was consumed on the cluster
    c.complete_multipart_upload(Bucket="videos", Key=K5,
                                UploadId=up["UploadId"],
                                MultipartUpload={"Parts": parts})
    print("5. a retried Complete after the lost answer succeeded")
    h.check(len(stored(K5)) == 1, "5. the retry's stored event")
    c.delete_object(Bucket="videos", Key=K5)
except c.exceptions.ClientError as e:
    print("5. a retried Complete after the lost answer: %d %s" % (
        status_of(e), e.response["Error"]["Code"]))
    h.check(status_of(e) < 500, "5. retried Complete: %r" % e.response)
    c.abort_multipart_upload(Bucket="videos", Key=K5,
                             UploadId=up["UploadId"])
h.check(not open_uploads(), "5. no upload open: %r" % open_uploads())

code, _ = curl_put(sink, "c5/after.bin", big)
h.check(code == "200" and len(stored("c5/after.bin")) == 1,
        "5. faults lifted: the same PUT lands: %s" % code)

# ---- 4. the cleaner of failed commits while the cluster is away -------------
def fail_away(tag):
    """A commit whose version lands, its answer lost as the cluster goes
    away (the relay down from then on), and one that cannot land: both
    503, each leaving an intent with pid 0."""
    landed = "c4/%s-landed" % tag
    proxy.fail("PUT", path_re(landed), "lose_answer_down")
    st, _, body = raw_put(sink, landed, b"landed " + tag.encode())
    proxy.clear()
    h.check(st == 503 and b"ServiceUnavailable" in body,
            "4. answer lost: 503: %d %r" % (st, body))
    h.check(proxy.is_down, "4. the relay went down with it")
    h.check(len(cluster_versions(ckey(landed))) == 1,
            "4. its version landed: %r" % cluster_versions(ckey(landed)))
    st, _, body = raw_put(sink, "c4/%s-away" % tag, b"away")
    h.check(st == 503, "4. cluster away: 503: %d %r" % (st, body))
    its = intents()
    h.check(len(its) == 2 and set(its.values()) == {0},
            "4. two intents with pid 0: %r" % its)
    return landed


landed = fail_away("one")
# the cluster stays away, now radosgw itself stopped behind the relay
rgw.stop_gateway()
proxy.down(False)
st, _, body = raw_put(sink, "c4/one-stopped", b"stopped")
h.check(st == 503 and b"ServiceUnavailable" in body,
        "4. gateway stopped: 503: %d %r" % (st, body))
time.sleep(5)  # two of the cleaner's passes
its = intents()
h.check(len(its) == 3 and set(its.values()) == {0},
        "4. while the cluster is away the intents stay: %r" % its)
rgw.start_gateway()
h.check(len(cluster_versions(ckey(landed))) == 1, "4. still there")
wait_for(lambda: not intents() and not cluster_versions(ckey(landed)),
         "4. back: the cleaner removed the landed version and dropped the "
         "intents: %r %r" % (intents(), cluster_versions(ckey(landed))))
h.check(not cluster_versions(PREFIX + "/videos/c4/"), "4. nothing of them "
        "on the cluster: %r" % cluster_versions(PREFIX + "/videos/c4/"))
h.check(not [e for e in sink.manifest_events("stored")
             if e["key"].startswith("c4/")], "4. no stored event")
h.check("its commit failed while the cluster did not answer" in sink.log(),
        "4. the cleaner said what it removed")

# again, and the sink stopped while the intents remain
landed = fail_away("two")
t0 = time.monotonic()
h.check(sink.stop() == 0, "4. sink stopped with intents left: %s" %
        sink.log()[-1500:])
took = time.monotonic() - t0
print("4. SIGTERM with the cluster away: stopped in %.1f s" % took)
h.check(took < 20, "4. the stop waited on the cluster: %.1f s" % took)
its = intents()
h.check(len(its) == 2 and set(its.values()) == {0},
        "4. the intents outlive the process: %r" % its)
h.check(len(cluster_versions(ckey(landed))) == 1, "4. the version too")
proxy.down(False)
sink.start()
c = h.boto3_client(sink)
wait_for(lambda: not intents(), "4. start-up reconciliation dropped the "
         "intents: %r" % intents())
h.check(not cluster_versions(PREFIX + "/videos/c4/"), "4. and removed the "
        "landed version: %r" % cluster_versions(PREFIX + "/videos/c4/"))
h.check(not [e for e in sink.manifest_events("stored")
             if e["key"].startswith("c4/")], "4. still no stored event")
h.check(c.put_object(Bucket="videos", Key="c4/after", Body=b"after")
        ["VersionId"], "4. served again")

# ---- 3. vsink verify against a cluster it cannot reach ----------------------
VARGS = [h.VSINK, "verify", "--store", "s3://%s/%s" % (CLUSTER, PREFIX),
         "--manifest", sink.manifest, "--data", h.tmpdir("s3fverify")]


def verify(endpoint, timeout=120):
    t0 = time.monotonic()
    out = subprocess.run(VARGS + ["--s3-endpoint", endpoint], env=env,
                         capture_output=True, timeout=timeout)
    return out, time.monotonic() - t0


out, took = verify(rgw.endpoint)
h.check(out.returncode == 0 and b" 0 problem(s)" in out.stdout,
        "3. verify, cluster up: clean: %r %r" % (out.stdout, out.stderr))
rgw.stop_gateway()
out, took = verify(rgw.endpoint)
print("3. verify, radosgw stopped: exit %d in %.1f s: %s" % (
    out.returncode, took, out.stderr.decode(errors="replace").strip()))
h.check(out.returncode == 3 and rgw.endpoint.encode() in out.stderr and
        b"problem(s)" not in out.stdout,
        "3. gateway stopped: exit 3 naming the endpoint: %r %r" %
        (out.stdout, out.stderr))
h.check(took < 60, "3. gateway stopped: %.1f s" % took)
closed = "http://127.0.0.1:%d" % free_port()
out, took = verify(closed)
print("3. verify, closed port: exit %d in %.1f s" % (out.returncode, took))
h.check(out.returncode == 3 and closed.encode() in out.stderr and
        b"problem(s)" not in out.stdout,
        "3. closed port: exit 3: %r %r" % (out.stdout, out.stderr))
h.check(took < 60, "3. closed port: %.1f s" % took)
rgw.start_gateway()
# a cluster that takes connections and never answers: the request
# timeout ends it
proxy.hang(True)
out, took = verify(proxy.endpoint)
proxy.hang(False)
print("3. verify, cluster silent: exit %d in %.1f s: %s" % (
    out.returncode, took, out.stderr.decode(errors="replace").strip()))
h.check(out.returncode == 3 and b"timed out" in out.stderr.lower() and
        b"problem(s)" not in out.stdout,
        "3. cluster silent: exit 3, a timeout: %r %r" % (out.stdout,
                                                         out.stderr))
h.check(took < 90, "3. cluster silent: %.1f s" % took)
# the open answered, the reads refused
proxy.fail("GET", "^/%s/%s/videos/" % (CLUSTER, PREFIX), "refuse")
out, took = verify(proxy.endpoint, timeout=300)
proxy.clear()
print("3. verify, reads refused: exit %d in %.1f s: %s" % (
    out.returncode, took, out.stdout.decode(errors="replace").strip()))
m = re.search(rb" (\d+) problem\(s\) \(0 checksum-mismatch, 0 "
              rb"size-mismatch, 0 missing-object, (\d+) read-error\)",
              out.stdout)
h.check(out.returncode == 1 and m and m.group(1) == m.group(2) and
        int(m.group(1)) > 0, "3. reads refused: exit 1, read errors, none "
        "taken for a missing or damaged object: %r %r" % (out.stdout,
                                                         out.stderr))
h.check(took < 200, "3. reads refused: %.1f s" % took)

h.check(sink.stop() == 0, "sink stopped cleanly: %s" % sink.log()[-2000:])
proxy.stop()
rgw.stop()
print("OK")
