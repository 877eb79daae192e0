"""rclone (Debian's 1.60) against a real sink, one complete workflow
(issue 8, Proof), with rclone's defaults (it sends CreateBucket before
uploading, keeps mtimes in x-amz-meta-mtime, HEADs what it uploaded):

- `copyto` of a 1 KiB file (one PUT), `ls`, `lsl`, `lsf -R`;
- `sync` of 50 small files up and back down (bytes compared), a second
  sync each way that changes nothing (no new version, no new event);
- an overwrite keeps the earlier version: `lsf --s3-versions` names it,
  `cat --s3-versions` reads its bytes back;
- `deletefile` and `delete` (recursive): delete markers, versions survive;
  `purge` (which removes every version by versionId) is refused without
  `--allow-purge`, and nothing is lost;
- multipart: `copy` of a folder with 1 KiB / 20 MiB / 200 MiB files with
  `--s3-upload-cutoff 100M` (so the 200 MiB one goes in 5 MiB parts),
  `copy` back, SHA-256 compared, one `stored` event each with the whole
  object's SHA-256, S3's "-N" ETag; a second `copy` of the unchanged files
  changes nothing (the bytes intact, no new version: issue 8's data-loss
  bug); `copyto` s3->s3 of the 20 MiB object with `--s3-copy-cutoff 8M`
  (multipart copy: UploadPartCopy)."""
import os
import re
import shutil
import subprocess
import sys

from vsharness import (Sink, check, boto3_client, tmpdir, client_env, run_ok,
                       ClientFiles, small_folder, same_tree, file_sha256,
                       multipart_etag, md5_etag, check_stored_once, stored_of,
                       version_count, pattern, sha256, Stopwatch, MiB)

if not shutil.which("rclone"):
    print("SKIP: no rclone")
    sys.exit(77)

sw = Stopwatch("rclone")
sink = Sink(tag="c-rclone").start()
s3 = boto3_client(sink)
home = tmpdir("c-rclone-home")
env = client_env(sink, home)
work = tmpdir("c-rclone-work")
RC = ["rclone", "--config", os.path.join(home, "rclone.conf"), "-v",
      "--retries", "1", "--low-level-retries", "1", "--contimeout", "10s",
      "--timeout", "60s"]
PART = 5 * MiB  # rclone's --s3-chunk-size


def rclone(*args, timeout=240):
    return run_ok(RC + list(args), env, timeout, what="rclone " +
                  " ".join(args[:2]))


def get(key, **kw):
    return s3.get_object(Bucket="videos", Key=key, **kw)["Body"].read()


def transferred(stderr):
    """rclone's own count of files transferred, from its summary."""
    n = None
    for ln in stderr.splitlines():
        if "There was nothing to transfer" in ln:
            n = 0
        m = re.match(r"Transferred:\s+(\d+) / \d+, ", ln)
        if m:
            n = int(m.group(1))
    return n


# ---- one small file, one PUT; ls ------------------------------------------------
small = pattern(1024, seed=51)
p_small = os.path.join(work, "small.bin")
with open(p_small, "wb") as f:
    f.write(small)
rclone("copyto", p_small, "vs:videos/rc/one/small.bin")
check(get("rc/one/small.bin") == small, "copyto 1 KiB: bytes")
check_stored_once(sink, "rc/one/small.bin", sha256(small), 1024, "copyto")
sw.step("copyto 1 KiB")

# ---- sync of 50 files both ways, and again: nothing changes ------------------
up = os.path.join(work, "up")
files = small_folder(up, seed=52)
_, err = rclone("sync", up, "vs:videos/rc/sync")
check(transferred(err) == 50, "sync up: %s" % err[-1500:])
events = sink.manifest_events("stored")
for name, body in files.items():
    check_stored_once(sink, "rc/sync/" + name, sha256(body), len(body),
                      "sync up", events=events)
n_events, n_versions = len(events), version_count(s3, "rc/sync/")
_, err = rclone("sync", up, "vs:videos/rc/sync")
check(transferred(err) == 0, "second sync up: %s" % err[-1500:])
check(len(sink.manifest_events("stored")) == n_events and
      version_count(s3, "rc/sync/") == n_versions == 50,
      "second sync up made new versions")
