"""vsink submit --wait against the fake API's delivery faults, with a real
sink as the target: what a user would want to be told.
- dropped webhook: complete anyway (polling found the result);
- dropped upload / truncated upload: "missing" and exit 1 (paid for, the
  `result` is recorded, no bytes arrived; the sink keeps no partial file);
- slow upload: complete, bytes exact;
- duplicate webhook: the sink records each result once;
- failed task: a `failed` event with the API's code, exit 1.
Never a second submission."""
import os

from vsharness import (FakeAPI, Recorder, Sink, by_task, check, fake_sha256,
                       submit)

SIZE = 100000
sink = Sink(tag="submit-faults-delivery").start()
target = sink.endpoint + "/videos/delivery"


def run(fault_args, results=1):
    fake = FakeAPI(*fault_args, delay_ms=50, size=SIZE)
    rec = Recorder(fake.url)
    rc, lines, err, took = submit(
        ["--target", target, "--manifest", sink.manifest, "--prompt",
         "delivery faults", "--resolution", "480p", "--duration", "3",
         "--results", str(results), "--wait", "--timeout", "60"],
        api=rec.api)
    check(len(lines) == 1, "%s: %s %s" % (fault_args, lines, err))
    u = lines[0]["taskUUID"]
    check(rec.sends() == {u: 1}, "%s: sent %s" % (fault_args, rec.sends()))
    rec.stop()
    fake.stop()
    return fake, rc, lines[0], err, by_task(sink.manifest_events())[u]


def sources(ev):
    return sorted(r["source"] for r in ev.get("result", []))


fake, rc, out, err, ev = run(["--drop-webhook"])
check(rc == 0 and out["status"] == "complete", "drop webhook: %s" % out)
check(sources(ev) == ["poll"] and len(ev["stored"]) == 1,
      "drop webhook: %s" % ev)
check(fake.events("webhook", fault="dropped"), "the webhook was not dropped")
print("dropped webhook: complete from polling alone")

for fault in ("--drop-upload", "--truncate-upload"):
    fake, rc, out, err, ev = run([fault])
    check(rc == 1 and out["status"] == "missing" and out["results"] == 1,
          "%s: %d %s" % (fault, rc, out))
    check("missing" in err and out["target"]["key"] in err,
          "%s: stderr does not say the object is missing: %s" % (fault, err))
    check("stored" not in ev and sources(ev) == ["poll", "webhook"] and
          ev["result"][0]["cost"] == out["cost"],
          "%s: events %s" % (fault, ev))
    check(sink.temp_files() == [], "%s: a partial upload was kept" % fault)
    # the hook's de-duplication marker under state/ names the task too
    check(not [f for f in sink.object_files() if out["taskUUID"] in f and
               not f.startswith("state" + os.sep)],
          "%s: an object was kept" % fault)
    print("%s: missing, paid-for result recorded, exit 1" % fault)

fake, rc, out, err, ev = run(["--slow-upload-ms", "25"])
check(rc == 0 and out["status"] == "complete", "slow upload: %s" % out)
check(ev["stored"][0]["sha256"] ==
      fake_sha256(out["taskUUID"], 0, SIZE, "MP4"), "slow upload bytes")
print("slow upload: complete, bytes exact")

fake, rc, out, err, ev = run(["--duplicate-webhook"], results=2)
check(rc == 0 and out["status"] == "complete" and out["results"] == 2,
      "duplicate webhook: %s" % out)
check(len(fake.events("webhook", copy=2)) == 2, "no duplicate was sent")
hooked = [r for r in ev["result"] if r["source"] == "webhook"]
check(len(hooked) == 2 and len({r["videoUUID"] for r in hooked}) == 2,
      "duplicate webhook recorded twice: %s" % hooked)
check(len(ev["stored"]) == 2, "two results, two versions")
print("duplicate webhook: each result recorded once")

fake, rc, out, err, ev = run(["--fail-task"])
check(rc == 1 and out["status"] == "failed" and
      out["error"]["code"] == "timeoutProvider", "failed task: %s" % out)
fails = sorted((f["source"], f["code"]) for f in ev["failed"])
check(fails == [("poll", "timeoutProvider"), ("webhook", "timeoutProvider")],
      "failed events: %s" % fails)
check("stored" not in ev and "result" not in ev, "a failed task stored")
print("failed task: failed events from poll and webhook, exit 1")
check(sink.stop() == 0, "sink exit status")
print("PASS")
