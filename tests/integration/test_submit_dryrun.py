"""vsink submit --dry-run, checked field by field against the model page
(bytedance:2@2): every field, its JSON type, exact duration and seed text;
its presigned upload URL accepted by a real sink. Then what is refused
before anything is sent: --max-cost over the estimate, a jobs file with one
bad line (every error shown, nothing sent, nothing recorded), bad options."""
import base64
import json
import os
import re
import struct
import urllib.parse
import zlib

from vsharness import FakeAPI, Recorder, Sink, check, submit, tmpdir

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                   r"[0-9a-f]{12}$")
sink = Sink(tag="submit-dryrun").start()
work = tmpdir("submit-dryrun-work")
target = sink.endpoint + "/videos/dry/run"
PROMPT = "Ünïcödé dancer, 舞者, in the rain"


def dry(args):
    rc, lines, err, _ = submit(["--dry-run", "--target", target] + args,
                               key=None)
    check(rc == 0, "dry run failed (%d): %s" % (rc, err))
    check(len(lines) == 1 and isinstance(lines[0], list),
          "dry run prints one JSON array: %s" % lines)
    return lines[0]


def raw_stdout(args):
    import subprocess
    from vsharness import VSINK, env_with_keys
    out = subprocess.run([VSINK, "submit", "--dry-run", "--target", target] +
                         args, env=env_with_keys(), capture_output=True,
                         timeout=30)
    return out.stdout.decode()


args = ["--prompt", PROMPT, "--width", "1248", "--height", "704",
        "--duration", "7.3", "--seed", "9223372036854775807", "--results",
        "2", "--format", "mov", "--quality", "80", "--camera-fixed",
        "--safety", "fast", "--ttl", "3600", "--url-ttl", "2h"]
tasks = dry(args)
check(len(tasks) == 1, "one task")
t = tasks[0]
want_keys = ["taskType", "taskUUID", "model", "positivePrompt", "width",
             "height", "duration", "seed", "numberResults", "outputType",
             "outputFormat", "outputQuality", "deliveryMethod", "ttl",
             "includeCost", "safety", "providerSettings", "webhookURL",
             "uploadEndpoint"]
check(sorted(t) == sorted(want_keys), "fields: %s" % sorted(t))
check(list(t)[:2] == ["taskType", "taskUUID"], "taskType then taskUUID")
check(t["taskType"] == "videoInference", "taskType")
check(isinstance(t["taskUUID"], str) and UUID4.match(t["taskUUID"]),
      "taskUUID is a UUID v4: %s" % t["taskUUID"])
check(t["model"] == "bytedance:2@2", "model")
check(t["positivePrompt"] == PROMPT, "positivePrompt")
check(type(t["width"]) is int and type(t["height"]) is int and
      (t["width"], t["height"]) == (1248, 704), "width/height")
check(t["numberResults"] == 2 and type(t["numberResults"]) is int,
      "numberResults")
check(t["outputType"] == "URL" and t["outputFormat"] == "MOV" and
      t["deliveryMethod"] == "async", "enums")
check(t["outputQuality"] == 80 and type(t["outputQuality"]) is int,
      "outputQuality")
check(t["ttl"] == 3600 and type(t["ttl"]) is int, "ttl")
check(t["includeCost"] is True, "includeCost defaults to true")
check(t["safety"] == {"checkContent": True, "mode": "fast"}, "safety")
check(t["providerSettings"] == {"bytedance": {"cameraFixed": True}},
      "providerSettings")
text = raw_stdout(args)
check('"duration":7.3,' in text, "duration text is not exactly 7.3")
check('"seed":9223372036854775807,' in text, "seed text is not exact")
check(json.loads(text, parse_float=str)[0]["duration"] == "7.3",
      "duration parsed as text")

u = urllib.parse.urlsplit(t["uploadEndpoint"])
q = urllib.parse.parse_qs(u.query)
key = u.path[len("/videos/"):]
check(u.scheme + "://" + u.netloc == sink.endpoint and
      u.path.startswith("/videos/dry/run/") and
      re.match(r"^dry/run/\d{4}/\d\d/\d\d/%s\.mov$" % t["taskUUID"], key),
      "uploadEndpoint path: %s" % u.path)
check(q["X-Amz-Expires"] == ["7200"] and q["X-Amz-SignedHeaders"] ==
      ["host"] and len(q["X-Amz-Signature"][0]) == 64, "upload query %s" % q)
h = urllib.parse.urlsplit(t["webhookURL"])
check(h.path == "/hooks/" + t["taskUUID"] and
      urllib.parse.parse_qs(h.query)["X-Amz-Expires"] == ["7200"],
      "webhookURL: %s" % t["webhookURL"])
st, _, _ = sink.request("PUT", t["uploadEndpoint"], b"\0\0\0\x14ftypqt  ")
check(st == 200, "the sink refused the dry run's upload URL: %d" % st)
st, _, _ = sink.request("PUT", t["uploadEndpoint"].replace(".mov", ".mp4"),
                        b"x")
check(st == 403, "a tampered upload URL was accepted: %d" % st)
print("dry run: every field of the model page, types and exact text")

# defaults, resolution, --no-cost, a frame image file as a data URI
def png(w, h):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\0" * 8)) + chunk(b"IEND", b""))


img = os.path.join(work, "first.png")
with open(img, "wb") as f:
    f.write(png(640, 640))
t = dry(["--prompt", "ok", "--resolution", "720P", "--no-cost",
         "--frame-image", img])[0]
