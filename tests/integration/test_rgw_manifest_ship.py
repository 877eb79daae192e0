"""Manifests in the cluster bucket (issue 10), against a real Ceph RGW:
- `vsink serve --manifest-bucket s3://B/PREFIX --manifest-rotate-sec 1`
  (local disk store) ships every closed segment to
  PREFIX/manifest/NODE/NAME.jsonl.gz: the bucket's bytes are the local
  file's, each marked in MANIFEST/shipped/, counted in /metrics;
- kill -9 mid-run: the segment the killed writer had open is closed and
  shipped by the next start, with every `stored` event in the bucket; a
  marker lost after the PUT (a kill between the two) re-ships through the
  412 and a HEAD, keeping the bucket's object; a segment whose name the
  bucket holds with other bytes is not replaced, logged, counted, kept;
- `vsink manifest cat s3://...` and `vsink report --manifest s3://...`
  print what they print for the local folder; `vsink verify --manifest
  s3://...` checks the objects and writes to the local folder;
- an unreachable cluster leaves segments local (pending, errors counted),
  `manifest cat s3://... --manifest-extra DIR` reads them beside the
  shipped ones, once each, and a restart with the cluster back ships them;
- `--manifest-keep-shipped 1h` removes shipped segments last written more
  than an hour ago (their mtimes set back), with their markers, and no
  other: the bucket still holds them and reads the same;
- `vsink submit --manifest s3://...` writes to --manifest-extra and ships
  its closed segment when it ends, beside the sink's."""
import glob
import gzip
import os
import subprocess
import time
import urllib.request

from rgw import free_port, start_or_skip
from vsharness import (VSINK, FAKEAPI, FakeAPI, Sink, boto3_client, check,
                       env_with_keys, fail, submit, tmpdir)

rgw = start_or_skip("mship", 1024)
s3 = rgw.client()
BUCKET = rgw.create_bucket("vsink-mship")
PREFIX = "cl/a"
URL = "s3://%s/%s" % (BUCKET, PREFIX)
ENV = rgw.sink_env(env_with_keys())
data = tmpdir("mship")
mdir = os.path.join(data, "manifest")


def sink_args(endpoint):
    return ["--node", "n1", "--s3-endpoint", endpoint,
            "--manifest-bucket", URL, "--manifest-rotate-sec", "1"]


def start(endpoint=None, more=()):
    return Sink(data=data, env=ENV, tag="mship",
                args=sink_args(endpoint or rgw.endpoint) + list(more)).start()


def upload(sink, names):
    c = boto3_client(sink)
    for n in names:
        c.put_object(Bucket="videos", Key=n, Body=os.urandom(3000))


def local_closed():
    return sorted(os.path.basename(p)
                  for p in glob.glob(os.path.join(mdir, "*.jsonl.gz")))


def bucket_segments():
    out, token = {}, None
    while True:
        kw = {"Bucket": BUCKET, "Prefix": PREFIX + "/manifest/"}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        for o in r.get("Contents", []):
            out[o["Key"]] = o
        if not r.get("IsTruncated"):
            return out
        token = r["NextContinuationToken"]


def key_of(name):
    return "%s/manifest/n1/%s" % (PREFIX, name)


