"""vsink verify against a real sink's data folder filled by real PUTs, while
the sink still runs: a clean run writes ok events; a flipped byte, a
truncated file and a deleted file are each caught and named, with exit
status 1; --jobs 2 gives the same verdicts; the report then shows
checksum-mismatch / missing-object and each object's last verified time."""
import glob
import os
import time
import uuid

from reporthelp import report_rows, submitted, task, verify
from vsharness import Sink, check, pattern, sha256

sink = Sink(tag="verify").start()
BUCKET = "videos"
SIZES = [3 * 1024 * 1024 + 17, 65536, 1, 200000, 5]
objs = []
for i, size in enumerate(SIZES):
    tid = str(uuid.UUID(int=0x1000 + i, version=4))
    key = "out/%s.mp4" % tid
    body = pattern(size, seed=i)
    st, _, _ = sink.request("PUT", sink.presign("PUT", BUCKET + "/" + key),
                            body)
    check(st == 200, "PUT %s: %d" % (key, st))
    objs.append({"tid": tid, "key": key, "sha": sha256(body), "size": size})

# The submissions and results that make these outputs "complete", so the
# report has rows for verify's verdicts to change.
mdir = sink.manifest
submitted(mdir, [(task(o["tid"], "clip %d" % i), "0.07")
                 for i, o in enumerate(objs)], BUCKET, time.time() - 60)
for i, o in enumerate(objs):
    hook = sink.presign("POST", "hooks/" + o["tid"])
    body = ('{"data":[{"taskType":"videoInference","taskUUID":"%s",'
            '"status":"success","videoUUID":"%s","seed":%d,"cost":0.07}]}'
            % (o["tid"], uuid.uuid4(), 40 + i)).encode()
    st, _, resp = sink.request("POST", hook, body,
                               {"Content-Type": "application/json"})
    check(st == 200, "hook: %d %s" % (st, resp))

stored = {e["key"]: e for e in sink.manifest_events("stored")}
check(len(stored) == len(objs), "stored events: %d" % len(stored))


def data_file(o):
    vid = stored[o["key"]]["versionId"]
    found = glob.glob(os.path.join(sink.data, "buckets", BUCKET, "out",
                                   o["tid"] + ".mp4", "@" + vid))
    check(len(found) == 1, "data file of %s: %s" % (o["key"], found))
    return found[0]


def verified_events():
    return sink.manifest_events("verified")


# 1. Clean, while the sink holds the folder: every object ok, one event each.
out = verify(sink.data, "--jobs", "1")
check(out.returncode == 0, "clean verify: %d %s %s" % (
    out.returncode, out.stdout, out.stderr))
text = out.stdout.decode()
check("verified 5 object(s)" in text and "5 ok, 0 problem(s)" in text,
      "summary: %s" % text)
check(out.stderr == b"", "no progress when stderr is not a tty: %r" %
      out.stderr)
ev = verified_events()
check(len(ev) == 5 and all(e["ok"] is True for e in ev),
      "ok events: %s" % ev)
for o in objs:
    e = [x for x in ev if x["key"] == o["key"]][0]
    check(e["sha256"] == o["sha"] and e["bucket"] == BUCKET and
          e["versionId"] == stored[o["key"]]["versionId"] and
          e["bytes"] == o["size"] and "problem" not in e, "event %s" % e)
rows = report_rows(mdir, expect_rc=0)
check(len(rows) == 5 and all(r["status"] == "complete" for r in rows),
      "statuses after a clean verify: %s" % [r["status"] for r in rows])
check(all(r["verified"] for r in rows), "every row has a verified time")
first_verified = {r["key"]: r["verified"] for r in rows}

# 2. Damage: a flipped byte in the big one, one truncated, one deleted.
flip, trunc, gone = objs[0], objs[3], objs[2]
with open(data_file(flip), "r+b") as f:
    f.seek(2 * 1024 * 1024 + 3)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
