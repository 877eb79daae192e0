"""vsink report end to end over a manifest this test writes (several
writers, plain and gzip segments, a torn line): the CSV read back by
Python's csv module equals the JSONL rows field by field; totals equal the
manifest's costs added with Decimal; exit statuses; -o; filters."""
import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal

VSINK = os.environ["VSINK"]
NOW = "2026-11-24T18:00:00Z"

PROMPTS = [
    'a plain prompt',
    'commas, "quotes", and\na newline',
    'carriage\r\nreturn and \u00e9\u00e8 \U0001F3AC unicode',
    '  leading and trailing spaces  ',
    '=SUM(A1:A2) looks like a formula',
    'tab\tinside; semicolon',
]


def line(event, time, node, **fields):
    head = {"v": 1, "event": event, "time": time, "node": node}
    head.update(fields)
    return json.dumps(head, ensure_ascii=False, separators=(",", ":"))


def t(minute, second=0):
    return "2026-11-24T%02d:%02d:%02d.000Z" % (10 + minute // 60,
                                               minute % 60, second)


class Manifest:
    """Tasks spread over a submitter and two sinks; returns the costs the
    report must add up."""

    def __init__(self, root):
        self.dir = os.path.join(root, "manifest")
        os.makedirs(self.dir)
        self.segs = {"submit": [], "sink-a": [], "sink-b": []}
        self.costs = []
        self.estimates = []

    def task(self, n, minute, nres=1, fate="complete", cost="0.0668",
             sizes=None):
        tid = str(uuid.UUID(int=n, version=4))
        task = {"taskType": "videoInference", "taskUUID": tid,
                "model": "bytedance:2@2",
                "positivePrompt": PROMPTS[n % len(PROMPTS)],
                "duration": 5 + (n % 3) / 10 if n % 2 else 5,
                "numberResults": nres, "outputFormat": "MP4",
                "outputQuality": 90}
        if n % 4 == 0:
            task.update(width=864, height=480)
        else:
            task["resolution"] = "720p"
        if n % 3 == 0:
            task["seed"] = 9223372036854775807 - n
        estimate = str(Decimal(cost) * nres)
        self.estimates.append(Decimal(estimate))
        key = "renders/%s/%s.mp4" % (t(minute)[:10], tid)
        self.segs["submit"].append(line(
            "submitted", t(minute), "submit", taskUUID=tid, task=task,
            estimate=estimate,
            target={"kind": "sink", "bucket": "renders", "key": key}))
        if fate == "failed":
            self.segs["submit"].append(line(
                "failed", t(minute, 1), "submit", taskUUID=tid,
                code="invalidDuration", message='duration, "12.5", too long',
                parameter="duration"))
            return
        for k in range(nres):
            sink = "sink-a" if (n + k) % 2 else "sink-b"
            vid = str(uuid.UUID(int=n * 16 + k + (1 << 64), version=4))
            if fate != "no-upload":
                self.segs[sink].append(line(
                    "stored", t(minute + 2, k), sink, bucket="renders",
                    key=key, versionId="ver-%d-%d" % (n, k),
                    bytes=100000 + n * 10 + k, sha256="%064x" % (n * 16 + k),
                    contentType="video/mp4", etag='"e"',
                    remote="127.0.0.1", taskUUID=tid))
            self.costs.append(Decimal(cost))
            result = dict(taskUUID=tid, videoUUID=vid,
                          videoURL="https://example.invalid/%s.mp4" % vid,
                          seed=1000 + n * 16 + k, cost=cost,
                          NSFWContent=False)
            self.segs[sink].append(line("result", t(minute + 2, 30 + k), sink,
                                        source="webhook", **result))
            # the poller saw it too
            self.segs["submit"].append(line("result", t(minute + 3, k),
                                            "submit", source="poll",
                                            **result))

    def write(self, torn=False):
        names = {"submit": "20261124T100000000Z-submit-1-0000000a.jsonl",
                 "sink-a": "20261124T100000000Z-sink-a-2-0000000b.jsonl.gz",
                 "sink-b": "20261124T100000000Z-sink-b-3-0000000c.jsonl"}
        for node, lines in self.segs.items():
            data = "".join(l + "\n" for l in lines).encode()
            if node == "sink-b" and torn:
                data += b'{"v":1,"event":"result","time":"2026-11-24T1'
            path = os.path.join(self.dir, names[node])
            if path.endswith(".gz"):
                with gzip.open(path, "wb") as f:
                    f.write(data)
            else:
                with open(path, "wb") as f:
                    f.write(data)