down = os.path.join(work, "down")
_, err = rclone("sync", "vs:videos/rc/sync", down)
check(transferred(err) == 50, "sync down: %s" % err[-1500:])
check(same_tree(down, files), "sync down: other files or bytes")
_, err = rclone("sync", "vs:videos/rc/sync", down)
check(transferred(err) == 0, "second sync down: %s" % err[-1500:])
check(same_tree(down, files), "second sync down changed the folder")
check(len(sink.manifest_events("stored")) == n_events,
      "a sync down stored something")
sw.step("sync 50 files up, down, twice each")
# copy (not sync) of the unchanged folder: nothing changes either
_, err = rclone("copy", up, "vs:videos/rc/sync")
check(transferred(err) == 0, "copy of unchanged files: %s" % err[-1500:])
check(len(sink.manifest_events("stored")) == n_events and
      version_count(s3, "rc/sync/") == 50, "copy of unchanged files made "
      "new versions")
name = sorted(files)[11]
check(get("rc/sync/" + name) == files[name], "copy of unchanged files: bytes")
sw.step("a second copy of the 50 unchanged files")

out, _ = rclone("ls", "vs:videos/rc")
got = sorted((ln.split(None, 1)[1], int(ln.split()[0]))
             for ln in out.splitlines())
want = sorted([("one/small.bin", 1024)] +
              [("sync/" + n, len(b)) for n, b in files.items()])
check(got == want, "rclone ls: %s" % out[:1500])
out, _ = rclone("lsf", "vs:videos/rc")
check(out.splitlines() == ["one/", "sync/"], "rclone lsf: %s" % out)
out, _ = rclone("lsf", "-R", "vs:videos/rc/sync")
check(sorted(ln for ln in out.splitlines() if not ln.endswith("/")) ==
      sorted(files), "rclone lsf -R: %s" % out[:1500])
out, _ = rclone("lsl", "vs:videos/rc/one")
check(out.split()[0] == "1024" and out.split()[-1] == "small.bin",
      "rclone lsl: %s" % out)
sw.step("ls, lsf, lsf -R, lsl")

# ---- an overwrite keeps the earlier version -------------------------------------
newer = pattern(1500, seed=53)
p_newer = os.path.join(work, "newer.bin")
with open(p_newer, "wb") as f:
    f.write(newer)
rclone("copyto", p_newer, "vs:videos/rc/one/small.bin")
check(get("rc/one/small.bin") == newer, "overwrite: the new bytes")
vs = s3.list_object_versions(Bucket="videos",
                             Prefix="rc/one/small.bin")["Versions"]
check([v["Size"] for v in vs] == [1500, 1024], "versions: %s" % vs)
out, _ = rclone("lsf", "--s3-versions", "vs:videos/rc/one")
names = out.splitlines()
old = [n for n in names if re.match(r"small-v\d{4}-\d\d-\d\d-\d{6}-\d{3}"
                                    r"\.bin$", n)]
check("small.bin" in names and len(old) == 1,
      "lsf --s3-versions: %s" % names)
sw.step("overwrite, lsf --s3-versions")
# (rclone 1.60 finds an old version through a listing of its folder: a
# path naming the version directly is not found, it asks for the key's
# versions and then takes the name for a folder)
r = subprocess.run(RC + ["cat", "--s3-versions", "--include", old[0],
                         "vs:videos/rc/one"], capture_output=True, env=env,
                   timeout=60)
check(r.returncode == 0 and r.stdout == small,
      "cat --s3-versions of the old version: %d bytes, %s" %
      (len(r.stdout), r.stderr[-800:]))
sw.step("cat --s3-versions of the old version")

# ---- delete: one file, then a whole folder; the versions survive --------------
rclone("deletefile", "vs:videos/rc/one/small.bin")
out, _ = rclone("lsf", "vs:videos/rc/one")
check(out.strip() == "", "deletefile: still listed %s" % out)
rclone("delete", "vs:videos/rc/sync")
out, _ = rclone("lsf", "-R", "vs:videos/rc")
check(out.strip() == "", "delete: still listed %s" % out[:800])
deleted = sink.manifest_events("deleted")
check(len([e for e in deleted if e["key"].startswith("rc/sync/")]) == 50 and
      len([e for e in deleted if e["key"] == "rc/one/small.bin"]) == 1,
      "deleted events: %s" % [e["key"] for e in deleted][:60])
