"""The AWS command line (Debian's /usr/bin/aws, 2.9) against a real sink,
one complete workflow (issue 8, Proof):

- `s3 cp` of a 1 KiB file (one PUT), `s3api put-object
  --checksum-algorithm` CRC32 and SHA256 (the checksum is stored and
  returned with x-amz-checksum-mode: ENABLED; the CLI 2.9's `s3 cp` has no
  --checksum-algorithm);
- `s3 sync` of 50 small files up and back down (bytes compared), a second
  sync each way that changes nothing (no new version, no new event);
- `s3 ls` and `s3 ls --recursive`;
- an overwrite keeps the earlier version: `s3api list-object-versions`
  shows both, `s3api get-object --version-id` reads the old bytes back;
- `s3 rm` and `s3 rm --recursive`: delete markers, the versions survive;
- multipart, above the CLI's 8 MiB threshold: `s3 cp --recursive` of
  1 KiB / 20 MiB / 200 MiB up and down (SHA-256 compared, one `stored`
  event each with the whole object's SHA-256, the ETag S3's "-N" one),
  and `s3 cp` s3->s3 of the 20 MiB object (UploadPartCopy), with
  `--copy-props none` and with the default (which copies the tags too:
  GetObjectTagging).
Every command runs to a timeout; everything happens on 127.0.0.1."""
import base64
import hashlib
import json
import os
import sys
import zlib

from vsharness import (Sink, check, boto3_client, tmpdir, client_env, run_ok,
                       ClientFiles, small_folder, same_tree, file_sha256,
                       multipart_etag, md5_etag, check_stored_once, stored_of,
                       version_count, pattern, sha256, Stopwatch, MiB)

if not os.path.exists("/usr/bin/aws"):
    print("SKIP: no /usr/bin/aws")
    sys.exit(77)

sw = Stopwatch("awscli")
sink = Sink(tag="c-aws").start()
s3 = boto3_client(sink)
home = tmpdir("c-aws-home")
env = client_env(sink, home)
work = tmpdir("c-aws-work")
AWS = ["/usr/bin/aws", "--endpoint-url", sink.endpoint]
PART = 8 * MiB  # the CLI's multipart_threshold and multipart_chunksize


def aws(*args, timeout=180):
    return run_ok(AWS + list(args), env, timeout, what="aws " +
                  " ".join(args[:2]))[0]


def s3api(*args):
    return json.loads(aws("s3api", *args) or "{}")


def get(key, **kw):
    return s3.get_object(Bucket="videos", Key=key, **kw)["Body"].read()


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


# ---- one small file, one PUT; checksum algorithms ---------------------------
small = pattern(1024, seed=31)
p_small = os.path.join(work, "small.bin")
with open(p_small, "wb") as f:
    f.write(small)
aws("s3", "cp", p_small, "s3://videos/aws/one/small.bin")
check(get("aws/one/small.bin") == small, "s3 cp 1 KiB: bytes")
check_stored_once(sink, "aws/one/small.bin", sha256(small), 1024, "s3 cp")
check(s3.head_object(Bucket="videos", Key="aws/one/small.bin")["ETag"] ==
      '"%s"' % hashlib.md5(small).hexdigest(), "s3 cp 1 KiB: ETag not MD5")
sw.step("s3 cp 1 KiB")

# (the CLI 2.9's `s3 cp` has no --checksum-algorithm: s3api's commands do)
put = s3api("put-object", "--bucket", "videos", "--key", "aws/ck/crc32.bin",
            "--body", p_small, "--checksum-algorithm", "CRC32")
check(put.get("ChecksumCRC32") == crc32_b64(small),
      "put-object CRC32: %s" % put)
put = s3api("put-object", "--bucket", "videos", "--key", "aws/ck/sha256.bin",
            "--body", p_small, "--checksum-algorithm", "SHA256")
want_sha = base64.b64encode(hashlib.sha256(small).digest()).decode()
check(put.get("ChecksumSHA256") == want_sha, "put-object SHA256: %s" % put)
h = s3.head_object(Bucket="videos", Key="aws/ck/crc32.bin",
                   ChecksumMode="ENABLED")
check(h.get("ChecksumCRC32") == crc32_b64(small),
      "put-object --checksum-algorithm CRC32: head says %s, want %s" %
      (h.get("ChecksumCRC32"), crc32_b64(small)))
