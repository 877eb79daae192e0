"""A full filesystem: the sink's data folder on a small tmpfs. An upload that
does not fit is answered 507 InsufficientStorage and leaves nothing; the
sink keeps serving uploads that fit.

Both cases' uploads are fast enough for the pump (server/pump.c); the
second makes sure they take it: past its first MiB a fast upload goes
through a pipe, whose write lane writes aligned MiBs with O_DIRECT
(store_fs_write.c). The test sees the flag on the sink's .part file
half-way (/proc/PID/fdinfo), then sends the rest: the direct write that
finds the disk full must give the same 507 and leave nothing, and the
next upload through the pump must be stored (issue 9)."""
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from rawhttp import connect, read_response, target, wait_for
from vsharness import Sink, check, pattern, s3_error_code, sha256, tmpdir

MIB = 1 << 20


def mount_tmpfs(size):
    mnt = tmpdir("diskfull")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size,
                        "tmpfs", mnt], capture_output=True)
    if r.returncode != 0:
        print("SKIP: cannot mount a tmpfs here (%s)" %
              r.stderr.decode().strip())
        sys.exit(77)
    return mnt


def part_is_direct(sink):
    """Whether the sink has an upload's .part open with O_DIRECT now."""
    pid = sink.proc.pid
    fds = "/proc/%d/fd" % pid
    for fd in os.listdir(fds):
        try:
            if not os.readlink(os.path.join(fds, fd)).endswith(".part"):
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("flags:"):
                        return bool(int(line.split()[1], 8) & os.O_DIRECT)
        except OSError:
            pass  # closed meanwhile
    return False


def takes_direct(folder):
    """tmpfs took no O_DIRECT before Linux 6.6."""
    path = os.path.join(folder, "probe")
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DIRECT))
        return True
    except OSError:
        return False
    finally:
        if os.path.exists(path):
            os.unlink(path)


def full_from_the_pump():
    """24 MiB at loopback speed into a 16 MiB tmpfs."""
    mnt = mount_tmpfs("16m")
    try:
        if not takes_direct(mnt):
            print("note: tmpfs takes no O_DIRECT here: pump case skipped")
            return
        sink = Sink(data=mnt, manifest=tmpdir("diskfull-manifest2")).start()
        body = pattern(24 * MIB, seed=7)
        s = connect(sink, timeout=60)
        s.sendall(("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d"
                   "\r\n\r\n" % (target(sink.presign("PUT", "videos/f.mp4")),
                                   sink.host, sink.port, len(body))).encode())
        # the first MiB inline, one to align, then direct MiBs
        s.sendall(body[:6 * MIB])
        check(wait_for(lambda: part_is_direct(sink), timeout=10),
              "no O_DIRECT on the .part after 6 MiB: not through the pump?")
        time.sleep(0.2)
        try:
            s.sendall(body[6 * MIB:])
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early: read it below
        r = read_response(s)
        s.close()
        check(r is not None, "no answer to the upload that filled the disk")
        st, _, rbody = r
        check(st == 507 and s3_error_code(rbody) == "InsufficientStorage",
              "pump: want 507 InsufficientStorage, got %d %s" %
              (st, rbody[:200]))
        msg = ET.fromstring(rbody).findtext("Message")
        check(msg == "There is not enough space left to store the object",
              "pump: 507 message: %r" % msg)
        check(not sink.object_files() and not sink.temp_files(),
              "pump: full disk left files: %s" % sink.object_files())
        check(not sink.manifest_events("stored"), "pump: full disk event")
        nospace = [l for l in sink.log_lines()
                   if "No space left" in l.get("msg", "")]
        check(nospace, "pump: no ENOSPC logged: %s" % sink.log()[-500:])
        # the failed pipe gave its buffers back: the next one goes through
        after = pattern(5 * MIB, seed=8)
        st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/g.mp4"),
                                after)
        check(st == 200, "pump: an upload after the full disk: %d" % st)
        ev = sink.manifest_events("stored")
        check(len(ev) == 1 and ev[0]["sha256"] == sha256(after),
              "pump: event %s" % ev)
        check(sink.stop() == 0, "pump: sink exit status")
    finally:
        subprocess.run(["umount", "-l", mnt])


mnt = mount_tmpfs("4m")
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
finally:
    subprocess.run(["umount", "-l", mnt])

full_from_the_pump()
print("diskfull: 507 with nothing left (also from the pump's direct "
      "writes); later uploads fine")
