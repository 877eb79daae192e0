"""The manifest cannot be written (its filesystem is full) while the object
itself could be stored: the sink takes the object back and answers 507, so
no object is left without its event; once there is room again, uploads
are stored and recorded."""
import os
import subprocess
import sys

from vsharness import Sink, check, pattern, s3_error_code, sha256, tmpdir

mnt = tmpdir("manifest-full")
r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                   capture_output=True)
if r.returncode != 0:
    print("SKIP: cannot mount a tmpfs here (%s)" % r.stderr.decode().strip())
    sys.exit(77)
try:
    sink = Sink(tag="manifest-full", manifest=mnt).start()
    filler = os.path.join(mnt, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # no room for a line
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    os.close(fd)
    body = pattern(200000, seed=6)
    st, _, out = sink.request("PUT", sink.presign("PUT", "videos/a.mp4"),
                              body)
    check(st == 507 and s3_error_code(out) == "InsufficientStorage",
          "want 507 when the manifest is full, got %d %s" % (st, out[:200]))
    check(not [f for f in sink.object_files() if "@" in f and
               not f.endswith("@current")],
          "the object stayed without its event: %s" % sink.object_files())
    check(any("manifest append for videos/a.mp4" in (l.get("msg") or "")
              for l in sink.log_lines()),
          "the object was not committed then taken back:\n" + sink.log())
    st, _, _ = sink.request("GET", sink.presign("GET", "videos/a.mp4"))
    check(st == 404, "the taken-back object is still served: %d" % st)
    os.unlink(filler)
    st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/a.mp4"), body)
    check(st == 200, "PUT once there is room: %d" % st)
    ev = sink.manifest_events("stored")
    check(len(ev) == 1 and ev[0]["sha256"] == sha256(body), "event %s" % ev)
    check(sink.stop() == 0, "sink exit status")
    print("manifest full: object taken back, 507; later uploads recorded")
finally:
    subprocess.run(["umount", "-l", mnt])
