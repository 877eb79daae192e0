"""A full filesystem: the sink's data folder on a small tmpfs. An upload that
does not fit is answered 507 InsufficientStorage and leaves nothing; the
sink keeps serving uploads that fit."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from vsharness import Sink, check, pattern, s3_error_code, sha256, tmpdir

mnt = tmpdir("diskfull")
r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                   capture_output=True)
if r.returncode != 0:
    print("SKIP: cannot mount a tmpfs here (%s)" % r.stderr.decode().strip())
    sys.exit(77)
try:
    manifest = tmpdir("diskfull-manifest")
    sink = Sink(data=mnt, manifest=manifest).start()
    st, _, body = sink.request("PUT", sink.presign("PUT", "videos/big.mp4"),
                               pattern(6 * 1024 * 1024))
    check(st == 507 and s3_error_code(body) == "InsufficientStorage",
          "want 507 InsufficientStorage, got %d %s" % (st, body[:200]))
    # the message is S3's own, never a C "(null)" (issue 7, defect 10)
    msg = ET.fromstring(body).findtext("Message")
    check(msg == "There is not enough space left to store the object",
          "507 message: %r" % msg)
    check(not sink.object_files() and not sink.temp_files(),
          "full disk left files: %s" % sink.object_files())
    check(not sink.manifest_events("stored"), "full disk wrote an event")
    small = pattern(100000, seed=2)
    st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/small.mp4"),
                            small)
    check(st == 200, "an upload that fits after a full disk: %d" % st)
    ev = sink.manifest_events("stored")
    check(len(ev) == 1 and ev[0]["sha256"] == sha256(small), "event %s" % ev)
    check(sink.stop() == 0, "sink exit status")
    print("diskfull: 507 with nothing left; later uploads fine")
finally:
    subprocess.run(["umount", "-l", mnt])