def report(manifest, *args, check_rc=None):
    p = subprocess.run([VSINK, "report", "--manifest", manifest.dir,
                        "--now", NOW] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check_rc is not None and p.returncode != check_rc:
        sys.exit("vsink report %s: exit %d, want %d\n%s" %
                 (" ".join(args), p.returncode, check_rc,
                  p.stderr.decode()))
    return p


def as_csv_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        raise AssertionError("no booleans expected, got %r" % value)
    return str(value)


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def test_csv_equals_jsonl(m):
    c = report(m, "--format", "csv", check_rc=1)
    j = report(m, "--format", "jsonl", check_rc=1)
    text = c.stdout.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    objs = [json.loads(l) for l in j.stdout.decode("utf-8").splitlines()]
    check(len(body) == len(objs) and len(body) > 0,
          "csv has %d rows, jsonl %d" % (len(body), len(objs)))
    for obj in objs:
        check(list(obj.keys()) == header, "jsonl keys differ from csv header")
    for i, (row, obj) in enumerate(zip(body, objs)):
        check(len(row) == len(header), "row %d has %d fields" % (i, len(row)))
        for name, cell in zip(header, row):
            want = as_csv_text(obj[name])
            check(cell == want, "row %d %s: csv %r, jsonl %r"
                  % (i, name, cell, want))
    # every prompt came back whole through both parsers
    prompts = {o["prompt"] for o in objs}
    for p in PROMPTS:
        check(p in prompts, "prompt %r lost" % p)
    # seeds above 2^53 survive exactly
    check(any(o["seed_requested"] == 9223372036854775807 - 3 for o in objs),
          "large requested seed lost")
    # the torn line was skipped and said so
    check(b"skipped 1 torn" in c.stderr, "torn line not reported: %r"
          % c.stderr)
    return objs


def test_statuses_and_costs(m, objs):
    by_status = {}
    for o in objs:
        by_status[o["status"]] = by_status.get(o["status"], 0) + 1
    check(by_status == {"complete": 10, "missing-upload": 1, "failed": 1},
          "statuses %r" % by_status)
    actual = sum(Decimal(o["actual_cost"]) for o in objs if o["actual_cost"])
    check(actual == sum(m.costs), "actual %s != manifest %s"
          % (actual, sum(m.costs)))
    est = sum(Decimal(o["estimated_cost"]) for o in objs)
    check(est == sum(m.estimates), "estimates %s != %s"
          % (est, sum(m.estimates)))
    g = report(m, "--group-by", "status", "--format", "csv", check_rc=1)
    rows = list(csv.DictReader(io.StringIO(g.stdout.decode(), newline="")))
    total = rows[-1]
    check(total["status"] == "TOTAL", "no TOTAL row: %r" % rows)
    check(Decimal(total["actual_cost"]) == sum(m.costs), "TOTAL actual")
    check(Decimal(total["estimated_cost"]) == sum(m.estimates),
          "TOTAL estimate")
    check(int(total["outputs"]) == len(objs), "TOTAL outputs")
    check(sum(int(r["outputs"]) for r in rows[:-1]) == len(objs),
          "groups do not add up to the total")


def test_filters_and_exit(m, root):
    # only complete rows: nothing to alert about
    ok = report(m, "--status", "complete", "--format", "jsonl", check_rc=0)
    check(len(ok.stdout.splitlines()) == 10, "complete rows")
    bad = report(m, "--status", "failed,missing-upload", "--format", "jsonl",
                 check_rc=1)
    check(len(bad.stdout.splitlines()) == 2, "problem rows")
    early = report(m, "--until", "2026-11-24T10:30:00Z", "--format", "jsonl",
                   check_rc=0)
    check([json.loads(l)["submitted"][11:16]
           for l in early.stdout.splitlines()] ==
          ["10:05", "10:10", "10:15", "10:20", "10:25"], "--until")
    late = report(m, "--since", "2026-11-24T10:30:00Z", "--format", "jsonl",
                  check_rc=1)
    check(len(late.stdout.splitlines()) == 7 and
          all(json.loads(l)["submitted"] >= "2026-11-24T10:30"
              for l in late.stdout.splitlines()), "--since")
    # not a terminal and no --format: CSV
    default = report(m, check_rc=1)
    check(default.stdout.startswith(b"task_uuid,video_uuid,status,"),
          "default format off a terminal is not csv")
    out = os.path.join(root, "out.csv")
    report(m, "--format", "csv", "-o", out, check_rc=1)
    with open(out, "rb") as f:
        check(f.read() == default.stdout, "-o differs from stdout")
    check(not os.path.exists(out + ".tmp"), "temporary file left behind")
    for args, want, msg in [
            (["--format", "html", "--group-by", "day"], 2,
             "--group-by does not apply to --format html"),
            (["--preview-endpoint", "http://x"], 2,
             "apply to --format html only"),
            (["--format", "pdf"], 2, "--format 'pdf'"),
            (["--group-by", "week"], 2, "--group-by 'week'"),
            (["--status", "lost"], 2, "--status 'lost'"),
            (["--since", "yesterday"], 2, "--since 'yesterday'"),
            (["--grace", "soon"], 2, "--grace 'soon'"),
            (["--since", "2026-11-25", "--until", "2026-11-24"], 2,
             "--since must be before --until"),
            (["extra"], 2, "unexpected argument 'extra'")]:
        p = report(m, *args)
        check(p.returncode == want and msg.encode() in p.stderr,
              "%s: exit %d, stderr %r" % (args, p.returncode, p.stderr))
    p = subprocess.run([VSINK, "report", "--manifest",
                        os.path.join(root, "nowhere")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 3 and b"nowhere" in p.stderr,
          "missing manifest: exit %d %r" % (p.returncode, p.stderr))


def test_grace(root):
    # one output paid for at 10:02: waiting until 12:02, missing after
    m = Manifest(os.path.join(root, "grace"))
    m.task(1, 0, fate="no-upload")
    m.write()
    p = subprocess.run([VSINK, "report", "--manifest", m.dir, "--format",
                        "jsonl", "--now", "2026-11-24T12:01:59Z"],
                       stdout=subprocess.PIPE)
    check(p.returncode == 0 and b'"waiting"' in p.stdout, "inside the grace")
    p = subprocess.run([VSINK, "report", "--manifest", m.dir, "--format",
                        "jsonl", "--now", "2026-11-24T12:02:30Z"],
                       stdout=subprocess.PIPE)
    check(p.returncode == 1 and b'"missing-upload"' in p.stdout,
          "after the grace")
    p = subprocess.run([VSINK, "report", "--manifest", m.dir, "--format",
                        "jsonl", "--now", "2026-11-24T12:02:30Z",
                        "--grace", "3h"], stdout=subprocess.PIPE)
    check(p.returncode == 0, "--grace 3h")


def main():
    root = tempfile.mkdtemp(prefix="vsink-report-")
    try:
        m = Manifest(root)
        for n in range(1, 9):
            m.task(n, n * 5)
        m.task(9, 50, nres=2, cost="0.0314")
        m.task(10, 55, fate="no-upload")
        m.task(11, 58, fate="failed")
        m.write(torn=True)
        objs = test_csv_equals_jsonl(m)
        test_statuses_and_costs(m, objs)
        test_filters_and_exit(m, root)
        test_grace(root)
    finally:
        shutil.rmtree(root)
    print("ok")


if __name__ == "__main__":
    main()
