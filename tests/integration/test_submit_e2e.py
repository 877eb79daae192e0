"""vsink submit --wait end to end on 127.0.0.1: the real CLI -> the fake
API -> a real `vsink serve` sink. For every output the manifest holds
`submitted`, `stored` and `result`, joined by taskUUID; costs are exact
decimals (price x duration, summed without a float); the SHA-256 the sink
recorded, and of the file it kept, equals the fake's bytes; numberResults 3
keeps all three as versions of one key."""
import decimal
import urllib.parse

from vsharness import (FakeAPI, Sink, by_task, check, fake_sha256, sha256,
                       submit)

D = decimal.Decimal
SIZE = 200000
sink = Sink(tag="submit-e2e").start()
fake = FakeAPI(delay_ms=80, size=SIZE)
target = sink.endpoint + "/videos/runs/e2e"
common = ["--target", target, "--manifest", sink.manifest, "--wait",
          "--timeout", "60"]

# ---- one task, one result -------------------------------------------------
rc, lines, err, _ = submit(common + ["--prompt", "a red fox in snow",
                                     "--resolution", "720p", "--duration",
                                     "7.3", "--seed", "9223372036854775807",
                                     "--format", "WEBM"], api=fake.api)
check(rc == 0, "submit --wait failed (%d): %s %s" % (rc, lines, err))
check(len(lines) == 1, "one line per task: %s" % lines)
out = lines[0]
u = out["taskUUID"]
check(out["status"] == "complete" and out["results"] == 1,
      "status: %s" % out)
check(D(out["estimate"]) == D("0.0140") * D("7.3") == D(out["cost"]),
      "estimate/cost not exact: %s" % out)
check(out["target"] == {"kind": "sink", "bucket": "videos",
                        "key": out["target"]["key"],
                        "endpoint": sink.endpoint}, "target: %s" % out)
key = out["target"]["key"]
check(key.startswith("runs/e2e/") and key.endswith("/%s.webm" % u) and
      len(key.split("/")) == 6, "object key: %s" % key)

ev = by_task(sink.manifest_events())[u]
check(set(ev) >= {"submitted", "stored", "result"}, "events: %s" % ev.keys())
sub = ev["submitted"][0]
check(len(ev["submitted"]) == 1, "one submitted event")
task = sub["task"]
check(task["taskUUID"] == u and task["seed"] == 9223372036854775807 and
      task["outputFormat"] == "WEBM" and task["includeCost"] is True,
      "submitted task: %s" % task)
for f in ("uploadEndpoint", "webhookURL"):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(task[f]).query)
    check("X-Amz-Signature" not in q and "X-Amz-Credential" in q,
          "%s keeps its signature in the manifest: %s" % (f, task[f]))
check(urllib.parse.urlsplit(task["webhookURL"]).path == "/hooks/" + u,
      "webhook path: %s" % task["webhookURL"])
check(urllib.parse.urlsplit(task["uploadEndpoint"]).path ==
      "/videos/" + key, "upload path: %s" % task["uploadEndpoint"])
check(sub["estimate"] == out["estimate"] and
      sub["target"] == out["target"], "submitted estimate/target: %s" % sub)

stored = ev["stored"]
check(len(stored) == 1 and stored[0]["key"] == key and
      stored[0]["bytes"] == SIZE, "stored: %s" % stored)
want = fake_sha256(u, 0, SIZE, "WEBM")
check(stored[0]["sha256"] == want, "stored sha256 %s != fake's %s" %
      (stored[0]["sha256"], want))
st, _, body = sink.request("GET", sink.presign("GET", "videos/" + key))
check(st == 200 and len(body) == SIZE and sha256(body) == want,
      "the object read back from the sink differs from the fake's bytes")
check(body[:4] == bytes.fromhex("1a45dfa3"), "not a WEBM (EBML) file")
results = ev["result"]
sources = sorted(r["source"] for r in results)
check(sources == ["poll", "webhook"], "result sources: %s" % sources)
check(all(r["seed"] == 9223372036854775807 and r["cost"] == out["cost"]
          for r in results), "result seed/cost: %s" % results)
check(len({r["videoUUID"] for r in results}) == 1, "one video")
print("one task: submitted, stored, result; exact cost %s; sha256 ok" %
      out["cost"])

# ---- numberResults 3 to a sink: one URL, three versions -------------------
rc, lines, err, _ = submit(common + ["--prompt", "three takes",
                                     "--width", "864", "--height", "480",
                                     "--results", "3", "--seed", "41",
                                     "--duration", "7.3"], api=fake.api)
check(rc == 0 and len(lines) == 1, "results 3: %d %s %s" % (rc, lines, err))
out = lines[0]
u = out["taskUUID"]
check(out["status"] == "complete" and out["results"] == 3, "%s" % out)
one = D("0.0062") * D("7.3")
check(D(out["estimate"]) == 3 * one == D(out["cost"]),
      "3 results: estimate %s cost %s want %s" % (out["estimate"],
                                                  out["cost"], 3 * one))
ev = by_task(sink.manifest_events())[u]
check(ev["submitted"][0]["task"]["numberResults"] == 3, "numberResults")
stored = ev["stored"]
check(len(stored) == 3 and len({s["versionId"] for s in stored}) == 3 and
      {s["key"] for s in stored} == {out["target"]["key"]},
      "three versions of one key: %s" % stored)
check(sorted(s["sha256"] for s in stored) ==
      sorted(fake_sha256(u, i, SIZE, "MP4") for i in range(3)),
      "the three versions are not the fake's three files")
polled = [r for r in ev["result"] if r["source"] == "poll"]
check(sorted(r["seed"] for r in polled) == [41, 42, 43],
      "per-result seeds: %s" % polled)
check(all(D(r["cost"]) == one for r in polled), "per-result cost")
print("numberResults 3: three versions kept, seeds 41..43, cost %s" %
      out["cost"])

# ---- without --wait: accepted, taskUUID printed, exit 0 ---------------------
rc, lines, err, _ = submit(["--target", target, "--manifest", sink.manifest,
                            "--prompt", "no waiting", "--resolution",
                            "480p"], api=fake.api)
check(rc == 0 and lines[0]["status"] == "accepted" and
      "results" not in lines[0], "no --wait: %d %s" % (rc, lines))
check(fake.stop() == 0, "fake exit status")
check(sink.stop() == 0, "sink exit status")
print("PASS")
