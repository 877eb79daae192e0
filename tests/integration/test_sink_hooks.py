"""POST /hooks/<taskUUID>: the API's result callback. A presigned POST; the
body's result becomes a `result` event (exact seed and cost), an error item
a `failed` event; a redelivery is answered 200 and recorded once, across a
restart too; bad bodies get 400 and leave nothing."""
import json

from vsharness import Sink, check, s3_error_code

TASK = "0b6f4c2e-8d1a-4f3b-9c5d-7e8f9a0b1c2d"
OTHER = "1c7a5d3f-9e2b-4a4c-8d6e-8f9a0b1c2d3e"
sink = Sink(tag="hooks").start()
hook = sink.presign("POST", "hooks/" + TASK)
item = {"taskType": "videoInference", "taskUUID": TASK, "status": "success",
        "videoUUID": "9f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        "videoURL": "https://example.invalid/v.mp4",
        "seed": 9223372036854775807, "cost": 0.0668, "NSFWContent": False}
body = json.dumps({"data": [item]}).encode()
JSON = {"Content-Type": "application/json"}


def events(kind):
    return sink.manifest_events(kind)


st, _, _ = sink.request("POST", hook, body, JSON)
check(st == 200, "webhook: %d" % st)
ev = events("result")
check(len(ev) == 1, "one result event: %s" % ev)
check(ev[0]["seed"] == 9223372036854775807 and ev[0]["cost"] == "0.0668" and
      ev[0]["source"] == "webhook" and ev[0]["videoUUID"] == item["videoUUID"],
      "result event fields: %s" % ev[0])
raw = [l for l in open(
    __import__("glob").glob(sink.manifest + "/*.jsonl")[0]).read()
    .splitlines() if '"result"' in l][0]
check('"seed":9223372036854775807' in raw, "seed not exact in the line")

# a redelivery: 200, recorded once; and still once after a restart
st, _, _ = sink.request("POST", hook, body, JSON)
check(st == 200 and len(events("result")) == 1, "duplicate delivery")
sink.stop()
sink.start()
hook = sink.presign("POST", "hooks/" + TASK)
st, _, _ = sink.request("POST", hook, body, JSON)
check(st == 200 and len(events("result")) == 1,
      "duplicate delivery after a restart")

# an error item becomes a failed event
err = {"errors": [{"code": "timeoutProvider", "message": "took too long",
                   "taskUUID": TASK, "taskType": "videoInference",
                   "status": "error"}]}
st, _, _ = sink.request("POST", hook, json.dumps(err).encode(), JSON)
ev = events("failed")
check(st == 200 and len(ev) == 1 and ev[0]["code"] == "timeoutProvider",
      "failed event: %d %s" % (st, ev))

before = len(sink.manifest_events())


def refused(name, status, code, method, url, data):
    st, _, out = sink.request(method, url, data, JSON)
    check(st == status and s3_error_code(out) == code,
          "%s: want %d %s, got %d %s" % (name, status, code, st, out[:200]))
    check(len(sink.manifest_events()) == before, "%s recorded" % name)
    print("ok  %-40s %d %s" % (name, status, code))


refused("body over 1 MiB", 400, "EntityTooLarge", "POST", hook,
        b'{"data":[' + b" " * (1024 * 1024) + b"]}")
refused("malformed JSON", 400, "MalformedJSON", "POST", hook, b'{"data":[')
bad = dict(item, seed="12")
refused("seed of the wrong type", 400, "MalformedJSON", "POST", hook,
        json.dumps({"data": [bad]}).encode())
refused("no data nor errors", 400, "MalformedJSON", "POST", hook, b"{}")
refused("another task's result", 400, "MalformedJSON", "POST", hook,
        json.dumps({"data": [dict(item, taskUUID=OTHER)]}).encode())
refused("unsigned", 403, "AccessDenied", "POST",
        sink.endpoint + "/hooks/" + TASK, body)
refused("GET on a hook", 405, "MethodNotAllowed", "GET",
        sink.presign("GET", "hooks/" + TASK), None)
refused("signature for another task", 403, "SignatureDoesNotMatch", "POST",
        hook.replace(TASK, OTHER), body)
refused("not a task path", 400, "InvalidArgument", "POST",
        sink.presign("POST", "hooks/not-a-uuid"), body)
check(sink.stop() == 0, "sink exit status")
print("hooks: recorded once, exact, bad bodies refused")
