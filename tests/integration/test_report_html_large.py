"""A large HTML report stays usable: 20,600 outputs (the newest 600 of them
problems) give a table capped at 20,000 rows with a note, every problem
row kept (problems first), while the summary and the charts still count
all 20,600 exactly. Chromium loads it without console errors and sorts it
by a header click. Times are printed."""
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import chromium
from reporthelp import line, write_segment
from vsharness import VSINK, check, tmpdir

if not chromium.available():
    print("SKIP: no %s" % chromium.CHROMIUM)
    sys.exit(77)

N, BAD, CAP = 20600, 600, 20000
root = tmpdir("htmlbig")
mdir = os.path.join(root, "manifest")
subs, rest = [], []
spend = Decimal(0)
for n in range(N):
    tid = str(uuid.UUID(int=0x5000000 + n, version=4))
    when = "2026-11-%02dT%02d:%02d:%02d.000Z" % (10 + n * 14 // N,
                                                 n // 3600 % 24,
                                                 n // 60 % 60, n % 60)
    cost = Decimal("0.0315") + Decimal(n % 7) / 10000
    subs.append(line("submitted", when, "cli", taskUUID=tid,
                     task={"taskUUID": tid, "model": "bytedance:2@2",
                           "positivePrompt": "clip %d" % n,
                           "resolution": "720p", "duration": 5,
                           "numberResults": 1},
                     estimate=str(cost)))
    rest.append(line("result", when, "sink", taskUUID=tid,
                     videoUUID=str(uuid.UUID(int=n + 1, version=4)),
                     seed=n, cost=str(cost)))
    spend += cost
    if n < N - BAD:  # the newest BAD never arrive: missing-upload
        rest.append(line("stored", when, "sink", bucket="videos",
                         key="o/%s.mp4" % tid, versionId="v%d" % n,
                         bytes=1000, sha256="%064x" % n, taskUUID=tid))
write_segment(mdir, "cli", subs)
write_segment(mdir, "sink", rest)

html = os.path.join(root, "big.html")
t0 = time.time()
out = subprocess.run([VSINK, "report", "--manifest", mdir, "--format",
                      "html", "-o", html, "--now", "2026-12-31"],
                     capture_output=True, timeout=120)
t_report = time.time() - t0
check(out.returncode == 1, "exit %d %s" % (out.returncode, out.stderr))
size = os.path.getsize(html)

t0 = time.time()
rc, dom, console = chromium.dump_dom(html, "#click=cost,2", timeout=240)
t_load = time.time() - t0
check(rc == 0 and console == [], "load: %d %s" % (rc, console))
doc = chromium.parse(dom)
check(doc.find_all("html")[0].attrs.get("data-ready") == "1", "script ran")
note = doc.by_id("capped")
check(note is not None and
      ("first %d of %d outputs" % (CAP, N)) in note.all_text(),
      "cap note: %s" % (note.all_text() if note else None))
trs = doc.by_id("outputs").find_all("tbody")[0].find_all("tr")
check(len(trs) == CAP, "rows %d" % len(trs))
statuses = [tr.attrs["data-status"] for tr in trs]
check(statuses.count("missing-upload") == BAD, "every problem row shown")
costs = [Decimal(tr.find_all("td")[7].attrs["data-v"]) for tr in trs]
check(costs == sorted(costs, reverse=True), "sorted by cost, descending")
v = doc.by_id("sum-outputs").find_all("div", **{"class": "v"})[0]
check(v.all_text() == str(N), "outputs card counts all: %s" % v.all_text())
v = doc.by_id("sum-spend").find_all("div", **{"class": "v"})[0]
check(Decimal(v.all_text().lstrip("$")) == spend, "spend %s != %s" % (
    v.all_text(), spend))
bars = doc.by_id("chart-day").find_all("rect", **{"class": "bar"})
check(sum(Decimal(b.attrs["data-spend"]) for b in bars) == spend,
      "the day chart adds up to every row")
print("html large: %d outputs, %.1f MB file in %.2f s, loaded and sorted in "
      "Chromium in %.1f s" % (N, size / 1e6, t_report, t_load))
