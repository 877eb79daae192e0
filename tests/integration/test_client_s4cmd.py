"""s4cmd (Debian's 2.1, on /usr/bin/python3's boto3) against a real sink,
one complete workflow (issue 8, Proof):

- `put` of 1 KiB / 20 MiB / 200 MiB with s4cmd's own thresholds (one PUT
  each: it goes multipart only above 4.5 GiB), `get` of each (the 200 MiB
  one in ranged GETs: above 50 MiB s4cmd downloads in parts), SHA-256
  compared, one `stored` event each, the MD5 ETag;
- `cp` s3->s3, `mv`; `sync` of 50 small files up and back down (bytes
  compared), a second sync each way that changes nothing (s4cmd compares
  MD5s: no new version, no new event);
- `ls`, `ls -r`, `du -r`;
- an overwrite by `put -f` keeps the earlier version (read back by
  versionId with boto3: s4cmd has no version commands);
- `del` and `del -r`: delete markers, the versions survive;
- multipart: `put` of the 20 MiB file with `--max-singlepart-upload-size`
  and `--multipart-split-size` of 8 MiB (CreateMultipartUpload, UploadPart,
  CompleteMultipartUpload; S3's "-3" ETag), and `cp` s3->s3 of the 200 MiB
  object, above s4cmd's 100 MiB copy threshold (UploadPartCopy in 50 MiB
  parts)."""
import hashlib
import os
import shutil
import sys

from vsharness import (Sink, check, boto3_client, tmpdir, client_env, run_ok,
                       ClientFiles, small_folder, same_tree, file_sha256,
                       multipart_etag, md5_etag, check_stored_once, stored_of,
                       version_count, pattern, sha256, Stopwatch, MiB)

if not shutil.which("s4cmd"):
    print("SKIP: no s4cmd")
    sys.exit(77)

sw = Stopwatch("s4cmd")
sink = Sink(tag="c-s4cmd").start()
s3 = boto3_client(sink)
home = tmpdir("c-s4cmd-home")
env = client_env(sink, home)
work = tmpdir("c-s4cmd-work")
S4 = ["s4cmd", "--endpoint-url", sink.endpoint, "--retry", "1",
      "--num-threads", "4"]


def s4(*args, timeout=240):
    out, err = run_ok(S4 + list(args), env, timeout, what="s4cmd " +
                      " ".join(args[:2]))
    return out + err


def get(key, **kw):
    return s3.get_object(Bucket="videos", Key=key, **kw)["Body"].read()


# ---- 1 KiB, 20 MiB, 200 MiB with s4cmd's own thresholds ------------------------
src = ClientFiles("c-s4cmd", seed=71)
sw.step("made the 1 KiB / 20 MiB / 200 MiB files")
for n in src.names():
    s4("put", src.path[n], "s3://videos/s4/up/" + n, timeout=300)
events = sink.manifest_events("stored")
for n in src.names():
    check_stored_once(sink, "s4/up/" + n, src.sha[n], src.size[n], "put",
                      events=events)
    etag = s3.head_object(Bucket="videos", Key="s4/up/" + n)["ETag"]
    check(etag == md5_etag(src.path[n]), "%s: ETag %s" % (n, etag))
sw.step("put 1 KiB, 20 MiB, 200 MiB (one PUT each)")
for n in src.names():
    p = os.path.join(work, "back-" + n)
    s4("get", "s3://videos/s4/up/" + n, p, timeout=300)
    check(file_sha256(p) == src.sha[n], "get: %s differs" % n)
    os.unlink(p)
sw.step("get of each (200 MiB in ranged parts), SHA-256 compared")

# ---- cp, mv ---------------------------------------------------------------------
s4("cp", "s3://videos/s4/up/1k.bin", "s3://videos/s4/one/small.bin")
ev = check_stored_once(sink, "s4/one/small.bin", src.sha["1k.bin"], 1024,
                       "cp")
check(ev["source"] == "copy", "cp: event %s" % ev)
s4("mv", "s3://videos/s4/one/small.bin", "s3://videos/s4/one/moved.bin")
check(get("s4/one/moved.bin") == get("s4/up/1k.bin"), "mv: bytes")
check([e["key"] for e in sink.manifest_events("deleted")] ==
      ["s4/one/small.bin"], "mv: the source's delete marker")
check(get("s4/one/small.bin", VersionId=ev["versionId"]) ==
      get("s4/up/1k.bin"), "mv: the source's version is gone")
sw.step("cp, mv")

# ---- sync of 50 files both ways, and again: nothing changes ------------------
up = os.path.join(work, "sync")  # s4cmd puts the folder's name under the
files = small_folder(up, seed=72)  # target: s4/sync/...


def synced(out):
    """(transferred, skipped as synced) from s4cmd's "a => b" lines"""
    lines = [ln for ln in out.splitlines() if " => " in ln]
    skipped = [ln for ln in lines if ln.endswith(" (synced)")]
    return len(lines) - len(skipped), len(skipped)


out = s4("sync", up, "s3://videos/s4/")
check(synced(out) == (50, 0), "sync up: %s" % out[-800:])
events = sink.manifest_events("stored")
for name, body in files.items():
    check_stored_once(sink, "s4/sync/" + name, sha256(body), len(body),
                      "sync up", events=events)
n_events = len(events)
out = s4("sync", up, "s3://videos/s4/")
check(synced(out) == (0, 50), "second sync up: %s" % out[-800:])
check(len(sink.manifest_events("stored")) == n_events and
      version_count(s3, "s4/sync/") == 50,
      "second sync up made new versions: %s" % out[-800:])
