"""Crash consistency of the S3 store (issue 10), as test_sink_crash checks
the filesystem store: a sink storing into a real Ceph RGW, six clients
PUTting to three shared keys (bodies from empty to 9 MiB, which goes up
as a multipart upload), is killed with SIGKILL at a random moment,
VSINK_CRASH_ROUNDS (default 6) times under --on-existing overwrite, then
half as often under --on-existing reject (new keys each round). After
each restart (its reconciliation runs before it serves):
  - every version the cluster holds under the sink's prefix has exactly
    one `stored` event with its version id, and its bytes hash to the
    event's sha256; no intent is left;
  - overwrite: each key holds one version, and every key a client saw a
    200 for holds one (a replaced version goes only once its replacement
    is recorded);
  - reject: no key was answered 200 twice, and each key holds at most one
    version: the one answered 200, if any (never replaced).
A killed upload's cluster multipart upload is aborted by the restart when
its intent names it; one whose Create was answered just before the kill,
before the intent was written, is no one's: it is counted, and at the end
a sink started with --multipart-expiry 2s must have aborted every one
(its sweeper, as the lifecycle rule would on a real cluster).
Loopback only; bounded rounds; RGW and the sink stopped at exit."""
import hashlib
import json
import os
import random
import subprocess
import time

import crashload
from rgw import start_or_skip
import vsharness as h

CLUSTER = "vsink-crash"
ROUNDS = int(os.environ.get("VSINK_CRASH_ROUNDS", "6"))
BODIES = crashload.bodies([0, 1000, 300 * 1000, 3 << 20, 9 << 20])
rng = random.Random(int(os.environ.get("VSINK_CRASH_SEED", "11")))

rgw = start_or_skip("s3crash", 1024)
s3 = rgw.client()
rgw.versioned_bucket(CLUSTER)
ENV = rgw.sink_env(h.env_with_keys())


