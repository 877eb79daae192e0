"""Crashes and stops: kill -9 mid-upload then restart (no object, no event,
temp cleaned and counted); SIGTERM with an upload in flight (it completes
and is recorded, exit 0)."""
import signal
import socket
import threading
import time
import urllib.parse

from vsharness import Sink, check, pattern, sha256


def start_partial(sink, key, total, first):
    u = urllib.parse.urlsplit(sink.presign("PUT", "videos/" + key))
    s = socket.create_connection((sink.host, sink.port), timeout=30)
    s.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n"
               "\r\n" % (u.path, u.query, sink.host, sink.port, total))
              .encode() + first)
    return s


# kill -9 in the middle of a body
sink = Sink(tag="crash").start()
s = start_partial(sink, "crash.mp4", 10 * 1024 * 1024, b"a" * 500000)
deadline = time.time() + 10
while not sink.temp_files() and time.time() < deadline:
    time.sleep(0.05)
check(len(sink.temp_files()) == 1, "no temp file while uploading")
sink.kill9()
s.close()
check(len(sink.temp_files()) == 1, "the crash should leave the temp file")
sink.start()
check(not sink.temp_files(), "restart did not clean the temp file")
check(any("removed 1 temporary" in (l.get("msg") or "")
          for l in sink.log_lines()), "cleanup not counted in the log")
check(not sink.object_files(), "an object appeared: %s" % sink.object_files())
check(not sink.manifest_events("stored"), "a stored event appeared")

# SIGTERM while an upload is in flight: it completes and is recorded
body = pattern(3 * 1024 * 1024, seed=5)
half = len(body) // 2
s = start_partial(sink, "inflight.mp4", len(body), body[:half])
time.sleep(0.3)
sink.proc.send_signal(signal.SIGTERM)
time.sleep(0.5)
check(sink.proc.poll() is None, "sink exited with an upload in flight")
s.sendall(body[half:])
resp = s.recv(4096)
s.close()
check(resp.startswith(b"HTTP/1.1 200"), "in-flight upload: %s" % resp[:200])
check(sink.stop() == 0, "sink did not exit 0 after SIGTERM")
ev = sink.manifest_events("stored")
check(len(ev) == 1 and ev[0]["sha256"] == sha256(body),
      "in-flight upload not recorded: %s" % ev)

# an upload that outlives --shutdown-timeout is aborted cleanly
sink2 = Sink(tag="timeout", args=["--shutdown-timeout", "1"]).start()
s = start_partial(sink2, "slow.mp4", 1000000, b"b" * 1000)
time.sleep(0.3)
sink2.proc.send_signal(signal.SIGTERM)
check(sink2.stop() == 0, "exit status after the timeout")
s.close()
check(not sink2.temp_files() and not sink2.object_files(),
      "aborted upload left files")
check(not sink2.manifest_events("stored"), "aborted upload wrote an event")
print("lifecycle: kill -9, restart, SIGTERM drain and timeout OK")
