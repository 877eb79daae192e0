"""vsink report --format html, loaded in headless Chromium: no console
errors; the summary, the two charts and the table carry the manifest's
numbers exactly (sums made here with Decimal); everything user-provided is
escaped (a prompt holding <script> stays text); problems come first;
clicking a column header sorts (ascending, then descending); a screenshot
PNG is produced. The console check is itself checked on a page that
throws."""
import os
import struct
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal

import chromium
from reporthelp import line, write_segment, task
from vsharness import VSINK, check, tmpdir

if not chromium.available():
    print("SKIP: no %s" % chromium.CHROMIUM)
    sys.exit(77)

root = tmpdir("html")
mdir = os.path.join(root, "manifest")
NOW = "2026-11-24T18:00:00Z"
EVIL = '<script>alert("x")</script> & <b>bold</b> \'quoted\' \u00e9\U0001F3AC'
RES = ["480p", "720p", "1080p"]
PRICE = {"480p": Decimal("0.0062"), "720p": Decimal("0.0140"),
         "1080p": Decimal("0.0314")}

sub, res, sto, fails = [], [], [], []
expect = {"day": {}, "res": {}, "est_total": Decimal(0), "cost": Decimal(0),
          "seconds": Decimal(0), "status": {}}


def t(day, hour, minute=0):
    return "2026-11-%02dT%02d:%02d:00.000Z" % (day, hour, minute)


def add(expect_key, k, v):
    expect[expect_key][k] = expect[expect_key].get(k, Decimal(0)) + v


# 18 tasks over three days; fates by index.
for n in range(18):
    tid = str(uuid.UUID(int=0xABC000 + n, version=4))
    day, hour = 21 + n % 3, 8 + n % 9
    r = RES[n % 3]
    dur = Decimal(5) + Decimal(n % 4) / 2
    cost = PRICE[r] * dur
    prompt = EVIL if n == 4 else "a lighthouse in a storm, take %d" % n
    body = task(tid, prompt, resolution=r, duration=float(dur), seed=n)
    sub.append(line("submitted", t(day, hour), "cli", taskUUID=tid,
                    task=body, estimate=str(cost),
                    target={"kind": "sink", "bucket": "videos",
                            "key": "out/%s.mp4" % tid}))
    expect["est_total"] += cost
    expect["seconds"] += dur
    fate = ["complete", "complete", "complete", "missing-upload", "complete",
            "failed"][n % 6]
    if n == 17:
        fate = "waiting"
        sub[-1] = sub[-1].replace(t(day, hour), "2026-11-24T17:30:00.000Z")
        day = 24
    key = "out/%s.mp4" % tid
    if fate in ("complete", "missing-upload"):
        res.append(line("result", t(day, hour, 2), "sink", taskUUID=tid,
                        videoUUID=str(uuid.uuid4()), seed=1000 + n,
                        cost=str(cost)))
        expect["cost"] += cost
        add("day", "2026-11-%02d" % day, cost)
        add("res", r, cost)
    if fate == "complete":
        sto.append(line("stored", t(day, hour, 3), "sink", bucket="videos",
                        key=key, versionId="20261121T120000%03dZ-abcdef" % n,
                        bytes=1000000 + n, sha256="%064x" % n, taskUUID=tid))
    if fate == "failed":
        fails.append(line("failed", t(day, hour, 1), "cli", taskUUID=tid,
                          code="timeoutProvider", message="took <too> long",
                          parameter=None))
    if n == 7:  # verify later found it damaged
        fate = "checksum-mismatch"
        sto.append(line("verified", t(23, 23), "verify", bucket="videos",
                        key=key, versionId="20261121T120000%03dZ-abcdef" % n,
                        ok=False, sha256="0" * 64,
                        problem="checksum-mismatch"))
    expect["status"][fate] = expect["status"].get(fate, 0) + 1
# an upload no one asked for
sto.append(line("stored", t(22, 20), "sink", bucket="videos",
                key="stray/x.mp4", versionId="20261122T200000000Z-000000",
                bytes=5, sha256="f" * 64))
expect["status"]["unexpected-upload"] = 1

write_segment(mdir, "cli", sub + fails)
write_segment(mdir, "sink", res + sto)

html_path = os.path.join(root, "report.html")
out = subprocess.run([VSINK, "report", "--manifest", mdir, "--format",
                      "html", "-o", html_path, "--now", NOW],
                     capture_output=True, timeout=60)
check(out.returncode == 1, "problems make exit 1: %d %s" % (
    out.returncode, out.stderr))
raw = open(html_path, encoding="utf-8").read()
check("http://" not in raw and "https://" not in raw.replace(
    "http://www.w3.org/2000/svg", ""), "no network reference in the file")
check("<link" not in raw and "src=" not in raw and "@import" not in raw,
      "no external resource")

# 0. The console check can fail: a page that throws is caught.
bad = os.path.join(root, "bad.html")
with open(bad, "w") as f:
    f.write("<!DOCTYPE html><p>x</p><script>throw new Error('boom-"
            "check')</script>")
rc, _, console = chromium.dump_dom(bad)
check(any("boom-check" in c for c in console),
      "the console detector sees errors: %s" % console)

# 1. Loads without console messages; scripts ran.
rc, dom, console = chromium.dump_dom(html_path)
check(rc == 0, "chromium exit %d" % rc)
check(console == [], "console messages: %s" % console)
doc = chromium.parse(dom)
html_el = doc.find_all("html")[0]
check(html_el.attrs.get("data-ready") == "1", "the inline script ran")
check(len(doc.find_all("script")) == 1, "the prompt's <script> is text")


