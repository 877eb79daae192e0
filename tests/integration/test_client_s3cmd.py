"""s3cmd (Debian's 2.3, SigV4, path style) against a real sink, one
complete workflow (issue 8, Proof):

- `put` and `get` of a 1 KiB file (one PUT; s3cmd checks the MD5 ETag),
  `info`, `cp` s3->s3;
- `sync` of 50 small files up and back down (bytes compared), a second
  sync each way that changes nothing (no new version, no new event);
- `ls`, `ls -r`, `du`;
- an overwrite by `put` keeps the earlier version (read back by versionId
  with boto3: s3cmd has no version commands);
- `del` and `del --recursive --force`: delete markers, versions survive;
- multipart, above s3cmd's 15 MiB threshold: `put` of 20 MiB and 200 MiB
  in 15 MiB parts, `get` of each, SHA-256 compared, one `stored` event
  each with the whole object's SHA-256, S3's "-N" ETag; `multipart`
  (ListMultipartUploads), `listmp` (ListParts) and `abortmp`
  (AbortMultipartUpload) on an upload left open."""
import hashlib
import os
import shutil
import sys

from vsharness import (Sink, check, boto3_client, tmpdir, client_env, run_ok,
                       KEY_ID, SECRET, ClientFiles, small_folder, same_tree,
                       file_sha256, multipart_etag, md5_etag,
                       check_stored_once, stored_of, version_count, pattern,
                       sha256, Stopwatch, MiB)

if not shutil.which("s3cmd"):
    print("SKIP: no s3cmd")
    sys.exit(77)

sw = Stopwatch("s3cmd")
sink = Sink(tag="c-s3cmd").start()
s3 = boto3_client(sink)
home = tmpdir("c-s3cmd-home")
env = client_env(sink, home)
work = tmpdir("c-s3cmd-work")
cfg = os.path.join(home, "s3cfg")
hostport = sink.endpoint[len("http://"):]
with open(cfg, "w") as f:
    f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
            "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
            "bucket_location = us-east-1\nmultipart_chunk_size_mb = 15\n"
            "socket_timeout = 60\nmax_retries = 1\n" %
            (KEY_ID, SECRET, hostport, hostport))
S3CMD = ["s3cmd", "-c", cfg]
PART = 15 * MiB


def s3cmd(*args, timeout=240):
    return run_ok(S3CMD + list(args), env, timeout, what="s3cmd " +
                  " ".join(args[:2]))[0]


def get(key, **kw):
    return s3.get_object(Bucket="videos", Key=key, **kw)["Body"].read()


# ---- one small file, one PUT ------------------------------------------------------
small = pattern(1024, seed=61)
p_small = os.path.join(work, "small.bin")
with open(p_small, "wb") as f:
    f.write(small)
s3cmd("put", p_small, "s3://videos/s3cmd/one/small.bin")
check(get("s3cmd/one/small.bin") == small, "put 1 KiB: bytes")
check_stored_once(sink, "s3cmd/one/small.bin", sha256(small), 1024, "put")
back = os.path.join(work, "small.back")
s3cmd("get", "s3://videos/s3cmd/one/small.bin", back)
with open(back, "rb") as f:
    check(f.read() == small, "get 1 KiB: bytes")
out = s3cmd("info", "s3://videos/s3cmd/one/small.bin")
check(md5_etag(p_small).strip('"') in out and "1024" in out,
      "info: %s" % out)
s3cmd("cp", "s3://videos/s3cmd/one/small.bin",
      "s3://videos/s3cmd/copy/small.bin")
check(get("s3cmd/copy/small.bin") == small, "cp s3->s3: bytes")
ev = check_stored_once(sink, "s3cmd/copy/small.bin", sha256(small), 1024,
                       "cp")
check(ev["source"] == "copy", "cp: event %s" % ev)
sw.step("put, get, info, cp of 1 KiB")

# ---- sync of 50 files both ways, and again: nothing changes ------------------
up = os.path.join(work, "up")
files = small_folder(up, seed=62)
out = s3cmd("sync", up + "/", "s3://videos/s3cmd/sync/")
check(out.count("upload:") == 50, "sync up: %s" % out[-800:])
events = sink.manifest_events("stored")
for name, body in files.items():
    check_stored_once(sink, "s3cmd/sync/" + name, sha256(body), len(body),
                      "sync up", events=events)
n_events = len(events)
out = s3cmd("sync", up + "/", "s3://videos/s3cmd/sync/")
check("upload:" not in out, "second sync up transferred: %s" % out[-800:])
check(len(sink.manifest_events("stored")) == n_events and
      version_count(s3, "s3cmd/sync/") == 50,
      "second sync up made new versions")
down = os.path.join(work, "down")
os.makedirs(down)
out = s3cmd("sync", "s3://videos/s3cmd/sync/", down + "/")
check(out.count("download:") == 50, "sync down: %s" % out[-800:])
check(same_tree(down, files), "sync down: other files or bytes")
out = s3cmd("sync", "s3://videos/s3cmd/sync/", down + "/")
check("download:" not in out, "second sync down: %s" % out[-800:])
check(same_tree(down, files), "second sync down changed the folder")
check(len(sink.manifest_events("stored")) == n_events,
      "a sync down stored something")
sw.step("sync 50 files up, down, twice each")

