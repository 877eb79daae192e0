"""vsink report and vsink verify after real deletes (issue 8): a sink under
--allow-purge holds five paid outputs PUT with boto3; one is deleted (a
delete marker), one purged (DELETE ?versionId=), one deleted and brought
back by purging its marker, one deleted and PUT again, one left alone;
plain S3 use of the same bucket (a stray object deleted, a delete of a key
that never held anything, a purge of a stray version) rides along. The
report (CSV, JSON Lines, grouped, HTML) shows deleted (with the marker's
versionId and time) and purged, costs unchanged, exit 0 apart from the
stray's unexpected-upload; verify reads the deleted output's kept version
by versionId (ok), skips and counts the purged one instead of calling it
missing, and the report after it says the same."""
import csv
import io
import json
import os
import subprocess
import time
import uuid

from reporthelp import report_rows, submitted, task, verify
from vsharness import VSINK, Sink, boto3_client, check, pattern, tmpdir

BUCKET = "videos"
sink = Sink(tag="repdel", args=["--allow-purge"]).start()
s3 = boto3_client(sink)

names = ["kept", "deleted", "purged", "undeleted", "again"]
outs = {}
for i, name in enumerate(names):
    tid = str(uuid.UUID(int=0x7000 + i, version=4))
    key = "out/%s.mp4" % tid
    vid = s3.put_object(Bucket=BUCKET, Key=key,
                        Body=pattern(4096 + i, seed=i))["VersionId"]
    outs[name] = {"tid": tid, "key": key, "vid": vid}

# What `vsink submit` and the API's webhook would have recorded: each
# output submitted (0.07 estimated) and paid (0.07).
submitted(sink.manifest, [(task(o["tid"], "clip " + n), "0.07")
                          for n, o in outs.items()], BUCKET, time.time() - 60)
for i, o in enumerate(outs.values()):
    body = ('{"data":[{"taskType":"videoInference","taskUUID":"%s",'
            '"status":"success","videoUUID":"%s","seed":%d,"cost":0.07}]}'
            % (o["tid"], uuid.uuid4(), 40 + i)).encode()
    st, _, resp = sink.request("POST", sink.presign("POST", "hooks/" +
                                                    o["tid"]), body,
                               {"Content-Type": "application/json"})
    check(st == 200, "hook: %d %s" % (st, resp))

rows = report_rows(sink.manifest, expect_rc=0)
check(sorted(r["status"] for r in rows) == ["complete"] * 5,
      "before any delete: %s" % [r["status"] for r in rows])
check("deleted" not in rows[0], "no delete columns before a delete: %s" %
      sorted(rows[0]))

# ---- the deletes ---------------------------------------------------------------
r = s3.delete_object(Bucket=BUCKET, Key=outs["deleted"]["key"])
check(r.get("DeleteMarker") is True, "delete: %s" % r)
marker = r["VersionId"]
r = s3.delete_object(Bucket=BUCKET, Key=outs["purged"]["key"],
                     VersionId=outs["purged"]["vid"])
check(r["ResponseMetadata"]["HTTPStatusCode"] == 204 and
      not r.get("DeleteMarker"), "purge: %s" % r)
m = s3.delete_object(Bucket=BUCKET, Key=outs["undeleted"]["key"])["VersionId"]
s3.delete_object(Bucket=BUCKET, Key=outs["undeleted"]["key"], VersionId=m)
s3.delete_object(Bucket=BUCKET, Key=outs["again"]["key"])
again2 = s3.put_object(Bucket=BUCKET, Key=outs["again"]["key"],
                       Body=b"re-uploaded")["VersionId"]
# plain S3 use: no task asked for any of these keys
s3.put_object(Bucket=BUCKET, Key="photos/cat.jpg", Body=b"meow")
s3.delete_object(Bucket=BUCKET, Key="photos/cat.jpg")
s3.delete_object(Bucket=BUCKET, Key="never/there")
dog = s3.put_object(Bucket=BUCKET, Key="photos/dog.jpg", Body=b"woof")
s3.delete_object(Bucket=BUCKET, Key="photos/dog.jpg",
                 VersionId=dog["VersionId"])
dels = sink.manifest_events("deleted")
purges = sink.manifest_events("purged")
check(len(dels) == 5 and len(purges) == 3,
      "events: %d deleted, %d purged" % (len(dels), len(purges)))
when = {e["versionId"]: e["time"] for e in dels + purges}


def run_report(*args):
    out = subprocess.run([VSINK, "report", "--manifest", sink.manifest] +
                         list(args), capture_output=True, timeout=120)
    check(out.returncode in (0, 1), "report %s: %d %s" % (
        args, out.returncode, out.stderr.decode()))
    check(b"malformed" not in out.stderr, "report stderr: %s" % out.stderr)
    return out.returncode, out.stdout.decode()


def by_task(rows):
    got = {}
    for r in rows:
        got.setdefault(r["task_uuid"], []).append(r)
    return got