def get(key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def metrics(sink):
    with urllib.request.urlopen(sink.endpoint + "/metrics", timeout=10) as r:
        text = r.read().decode()
    m = {}
    for line in text.splitlines():
        if line.startswith("vsink_manifest_"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    fail("timed out waiting for " + what)


def all_shipped():
    names = local_closed()
    marked = set(os.listdir(os.path.join(mdir, "shipped"))) \
        if os.path.isdir(os.path.join(mdir, "shipped")) else set()
    return bool(names) and all(n in marked for n in names)


def check_bucket_matches_local():
    """Every local closed segment is in the bucket with the same bytes."""
    segs = bucket_segments()
    for n in local_closed():
        check(key_of(n) in segs, "%s not in the bucket" % n)
        with open(os.path.join(mdir, n), "rb") as f:
            check(get(key_of(n)) == f.read(),
                  "%s: the bucket's bytes differ from the local file" % n)
    return segs


def stored_keys_in_bucket():
    keys = []
    for k in bucket_segments():
        for line in gzip.decompress(get(k)).decode().splitlines():
            if '"event":"stored"' in line:
                keys.append(line.split('"key":"')[1].split('"')[0])
    return sorted(keys)


STAGE = tmpdir("mship-stage")  # where the commands stage s3:// manifests


def run(*args):
    p = subprocess.run([VSINK] + list(args), env=dict(ENV, TMPDIR=STAGE),
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


# ---- 1. closed segments are shipped ----------------------------------------
sink = start()
upload(sink, ["a/1.mp4", "a/2.mp4", "a/3.mp4"])
wait_for("the first segments to ship", all_shipped)
segs = check_bucket_matches_local()
check(all(k.startswith(PREFIX + "/manifest/n1/") and k.endswith(".jsonl.gz")
          for k in segs), "unexpected keys: %s" % list(segs))
m = metrics(sink)
check(m.get("vsink_manifest_segments_shipped_total", 0) >= 1,
      "metrics: %s" % m)
check(m.get("vsink_manifest_segments_pending") == 0, "metrics: %s" % m)
print("shipped: %d segment(s), bytes as local; metrics %s" % (len(segs), m))

# ---- 2. kill -9 with a segment open; a lost marker; a conflict -------------
upload(sink, ["b/1.mp4", "b/2.mp4"])
sink.kill9()
plain = glob.glob(os.path.join(mdir, "*.jsonl"))
check(plain, "kill -9 left no open segment (nothing to recover)")
# a kill between a PUT and its marker: the marker is gone, the object not
shipped_before = local_closed()
lost = shipped_before[0]
os.unlink(os.path.join(mdir, "shipped", lost))
lost_obj = s3.head_object(Bucket=BUCKET, Key=key_of(lost))
# a name the bucket holds with other bytes
bogus = "20200101T000000000Z-n1-1-deadbeef.jsonl.gz"
with open(os.path.join(mdir, bogus), "wb") as f:
    f.write(gzip.compress(b'{"v":1,"event":"x","time":"2020-01-01T00:00:00.'
                          b'000Z","node":"n1"}\n'))
s3.put_object(Bucket=BUCKET, Key=key_of(bogus), Body=b"other bytes")

sink = start()
wait_for("the killed run's segment to ship",
         lambda: not glob.glob(os.path.join(mdir, "*.jsonl")) and
         all(n in os.listdir(os.path.join(mdir, "shipped"))
             for n in local_closed() if n != bogus))
check(lost in os.listdir(os.path.join(mdir, "shipped")),
      "the segment whose marker was lost was not marked again")
check(s3.head_object(Bucket=BUCKET, Key=key_of(lost))["LastModified"] ==
      lost_obj["LastModified"], "the re-shipped segment was replaced")
check(bogus not in os.listdir(os.path.join(mdir, "shipped")),
      "a conflicting segment was marked shipped")
check(get(key_of(bogus)) == b"other bytes", "the bucket's object changed")
check(os.path.exists(os.path.join(mdir, bogus)), "conflict not kept locally")
wait_for("the conflict in the metrics", lambda: metrics(sink).get(
    'vsink_manifest_ship_failures_total{reason="conflict"}') == 1)
check("holds other bytes" in sink.log(), "conflict not logged: %s"
      % sink.log()[-2000:])
check("already in" in sink.log(), "the 412 path was not taken")
# the conflict is this test's doing: out of the way for the comparisons
os.unlink(os.path.join(mdir, bogus))
s3.delete_object(Bucket=BUCKET, Key=key_of(bogus))
check(sink.stop() == 0, "sink did not stop cleanly")
check_bucket_matches_local()
check(stored_keys_in_bucket() ==
      ["a/1.mp4", "a/2.mp4", "a/3.mp4", "b/1.mp4", "b/2.mp4"],
      "stored events in the bucket: %s" % stored_keys_in_bucket())
print("kill -9: the open segment was closed and shipped; a lost marker "
      "re-shipped through 412 + HEAD; a conflict kept local")

# ---- 3. reading the bucket equals reading the folder ------------------------
rc, local_cat, err = run("manifest", "cat", mdir)
check(rc == 0 and local_cat.count("\n") >= 5, "local cat: %d %s" % (rc, err))
rc, s3_cat, err = run("manifest", "cat", "--s3-endpoint", rgw.endpoint, URL)
check(rc == 0, "manifest cat s3://: %d %s" % (rc, err))
check(s3_cat == local_cat, "manifest cat s3:// differs from the folder's:\n"
      "%s\n---\n%s" % (s3_cat, local_cat))
NOW = "2030-01-01T00:00:00Z"
rc1, local_rep, err1 = run("report", "--manifest", mdir, "--format", "csv",
                           "--now", NOW)
rc2, s3_rep, err2 = run("report", "--manifest", URL, "--s3-endpoint",
                        rgw.endpoint, "--format", "csv", "--now", NOW)
check(rc1 == rc2 and local_rep == s3_rep and local_rep.count("\n") >= 6,
      "report differs: %d %s\n%s\n---\n%d %s\n%s" % (rc1, err1, local_rep,
                                                     rc2, err2, s3_rep))
rc, _, err = run("manifest", "cat", URL)
check(rc == 2 and "--s3-endpoint" in err, "no endpoint: %d %s" % (rc, err))
print("manifest cat and report: s3:// equals the folder")

# verify reads the bucket, writes its events to the local folder
rc, out, err = run("verify", "--data", data, "--manifest", URL,
                   "--s3-endpoint", rgw.endpoint)
check(rc == 0, "verify s3://: %d %s %s" % (rc, out, err))
rc, local_cat, _ = run("manifest", "cat", mdir)
check(local_cat.count('"event":"verified"') == 5 and
      local_cat.count('"ok":true') == 5, "verified events: %s" % local_cat)
print("verify s3://: 5 objects intact, its events in the local folder")

# ---- 4. an unreachable cluster; then back ----------------------------------
dead = "http://127.0.0.1:%d" % free_port()
sink = start(dead)
rc, _, err = run("manifest", "cat", "--s3-endpoint", dead, URL)
check(rc == 3 and "connect" in err.lower(), "cat from a dead cluster: %d %s"
      % (rc, err))
before = set(bucket_segments())
upload(sink, ["c/1.mp4", "c/2.mp4"])
unshipped = lambda: [n for n in local_closed()
                     if n not in os.listdir(os.path.join(mdir, "shipped"))]
wait_for("a segment closed while the cluster is away", lambda: unshipped())
wait_for("the failures in the metrics", lambda: metrics(sink).get(
    'vsink_manifest_ship_failures_total{reason="error"}', 0) >= 1 and
    metrics(sink).get("vsink_manifest_segments_pending", 0) >= 1)
check(set(bucket_segments()) == before, "something reached the bucket")
check(sink.stop() == 0, "sink did not stop with the cluster away")
check(unshipped(), "segments marked shipped to a dead cluster")
rc, local_cat, err = run("manifest", "cat", mdir)
rc2, mixed, err2 = run("manifest", "cat", "--s3-endpoint", rgw.endpoint,
                       "--manifest-extra", mdir, URL)
check(rc == 0 and rc2 == 0 and mixed == local_cat and "c/2.mp4" in mixed,
      "cat s3:// + --manifest-extra differs from the folder: %s %s" %
      (err, err2))
rc, only_bucket, _ = run("manifest", "cat", "--s3-endpoint", rgw.endpoint,
                         URL)
check("c/1.mp4" not in only_bucket, "unshipped events read from the bucket")
sink = start()
wait_for("the segments to ship once the cluster is back", all_shipped)
check(sink.stop() == 0, "sink did not stop")
check_bucket_matches_local()
rc, s3_cat, err = run("manifest", "cat", "--s3-endpoint", rgw.endpoint, URL)
rc2, local_cat, _ = run("manifest", "cat", mdir)
check(rc == 0 and s3_cat == local_cat, "after the outage: %s" % err)
print("unreachable cluster: segments kept local, read with --manifest-extra,"
      " shipped once it was back")

# ---- pruning shipped segments -----------------------------------------------
names = local_closed()
check(len(names) >= 3, "too few segments to prune: %s" % names)
old, young = names[:-1], names[-1]
for n in old:  # last written two hours ago
    t = time.time() - 7200
    os.utime(os.path.join(mdir, n), (t, t))
rc, s3_before, err = run("manifest", "cat", "--s3-endpoint", rgw.endpoint,
                         URL)
check(rc == 0, "cat: %s" % err)
sink = start(more=["--manifest-keep-shipped", "1h"])
wait_for("the old segments to go", lambda: metrics(sink).get(
    "vsink_manifest_segments_pruned_total") == len(old))
check(sink.stop() == 0, "sink did not stop")
check(young in local_closed() and not set(old) & set(local_closed()),
      "left locally: %s (old %s)" % (local_closed(), old))
check(sorted(os.listdir(os.path.join(mdir, "shipped"))) == local_closed(),
      "markers left: %s" % os.listdir(os.path.join(mdir, "shipped")))
check(all(key_of(n) in bucket_segments() for n in names),
      "a pruned segment is missing from the bucket")
rc, s3_after, err = run("manifest", "cat", "--s3-endpoint", rgw.endpoint,
                        URL)
check(rc == 0 and s3_after == s3_before, "the bucket reads otherwise after "
      "pruning: %s" % err)
print("--manifest-keep-shipped 1h: %d old shipped segments removed locally, "
      "the young one kept, the bucket unchanged" % len(old))

# ---- rotation by events; a second node beside the first -------------------
data2 = tmpdir("mship2")
sink2 = Sink(data=data2, env=ENV, tag="mship2",
             args=["--node", "n2", "--s3-endpoint", rgw.endpoint,
                   "--manifest-bucket", URL, "--manifest-rotate-sec", "3600",
                   "--manifest-rotate-events", "2"]).start()
upload(sink2, ["d/1.mp4", "d/2.mp4", "d/3.mp4", "d/4.mp4", "d/5.mp4"])
n2 = lambda: [k for k in bucket_segments() if "/manifest/n2/" in k]
wait_for("node n2's two full segments", lambda: len(n2()) == 2)
time.sleep(1.5)
check(len(n2()) == 2, "a segment closed before 2 events or 3600 s: %s"
      % n2())
check(sink2.stop() == 0, "sink n2 did not stop")
check(len(n2()) == 3, "n2's last segment not shipped at stop: %s" % n2())
rc, s3_cat, err = run("manifest", "cat", "--s3-endpoint", rgw.endpoint, URL)
check(rc == 0 and all(k in s3_cat for k in ("a/1.mp4", "d/5.mp4")),
      "both nodes' events not read from the bucket: %s" % err)
print("rotation by events: 5 events in segments of 2, 2 and 1; two nodes "
      "read as one manifest")

# ---- bad options ------------------------------------------------------------
for args, said in (
        (["--manifest-bucket", URL], "needs --s3-endpoint"),
        (["--manifest-bucket", "http://b/p", "--s3-endpoint", rgw.endpoint],
         "s3://BUCKET"),
        (["--manifest-bucket", "s3://Bad_Bucket", "--s3-endpoint",
          rgw.endpoint], "--manifest-bucket"),
        (["--manifest-rotate-sec", "0"], "1..31622400"),
        (["--manifest-rotate-events", "x"], "1..1000000000"),
        (["--manifest-keep-shipped", "1h"], "needs --manifest-bucket"),
        (["--manifest-bucket", URL, "--s3-endpoint", rgw.endpoint,
          "--manifest-keep-shipped", "0"], "1s to 3650d")):
    rc, _, err = run("serve", "--data", tmpdir("mship-bad"), *args)
    check(rc == 2 and said in err, "serve %s: %d %s" % (args, rc, err))
print("bad shipping options refused")

# ---- 5. submit with an s3:// manifest ---------------------------------------
if FAKEAPI:
    fake = FakeAPI(delay_ms=50, size=20000)
    sdir = tmpdir("mship-submit")
    S3ENV = rgw.sink_env({})  # the cluster's keys alone
    rc, lines, err, _ = submit(
        ["--target", "s3://%s/runs" % BUCKET, "--s3-endpoint", rgw.endpoint,
         "--manifest", URL, "--manifest-extra", sdir, "--prompt",
         "shipped by submit", "--resolution", "480p", "--wait",
         "--timeout", "60"], api=fake.api, env=S3ENV)
    fake.stop()
    check(rc == 0 and len(lines) == 1, "submit: %d %s %s" % (rc, lines, err))
    mine = [os.path.basename(p) for p in glob.glob(sdir + "/*.jsonl.gz")]
    check(len(mine) == 1 and os.listdir(os.path.join(sdir, "shipped")) ==
          mine, "submit's segment not closed and marked: %s" %
          os.listdir(sdir))
    keys = [k for k in bucket_segments() if k.endswith("/" + mine[0])]
    check(len(keys) == 1 and "/manifest/submit-" in keys[0] and
          get(keys[0]) == open(os.path.join(sdir, mine[0]), "rb").read(),
          "submit's segment in the bucket: %s" % keys)
    rc, s3_cat, err = run("manifest", "cat", "--s3-endpoint", rgw.endpoint,
                          URL)
    check(rc == 0 and lines[0]["taskUUID"] in s3_cat and "c/1.mp4" in s3_cat,
          "the bucket's manifest lacks submit's or the sink's events")
    print("submit: its manifest shipped beside the sink's")
else:
    print("submit step skipped: no VSINK_FAKEAPI")
check(os.listdir(STAGE) == [], "staging folders left: %s" %
      os.listdir(STAGE))
rgw.stop()
print("PASS")