check(version_count(s3, "rc/sync/") == 100, "after delete: %d" %
      version_count(s3, "rc/sync/"))
check(get("rc/one/small.bin", VersionId=vs[1]["VersionId"]) == small,
      "after deletefile the old version is gone")
name = sorted(files)[3]
ver = stored_of(sink, "rc/sync/" + name)[0]["versionId"]
check(get("rc/sync/" + name, VersionId=ver) == files[name],
      "after delete a version is gone")
# purge on a versioned bucket removes every version by versionId: refused
# (403 AccessDenied without --allow-purge), and nothing is lost
r = subprocess.run(RC + ["purge", "vs:videos/rc/sync"], capture_output=True,
                   env=env, timeout=120)
check(r.returncode != 0 and b"AccessDenied" in r.stderr,
      "purge without --allow-purge: %d %s" % (r.returncode, r.stderr[-800:]))
check(version_count(s3, "rc/sync/") == 100 and
      not sink.manifest_events("purged"), "purge removed something")
sw.step("deletefile, delete; purge refused")

# ---- multipart: 1 KiB, 20 MiB, 200 MiB up and down ------------------------------
src = ClientFiles("c-rclone", seed=54)
sw.step("made the 1 KiB / 20 MiB / 200 MiB files")
MP = ["--s3-upload-cutoff", "100M", "--s3-chunk-size", "5M"]
_, err = rclone("copy", *MP, src.dir, "vs:videos/rc/up", timeout=300)
check(transferred(err) == 3, "copy up: %s" % err[-1500:])
events = sink.manifest_events("stored")
for n in src.names():
    ev = check_stored_once(sink, "rc/up/" + n, src.sha[n], src.size[n],
                           "copy up", events=events)
    etag = s3.head_object(Bucket="videos", Key="rc/up/" + n)["ETag"]
    want = md5_etag(src.path[n]) if src.size[n] < 100 * MiB else \
        multipart_etag(src.path[n], PART)
    check(etag == want and ev.get("etag") == want.strip('"'),
          "%s: ETag %s (event %s), want %s" % (n, etag, ev.get("etag"), want))
sw.step("copy up (200 MiB multipart)")
back = os.path.join(work, "back")
_, err = rclone("copy", "vs:videos/rc/up", back, timeout=300)
check(transferred(err) == 3, "copy down: %s" % err[-1500:])
for n in src.names():
    check(file_sha256(os.path.join(back, n)) == src.sha[n],
          "copy down: %s differs" % n)
shutil.rmtree(back)
sw.step("copy down, SHA-256 compared")

# the second run on unchanged files: nothing changes
n_events = len(sink.manifest_events())
_, err = rclone("copy", *MP, src.dir, "vs:videos/rc/up", timeout=300)
check(transferred(err) == 0, "second copy transferred: %s" % err[-1500:])
check(len(sink.manifest_events()) == n_events and
      version_count(s3, "rc/up/") == 3, "second copy made new versions")
for n in src.names():
    h = s3.head_object(Bucket="videos", Key="rc/up/" + n)
    check(h["ContentLength"] == src.size[n], "second copy: %s is %d bytes" %
          (n, h["ContentLength"]))
check(sha256(get("rc/up/20m.bin")) == src.sha["20m.bin"],
      "second copy: the 20 MiB object's bytes changed")
sw.step("second copy of unchanged files: nothing changes")

# s3 -> s3, server side, in parts: UploadPartCopy
rclone("copyto", "--s3-copy-cutoff", "8M", "vs:videos/rc/up/20m.bin",
       "vs:videos/rc/copy/20m.bin")
check_stored_once(sink, "rc/copy/20m.bin", src.sha["20m.bin"], 20 * MiB,
                  "copyto s3->s3")
check(sha256(get("rc/copy/20m.bin")) == src.sha["20m.bin"],
      "copyto s3->s3: bytes differ")
etag = s3.head_object(Bucket="videos", Key="rc/copy/20m.bin")["ETag"]
check(etag.endswith('-3"'), "multipart copy ETag %s" % etag)
sw.step("copyto s3->s3 20 MiB (UploadPartCopy)")

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
