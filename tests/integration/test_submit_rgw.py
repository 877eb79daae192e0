"""vsink submit to a bucket target on a real S3 server (single-node Ceph
RGW on 127.0.0.1): the fake API PUTs to vsink's presigned URLs and RGW,
which checks SigV4 for real, accepts them; a tampered URL is refused;
numberResults 2 becomes two one-result tasks with their own keys (said on
stderr); after the webhook the sink (started with --s3-endpoint) HEADs the
object and writes `stored`, and so does `vsink submit --wait`; the bytes
in the bucket are the fake's bytes."""
import hashlib
import time
import urllib.parse

from rgw import start_or_skip
from vsharness import (FakeAPI, Sink, by_task, check, env_with_keys,
                       fake_sha256, submit)

rgw = start_or_skip("submit", 1024)
s3 = rgw.client()
BUCKET = rgw.create_bucket("vsink-submit")
S3ENV = rgw.sink_env({})  # the cluster's keys alone
SIZE = 150000
sink = Sink(tag="submit-rgw", args=["--s3-endpoint", rgw.endpoint],
            env=env_with_keys(S3ENV)).start()
fake = FakeAPI(delay_ms=50, size=SIZE)
base = ["--target", "s3://%s/runs/rgw" % BUCKET, "--s3-endpoint",
        rgw.endpoint, "--webhook-base", sink.endpoint, "--manifest",
        sink.manifest]

# ---- a tampered URL is refused by RGW, the untampered one accepted --------
rc, lines, err, _ = submit(base + ["--dry-run", "--prompt", "probe",
                                   "--resolution", "480p"], env=S3ENV)
check(rc == 0, "dry run: %s" % err)
t = lines[0][0]
url = t["uploadEndpoint"]
check(url.startswith(rgw.endpoint + "/" + BUCKET + "/runs/rgw/"),
      "upload URL is not path-style into the bucket: %s" % url)
hook = urllib.parse.urlsplit(t["webhookURL"])
check(hook.path == "/hooks/%s/s3/%s/%s" % (t["taskUUID"], BUCKET,
                                           urllib.parse.unquote(
                                               urllib.parse.urlsplit(url)
                                               .path.split("/", 2)[2])),
      "webhook path: %s" % hook.path)
at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
bad = url[:at] + ("0" if url[at] != "0" else "1") + url[at + 1:]
import urllib.request


def put(u, data):
    req = urllib.request.Request(u, data=data, method="PUT")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


st, body = put(bad, b"tampered")
check(st == 403 and b"SignatureDoesNotMatch" in body,
      "RGW took a tampered URL: %d %s" % (st, body[:200]))
st, body = put(url, b"genuine")
check(st == 200, "RGW refused vsink's URL: %d %s" % (st, body[:200]))
print("RGW: vsink's presigned PUT accepted, a tampered one refused")

# ---- submit --wait, numberResults 2 -> two tasks ---------------------------
rc, lines, err, _ = submit(base + ["--prompt", "into the bucket",
                                   "--resolution", "720p", "--duration",
                                   "4.2", "--results", "2", "--seed", "7",
                                   "--wait", "--timeout", "60"],
                           api=fake.api, env=S3ENV)
check(rc == 0, "submit to RGW failed (%d): %s %s" % (rc, lines, err))
check("sent as 2 tasks of one result each" in err, "not said: %s" % err)
check(len(lines) == 2 and [l["part"] for l in lines] == [1, 2] and
      all(l["status"] == "complete" for l in lines), "lines: %s" % lines)
check(len({l["target"]["key"] for l in lines}) == 2, "keys not distinct")
deadline = time.time() + 20
while True:
    ev = by_task(sink.manifest_events())
    heads = [s for l in lines for s in ev[l["taskUUID"]].get("stored", [])]
    if len(heads) == 4 or time.time() > deadline:
        break
    time.sleep(0.2)
for l in lines:
    u, key = l["taskUUID"], l["target"]["key"]
    check(l["target"]["kind"] == "s3" and l["target"]["bucket"] == BUCKET and
          l["target"]["endpoint"] == rgw.endpoint, "target: %s" % l)
    e = ev[u]
    check(e["submitted"][0]["task"]["numberResults"] == 1, "one result")
    stored = e.get("stored", [])
    nodes = sorted(s["node"].startswith("submit-") for s in stored)
    check(nodes == [False, True],
          "want stored from the sink's hook and from submit: %s" % stored)
    obj = s3.get_object(Bucket=BUCKET, Key=key)
    data = obj["Body"].read()
    check(hashlib.sha256(data).hexdigest() ==
          fake_sha256(u, 0, SIZE, "MP4"), "bucket bytes differ from fake's")
    for s in stored:
        check(s["bucket"] == BUCKET and s["key"] == key and
              s["bytes"] == SIZE and s["source"] == "head" and
              s["etag"] == obj["ETag"].strip('"'), "stored: %s" % s)
    check(sorted(r["source"] for r in e["result"]) == ["poll", "webhook"],
          "results: %s" % e["result"])
seeds = sorted(ev[l["taskUUID"]]["submitted"][0]["task"]["seed"]
               for l in lines)
check(seeds == [7, 8], "split seeds: %s" % seeds)
print("bucket target: 2 one-result tasks, bytes in RGW, stored by the "
      "sink's HEAD and by submit's")

fake.stop()
check(sink.stop() == 0, "sink exit status")
rgw.stop()
print("PASS")