class Run:
    """One policy's sink, its cluster prefix and what its clients saw."""

    def __init__(self, policy):
        self.policy, self.prefix = policy, policy + "/videos/"
        self.args = ["--store", "s3://%s/%s" % (CLUSTER, policy),
                     "--s3-endpoint", rgw.endpoint, "--on-existing", policy]
        self.sink = self.start()
        self.data, self.seen = self.sink.data, []

    def start(self, data=None, extra=()):
        return h.Sink(data=data, args=self.args + list(extra), env=ENV,
                      tag="s3crash").start()

    def versions(self):
        """(key, versionId) -> its entry; and the delete markers."""
        out, markers = {}, []
        kw = {"Bucket": CLUSTER, "Prefix": self.prefix}
        while True:
            page = s3.list_object_versions(**kw)
            for v in page.get("Versions", []):
                out[(v["Key"][len(self.prefix):], v["VersionId"])] = v
            markers += page.get("DeleteMarkers", [])
            if not page.get("IsTruncated"):
                return out, markers
            kw["KeyMarker"] = page["NextKeyMarker"]
            kw["VersionIdMarker"] = page["NextVersionIdMarker"]

    def uploads(self):
        page = s3.list_multipart_uploads(Bucket=CLUSTER, Prefix=self.prefix)
        return [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]

    def stored(self):
        out = subprocess.run([h.VSINK, "manifest", "cat", self.sink.manifest],
                             capture_output=True, timeout=60)
        h.check(out.returncode == 0, "manifest cat: %s" % out.stderr)
        stored = {}
        for line in out.stdout.decode().splitlines():
            e = json.loads(line)
            if e["event"] == "stored":
                stored.setdefault((e["key"], e["versionId"]), []).append(e)
        return stored

    def problems(self):
        stored = self.stored()
        versions, markers = self.versions()
        out = []
        twice = [k for k, evs in stored.items() if len(evs) > 1]
        if twice:
            out.append("versions with more than one stored event: %s" % twice)
        orphans = sorted(k for k in versions if k not in stored)
        if orphans:
            out.append("versions without a stored event: %s" % orphans[:5])
        for key, vid in versions:
            if (key, vid) not in stored:
                continue
            body = s3.get_object(Bucket=CLUSTER, Key=self.prefix + key,
                                 VersionId=vid)["Body"].read()
            if (hashlib.sha256(body).hexdigest() !=
                    stored[(key, vid)][0]["sha256"]):
                out.append("%s@%s: its bytes are not the event's" % (key, vid))
        if markers:
            out.append("delete markers: %s" % [m["Key"] for m in markers][:5])
        idir = os.path.join(self.data, "state", "s3", "intent")
        intents = [n for n in os.listdir(idir) if not n.startswith(".")] \
            if os.path.isdir(idir) else []
        if intents:
            out.append("intents left: %s" % intents[:5])
        keys = {}
        for key, vid in versions:
            keys.setdefault(key, []).append(vid)
        return out + (self.overwrite_problems(keys)
                      if self.policy == "overwrite"
                      else self.reject_problems(keys, stored))

    def overwrite_problems(self, keys):
        out = []
        many = {k: len(v) for k, v in keys.items() if len(v) > 1}
        if many:
            out.append("keys with more than one version: %s" % many)
        empty = sorted(set(s[0] for s in self.seen) - set(keys))
        if empty:
            out.append("keys answered 200 that hold nothing: %s" % empty)
        return out

    def reject_problems(self, keys, stored):
        """The 200s name no version (only --on-existing version does):
        the bytes' SHA-256 tells what a client stored."""
        out, ok = [], {}
        for key, _, sha, _ in self.seen:
            ok.setdefault(key, []).append(sha)
        twice = {k: len(v) for k, v in ok.items() if len(v) > 1}
        if twice:
            out.append("keys answered 200 more than once: %s" % twice)
        many = {k: v for k, v in keys.items() if len(v) > 1}
        if many:
            out.append("keys with more than one version: %s" % many)
        held = {k: [stored[(k, vid)][0]["sha256"] for vid in v
                    if (k, vid) in stored] for k, v in keys.items()}
        moved = sorted(k for k, v in ok.items() if held.get(k) != v[:1])
        if moved:
            out.append("keys not holding the bytes answered 200: %s" % moved)
        return out

    def rounds(self, n):
        failures = []
        for r in range(n):
            shared = None
            if self.policy == "reject":  # new keys: the old ones are taken
                shared = ["r%d/%s" % (r, k) for k in crashload.SHARED]
            rd = crashload.Round(self.sink, r, BODIES, rng, shared_only=True,
                                 shared=shared)
            rd.run("kill", 0.5, 2.5)
            self.seen += rd.ok
            self.sink = self.start(self.data)
            problems = self.problems()
            print("%s round %d: %3d PUTs, %3d answered 200, %d cut off; %d "
                  "multipart uploads open%s"
                  % (self.policy, r, rd.counts["sent"], rd.counts["ok"],
                     rd.counts["err"], len(self.uploads()),
                     "; " + "; ".join(problems) if problems else ""))
            failures += ["%s round %d: %s" % (self.policy, r, p)
                         for p in problems]
        return failures

    def sweep(self):
        """Restarted with a 2 s expiry: every upload left open goes."""
        h.check(self.sink.stop() == 0, "the %s sink did not exit 0"
                % self.policy)
        left = self.uploads()
        self.sink = self.start(self.data, ["--multipart-expiry", "2s"])
        deadline = time.monotonic() + 30
        while self.uploads() and time.monotonic() < deadline:
            time.sleep(0.5)
        h.check(not self.uploads(), "the sweeper left uploads open: %s"
                % self.uploads())
        problems = self.problems()
        h.check(self.sink.stop() == 0, "the sweeping sink did not exit 0")
        return left, problems


failures, left = [], 0
for policy, n in (("overwrite", ROUNDS), ("reject", max(2, ROUNDS // 2))):
    run = Run(policy)
    failures += run.rounds(n)
    opened, problems = run.sweep()
    failures += problems
    left += len(opened)
    h.check(run.seen, "%s: no upload was ever answered 200" % policy)
if failures:
    h.fail("%d problems:\n  %s" % (len(failures), "\n  ".join(failures)))
print("S3 store crash consistency: every version one event, overwrite one "
      "version a key, reject never replaced; %d multipart uploads of no "
      "intent aborted by the sweeper" % left)
