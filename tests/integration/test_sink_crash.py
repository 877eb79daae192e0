"""Crash consistency (issue 7, defect 3): the sink is killed with SIGKILL at
random moments while 6 clients upload (mixed sizes, some keys shared);
some rounds kill it during a SIGTERM drain of uploads, others after an idle
SIGTERM, while the manifest segment is being closed and gzipped (manifest
rotation under kill is tested on its own in test_manifest_killrotate.c:
serve has no option for tiny segments). After each restart:
  - the versions on disk are exactly the `stored` events (bucket, key,
    versionId, sha256, bytes), each event once, and each version's bytes
    hash to its event's sha256;
  - every 200 a client saw is among them;
  - every @current names a version that is there;
  - no temporary files and no intents are left;
  - the only torn manifest lines are last lines the reader reports.
Then a few rounds under --on-existing overwrite (all keys shared): every
version on disk has one event, each key one version, and no key that got a
200 is left empty (a replaced object goes only once its replacement is
recorded). Loopback only; bounded rounds (VSINK_CRASH_ROUNDS, default 12)."""
import hashlib
import json
import os
import random
import re
import subprocess
import time

import crashload
from crashload import bodies
from vsharness import Sink, VSINK, check, fail

ROUNDS = int(os.environ.get("VSINK_CRASH_ROUNDS", "12"))
SIZES = [0, 1000, 64 * 1024, 300 * 1000, 1 << 20, 3 << 20]
BODIES = bodies(SIZES)
rng = random.Random(int(os.environ.get("VSINK_CRASH_SEED", "7")))
VID = re.compile(r"^@(\d{8}T\d{9}Z-[0-9a-f]{6})$")


def load_round(sink, r, shared_only=False):
    return crashload.Round(sink, r, BODIES, rng, shared_only)


def disk_versions(data):
    """(key, vid) -> (sha256 of the bytes, bytes, meta sha256); and the
    @current links that name a missing version."""
    root = os.path.join(data, "buckets", "videos")
    out, dangling = {}, []
    for d, _, files in os.walk(root):
        key = os.path.relpath(d, root)
        for f in files:
            m = VID.match(f)
            if m:
                with open(os.path.join(d, f), "rb") as fh:
                    raw = fh.read()
                with open(os.path.join(d, f + ".json")) as fh:
                    meta = json.load(fh)
                out[(key, m.group(1))] = (hashlib.sha256(raw).hexdigest(),
                                          len(raw), meta["sha256"])
        cur = os.path.join(d, "@current")
        if os.path.islink(cur) and not os.path.exists(cur):
            dangling.append(key)
    return out, dangling


def manifest(sink):
    out = subprocess.run([VSINK, "manifest", "cat", sink.manifest],
                         capture_output=True, timeout=60)
    check(out.returncode == 0, "manifest cat: %s" % out.stderr)
    evs = []
    for l in out.stdout.decode().splitlines():
        try:
            evs.append(json.loads(l))
        except ValueError:
            fail("a manifest line that is not JSON (torn, not last): %r"
                 % l[:200])
    torn = re.findall(r"skipped torn line in (\S+) at offset (\d+) "
                      r"\((\d+) bytes\)", out.stderr.decode())
    return evs, torn


def check_torn(torn):
    for seg, off, n in torn:
        if seg.endswith(".gz"):
            fail("torn line inside a gzip segment %s" % seg)
        size = os.path.getsize(seg)
        check(int(off) + int(n) == size,
              "torn line in %s at %s is not the last (size %d)"
              % (seg, off, size))


def segments(sink):
    """plain, gzipped and half-gzipped (.gz.tmp) manifest files."""
    names = os.listdir(sink.manifest)
    return (sum(n.endswith(".jsonl") for n in names),
            sum(n.endswith(".jsonl.gz") for n in names),
            sum(n.endswith(".gz.tmp") for n in names))


def check_store(sink, seen, label):
    evs, torn = manifest(sink)
    stored = {}
    for e in evs:
        if e["event"] != "stored":
            continue
        k = (e["key"], e["versionId"])
        check(e["bucket"] == "videos", "event for another bucket: %s" % e)
        check(k not in stored, "%s: two stored events for %s" % (label, k))
        stored[k] = (e["sha256"], e["bytes"])
    disk, dangling = disk_versions(sink.data)
    orphans = sorted(set(disk) - set(stored))
    missing = sorted(set(stored) - set(disk))
    bad = [k for k in disk if k in stored and
           (disk[k][0] != stored[k][0] or disk[k][2] != stored[k][0] or
            disk[k][1] != stored[k][1])]
    lost = [s for s in seen if (s[0], s[1]) not in stored or
            stored[(s[0], s[1])] != (s[2], s[3])]
    leftovers = os.listdir(os.path.join(sink.data, ".tmp"))
    idir = os.path.join(sink.data, ".intent")
    intents = os.listdir(idir) if os.path.isdir(idir) else []
    check_torn(torn)
    problems = []
    if orphans:
        problems.append("%d versions on disk without a stored event: %s"
                        % (len(orphans), orphans[:5]))
    if missing:
        problems.append("%d stored events without a version: %s"
                        % (len(missing), missing[:5]))
    if bad:
        problems.append("versions whose bytes differ from the event: %s"
                        % bad[:5])
    if lost:
        problems.append("%d answered 200 but not stored: %s"
                        % (len(lost), lost[:5]))
    if dangling:
        problems.append("@current names a missing version: %s" % dangling)
    if leftovers:
        problems.append("temporary files left: %s" % leftovers[:5])
    if intents:
        problems.append("intents left: %s" % intents[:5])
    return problems, len(disk), len(torn), orphans


