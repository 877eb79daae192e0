"""Multipart crash consistency (issue 8): the sink is killed with SIGKILL
while clients upload parts and complete uploads. After each restart:
  - every version on disk has exactly one `stored` event, and its bytes
    hash to the event's sha256 (nothing visible without its event);
  - every Complete answered 200 is stored, with the SHA-256 of the parts
    it named, in order;
  - every upload whose Complete got no answer is either stored (then its
    event names the upload) or still listed, and completing it again then
    gives the object;
  - no temporary file, no intent, no part file outside an upload is left.
Loopback only; bounded rounds (VSINK_MPU_CRASH_ROUNDS, default 6)."""
import hashlib
import os
import random
import re
import threading
import time

from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from vsharness import Sink, check, boto3_client, pattern

ROUNDS = int(os.environ.get("VSINK_MPU_CRASH_ROUNDS", "6"))
CLIENTS = 4
MiB = 1 << 20
PART = [pattern(5 * MiB, 100 + i) for i in range(3)]
TAIL = [pattern(1000 + 17 * i, 200 + i) for i in range(3)]
rng = random.Random(int(os.environ.get("VSINK_CRASH_SEED", "11")))
VID = re.compile(r"^@(\d{8}T\d{9}Z-[0-9a-f]{6})$")
NETERR = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError,
          ConnectionError, OSError)


def md5q(b):
    return '"%s"' % hashlib.md5(b).hexdigest()


class Round:
    def __init__(self, sink, r):
        self.sink, self.r = sink, r
        self.s3 = boto3_client(sink)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done = []     # (key, upload id, sha256) answered 200
        self.completing = threading.Event()  # a Complete was sent
        self.pending = []  # (key, upload id, parts, sha256) not answered

    def one(self, crng, c, n):
        key = "r%d/c%d-%d.mp4" % (self.r, c, n)
        i, j = crng.randrange(3), crng.randrange(3)
        body = [PART[i], TAIL[j]]
        sha = hashlib.sha256(b"".join(body)).hexdigest()
        uid = self.s3.create_multipart_upload(Bucket="videos",
                                              Key=key)["UploadId"]
        parts = []
        for num, b in enumerate(body, 1):
            self.s3.upload_part(Bucket="videos", Key=key, UploadId=uid,
                                PartNumber=num, Body=b)
            parts.append({"PartNumber": num, "ETag": md5q(b)})
        with self.lock:
            self.pending.append((key, uid, parts, sha))
        self.completing.set()
        self.s3.complete_multipart_upload(Bucket="videos", Key=key,
                                          UploadId=uid,
                                          MultipartUpload={"Parts": parts})
        with self.lock:
            self.pending.remove((key, uid, parts, sha))
            self.done.append((key, uid, sha))

    def client(self, c):
        crng = random.Random(self.r * 100 + c)
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.one(crng, c, n)
            except NETERR:
                return
            except ClientError as e:
                if e.response["ResponseMetadata"]["HTTPStatusCode"] < 500:
                    raise
                return

    def run(self):
        threads = [threading.Thread(target=self.client, args=(c,))
                   for c in range(CLIENTS)]
        for t in threads:
            t.start()
        # a kill is aimed at a Complete in flight (building an object of
        # 5 MiB and more takes tens of milliseconds), else at anything
        time.sleep(rng.uniform(0.3, 1.5))
        self.completing.clear()
        self.completing.wait(10)
        time.sleep(rng.uniform(0.0, 0.03))
        self.sink.kill9()
        self.stop.set()
        for t in threads:
            t.join(60)
            check(not t.is_alive(), "a client did not stop")


def disk_versions(data):
    root = os.path.join(data, "buckets", "videos")
    out = {}
    for d, _, files in os.walk(root):
        key = os.path.relpath(d, root)
        for f in files:
            m = VID.match(f)
            if m:
                with open(os.path.join(d, f), "rb") as fh:
                    out[(key, m.group(1))] = hashlib.sha256(
                        fh.read()).hexdigest()
    return out


def check_round(sink, rnd):
    stored = {}
    for e in sink.manifest_events("stored"):
        k = (e["key"], e["versionId"])
        check(k not in stored, "two stored events for %s" % (k,))
        stored[k] = e
    disk = disk_versions(sink.data)
    orphans = sorted(set(disk) - set(stored))
    check(not orphans, "round %d: versions without an event: %s"
          % (rnd.r, orphans[:5]))
    for k, sha in disk.items():
        check(stored[k]["sha256"] == sha, "bytes differ from the event: %s"
              % (k,))
    by_upload = {e.get("uploadId"): e for e in stored.values()}
    for key, uid, sha in rnd.done:
        e = by_upload.get(uid)
        check(e and e["key"] == key and e["sha256"] == sha,
              "round %d: a 200 Complete is not stored: %s" % (rnd.r, key))
    s3 = boto3_client(sink)
    listed = {u["UploadId"] for u in s3.list_multipart_uploads(
        Bucket="videos").get("Uploads", [])}
    for key, uid, parts, sha in rnd.pending:
        e = by_upload.get(uid)
        if e:
            check(e["sha256"] == sha, "unanswered, stored wrong: %s" % key)
            if uid in listed:  # killed after its event, before clean-up
                s3.abort_multipart_upload(Bucket="videos", Key=key,
                                          UploadId=uid)
            continue
        check(uid in listed, "round %d: upload %s neither stored nor "
              "listed" % (rnd.r, key))
        s3.complete_multipart_upload(Bucket="videos", Key=key, UploadId=uid,
                                     MultipartUpload={"Parts": parts})
        got = s3.get_object(Bucket="videos", Key=key)["Body"].read()
        check(hashlib.sha256(got).hexdigest() == sha,
              "completed after the restart: wrong bytes for %s" % key)
    for d in (".tmp", ".intent"):
        p = os.path.join(sink.data, d)
        left = os.listdir(p) if os.path.isdir(p) else []
        check(not left, "round %d: %s left: %s" % (rnd.r, d, left[:5]))
    mroot = os.path.join(sink.data, ".multipart", "videos")
    gone = [n for n in (os.listdir(mroot) if os.path.isdir(mroot) else [])
            if n.startswith(".")]
    check(not gone, "round %d: removed uploads left: %s" % (rnd.r, gone))


data = None
total_done = total_pending = 0
for r in range(ROUNDS):
    sink = Sink(data=data, tag="mpu-crash").start()
    data = sink.data
    rnd = Round(sink, r)
    rnd.run()
    sink = Sink(data=data, tag="mpu-crash").start()
    check_round(sink, rnd)
    total_done += len(rnd.done)
    total_pending += len(rnd.pending)
    sink.stop()
print("ok: %d rounds, %d completes answered, %d cut short by the kill"
      % (ROUNDS, total_done, total_pending))
check(total_done > 0 and total_pending > 0,
      "the kills never landed mid-upload: the test proved nothing")
