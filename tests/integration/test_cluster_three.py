"""Three sinks behind a real load balancer (Debian's haproxy), storing into
one Ceph RGW bucket, driven by the fake generation API through the
balancer: 300 tasks of 1 to 4 results each.

Mid-run one sink is killed with SIGKILL and started again (same port, same
data folder), and RGW's gateway is stopped for a few seconds and started
again. Afterwards:
- every upload the fake API saw answered 200 is in the bucket with the
  SHA-256 of the bytes the fake sent, and has exactly one `stored` event
  across every node's shipped manifests;
- no version in the bucket lacks its `stored` event, and no `stored` event
  names a version the bucket does not hold (an upload that failed left no
  object and no event);
- no multipart upload is left open on the cluster;
- `vsink report --manifest s3://...` (plus the submitter's own manifest)
  shows every output complete, or flagged."""
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

from rgw import start_or_skip
import vsharness as h

TASKS = 300
SIZE = 65536
CLUSTER = "vsink-fleet"
PREFIX = "prod"

if not shutil.which("haproxy"):
    print("SKIP: haproxy is not installed (scripts/install-deps.sh --test)")
    sys.exit(77)
if not h.FAKEAPI:
    print("SKIP: VSINK_FAKEAPI is not set")
    sys.exit(77)
rgw = start_or_skip("fleet", 2048)
s3 = rgw.client()
rgw.versioned_bucket(CLUSTER)
work = h.tmpdir("fleet")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


env = rgw.sink_env(h.env_with_keys())
BUCKET_URL = "s3://%s/%s" % (CLUSTER, PREFIX)
ports = [free_port() for _ in range(3)]


def node(i):
    data = os.path.join(work, "n%d" % i)
    os.makedirs(data, exist_ok=True)
    return h.Sink(data=data, env=env, tag="n%d" % i, args=[
        "--listen", "127.0.0.1:%d" % ports[i], "--node", "n%d" % i,
        "--store", BUCKET_URL, "--s3-endpoint", rgw.endpoint,
        "--manifest-bucket", BUCKET_URL, "--manifest-rotate-sec", "1"])


sinks = [node(i).start() for i in range(3)]
print("sinks on %s" % [s.endpoint for s in sinks])

# ---- the balancer ------------------------------------------------------------
lb_port = free_port()
cfg = os.path.join(work, "haproxy.cfg")
with open(cfg, "w") as f:
    f.write("""global
    maxconn 512
defaults
    mode http
    retries 3
    option redispatch
    timeout connect 2s
    timeout http-request 15s
    timeout client 60s
    timeout server 60s
frontend vsink
    bind 127.0.0.1:%d
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 300ms fall 2 rise 1
%s
""" % (lb_port, "\n".join("    server n%d 127.0.0.1:%d check" % (i, p)
                          for i, p in enumerate(ports))))
out = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True)
h.check(out.returncode == 0, "haproxy config: %r" % out.stderr)
lb = subprocess.Popen(["haproxy", "-db", "-f", cfg],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
h._procs.append(lb)
LB = "http://127.0.0.1:%d" % lb_port
deadline = time.time() + 10
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", lb_port), 1).close()
        break
    except OSError:
        time.sleep(0.1)

# ---- the run -----------------------------------------------------------------
fake = h.FakeAPI("--workers", "16", "--upload-attempts", "5",
                 "--webhook-attempts", "8", delay_ms=50, size=SIZE)
rnd = random.Random(10)
jobs = os.path.join(work, "jobs.jsonl")
with open(jobs, "w") as f:
    for i in range(TASKS):
        f.write(json.dumps({"prompt": "fleet clip %d" % i,
                            "resolution": "480p", "duration": 2,
                            "results": rnd.randint(1, 4)}) + "\n")
sub_manifest = os.path.join(work, "submitter-manifest")
result = {}


def run_submit():
    result["out"] = h.submit(["--jobs", jobs, "--target", LB + "/videos/run",
                              "--manifest", sub_manifest, "--concurrency",
                              "8", "--wait", "--timeout", "300s"],
                             api=fake.api, env=env, timeout=400)


t0 = time.monotonic()
th = threading.Thread(target=run_submit)
th.start()


def uploads_done():
    return len([e for e in fake.events("upload") if e.get("status") == 200])


def wait_uploads(n, limit):
    end = time.time() + limit
    while time.time() < end and uploads_done() < n and th.is_alive():
        time.sleep(0.1)


wait_uploads(150, 120)
print("%d uploads in: kill -9 n1" % uploads_done())
sinks[1].kill9()
gone = [sinks[1]]
time.sleep(2)
sinks[1] = node(1).start()
print("n1 back after %.1f s" % (time.monotonic() - t0))
wait_uploads(350, 120)
print("%d uploads in: RGW's gateway stopped" % uploads_done())
rgw.stop_gateway()
time.sleep(3)
rgw.start_gateway()
print("RGW back after %.1f s" % (time.monotonic() - t0))
th.join(420)
h.check(not th.is_alive(), "submit did not end")
rc, lines, err, took = result["out"]
print("submit exited %d after %.1f s: %d lines" % (rc, took, len(lines)))
# webhooks and uploads still retrying end within the fake's attempts
time.sleep(3)
ok = [e for e in fake.events("upload") if e.get("status") == 200]
failed = [e for e in fake.events("upload") if e.get("status") != 200]
print("fake: %d uploads answered 200, %d attempts failed" %
      (len(ok), len(failed)))
h.check(len(ok) >= TASKS, "most uploads went through: %d" % len(ok))

# ---- every node's shipped manifests -------------------------------------------
for s in sinks:
    h.check(s.stop() == 0, "%s stopped cleanly: %s" % (s.endpoint,
                                                       s.log()[-1500:]))
    # with --store s3:// a node's shipped segments are pruned after a day
    h.check("keeping them locally for 24h" in s.log(),
            "%s: shipped segments not kept 24h by default" % s.endpoint)


def cat_shipped():
    out = subprocess.run([h.VSINK, "manifest", "cat", BUCKET_URL,
                          "--s3-endpoint", rgw.endpoint], env=env,
                         capture_output=True, timeout=120)
    h.check(out.returncode == 0, "manifest cat s3://: %r" % out.stderr)
    return [json.loads(x) for x in out.stdout.decode().splitlines() if x]


events = cat_shipped()
nodes = {e.get("node") for e in events}
h.check(nodes == {"n0", "n1", "n2"}, "every node shipped: %r" % nodes)
stored = [e for e in events if e["event"] == "stored"]
by_version = {}
for e in stored:
    by_version.setdefault((e["key"], e["versionId"]), []).append(e)
dups = {k: v for k, v in by_version.items() if len(v) != 1}
h.check(not dups, "a version with more than one stored event: %r" %
        list(dups.items())[:3])

# what the bucket holds under the sink bucket's prefix
versions = {}
kw = {"Bucket": CLUSTER, "Prefix": PREFIX + "/videos/"}
while True:
    page = s3.list_object_versions(**kw)
    for v in page.get("Versions", []):
        versions[(v["Key"][len(PREFIX) + len("/videos/"):],
                  v["VersionId"])] = v
    if not page.get("IsTruncated"):
        break
    kw["KeyMarker"] = page["NextKeyMarker"]
    kw["VersionIdMarker"] = page["NextVersionIdMarker"]
print("bucket: %d versions; manifests: %d stored events" %
      (len(versions), len(stored)))
missing_event = [k for k in versions if k not in by_version]
h.check(not missing_event, "versions without a stored event: %r" %
        missing_event[:5])
missing_object = [k for k in by_version if k not in versions]
for key, vid in missing_object[:3]:
    print("event:", by_version[(key, vid)])
    try:
        hd = s3.head_object(Bucket=CLUSTER, Key=PREFIX + "/videos/" + key,
                            VersionId=vid)
        print("  HEAD finds it (the listing left it out): %r" %
              {k: hd.get(k) for k in ("ContentLength", "ETag")})
    except Exception as e:  # noqa: BLE001 - the diagnosis only
        print("  HEAD: %s" % e)
    for s in sinks + gone:
        for line in s.log().splitlines():
            if vid in line or key.rsplit("/", 1)[-1] in line:
                print("  %s: %s" % (s.endpoint, line[:400]))
h.check(not missing_object, "stored events of no version: %r" %
        missing_object[:5])

# every upload the fake saw succeed: there, with its bytes' SHA-256
want = {}
for e in ok:
    want[e["url"].split("/videos/", 1)[1]] = e["sha256"]
have = {}
for (key, vid), evs in by_version.items():
    have.setdefault(key, []).append(evs[0]["sha256"])
for key, sha in want.items():
    h.check(sha in have.get(key, []), "%s: delivered %s, stored %r" %
            (key, sha, have.get(key)))
for (key, vid), v in list(versions.items())[:40]:
    body = s3.get_object(Bucket=CLUSTER, Key=PREFIX + "/videos/" + key,
                         VersionId=vid)["Body"].read()
    h.check(hashlib.sha256(body).hexdigest() ==
            by_version[(key, vid)][0]["sha256"], "bytes of %s %s" %
            (key, vid))
h.check(not s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads"),
        "no multipart upload left open")

# ---- the report over all nodes -------------------------------------------------
out = subprocess.run([h.VSINK, "report", "--manifest", BUCKET_URL,
                      "--s3-endpoint", rgw.endpoint, "--manifest-extra",
                      sub_manifest, "--format", "jsonl"], env=env,
                     capture_output=True, timeout=120)
h.check(out.returncode in (0, 1), "report: %r" % out.stderr)
rows = [json.loads(x) for x in out.stdout.decode().splitlines() if x]
status = {}
for r in rows:
    status[r["status"]] = status.get(r["status"], 0) + 1
print("report: %r" % status)
results = sum(json.loads(l)["results"] for l in open(jobs))
h.check(len([r for r in rows if r.get("task_uuid")]) >= results,
        "a row per output: %d rows, %d outputs" % (len(rows), results))
h.check(status.get("complete", 0) >= len(want) - len(failed),
        "complete outputs: %r" % status)
allowed = {"complete", "waiting", "missing-upload", "failed"}
h.check(set(status) <= allowed | {"unexpected-upload"},
        "statuses: %r" % status)
lb.terminate()
lb.wait(10)
fake.stop()
rgw.stop()
print("OK")
