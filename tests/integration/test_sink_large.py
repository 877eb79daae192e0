"""A 200 MiB upload read back identical with the right SHA-256 in the
manifest, and a chunked upload (no Content-Length)."""
import hashlib
import os
import subprocess

from vsharness import Sink, check, pattern, tmpdir

sink = Sink(tag="large").start()
work = tmpdir("large-files")
size = 200 * 1024 * 1024
src = os.path.join(work, "big.bin")
h = hashlib.sha256()
with open(src, "wb") as f:
    chunk = pattern(4 * 1024 * 1024, seed=3)
    for i in range(size // len(chunk)):
        block = bytes([i & 0xff]) + chunk[1:]  # no two blocks alike
        f.write(block)
        h.update(block)
want = h.hexdigest()

url = sink.presign("PUT", "videos/big/200mib.mp4")
r = subprocess.run(["curl", "-sS", "-f", "-T", src, url], capture_output=True,
                   timeout=240)
check(r.returncode == 0, "curl PUT 200 MiB failed: %s" % r.stderr)
ev = sink.manifest_events("stored")
check(len(ev) == 1 and ev[0]["sha256"] == want and ev[0]["bytes"] == size,
      "stored event wrong: %s" % ev)

out = os.path.join(work, "back.bin")
r = subprocess.run(["curl", "-sS", "-f", "-o", out,
                    sink.presign("GET", "videos/big/200mib.mp4")],
                   capture_output=True, timeout=240)
check(r.returncode == 0, "curl GET failed: %s" % r.stderr)
h2 = hashlib.sha256()
with open(out, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h2.update(block)
check(h2.hexdigest() == want and os.path.getsize(out) == size,
      "200 MiB read back differs")
os.unlink(out)

# chunked: curl sends Transfer-Encoding: chunked when reading stdin
data = pattern(5 * 1024 * 1024 + 123, seed=4)
url = sink.presign("PUT", "videos/chunked.mp4")
r = subprocess.run(["curl", "-sS", "-f", "-T", "-", "-H",
                    "Transfer-Encoding: chunked", url, "-w", "%{http_code}"],
                   input=data, capture_output=True, timeout=60)
check(r.returncode == 0 and r.stdout.endswith(b"200"),
      "chunked PUT failed: %s %s" % (r.stdout, r.stderr))
ev = [e for e in sink.manifest_events("stored") if e["key"] == "chunked.mp4"]
check(len(ev) == 1 and ev[0]["sha256"] == hashlib.sha256(data).hexdigest(),
      "chunked stored event wrong: %s" % ev)
st, _, body = sink.request("GET", sink.presign("GET", "videos/chunked.mp4"))
check(st == 200 and body == data, "chunked read back differs")
# a chunked body over the limit is refused as well
small = Sink(tag="large-limit", args=["--max-object-size", "64KiB"]).start()
url = small.presign("PUT", "videos/over.mp4")
r = subprocess.run(["curl", "-sS", "-T", "-", "-H",
                    "Transfer-Encoding: chunked", url, "-w", "%{http_code}"],
                   input=pattern(256 * 1024), capture_output=True, timeout=60)
check(r.stdout.endswith(b"400") and b"EntityTooLarge" in r.stdout,
      "chunked over the limit: %s" % r.stdout[-300:])
check(not small.object_files() and not small.manifest_events(),
      "oversized chunked upload left a trace")
small.stop()
check(sink.stop() == 0, "sink exit status")
print("large: 200 MiB and chunked uploads stored and read back")