with open(data_file(trunc), "r+b") as f:
    f.truncate(trunc["size"] - 1000)
os.unlink(data_file(gone))
time.sleep(0.01)  # the new verified events are strictly later

for jobs in ("1", "2"):
    before = len(verified_events())
    out = verify(sink.data, "--jobs", jobs)
    text = out.stdout.decode()
    check(out.returncode == 1, "damaged verify --jobs %s exit %d: %s %s" % (
        jobs, out.returncode, text, out.stderr))
    lines = [l.split("\t") for l in text.splitlines() if "\t" in l]
    named = {(l[0], l[1]) for l in lines}
    check(named == {("checksum-mismatch", BUCKET + "/" + flip["key"]),
                    ("size-mismatch", BUCKET + "/" + trunc["key"]),
                    ("missing-object", BUCKET + "/" + gone["key"])},
          "problems named (--jobs %s): %s" % (jobs, text))
    check("2 ok, 3 problem(s) (1 checksum-mismatch, 1 size-mismatch, "
          "1 missing-object, 0 read-error)" in text, "summary: %s" % text)
    new = verified_events()[before:]
    check(len(new) == 5, "5 new events, got %d" % len(new))
    by_key = {e["key"]: e for e in new}
    check(by_key[flip["key"]]["ok"] is False and
          by_key[flip["key"]]["problem"] == "checksum-mismatch" and
          by_key[flip["key"]]["sha256"] != flip["sha"],
          "flip event %s" % by_key[flip["key"]])
    check(by_key[trunc["key"]]["problem"] == "size-mismatch",
          "truncate event %s" % by_key[trunc["key"]])
    check(by_key[gone["key"]]["problem"] == "missing-object" and
          "sha256" not in by_key[gone["key"]],
          "missing event %s" % by_key[gone["key"]])
    for o in (objs[1], objs[4]):
        check(by_key[o["key"]]["ok"] is True, "intact %s" % by_key[o["key"]])

# 3. The report shows verify's verdicts (exit 1: there are problems).
rows = report_rows(mdir, expect_rc=1)
status = {r["key"]: r["status"] for r in rows}
check(status[flip["key"]] == "checksum-mismatch", "flip: %s" % status)
check(status[trunc["key"]] == "checksum-mismatch",
      "a size mismatch is a checksum mismatch in the report: %s" % status)
check(status[gone["key"]] == "missing-object", "gone: %s" % status)
check(status[objs[1]["key"]] == "complete" and
      status[objs[4]["key"]] == "complete", "intact: %s" % status)
for r in rows:
    check(r["verified"] > first_verified[r["key"]],
          "last verified time moved on: %s" % r)
problems = {r["key"]: r["verify_problem"] for r in rows}
check(problems[trunc["key"]] == "size-mismatch" and
      problems[objs[1]["key"]] in (None, ""), "verify_problem: %s" % problems)
only = report_rows(mdir, "--status", "missing-object", expect_rc=1)
check([r["key"] for r in only] == [gone["key"]], "--status filter")

# 4. Bad usage and unreadable places.
out = verify(sink.data, "--jobs", "65")
check(out.returncode == 2 and b"--jobs '65'" in out.stderr, "jobs 65")
out = verify(sink.data, "--bogus")
check(out.returncode == 2 and b"unknown option '--bogus'" in out.stderr,
      "unknown option")
out = verify(os.path.join(sink.data, "nope"))
check(out.returncode == 3 and b"nope" in out.stderr, "missing data folder")
out = verify(sink.data, manifest=os.path.join(sink.data, "no-manifest"))
check(out.returncode == 3 and b"no-manifest" in out.stderr,
      "missing manifest: %s" % out.stderr)
check(not os.path.exists(os.path.join(sink.data, "no-manifest")),
      "a missing manifest is not created")
check(sink.stop() == 0, "sink exits cleanly")
print("verify: clean run, flipped byte, truncation, deletion, --jobs 2, "
      "report statuses, bad usage")
