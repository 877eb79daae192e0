"""End to end with the fake generation API: `vsink submit --wait` sends
tasks whose videos the fake PUTs into a real `vsink serve` and whose
results it POSTs to the sink's webhook; then `vsink report` shows
`complete` rows with the fake's exact costs and the delivered bytes'
SHA-256; a dropped upload is `waiting` inside the grace and
`missing-upload` after it; a PUT no submission explains is
`unexpected-upload`. Then verify proves every object intact, and the HTML
report's presigned <video> URLs stream the very bytes, with Range."""
import os
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal

from reporthelp import FakeAPI, report_rows, verify
from vsharness import VSINK, Sink, check, env_with_keys, pattern, sha256

FAKE = os.environ.get("VSINK_FAKEAPI")
if not FAKE or not os.path.exists(FAKE):
    print("SKIP: VSINK_FAKEAPI is not built")
    sys.exit(77)
SIZE = 150000

sink = Sink(tag="e2e").start()
fake = FakeAPI("--delay-ms", "100", "--size", str(SIZE)).start()
dropper = FakeAPI("--delay-ms", "100", "--size", str(SIZE),
                  "--drop-upload").start()
env = env_with_keys({"RUNWARE_API_KEY": FakeAPI.KEY})


def submit(api, *args, rc=0):
    cmd = [VSINK, "submit", "--api-url", api.url + "/v1", "--target",
           sink.endpoint + "/videos/e2e", "--manifest", sink.manifest,
           "--data", sink.data, "--wait", "--timeout", "60s"] + list(args)
    out = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    check(out.returncode == rc, "submit %s: %d %s %s" % (
        args, out.returncode, out.stdout, out.stderr))
    return out


submit(fake, "--prompt", "a red fox in fresh snow", "--resolution", "720p",
       "--duration", "5", "--results", "2", "--seed", "7")
submit(fake, "--prompt", "waves <breaking> & \"rolling\"", "--width", "864",
       "--height", "480", "--duration", "7.3")
# The webhook may trail the poll that ended --wait: give it a moment.
deadline = time.time() + 20
while time.time() < deadline and len(sink.manifest_events("stored")) < 3:
    time.sleep(0.1)

rows = report_rows(sink.manifest, expect_rc=0)
check(len(rows) == 3, "three outputs: %s" % rows)
check(all(r["status"] == "complete" for r in rows),
      "all complete: %s" % [r["status"] for r in rows])
want = {"a red fox in fresh snow": Decimal("0.07"),
        "waves <breaking> & \"rolling\"": Decimal("0.04526")}
for r in rows:
    check(Decimal(r["actual_cost"]) == want[r["prompt"]],
          "cost of %s: %s" % (r["prompt"], r["actual_cost"]))
    check(Decimal(r["estimated_cost"]) == want[r["prompt"]],
          "estimate of %s: %s" % (r["prompt"], r["estimated_cost"]))
    check(r["bytes"] == SIZE, "bytes %s" % r["bytes"])
fox = sorted(r["sha256"] for r in rows if r["prompt"].startswith("a red"))
tid = [r["task_uuid"] for r in rows if r["prompt"].startswith("a red")][0]
expect_sha = sorted(
    subprocess.run([FAKE, "--print-sha256", tid, str(i), str(SIZE), "MP4"],
                   capture_output=True, timeout=30).stdout.decode().strip()
    for i in range(2))
check(fox == expect_sha, "the delivered bytes: %s != %s" % (fox, expect_sha))
check(sorted(r["seed"] for r in rows if r["prompt"].startswith("a red"))
      == [7, 8], "seeds")
total = subprocess.run([VSINK, "report", "--manifest", sink.manifest,
                        "--group-by", "status", "--format", "jsonl"],
                       capture_output=True, timeout=60)
tot = [__import__("json").loads(x) for x in total.stdout.decode().split("\n")
       if x][-1]
check(Decimal(tot["actual_cost"]) == Decimal("0.18526"),
      "total %s" % tot)

# A dropped upload: paid for, never arrived.
out = submit(dropper, "--prompt", "a lost clip", "--resolution", "1080p",
             "--duration", "4", rc=1)  # --wait saw the object missing
check(b'"status":"missing"' in out.stdout, "submit says so: %s" % out.stdout)
rows = report_rows(sink.manifest, expect_rc=0)
lost = [r for r in rows if r["prompt"] == "a lost clip"]
check(len(lost) == 1 and lost[0]["status"] == "waiting",
      "inside the grace: %s" % lost)
check(Decimal(lost[0]["actual_cost"]) == Decimal("0.1256"), "%s" % lost)
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 *
                                                          3600))
rows = report_rows(sink.manifest, now=later, expect_rc=1)
lost = [r for r in rows if r["prompt"] == "a lost clip"]
check(lost[0]["status"] == "missing-upload", "after the grace: %s" % lost)
check([r["status"] for r in rows].count("complete") == 3, "others stay")
rows = report_rows(sink.manifest, "--grace", "1s", expect_rc=1)
check([r["status"] for r in rows if r["prompt"] == "a lost clip"] ==
      ["missing-upload"], "--grace 1s")

# An upload no one asked for.
stray = pattern(4096, seed=9)
st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/stray/clip.mp4"),
                        stray)
check(st == 200, "stray PUT %d" % st)
rows = report_rows(sink.manifest, expect_rc=1)
un = [r for r in rows if r["status"] == "unexpected-upload"]
check(len(un) == 1 and un[0]["key"] == "stray/clip.mp4" and
      un[0]["sha256"] == sha256(stray) and not un[0]["task_uuid"],
      "unexpected upload: %s" % un)

# verify while the sink runs: everything intact.
out = verify(sink.data, "--jobs", "2")
check(out.returncode == 0 and b"4 ok, 0 problem(s)" in out.stdout,
      "verify: %s %s" % (out.stdout, out.stderr))
rows = report_rows(sink.manifest, expect_rc=1)
check(all(r["verified"] for r in rows if r["bytes"]), "verified times")

# The HTML report with previews that stream from the sink.
html = os.path.join(sink.data, "report.html")
out = subprocess.run([VSINK, "report", "--manifest", sink.manifest,
                      "--format", "html", "-o", html, "--preview-endpoint",
                      sink.endpoint, "--data", sink.data],
                     capture_output=True, env=env, timeout=60)
check(out.returncode == 1, "html exit %d %s" % (out.returncode, out.stderr))
import chromium  # noqa: E402
doc = chromium.parse(open(html, encoding="utf-8").read())
videos = doc.find_all("video")
check(len(videos) == 4, "a video per stored object: %d" % len(videos))
check(all(v.attrs.get("preload") == "none" for v in videos), "preload none")
by_sha = {r["sha256"]: r for r in rows if r["sha256"]}
for v in videos:
    url = v.attrs["src"]
    check("X-Amz-Expires=604800" in url and "versionId=" in url,
          "a 7-day URL for one version: %s" % url)
    req = urllib.request.Request(url, headers={"Range": "bytes=100-"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
        check(resp.status == 206, "Range answered %d" % resp.status)
    full = urllib.request.urlopen(url, timeout=30).read()
    check(sha256(full) in by_sha and body == full[100:],
          "the preview streams the stored bytes")
if chromium.available():
    rc, _, console = chromium.dump_dom(html)
    check(rc == 0 and console == [], "html with previews: %s" % console)

fake.stop()
dropper.stop()
check(sink.stop() == 0, "sink exits cleanly")
print("e2e: complete rows with exact costs and bytes, missing-upload after "
      "the grace, unexpected-upload, verify, previews with Range")