h = s3.head_object(Bucket="videos", Key="aws/ck/sha256.bin",
                   ChecksumMode="ENABLED")
check(h.get("ChecksumSHA256") == want_sha,
      "put-object --checksum-algorithm SHA256: head says %s" %
      h.get("ChecksumSHA256"))
for k in ("aws/ck/crc32.bin", "aws/ck/sha256.bin"):
    check(get(k) == small, "%s: bytes" % k)
    check_stored_once(sink, k, sha256(small), 1024, k)
sw.step("s3api put-object --checksum-algorithm CRC32, SHA256")

# ---- sync of 50 files both ways, and again: nothing changes ------------------
up = os.path.join(work, "up")
files = small_folder(up, seed=32)
out = aws("s3", "sync", up, "s3://videos/aws/sync/")
check(out.count("upload:") == 50, "sync up: %s" % out[-800:])
events = sink.manifest_events("stored")
for name, body in files.items():
    check_stored_once(sink, "aws/sync/" + name, sha256(body), len(body),
                      "sync up", events=events)
n_events, n_versions = len(events), version_count(s3, "aws/sync/")
check(n_versions == 50, "sync up: %d versions" % n_versions)
out = aws("s3", "sync", up, "s3://videos/aws/sync/")
check(out.strip() == "", "second sync up transferred: %s" % out[-800:])
check(len(sink.manifest_events("stored")) == n_events and
      version_count(s3, "aws/sync/") == n_versions,
      "second sync up made new versions")
down = os.path.join(work, "down")
out = aws("s3", "sync", "s3://videos/aws/sync/", down)
check(out.count("download:") == 50, "sync down: %s" % out[-800:])
check(same_tree(down, files), "sync down: other files or bytes")
out = aws("s3", "sync", "s3://videos/aws/sync/", down)
check(out.strip() == "", "second sync down transferred: %s" % out[-800:])
check(same_tree(down, files), "second sync down changed the folder")
check(len(sink.manifest_events("stored")) == n_events,
      "a sync down stored something")
sw.step("s3 sync 50 files up, down, twice each")

# ---- ls --------------------------------------------------------------------
out = aws("s3", "ls", "s3://videos/aws/")
check(sorted(ln.split()[-1] for ln in out.splitlines()) ==
      ["ck/", "one/", "sync/"] and
      all(ln.split()[0] == "PRE" for ln in out.splitlines()),
      "s3 ls: %s" % out)
out = aws("s3", "ls", "--recursive", "s3://videos/aws/")
rows = [ln.split(None, 3) for ln in out.splitlines()]
want = sorted(["aws/one/small.bin", "aws/ck/crc32.bin", "aws/ck/sha256.bin"] +
              ["aws/sync/" + n for n in files], key=lambda k: k.encode())
check([r[3] for r in rows] == want, "s3 ls --recursive: %s" % out[:1500])
sizes = dict((r[3], int(r[2])) for r in rows)
check(all(sizes["aws/sync/" + n] == len(b) for n, b in files.items()),
      "s3 ls --recursive: sizes")
sw.step("s3 ls, s3 ls --recursive")

# ---- an overwrite keeps the earlier version -------------------------------------
newer = pattern(1500, seed=33)
p_newer = os.path.join(work, "newer.bin")
with open(p_newer, "wb") as f:
    f.write(newer)
aws("s3", "cp", p_newer, "s3://videos/aws/one/small.bin")
check(get("aws/one/small.bin") == newer, "overwrite: the new bytes")
vs = s3api("list-object-versions", "--bucket", "videos", "--prefix",
           "aws/one/small.bin")["Versions"]
check(len(vs) == 2 and [v["IsLatest"] for v in vs] == [True, False] and
      [v["Size"] for v in vs] == [1500, 1024],
      "list-object-versions after an overwrite: %s" % vs)
old_id = vs[1]["VersionId"]
check(old_id == stored_of(sink, "aws/one/small.bin")[0]["versionId"],
      "the old version's id is not its stored event's")
back = os.path.join(work, "old.bin")
got = s3api("get-object", "--bucket", "videos", "--key", "aws/one/small.bin",
            "--version-id", old_id, back)
with open(back, "rb") as f:
    check(f.read() == small and got.get("VersionId") == old_id,
          "get-object --version-id: other bytes (%s)" % got)
sw.step("overwrite, list-object-versions, get-object --version-id")