def card(ident):
    return doc.by_id(ident).find_all("div", **{"class": "v"})[0].all_text()


rows_expected = 18 + 1
check(card("sum-outputs") == str(rows_expected), "outputs %s" %
      card("sum-outputs"))
check(Decimal(card("sum-seconds")) == expect["seconds"],
      "seconds %s != %s" % (card("sum-seconds"), expect["seconds"]))
check(Decimal(card("sum-spend").lstrip("$")) == expect["cost"],
      "spend %s != %s" % (card("sum-spend"), expect["cost"]))
problems = sum(v for k, v in expect["status"].items()
               if k not in ("complete", "waiting"))
check(card("sum-problems") == str(problems), "problems %s != %d" % (
    card("sum-problems"), problems))
chips = {c.attrs["data-status"]: int(c.attrs["data-count"])
         for c in doc.by_id("statuses").find_all("span")}
check(chips == expect["status"], "status chips %s != %s" % (
    chips, expect["status"]))

# 2. Charts: one bar per day and per resolution, exact amounts.
for chart, key in (("chart-day", "day"), ("chart-resolution", "res")):
    bars = doc.by_id(chart).find_all("rect", **{"class": "bar"})
    got = {b.attrs["data-key"]: Decimal(b.attrs["data-spend"]) for b in bars}
    want = dict(expect[key])
    for k in got:  # days/resolutions with rows but no spend show $0
        want.setdefault(k, Decimal(0))
    check(got == want, "%s: %s != %s" % (chart, got, want))
    check(all(b.find_all("title") for b in bars), "bars have tooltips")

# 3. The table: every row, problems first, prompt escaped, costs exact.
tbody = doc.by_id("outputs").find_all("tbody")[0]
trs = tbody.find_all("tr")
check(len(trs) == rows_expected, "table rows %d" % len(trs))
order = [tr.attrs["data-status"] for tr in trs]
fine = [i for i, s in enumerate(order) if s in ("complete", "waiting")]
bad_rows = [i for i, s in enumerate(order) if s not in ("complete",
                                                         "waiting")]
check(max(bad_rows) < min(fine), "problems first: %s" % order)
prompts = [tr.find_all("td")[3].all_text() for tr in trs]
check(EVIL in prompts, "the hostile prompt reads back as text: %s" %
      prompts[:3])
costs = [tr.find_all("td")[7].attrs.get("data-v") for tr in trs]
check(sum(Decimal(c) for c in costs if c) == expect["cost"],
      "table costs add up exactly")
check(not doc.by_id("capped"), "no cap note for a small report")
check(not doc.find_all("video"), "no previews without --preview-endpoint")


# 4. Sorting by clicking a header (the page's test hook clicks it).
def column(fragment, idx):
    rc, dom2, console2 = chromium.dump_dom(html_path, fragment)
    check(rc == 0 and console2 == [], "sorted load: %s" % console2)
    d = chromium.parse(dom2)
    body = d.by_id("outputs").find_all("tbody")[0]
    head = d.by_id("outputs").find_all("th")
    vals = [tr.find_all("td")[idx].attrs.get("data-v")
            for tr in body.find_all("tr")]
    return vals, [h.attrs.get("aria-sort") for h in head]


vals, sorts = column("#click=cost", 7)
nums = [Decimal(v) for v in vals if v]
check(nums == sorted(nums) and all(vals[:len(nums)]),
      "ascending by cost, blanks last: %s" % vals)
check(sorts[7] == "ascending" and sorts.count(None) == len(sorts) - 1,
      "aria-sort %s" % sorts)
vals, sorts = column("#click=cost,2", 7)
nums = [Decimal(v) for v in vals if v]
check(nums == sorted(nums, reverse=True), "descending by cost: %s" % vals)
check(sorts[7] == "descending", "aria-sort %s" % sorts)
vals, _ = column("#click=time", 1)
check([int(v) for v in vals] == sorted(int(v) for v in vals),
      "by submitted time")

# 5. A screenshot, for people (and this test: a real PNG of that size).
png = os.environ.get("VSINK_HTML_SCREENSHOT") or os.path.join(
    tempfile.gettempdir(), "vsink-report-html.png")
if os.path.exists(png):
    os.unlink(png)
rc, console = chromium.screenshot(html_path, png)
check(rc == 0 and console == [], "screenshot run: %d %s" % (rc, console))
with open(png, "rb") as f:
    head = f.read(24)
check(head[:8] == b"\x89PNG\r\n\x1a\n", "a PNG")
w, h = struct.unpack(">II", head[16:24])
check((w, h) == (1360, 1700), "screenshot size %dx%d" % (w, h))
check(os.path.getsize(png) > 20000, "the screenshot shows something")
# 6. Bad preview options: precise refusals, no file left behind.
for args, want, msg in [
        (["--preview-endpoint", "ftp://x"], 2, "--preview-endpoint 'ftp://x'"),
        (["--preview-endpoint", "http://127.0.0.1:9", "--credentials",
          os.path.join(root, "no-such-file")], 3, "no-such-file")]:
    target = os.path.join(root, "refused.html")
    p = subprocess.run([VSINK, "report", "--manifest", mdir, "--format",
                        "html", "-o", target] + args, capture_output=True,
                       timeout=60, env={"PATH": os.environ.get("PATH", "")})
    check(p.returncode == want and msg.encode() in p.stderr,
          "%s: exit %d %r" % (args, p.returncode, p.stderr))
    check(not os.path.exists(target) and not os.path.exists(target + ".tmp"),
          "nothing written for %s" % args)
print("html: no console errors, exact summary/charts/table, escaped, "
      "problems first, sorting, screenshot at %s" % png)