def check_overwrite(sink, seen, label):
    """--on-existing overwrite: events of replaced versions stay, so the
    invariant is: every version on disk has exactly one event (right
    bytes), each key holds one version, and every key a client saw a 200
    for still holds an object."""
    evs, torn = manifest(sink)
    stored, problems = {}, []
    for e in evs:
        if e["event"] == "stored":
            k = (e["key"], e["versionId"])
            if k in stored:
                problems.append("two stored events for %s" % (k,))
            stored[k] = (e["sha256"], e["bytes"])
    disk, dangling = disk_versions(sink.data)
    check_torn(torn)
    orphans = sorted(k for k in disk if k not in stored)
    if orphans:
        problems.append("%d versions without an event: %s"
                        % (len(orphans), orphans[:5]))
    keys = {}
    for k, vid in disk:
        keys[k] = keys.get(k, 0) + 1
    many = {k: n for k, n in keys.items() if n > 1}
    if many:
        problems.append("keys with more than one version: %s" % many)
    empty = sorted(set(s[0] for s in seen) - set(keys))
    if empty:
        problems.append("keys answered 200 that hold nothing: %s" % empty)
    if dangling:
        problems.append("@current names a missing version: %s" % dangling)
    idir = os.path.join(sink.data, ".intent")
    if os.path.isdir(idir) and os.listdir(idir):
        problems.append("intents left: %s" % os.listdir(idir)[:5])
    return ["%s: %s" % (label, p) for p in problems], sorted(orphans)


def overwrite_rounds(n):
    sink = Sink(tag="crash-ow", args=["--on-existing", "overwrite"]).start()
    data, seen, failures, orphans = sink.data, [], [], set()
    for r in range(n):
        rd = load_round(sink, 100 + r, shared_only=True)
        rd.run("kill")
        seen += rd.ok
        sink = Sink(data=data, tag="crash-ow",
                    args=["--on-existing", "overwrite"]).start()
        problems, orph = check_overwrite(sink, seen, "overwrite round %d" % r)
        orphans |= set(orph)
        print("overwrite round %d: %3d PUTs, %3d answered 200%s"
              % (r, rd.counts["sent"], rd.counts["ok"],
                 "; " + "; ".join(problems) if problems else ""))
        failures += problems
    check(sink.stop() == 0, "the overwrite sink did not exit 0")
    return failures, orphans


def main():
    t0 = time.monotonic()
    sink = Sink(tag="crash").start()
    data = sink.data
    seen, failures, reconciled, orphans = [], [], [], set()
    kinds = ["kill"] * ROUNDS
    for i in range(2, ROUNDS, 3):
        kinds[i] = "term-kill" if i % 2 == 0 else "close-kill"
    for r, how in enumerate(kinds):
        rd = load_round(sink, r)
        rd.run(how)
        seen += rd.ok
        sink = Sink(data=data, tag="crash").start()
        for line in sink.log_lines():
            if str(line.get("msg", "")).startswith("reconcile:"):
                reconciled.append(line["msg"])
        problems, nver, ntorn, orph = check_store(sink, seen, "round %d" % r)
        orphans |= set(orph)
        print("round %2d (%s): %3d PUTs, %3d answered 200, %3d cut off; "
              "%4d versions on disk, %d torn lines; segments plain/gz/gz.tmp "
              "%d/%d/%d%s%s"
              % (r, how, rd.counts["sent"], rd.counts["ok"],
                 rd.counts["err"], nver, ntorn, *segments(sink),
                 " (%s)" % rd.exited if rd.exited else "",
                 "; " + "; ".join(problems) if problems else ""))
        failures += ["round %d: %s" % (r, p) for p in problems]
    check(sink.stop() == 0, "the last sink did not exit 0")
    problems, nver, _, _ = check_store(sink, seen, "after SIGTERM")
    failures += problems
    ow_failures, ow_orphans = overwrite_rounds(max(2, ROUNDS // 3))
    failures += ow_failures
    removed = sum(int(m.group(1)) for m in
                  (re.search(r"(\d+) had none and were removed", x)
                   for x in reconciled) if m)
    print("%d rounds in %.1f s: %d uploads answered 200, %d versions; "
          "reconcile ran %d times, removed %d unrecorded versions; "
          "versions seen without an event after a restart: %d "
          "(overwrite rounds: %d)"
          % (len(kinds), time.monotonic() - t0, len(seen), nver,
             len(reconciled), removed, len(orphans), len(ow_orphans)))
    if failures:
        fail("%d problems:\n  %s" % (len(failures), "\n  ".join(failures)))
    check(seen, "no upload was ever answered 200")
    print("crash consistency: every version has its event, every 200 kept")


main()
