"""vsink submit against the fake API's request faults, through a recording
proxy that counts how many times each taskUUID was POSTed:
- 429 with Retry-After: waited for, retried with the same taskUUID, done;
- 500: retried, done;
- a lost ack (accepted, answered 500): the retry gets conflictTaskUUID,
  which means "already accepted": polled, done, never sent under a new
  taskUUID, delivered once;
- 402 and a bad key (401): never retried, a `failed` event, exit 1.
Whatever happens, the fake accepts each job exactly once."""
from vsharness import (FakeAPI, Recorder, Sink, by_task, check, submit)

sink = Sink(tag="submit-faults-api").start()
target = sink.endpoint + "/videos/faults"
ARGS = ["--target", target, "--manifest", sink.manifest, "--prompt",
        "fault injection", "--resolution", "480p", "--duration", "2",
        "--wait", "--timeout", "60"]


def run(fault_args, key=None, extra=()):
    fake = FakeAPI(*fault_args, delay_ms=50, size=4096)
    rec = Recorder(fake.url)
    kw = {} if key is None else {"key": key}
    rc, lines, err, took = submit(ARGS + list(extra), api=rec.api, **kw)
    fake.stop()
    rec.stop()
    check(len(lines) == 1, "%s: one line: %s %s" % (fault_args, lines, err))
    return fake, rec, rc, lines[0], err, took


def accepted_once(fake, rec, u, posts, what):
    sends = rec.sends()
    check(list(sends) == [u], "%s: taskUUIDs sent %s, want only %s" %
          (what, sends, u))
    check(sends[u] == posts, "%s: %s POSTed %d times, want %d" %
          (what, u, sends[u], posts))
    ups = {e["taskUUID"] for e in fake.events("upload")}
    check(ups == {u}, "%s: the fake delivered for %s" % (what, ups))
    check(len([e for e in fake.events("upload") if e.get("sha256")]) == 1,
          "%s: more than one upload" % what)


def complete(rc, out, err, what):
    check(rc == 0 and out["status"] == "complete" and out["results"] == 1,
          "%s: %d %s %s" % (what, rc, out, err))
    ev = by_task(sink.manifest_events())[out["taskUUID"]]
    check(len(ev["submitted"]) == 1 and "failed" not in ev and
          len(ev["stored"]) == 1 and
          {r["source"] for r in ev["result"]} == {"poll", "webhook"},
          "%s: events %s" % (what, {k: len(v) for k, v in ev.items()}))


fake, rec, rc, out, err, took = run(["--fault-429", "2"])
complete(rc, out, err, "429")
accepted_once(fake, rec, out["taskUUID"], 3, "429")
check(took >= 2.0, "429 Retry-After: 1 twice, but done in %.2f s" % took)
check(len(fake.events("request", status=429)) == 2, "two 429s")
print("429 + Retry-After: waited %.1f s, sent 3 times, accepted once" % took)

fake, rec, rc, out, err, _ = run(["--fault-500", "2"])
complete(rc, out, err, "500")
accepted_once(fake, rec, out["taskUUID"], 3, "500")
print("500 twice: retried, accepted once")

fake, rec, rc, out, err, _ = run(["--fault-lost-ack", "1"])
complete(rc, out, err, "lost ack")
check(out.get("conflict") is True, "lost ack: conflict not shown: %s" % out)
accepted_once(fake, rec, out["taskUUID"], 2, "lost ack")
print("lost ack: conflictTaskUUID taken as accepted, polled, delivered once")

fake, rec, rc, out, err, _ = run(["--fault-402"])
u = out["taskUUID"]
check(rc == 1 and out["status"] == "failed" and
      out["error"]["code"] == "insufficientCredits", "402: %d %s" % (rc, out))
check(rec.sends() == {u: 1}, "402 was retried: %s" % rec.sends())
check(not rec.sends("getResponse"), "a refused task was polled")
ev = by_task(sink.manifest_events())[u]
check(len(ev["submitted"]) == 1 and len(ev["failed"]) == 1 and
      ev["failed"][0]["code"] == "insufficientCredits" and
      ev["failed"][0]["source"] == "submit" and "result" not in ev,
      "402 events: %s" % ev)
check(not fake.events("upload"), "402: something was delivered")
print("402: not retried, failed event, exit 1")

fake, rec, rc, out, err, _ = run([], key="wrong-key")
check(rc == 1 and out["status"] == "failed" and
      out["error"]["code"] == "invalidApiKey", "401: %d %s" % (rc, out))
check(rec.sends() == {out["taskUUID"]: 1}, "401 was retried")
check("wrong-key" not in err and "wrong-key" not in str(out),
      "the API key was shown")
print("401: not retried, the key never shown")

# nothing answers at all: retried, then "unknown", never a new taskUUID
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = "http://127.0.0.1:%d/v1" % s.getsockname()[1]
s.close()
rc, lines, err, took = submit(["--target", target, "--manifest",
                               sink.manifest, "--prompt", "nobody home",
                               "--resolution", "480p", "--retries", "3"],
                              api=dead)
check(0.7 <= took < 10, "3 attempts took %.1f s" % took)
check(rc == 1 and lines[0]["status"] == "unknown" and
      lines[0]["error"]["code"] == "transportError",
      "dead API: %d %s %s" % (rc, lines, err))
print("API down: retried %.1f s, status unknown, exit 1" % took)
check(sink.stop() == 0, "sink exit status")
print("PASS")