def check_rows(rows, verified=False):
    t = by_task(rows)
    row = {n: t[o["tid"]][0] for n, o in outs.items()}
    check(row["kept"]["status"] == "complete" and
          row["kept"]["deleted"] is None and row["kept"]["purged"] is None,
          "kept: %s" % row["kept"])
    d = row["deleted"]
    check(d["status"] == "deleted" and d["delete_marker"] == marker and
          d["deleted"] == when[marker] and d["purged"] is None and
          d["version_id"] == outs["deleted"]["vid"] and
          d["actual_cost"] == "0.0700", "deleted: %s" % d)
    p = row["purged"]
    check(p["status"] == "purged" and
          p["purged"] == when[outs["purged"]["vid"]] and
          p["deleted"] is None and p["actual_cost"] == "0.0700",
          "purged: %s" % p)
    check(row["undeleted"]["status"] == "complete" and
          row["undeleted"]["deleted"] is None,
          "marker purged, the key reads again: %s" % row["undeleted"])
    # deleted, then PUT again: the new version takes the deleted one's
    # place, paid by the same result (not a second output)
    a = t[outs["again"]["tid"]]
    check(len(a) == 1 and a[0]["status"] == "complete" and
          a[0]["deleted"] is None and a[0]["version_id"] == again2 and
          a[0]["actual_cost"] == "0.0700",
          "deleted then stored again: %s" % a)
    # plain S3 use stays what it was (no task explains it), its delete and
    # purge noted; the marker of a key that never held anything adds no row
    strays = sorted((r for r in rows if not r["task_uuid"]),
                    key=lambda r: r["key"])
    check([r["key"] for r in strays] == ["photos/cat.jpg", "photos/dog.jpg"]
          and all(r["status"] == "unexpected-upload" for r in strays) and
          strays[0]["deleted"] and strays[1]["purged"],
          "plain S3 use: %s" % strays)
    check(len(rows) == 7, "rows: %d" % len(rows))
    if verified:
        check(d["verified"] and d["verify_problem"] is None,
              "the deleted output's version verified ok: %s" % d)
        check(p["verified"] is None, "nothing verified of the purged: %s" % p)


# ---- the report: JSON Lines, CSV, groups, HTML --------------------------------
rc, text = run_report("--format", "jsonl")
check(rc == 1, "exit 1: the strays are unexpected uploads, nothing else")
rows = [json.loads(x) for x in text.splitlines()]
check_rows(rows)
rc, text = run_report("--format", "csv")
table = list(csv.reader(io.StringIO(text)))
check(table[0][-3:] == ["deleted", "delete_marker", "purged"],
      "csv header: %s" % table[0])
csv_rows = [dict(zip(table[0], r)) for r in table[1:]]
for r in csv_rows:
    for k, v in r.items():
        r[k] = v if v != "" else None
check_rows(csv_rows)
rc, text = run_report("--format", "jsonl", "--status", "deleted,purged")
check(sorted(json.loads(x)["status"] for x in text.splitlines()) ==
      ["deleted", "purged"] and rc == 0, "--status deleted,purged: %s" % text)
rc, text = run_report("--format", "csv", "--group-by", "status")
groups = {r[0]: r for r in csv.reader(io.StringIO(text))}
check(groups["status"][-2:] == ["deleted", "purged"] and
      groups["deleted"][1] == "1" and groups["deleted"][-2] == "1" and
      groups["purged"][1] == "1" and groups["purged"][-1] == "1",
      "groups: %s" % groups)
# costs unchanged: five paid outputs (the strays and the re-upload cost
# nothing, as before any delete)
rc, text = run_report("--format", "jsonl", "--group-by", "status")
total = [json.loads(x) for x in text.splitlines()][-1]
check(total["total"] and total["actual_cost"] == "0.3500" and
      total["estimated_cost"] == "0.3500" and total["outputs"] == 7 and
      total["problems"] == 2 and total["deleted"] == 1 and
      total["purged"] == 1, "total: %s" % total)
html = os.path.join(tmpdir("repdel-html"), "r.html")
rc, _ = run_report("--format", "html", "-o", html)
with open(html, encoding="utf-8") as f:
    page = f.read()
check('<span class="badge b-del">deleted</span>' in page and
      '<span class="badge b-del">purged</span>' in page and
      "marker " + marker in page and 'id="sum-deleted"' in page,
      "html: deleted and purged rows")

# ---- verify --------------------------------------------------------------------
out = verify(sink.data)
text = out.stdout.decode()
check(out.returncode == 0, "verify: %d %s %s" % (out.returncode, text,
                                                 out.stderr))
check("missing-object" not in text and "2 purged" in text,
      "verify names no purged version missing: %s" % text)
ver = sink.manifest_events("verified")
vkeys = {(e["key"], e["versionId"]): e for e in ver}
check(vkeys.get((outs["deleted"]["key"], outs["deleted"]["vid"]), {})
      .get("ok") is True, "the deleted output's version read by versionId")
check((outs["purged"]["key"], outs["purged"]["vid"]) not in vkeys and
      all(e["ok"] for e in ver), "verified events: %s" % ver)
rows = report_rows(sink.manifest)
check_rows(rows, verified=True)
check(sink.stop() == 0, "sink exit status")
print("ok")