os.makedirs(os.path.join(work, "down"))  # like cp -r: into down/sync/
down = os.path.join(work, "down", "sync")
out = s4("sync", "s3://videos/s4/sync", os.path.dirname(down))
check(synced(out) == (50, 0), "sync down: %s" % out[-800:])
check(same_tree(down, files), "sync down: other files or bytes")
mtimes = dict((n, os.stat(os.path.join(down, n)).st_mtime_ns) for n in files)
out = s4("sync", "s3://videos/s4/sync", os.path.dirname(down))
check(synced(out) == (0, 50), "second sync down: %s" % out[-800:])
check(same_tree(down, files) and mtimes == dict(
    (n, os.stat(os.path.join(down, n)).st_mtime_ns) for n in files),
    "second sync down rewrote files")
check(len(sink.manifest_events("stored")) == n_events,
      "a sync down stored something")
sw.step("sync 50 files up, down, twice each")

# ---- ls, du ------------------------------------------------------------------
out = s4("ls", "s3://videos/s4/")
check(sorted(ln.split()[-1] for ln in out.splitlines()) ==
      ["s3://videos/s4/one/", "s3://videos/s4/sync/", "s3://videos/s4/up/"]
      and all(ln.split()[0] == "DIR" for ln in out.splitlines()),
      "ls: %s" % out)
out = s4("ls", "-r", "s3://videos/s4/")
got = sorted((ln.split(None, 3)[3], int(ln.split(None, 3)[2]))
             for ln in out.splitlines())  # date, time, size, url
want = sorted([("s3://videos/s4/one/moved.bin", 1024)] +
              [("s3://videos/s4/up/" + n, src.size[n]) for n in src.names()] +
              [("s3://videos/s4/sync/" + n, len(b))
               for n, b in files.items()])
check(got == want, "ls -r: %s" % out[:1500])
out = s4("du", "-r", "s3://videos/s4/sync/")  # -r: sub folders too
check(int(out.split()[0]) == sum(len(b) for b in files.values()),
      "du: %s" % out)
sw.step("ls, ls -r, du")

# ---- an overwrite keeps the earlier version -------------------------------------
newer = pattern(1500, seed=73)
p_newer = os.path.join(work, "newer.bin")
with open(p_newer, "wb") as f:
    f.write(newer)
s4("put", "-f", p_newer, "s3://videos/s4/one/moved.bin")
check(get("s4/one/moved.bin") == newer, "put -f: the new bytes")
vs = s3.list_object_versions(Bucket="videos",
                             Prefix="s4/one/moved.bin")["Versions"]
check([v["Size"] for v in vs] == [1500, 1024], "versions: %s" % vs)
check(get("s4/one/moved.bin", VersionId=vs[1]["VersionId"]) ==
      get("s4/up/1k.bin"), "the old version's bytes")
sw.step("put -f overwrite; the old version reads back")

# ---- delete: one file, then a folder; the versions survive --------------------
s4("del", "s3://videos/s4/one/moved.bin")
s4("del", "-r", "s3://videos/s4/sync/")
live = s3.list_objects_v2(Bucket="videos", Prefix="s4/")
check(sorted(o["Key"] for o in live.get("Contents", [])) ==
      ["s4/up/" + n for n in sorted(src.names())],
      "after del: %s" % [o["Key"] for o in live.get("Contents", [])])
check(version_count(s3, "s4/sync/") == 100, "after del -r: %d" %
      version_count(s3, "s4/sync/"))
name = sorted(files)[9]
ver = stored_of(sink, "s4/sync/" + name)[0]["versionId"]
check(get("s4/sync/" + name, VersionId=ver) == files[name] and
      get("s4/one/moved.bin", VersionId=vs[0]["VersionId"]) == newer,
      "after del a version is gone")
sw.step("del, del -r")

# ---- multipart: a put in 8 MiB parts; a copy of 200 MiB in 50 MiB parts ---------
s4("put", "--max-singlepart-upload-size", str(8 * MiB),
   "--multipart-split-size", str(8 * MiB), src.path["20m.bin"],
   "s3://videos/s4/mp/20m.bin", timeout=300)
ev = check_stored_once(sink, "s4/mp/20m.bin", src.sha["20m.bin"], 20 * MiB,
                       "multipart put")
etag = s3.head_object(Bucket="videos", Key="s4/mp/20m.bin")["ETag"]
want = multipart_etag(src.path["20m.bin"], 8 * MiB)
check(etag == want and ev.get("etag") == want.strip('"'),
      "multipart put: ETag %s (event %s), want %s" % (etag, ev.get("etag"),
                                                      want))
check(hashlib.sha256(get("s4/mp/20m.bin")).hexdigest() == src.sha["20m.bin"],
      "multipart put: bytes")
sw.step("put 20 MiB in 8 MiB parts (multipart)")
s4("cp", "s3://videos/s4/up/200m.bin", "s3://videos/s4/mp/200m.bin",
   timeout=300)
check_stored_once(sink, "s4/mp/200m.bin", src.sha["200m.bin"], 200 * MiB,
                  "multipart cp")
p = os.path.join(work, "back-copy")
s4("get", "s3://videos/s4/mp/200m.bin", p, timeout=300)
check(file_sha256(p) == src.sha["200m.bin"], "multipart cp: bytes differ")
etag = s3.head_object(Bucket="videos", Key="s4/mp/200m.bin")["ETag"]
check(etag == multipart_etag(src.path["200m.bin"], 50 * MiB),
      "multipart cp: ETag %s" % etag)
sw.step("cp s3->s3 200 MiB (UploadPartCopy)")

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
