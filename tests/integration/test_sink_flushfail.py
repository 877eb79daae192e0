"""A disk whose flush fails under the pump's direct writes (issue 9).

The sink's data folder is ext4 on a loop device whose journal is on a
second loop device, both backed by fully written files on a tmpfs of the
test's own. Once the sink is up, the journal's backing file is punched and
the tmpfs filled: the data device still takes the direct writes, but the
next journal commit, the fdatasync store_fs_write.c makes every 8 MiB of
direct writes, fails with EIO (and ext4 goes read-only). An 8 MiB upload
sent at loopback speed goes through the pump (O_DIRECT seen on its .part
half-way) into that flush: the client gets 500 InternalError, no object
is published and the manifest has no `stored` event. Needs root, losetup
and mkfs.ext4; skips (77) and says why without them."""
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from rawhttp import connect, read_response, target, wait_for
from vsharness import Sink, check, pattern, s3_error_code, tmpdir

MIB = 1 << 20
cleanup = []


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def run(*cmd):
    r = subprocess.run(list(cmd), capture_output=True)
    if r.returncode != 0:
        skip("%s: %s" % (" ".join(cmd), r.stderr.decode().strip()))
    return r.stdout.decode().strip()


def zeros(path, mibs):
    with open(path, "wb") as f:
        for _ in range(mibs):
            f.write(b"\0" * MIB)


def ext4_with_journal_device(base):
    """Mounts it on base/ext4; (journal image path, data folder)."""
    for tool in ("losetup", "mkfs.ext4"):
        if subprocess.run(["sh", "-c", "command -v " + tool],
                          capture_output=True).returncode:
            skip(tool + " missing")
    run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", base)
    cleanup.append(["umount", "-l", base])
    jimg, dimg = base + "/journal.img", base + "/data.img"
    zeros(jimg, 16)  # every page allocated: only a punch frees them
    zeros(dimg, 32)
    jdev = run("losetup", "-f", "--show", jimg)
    cleanup.append(["losetup", "-d", jdev])
    ddev = run("losetup", "-f", "--show", dimg)
    cleanup.append(["losetup", "-d", ddev])
    # nodiscard: a discard would punch the backing files
    run("mkfs.ext4", "-q", "-F", "-E", "nodiscard", "-O", "journal_dev",
        "-b", "4096", jdev)
    run("mkfs.ext4", "-q", "-F", "-E", "nodiscard", "-b", "4096",
        "-J", "device=" + jdev, ddev)
    mnt = base + "/ext4"
    os.mkdir(mnt)
    # commit=600: no journal commit but the ones an fsync asks for
    run("mount", "-t", "ext4", "-o", "commit=600", ddev, mnt)
    cleanup.append(["umount", "-l", mnt])
    return jimg, mnt


def break_journal(base, jimg):
    os.truncate(jimg, 0)  # frees its pages; the device keeps its size
    os.truncate(jimg, 16 * MIB)
    with open(base + "/filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def part_is_direct(sink):
    pid = sink.proc.pid
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if not os.readlink("/proc/%d/fd/%s" % (pid, fd)).endswith(
                    ".part"):
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("flags:"):
                        return bool(int(line.split()[1], 8) & os.O_DIRECT)
        except OSError:
            pass
    return False


base = tmpdir("flushfail")
try:
    jimg, data = ext4_with_journal_device(base)
    sink = Sink(data=data, manifest=tmpdir("flushfail-manifest")).start()
    os.sync()  # what the sink made at start is on the disk
    break_journal(base, jimg)
    body = pattern(8 * MIB, seed=9)
    s = connect(sink, timeout=60)
    s.sendall(("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n\r\n"
               % (target(sink.presign("PUT", "videos/v.mp4")), sink.host,
                  sink.port, len(body))).encode())
    s.sendall(body[:5 * MIB])
    check(wait_for(lambda: part_is_direct(sink), timeout=10),
          "no O_DIRECT on the .part after 5 MiB: not through the pump?")
    time.sleep(0.2)
    try:
        s.sendall(body[5 * MIB:])
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_response(s)
    s.close()
    check(r is not None, "no answer to the upload whose flush failed")
    st, _, rbody = r
    check(st == 500 and s3_error_code(rbody) == "InternalError",
          "want 500 InternalError, got %d %s" % (st, rbody[:300]))
    msg = ET.fromstring(rbody).findtext("Message") or ""
    check("(null)" not in msg and msg, "500 message: %r" % msg)
    objs = [f for f in sink.object_files() if f.startswith("buckets")]
    check(not objs, "a failed flush published: %s" % objs)
    check(not sink.manifest_events("stored"), "a failed flush wrote an event")
    eio = [l for l in sink.log_lines()
           if "Input/output error" in l.get("msg", "")]
    check(eio, "no EIO logged: %s" % sink.log()[-800:])
    sink.stop()
    print("flushfail: the flush's EIO under direct writes: 500, nothing "
          "published, no event (%s)" % eio[0]["msg"][:120])
finally:
    for cmd in reversed(cleanup):
        subprocess.run(cmd, capture_output=True)
