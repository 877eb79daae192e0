"""Concurrent PUTs to one key never interleave bytes and never lose one; a
client that disconnects mid-body leaves no trace."""
import socket
import threading
import time
import urllib.parse

from vsharness import Sink, check, pattern, sha256, boto3_client

sink = Sink(tag="concurrency").start()
bodies = [pattern(8 * 1024 * 1024, seed=s) for s in (11, 12)]
results = [None, None]


def put(i):
    url = sink.presign("PUT", "videos/same/key.mp4")
    results[i] = sink.request("PUT", url, bodies[i])


threads = [threading.Thread(target=put, args=(i,)) for i in (0, 1)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
check(all(r and r[0] == 200 for r in results), "both PUTs must get 200: %s"
      % [r and r[0] for r in results])
vids = [r[1]["x-amz-version-id"] for r in results]
check(vids[0] != vids[1], "two PUTs got one version id")
ev = sink.manifest_events("stored")
check(sorted(e["sha256"] for e in ev) == sorted(sha256(b) for b in bodies),
      "manifest does not hold both uploads: %s" % ev)
s3 = boto3_client(sink)
for i, vid in enumerate(vids):
    obj = s3.get_object(Bucket="videos", Key="same/key.mp4", VersionId=vid)
    check(obj["Body"].read() == bodies[i], "version %s bytes differ" % vid)
current = s3.get_object(Bucket="videos", Key="same/key.mp4")
check(current["VersionId"] == max(vids), "current is not the newest")
check(current["Body"].read() == bodies[vids.index(max(vids))],
      "current bytes differ")

# a client that disconnects mid-body: no file, no event
before_files, before_events = sink.object_files(), len(ev)
u = urllib.parse.urlsplit(sink.presign("PUT", "videos/gone.mp4"))
s = socket.create_connection((sink.host, sink.port), timeout=10)
s.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: 10000000"
           "\r\n\r\n" % (u.path, u.query, sink.host, sink.port)).encode()
          + b"q" * 300000)
time.sleep(0.3)
check(len(sink.temp_files()) == 1, "upload in progress has no temp file")
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
s.close()  # RST
deadline = time.time() + 10
while sink.temp_files() and time.time() < deadline:
    time.sleep(0.1)
check(not sink.temp_files(), "disconnect left a temp file")
check(sink.object_files() == before_files, "disconnect left a file")
check(len(sink.manifest_events("stored")) == before_events,
      "disconnect wrote an event")
check(sink.stop() == 0, "sink exit status")
print("concurrency: both versions kept; disconnect left nothing")