# ---- delete: single and recursive; the versions survive -------------------------
aws("s3", "rm", "s3://videos/aws/one/small.bin")
try:
    s3.head_object(Bucket="videos", Key="aws/one/small.bin")
    check(False, "s3 rm: the key still answers")
except s3.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] in ("404", "NoSuchKey"),
          "s3 rm: head %s" % e.response)
out = aws("s3", "rm", "--recursive", "s3://videos/aws/sync/")
check(out.count("delete:") == 50, "s3 rm --recursive: %s" % out[-800:])
live = s3.list_objects_v2(Bucket="videos", Prefix="aws/")
check(sorted(o["Key"] for o in live.get("Contents", [])) ==
      ["aws/ck/crc32.bin", "aws/ck/sha256.bin"], "after rm: %s" %
      [o["Key"] for o in live.get("Contents", [])])
deleted = sink.manifest_events("deleted")
check(len([e for e in deleted if e["key"].startswith("aws/sync/")]) == 50 and
      len([e for e in deleted if e["key"] == "aws/one/small.bin"]) == 1,
      "deleted events: %s" % [e["key"] for e in deleted][:60])
check(get("aws/one/small.bin", VersionId=old_id) == small,
      "after rm the old version is gone")
name = sorted(files)[7]
ver = stored_of(sink, "aws/sync/" + name)[0]["versionId"]
check(get("aws/sync/" + name, VersionId=ver) == files[name],
      "after rm --recursive a version is gone")
check(version_count(s3, "aws/sync/") == 100, "after rm --recursive: "
      "versions + markers %d" % version_count(s3, "aws/sync/"))
sw.step("s3 rm, s3 rm --recursive")

# ---- multipart: 1 KiB, 20 MiB, 200 MiB up and down ------------------------------
src = ClientFiles("c-aws", seed=34)
sw.step("made the 1 KiB / 20 MiB / 200 MiB files")
out = aws("s3", "cp", "--recursive", src.dir, "s3://videos/aws/up/",
          timeout=300)
check(out.count("upload:") == 3, "s3 cp --recursive up: %s" % out)
events = sink.manifest_events("stored")
for n in src.names():
    ev = check_stored_once(sink, "aws/up/" + n, src.sha[n], src.size[n],
                           "s3 cp up", events=events)
    etag = s3.head_object(Bucket="videos", Key="aws/up/" + n)["ETag"]
    want = md5_etag(src.path[n]) if src.size[n] < PART else \
        multipart_etag(src.path[n], PART)
    check(etag == want, "%s: ETag %s, want %s" % (n, etag, want))
    check(ev.get("etag") == want.strip('"'), "%s: the event's etag %s" %
          (n, ev.get("etag")))
sw.step("s3 cp --recursive up (20 MiB, 200 MiB multipart)")
back = os.path.join(work, "back")
out = aws("s3", "cp", "--recursive", "s3://videos/aws/up/", back,
          timeout=300)
check(out.count("download:") == 3, "s3 cp --recursive down: %s" % out)
for n in src.names():
    check(file_sha256(os.path.join(back, n)) == src.sha[n],
          "s3 cp down: %s differs" % n)
sw.step("s3 cp --recursive down, SHA-256 compared")

# s3 -> s3 above 8 MiB: CreateMultipartUpload + UploadPartCopy + Complete;
# first without the tags (--copy-props none), then as a user runs it: the
# CLI then reads the source's tags (GetObjectTagging) to copy them too
for props, key in ((["--copy-props", "none"], "aws/copy/20m-none.bin"),
                   ([], "aws/copy/20m.bin")):
    aws("s3", "cp", *props, "s3://videos/aws/up/20m.bin", "s3://videos/" + key)
    ev = check_stored_once(sink, key, src.sha["20m.bin"],
                           src.size["20m.bin"], "s3 cp s3->s3")
    h = s3.head_object(Bucket="videos", Key=key)
    check(h["ETag"] == multipart_etag(src.path["20m.bin"], PART),
          "multipart copy ETag %s" % h["ETag"])
    got = hashlib.sha256(get(key)).hexdigest()
    check(got == src.sha["20m.bin"], "s3 cp s3->s3 of 20 MiB: bytes differ")
    sw.step("s3 cp %s s3->s3 20 MiB (UploadPartCopy)" % " ".join(props))

check(not sink.temp_files(), "temporary files left: %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
sw.total()