check("width" not in t and "height" not in t and t["resolution"] == "720p",
      "resolution: %s" % t)
check(t["duration"] == 5 and t["numberResults"] == 1 and
      t["outputFormat"] == "MP4" and t["includeCost"] is False and
      "seed" not in t and "safety" not in t and "outputQuality" not in t,
      "defaults: %s" % t)
fi = t["inputs"]["frameImages"]
check(len(fi) == 1 and fi[0].startswith("data:image/png;base64,") and
      base64.b64decode(fi[0].split(",", 1)[1]) == open(img, "rb").read(),
      "frame image data URI")
print("dry run: defaults, resolution, --no-cost, frame image file")

# ---- refusals: nothing sent, nothing recorded -----------------------------
fake = FakeAPI(delay_ms=50, size=1000)
rec = Recorder(fake.url)
man = os.path.join(work, "manifest")
base = ["--target", target, "--manifest", man]

rc, lines, err, _ = submit(base + ["--prompt", "too dear", "--resolution",
                                   "1080p", "--duration", "12", "--results",
                                   "4", "--max-cost", "1.50"], api=rec.api)
check(rc == 2 and not lines and "1.5072 USD" in err and "1.50 USD" in err
      and "nothing sent" in err, "--max-cost: %d %s" % (rc, err))
rc, lines, err, _ = submit(base + ["--prompt", "just enough",
                                   "--resolution", "1080p", "--duration",
                                   "12", "--results", "4", "--max-cost",
                                   "1.5072", "--dry-run"], api=rec.api)
check(rc == 0, "an estimate equal to --max-cost is allowed: %s" % err)

jobs = os.path.join(work, "jobs.jsonl")
with open(jobs, "w") as f:
    f.write('{"prompt": "line one", "resolution": "480p"}\n')
    f.write('\n')
    f.write('{"prompt": "x", "duration": 1.25, "seed": -1, '
            '"resolution": "720p", "width": 864, "format": "AVI", '
            '"colour": "red"}\n')
    f.write('{"prompt": "line four", "width": 864, "height": 480}\n')
    f.write('not json\n')
rc, lines, err, _ = submit(base + ["--jobs", jobs], api=rec.api)
check(rc == 2 and not lines, "bad jobs file: %d %s" % (rc, lines))
for want in ("jobs line 3: colour", "jobs line 3: duration",
             "jobs line 3: outputFormat", "jobs line 5: not a JSON object",
             "2 tasks with errors; nothing sent"):
    check(want in err, "%r not in %s" % (want, err))
rc, lines, err, _ = submit(base + ["--jobs", jobs.replace("jobs.", "x.")],
                           api=rec.api)
check(rc == 3 and "--jobs" in err, "missing jobs file: %d %s" % (rc, err))
with open(jobs, "w") as f:
    f.write('{"prompt": "x", "duration": 1.25, "seed": -1, '
            '"resolution": "720p", "width": 864, "format": "AVI"}\n')
rc, lines, err, _ = submit(base + ["--jobs", jobs], api=rec.api)
for field, value in (("positivePrompt", "'x'"), ("duration", "'1.25'"),
                     ("seed", "'-1'"), ("outputFormat", "'AVI'")):
    check(re.search(r"jobs line 1: %s: .*given %s; allowed: \S" %
                    (re.escape(field), re.escape(value)), err),
          "error for %s %s missing: %s" % (field, value, err))
check("resolution" in err and "width" in err, "shape errors: %s" % err)
check(rc == 2, "exit status %d" % rc)

for bad, says in ((["--prompt", "ok", "--resolution", "480p",
                    "--url-ttl", "8d"], "--url-ttl"),
                  (["--prompt", "ok", "--resolution", "480p",
                    "--concurrency", "0"], "--concurrency"),
                  (["--prompt", "ok", "--resolution", "480p", "--rate",
                    "-1"], "--rate"),
                  (["--prompt", "ok", "--duration", "13"], "duration"),
                  (["--prompt", "ok", "--resolution", "480p",
                    "stray"], "argument")):
    rc, lines, err, _ = submit(base + bad, api=rec.api)
    check(rc == 2 and says in err, "%s: %d %s" % (bad, rc, err))
rc, lines, err, _ = submit(["--prompt", "ok", "--resolution", "480p",
                            "--manifest", man], api=rec.api)
check(rc == 2 and "--target" in err, "no --target: %d %s" % (rc, err))
rc, lines, err, _ = submit(base + ["--prompt", "ok", "--resolution",
                                   "480p"], api=rec.api, key=None)
check(rc == 2 and "RUNWARE_API_KEY" in err, "no key: %d %s" % (rc, err))
rc, lines, err, _ = submit(["--target", "s3://bucket-x/p", "--prompt", "ok",
                            "--resolution", "480p", "--manifest", man],
                           api=rec.api)
check(rc == 2 and "--s3-endpoint" in err, "s3 without endpoint: %s" % err)
check(rec.posts == [], "a refused run sent %d requests" % len(rec.posts))
check(not os.path.exists(man) or not os.listdir(man) or
      all(os.path.getsize(os.path.join(man, f)) == 0
          for f in os.listdir(man)), "a refused run wrote the manifest")
rec.stop()
fake.stop()
check(sink.stop() == 0, "sink exit status")
print("refusals: --max-cost, bad jobs line (all errors), bad options; "
      "nothing sent")
print("PASS")