# ---- ls --------------------------------------------------------------------
out = s3cmd("ls", "s3://videos/s3cmd/")
check(sorted(ln.split()[-1] for ln in out.splitlines()) ==
      ["s3://videos/s3cmd/copy/", "s3://videos/s3cmd/one/",
       "s3://videos/s3cmd/sync/"] and
      all(ln.split()[0] == "DIR" for ln in out.splitlines()),
      "ls: %s" % out)
out = s3cmd("ls", "-r", "s3://videos/s3cmd/")
rows = [ln.split(None, 3) for ln in out.splitlines()]
got = sorted((r[3], int(r[2])) for r in rows)
want = sorted([("s3://videos/s3cmd/one/small.bin", 1024),
               ("s3://videos/s3cmd/copy/small.bin", 1024)] +
              [("s3://videos/s3cmd/sync/" + n, len(b))
               for n, b in files.items()])
check(got == want, "ls -r: %s" % out[:1500])
out = s3cmd("du", "s3://videos/s3cmd/sync/")
check(int(out.split()[0]) == sum(len(b) for b in files.values()),
      "du: %s" % out)
sw.step("ls, ls -r, du")

# ---- an overwrite keeps the earlier version -------------------------------------
newer = pattern(1500, seed=63)
p_newer = os.path.join(work, "newer.bin")
with open(p_newer, "wb") as f:
    f.write(newer)
s3cmd("put", p_newer, "s3://videos/s3cmd/one/small.bin")
check(get("s3cmd/one/small.bin") == newer, "overwrite: the new bytes")
vs = s3.list_object_versions(Bucket="videos",
                             Prefix="s3cmd/one/small.bin")["Versions"]
check([v["Size"] for v in vs] == [1500, 1024], "versions: %s" % vs)
check(get("s3cmd/one/small.bin", VersionId=vs[1]["VersionId"]) == small,
      "the old version's bytes")
sw.step("overwrite; the old version reads back")

# ---- delete: one file, then a folder; the versions survive --------------------
s3cmd("del", "s3://videos/s3cmd/one/small.bin")
out = s3cmd("del", "--recursive", "--force", "s3://videos/s3cmd/sync/")
check(out.count("delete:") == 50, "del --recursive: %s" % out[-800:])
out = s3cmd("ls", "-r", "s3://videos/s3cmd/")
check([ln.split()[-1] for ln in out.splitlines()] ==
      ["s3://videos/s3cmd/copy/small.bin"], "after del: %s" % out)
deleted = sink.manifest_events("deleted")
check(len([e for e in deleted if e["key"].startswith("s3cmd/sync/")]) == 50
      and len([e for e in deleted if e["key"] == "s3cmd/one/small.bin"]) ==
      1, "deleted events: %s" % [e["key"] for e in deleted][:60])
check(version_count(s3, "s3cmd/sync/") == 100, "after del --recursive: %d"
      % version_count(s3, "s3cmd/sync/"))
check(get("s3cmd/one/small.bin", VersionId=vs[1]["VersionId"]) == small and
      get("s3cmd/one/small.bin", VersionId=vs[0]["VersionId"]) == newer,
      "after del the versions are gone")
sw.step("del, del --recursive")

# ---- multipart: 20 MiB and 200 MiB in 15 MiB parts --------------------------------
src = ClientFiles("c-s3cmd", seed=64)
sw.step("made the 1 KiB / 20 MiB / 200 MiB files")
for n in src.names():
    s3cmd("put", src.path[n], "s3://videos/s3cmd/up/" + n, timeout=300)
events = sink.manifest_events("stored")
for n in src.names():
    ev = check_stored_once(sink, "s3cmd/up/" + n, src.sha[n], src.size[n],
                           "put", events=events)
    etag = s3.head_object(Bucket="videos", Key="s3cmd/up/" + n)["ETag"]
    want = md5_etag(src.path[n]) if src.size[n] < PART else \
        multipart_etag(src.path[n], PART)
    check(etag == want and ev.get("etag") == want.strip('"'),
          "%s: ETag %s (event %s), want %s" % (n, etag, ev.get("etag"), want))
sw.step("put 1 KiB, 20 MiB, 200 MiB (multipart)")
for n in src.names():
    p = os.path.join(work, "back-" + n)
    s3cmd("get", "s3://videos/s3cmd/up/" + n, p, timeout=300)
    check(file_sha256(p) == src.sha[n], "get: %s differs" % n)
    os.unlink(p)
sw.step("get of each, SHA-256 compared")

# an upload left open: listed, its parts listed, aborted
key = "s3cmd/open/clip.mp4"
uid = s3.create_multipart_upload(Bucket="videos", Key=key)["UploadId"]
part = pattern(MiB, seed=65)
s3.upload_part(Bucket="videos", Key=key, UploadId=uid, PartNumber=1,
               Body=part)
out = s3cmd("multipart", "s3://videos/")
check(uid in out and "s3://videos/" + key in out, "multipart: %s" % out)
out = s3cmd("listmp", "s3://videos/" + key, uid)
check(hashlib.md5(part).hexdigest() in out and str(MiB) in out,
      "listmp: %s" % out)
s3cmd("abortmp", "s3://videos/" + key, uid)
check(not s3.list_multipart_uploads(Bucket="videos").get("Uploads"),
      "abortmp: the upload is still listed")
check(not stored_of(sink, key), "an aborted upload has an event")
sw.step("multipart, listmp, abortmp")

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
