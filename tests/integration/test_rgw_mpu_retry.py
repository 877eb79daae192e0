"""A client's multipart Complete retried through another node, against a
real Ceph RGW: the object the retry recorded must survive the first
node's recovery.

Every Complete attempt of an upload makes an object that carries the
upload's intent token (fixed at Create), so the token alone cannot tell a
node which attempt made the version it finds. Each attempt names itself in
the upload's journal before the cluster's Complete; a node that did not
hear its Complete's answer removes the version only while the journal
still names its own attempt.

- sink A reaches RGW through a proxy that swallows A's Complete (the
  cluster never sees it); A is killed -9 while it waits; the client
  retries the Complete through sink B: 200, B's stored event. A restarts
  straight on RGW: its start-up reconciliation must keep B's version (the
  journal is gone: B recorded it) and drop its intent;
- sink A's Complete reaches the cluster but its answer is cut: A answers
  503 and its cleaner, once the cluster answers again, removes the
  version A's own attempt made (no stored event names it), and leaves no
  intent. A retry of the Complete then finds no upload (404 NoSuchUpload):
  no version without an event, no event without a version."""
import os
import threading
import time

import botocore.config
import botocore.exceptions

from faultproxy import FaultProxy
from rgw import start_or_skip
import vsharness as h

CLUSTER = "vsink-mpuretry"
PREFIX = "p"


rgw = start_or_skip("mpuretry", 512)
s3 = rgw.client()
rgw.versioned_bucket(CLUSTER)
env = rgw.sink_env(h.env_with_keys())
STORE = ["--store", "s3://%s/%s" % (CLUSTER, PREFIX)]
DIRECT = STORE + ["--s3-endpoint", rgw.endpoint]
COMPLETE = r"\?uploadId="  # a Complete (a part is PUT, Create ?uploads)

sink_b = h.Sink(args=DIRECT, env=env, tag="mpuretry-b").start()
cb = h.boto3_client(sink_b)
PART = 5 << 20
body = h.pattern(PART + 4096, seed=11)


def upload(key):
    """An upload with two parts sent through B; its parts for Complete."""
    up = cb.create_multipart_upload(Bucket="videos", Key=key)["UploadId"]
    parts = []
    for n, chunk in ((1, body[:PART]), (2, body[PART:])):
        r = cb.upload_part(Bucket="videos", Key=key, UploadId=up,
                           PartNumber=n, Body=chunk)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    return up, {"Parts": parts}


def cluster_versions(key):
    r = s3.list_object_versions(Bucket=CLUSTER,
                                Prefix="%s/videos/%s" % (PREFIX, key))
    return [v["VersionId"] for v in r.get("Versions", [])
            if v["Key"] == "%s/videos/%s" % (PREFIX, key)]


def intents(sink):
    d = os.path.join(sink.data, "state", "s3", "intent")
    return [n for n in os.listdir(d) if not n.startswith(".")] \
        if os.path.isdir(d) else []


def client_once(sink, timeout):
    """boto3 on the sink, one attempt, bounded."""
    import boto3
    return boto3.client(
        "s3", endpoint_url=sink.endpoint, region_name="us-east-1",
        aws_access_key_id=h.KEY_ID, aws_secret_access_key=h.SECRET,
        config=botocore.config.Config(
            signature_version="s3v4",
            retries={"total_max_attempts": 1}, read_timeout=timeout,
            connect_timeout=5, s3={"addressing_style": "path"}))


# ---- 1: A's Complete never reached the cluster; A killed; retried via B ----
proxy = FaultProxy(rgw.port).start()
proxy.fail("POST", COMPLETE, "hold")
A_ARGS = STORE + ["--s3-endpoint", proxy.endpoint]
sink_a = h.Sink(args=A_ARGS, env=env, tag="mpuretry-a").start()
up, mp = upload("one.bin")
ca = client_once(sink_a, 60)


def complete_a():
    try:
        ca.complete_multipart_upload(Bucket="videos", Key="one.bin",
                                     UploadId=up, MultipartUpload=mp)
    except Exception:  # A is killed while it waits: the connection drops
        pass


threading.Thread(target=complete_a, daemon=True).start()
deadline = time.time() + 30
while time.time() < deadline and not proxy.hits_of("hold"):
    time.sleep(0.1)
h.check(proxy.hits_of("hold"), "A sent its Complete towards the cluster")
time.sleep(0.3)
h.check(len(intents(sink_a)) == 1, "A holds one intent: %r" % intents(sink_a))
sink_a.kill9()
h.check(cluster_versions("one.bin") == [], "nothing landed from A")
r = cb.complete_multipart_upload(Bucket="videos", Key="one.bin", UploadId=up,
                                 MultipartUpload=mp)
vid = r.get("VersionId")
h.check(vid, "the retry through B completed: %r" % r)
ev = h.stored_of(sink_b, "one.bin")
h.check(len(ev) == 1 and ev[0]["versionId"] == vid and
        ev[0]["sha256"] == h.sha256(body), "B's stored event: %r" % ev)
sink_a.args = DIRECT
sink_a.start()  # reconciles before it listens
h.check(cluster_versions("one.bin") == [vid],
        "B's recorded version survived A's recovery: %r; A's log: %s" %
        (cluster_versions("one.bin"), sink_a.log()[-2000:]))
h.check(intents(sink_a) == [], "A dropped its intent: %r" % intents(sink_a))
got = cb.get_object(Bucket="videos", Key="one.bin")["Body"].read()
h.check(got == body, "the object reads back whole through B")
print("case 1: B's version %s kept by A's recovery" % vid)
h.check(sink_a.stop() == 0, "A stopped")

# ---- 2: A's Complete landed, its answer cut: A's cleaner removes it ---------
proxy.clear()
proxy.fail("POST", COMPLETE, "lose_answer")
sink_a.args = STORE + ["--s3-endpoint", proxy.endpoint]
sink_a.start()
up, mp = upload("two.bin")
ca = client_once(sink_a, 60)
try:
    ca.complete_multipart_upload(Bucket="videos", Key="two.bin", UploadId=up,
                                 MultipartUpload=mp)
    h.fail("a Complete whose answer was cut answered 200")
except botocore.exceptions.ClientError as e:
    code = e.response["ResponseMetadata"]["HTTPStatusCode"]
    h.check(code == 503, "503 while the answer was cut: %r" % e.response)
h.check(proxy.hits_of("lose_answer"), "the Complete went to the cluster")
deadline = time.time() + 30
while time.time() < deadline and (cluster_versions("two.bin") or
                                  intents(sink_a)):
    time.sleep(0.5)
h.check(cluster_versions("two.bin") == [],
        "A's cleaner removed the version its own attempt made: %r" %
        cluster_versions("two.bin"))
h.check(intents(sink_a) == [], "no intent left: %r" % intents(sink_a))
h.check(h.stored_of(sink_a, "two.bin") == [] and
        h.stored_of(sink_b, "two.bin") == [], "no stored event for it")
try:
    cb.complete_multipart_upload(Bucket="videos", Key="two.bin", UploadId=up,
                                 MultipartUpload=mp)
    h.fail("a retried Complete of a consumed upload answered 200")
except botocore.exceptions.ClientError as e:
    h.check(e.response["Error"]["Code"] == "NoSuchUpload",
            "the retry: NoSuchUpload: %r" % e.response["Error"])
h.check(cluster_versions("two.bin") == [], "still nothing")
print("case 2: a cut Complete's version removed by A's cleaner")
h.check(sink_a.stop() == 0 and sink_b.stop() == 0, "sinks stopped")
print("OK")
