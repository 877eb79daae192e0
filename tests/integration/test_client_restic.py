"""restic (Debian's 0.14, minio-go: STREAMING-AWS4-HMAC-SHA256-PAYLOAD
bodies over plain HTTP) against a real sink, the workflow
test_sink_awschunked.py does not cover (issue 8, Proof): a backup of
1 KiB / 20 MiB / 200 MiB files (random bytes, so packs stay ~17 MiB: restic
0.14 never goes multipart below its 200 MiB part size), restored and
compared by SHA-256; every object restic names by its SHA-256 (data,
index, snapshots, keys, locks) has exactly one `stored` event with that
SHA-256; a second backup of unchanged files stores no file data and no
new version of anything; `snapshots`,
`ls`; `forget --prune` deletes with delete markers (the versions survive);
`check --read-data` after it; lock files are removed (DeleteObject) and
nothing stays listed under locks/."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

from vsharness import (Sink, check, boto3_client, tmpdir, KEY_ID, SECRET,
                       file_sha256, stored_of, Stopwatch, MiB)

if not shutil.which("restic"):
    print("SKIP: no restic")
    sys.exit(77)

sw = Stopwatch("restic")
sink = Sink(tag="c-restic").start()
s3 = boto3_client(sink)
src, dst, cache = tmpdir("c-restic-src"), tmpdir("c-restic-dst"), \
    tmpdir("c-restic-cache")
env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
           AWS_DEFAULT_REGION="us-east-1", RESTIC_PASSWORD="vsink-test",
           RESTIC_CACHE_DIR=cache, HOME=cache,
           RESTIC_REPOSITORY="s3:%s/videos/repo" % sink.endpoint)
for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "RESTIC_PASSWORD_FILE"):
    env.pop(k, None)
SIZES = {"1k.bin": 1024, "20m.bin": 20 * MiB, "200m.bin": 200 * MiB}
sha = {}
for name, size in SIZES.items():
    with open(os.path.join(src, name), "wb") as f:
        for i in range(0, size, 8 * MiB):  # random: restic compresses
            f.write(os.urandom(min(8 * MiB, size - i)))
    sha[name] = file_sha256(os.path.join(src, name))
sw.step("made 1 KiB / 20 MiB / 200 MiB of random bytes")


def restic(*args, timeout=240):
    r = subprocess.run(["restic"] + list(args), env=env, capture_output=True,
                       timeout=timeout)
    check(r.returncode == 0, "restic %s: exit %d\n%s\n%s" % (
        " ".join(args[:2]), r.returncode, r.stdout.decode()[-2000:],
        r.stderr.decode()[-2000:]))
    return r.stdout.decode()


def repo_keys(folder):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket="videos", Prefix="repo/%s/" % folder):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def named_by_sha(events):
    """The stored events of objects restic names by their SHA-256."""
    return [e for e in events if e["key"].split("/")[1] in
            ("data", "index", "snapshots", "keys", "locks")]


restic("init")
restic("backup", src, timeout=300)
events = sink.manifest_events("stored")
for e in named_by_sha(events):
    check(e["sha256"] == e["key"].rsplit("/", 1)[1],
          "the stored event's sha256 is not restic's name: %s" % e)
    check(len(stored_of(sink, e["key"], events=events)) == 1,
          "%s: more than one stored event" % e["key"])
data = repo_keys("data")
check(len(data) >= 10 and sum(e["bytes"] for e in events if "/data/" in
                              e["key"]) > 220 * MiB,
      "backup: %d data objects" % len(data))
sw.step("init, backup (%d data objects)" % len(data))

n_events = len(events)
out = restic("backup", src, timeout=300)
check(" 0 new,     0 changed,     3 unmodified" in out,
      "second backup: %s" % out)
# a new snapshot and at most a tree or two (the folder's times): no file data
new = sink.manifest_events("stored")[n_events:]
check(sum(e["bytes"] for e in new if "/data/" in e["key"]) < 64 * 1024 and
      len([e for e in new if "/snapshots/" in e["key"]]) == 1,
      "the second backup of unchanged files stored %s" %
      [(e["key"], e["bytes"]) for e in new])
check(all(len(stored_of(sink, e["key"])) == 1 for e in new),
      "the second backup stored a new version of an object")
snaps = json.loads(restic("snapshots", "--json"))
check(len(snaps) == 2, "snapshots: %s" % snaps)
out = restic("ls", "latest")
check(all(any(ln.endswith("/" + n) for ln in out.splitlines())
          for n in SIZES), "ls latest: %s" % out)
sw.step("second backup stores no data; snapshots, ls")

restic("restore", "latest", "--target", dst, timeout=300)
for name in SIZES:
    got = file_sha256(os.path.join(dst, src.lstrip("/"), name))
    check(got == sha[name], "restore: %s differs" % name)
sw.step("restore, SHA-256 compared")

first = [k for k in repo_keys("snapshots") if k.endswith(snaps[0]["id"])]
check(len(first) == 1, "the first snapshot's object: %s" % first)
ver = stored_of(sink, first[0])[0]["versionId"]
restic("forget", "--keep-last", "1", "--prune", timeout=300)
check(first[0] not in repo_keys("snapshots") and
      len(repo_keys("snapshots")) == 1, "forget: %s" % repo_keys("snapshots"))
check(any(e["key"] == first[0] for e in sink.manifest_events("deleted")),
      "forget: no deleted event for %s" % first[0])
body = s3.get_object(Bucket="videos", Key=first[0], VersionId=ver)["Body"]
check(hashlib.sha256(body.read()).hexdigest() ==
      first[0].rsplit("/", 1)[1], "the forgotten snapshot's version")
restic("check", "--read-data", timeout=300)
check(repo_keys("locks") == [], "locks left: %s" % repo_keys("locks"))
locks = [e for e in sink.manifest_events("deleted") if "/locks/" in e["key"]]
check(len(locks) >= 6, "lock files deleted: %d" % len(locks))
sw.step("forget --prune (delete markers), check --read-data")

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
