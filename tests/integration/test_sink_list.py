"""Listing with real clients: ListObjectsV2, ListObjects (v1) and
ListObjectVersions from boto3 (every parameter, paginators over 2,500
keys), the AWS command line (ls, ls --recursive, sync of 50 files both
ways: the second sync transfers nothing), rclone (ls, lsf, sync both ways:
its own summary of the second run says nothing was transferred), s3cmd ls
and s4cmd ls; S3's order for keys that a directory walk would get wrong
("a", "a!", "a.b", "a/b"); S3's error codes for bad parameters.

Every expected listing is computed here from the keys put, sorted by their
UTF-8 bytes, which is S3's order."""
import atexit
import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.handlers

from vsharness import (Sink, check, boto3_client, KEY_ID, SECRET, tmpdir,
                       s3_error_code)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# the data on tmpfs when there is one: this test is about listing, and
# 2,600 fsynced PUTs take minutes on a disk
SHM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
data = tempfile.mkdtemp(prefix="vsink-it-list-", dir=SHM)
atexit.register(shutil.rmtree, data, True)
sink = Sink(data=data, tag="list").start()
s3 = boto3_client(sink)
ENDPOINT = sink.endpoint


def ordered(keys):
    return sorted(keys, key=lambda k: k.encode())


def put(key, body=None):
    return s3.put_object(Bucket="videos", Key=key,
                         Body=body if body is not None else key.encode())


# ---- the keys --------------------------------------------------------------
TRICKY = ["a", "a/b", "a!", "a.b", "a b", "a+b", "a-", "a/b/c", "a/b!",
          "a/b.c", "ab", "A", "@x", "@current/y", "\u00e9", "\u00e9/x",
          "\u20ac", "z~", "%41", "q&<>\"'.mp4", "v/2026/11/24/clip.mp4",
          "v/2026/11/24/clip.mp4.json", "v/2026/11/3"]
for k in TRICKY:
    put(k)
t0 = time.time()
BULK = ["bulk/%04d/%s" % (i // 100, "f%05d" % i) for i in range(2500)]


def put_range(lo, hi):
    c = boto3_client(sink)
    for k in BULK[lo:hi]:
        c.put_object(Bucket="videos", Key=k, Body=b"x" * (len(k) % 7))


import threading  # noqa: E402
threads = [threading.Thread(target=put_range, args=(i, i + 625))
           for i in range(0, 2500, 625)]
for t in threads:
    t.start()
for t in threads:
    t.join(600)
print("list: 2,500 keys put in %.1f s" % (time.time() - t0))
ALL = ordered(TRICKY + BULK)


def keys_of(resp):
    return [o["Key"] for o in resp.get("Contents", [])]


def prefixes_of(resp):
    return [p["Prefix"] for p in resp.get("CommonPrefixes", [])]


def expect_delimited(prefix, delim, after=None):
    """What S3 lists: keys and common prefixes, in order."""
    keys, cps = [], []
    for k in ALL:
        if not k.startswith(prefix) or (after and k.encode() <= after.encode()):
            continue
        rest = k[len(prefix):]
        if delim and delim in rest:
            cp = prefix + rest[:rest.index(delim) + len(delim)]
            if not cps or cps[-1] != cp:
                cps.append(cp)
        else:
            keys.append(k)
    return keys, cps


# ---- ListObjectsV2 with boto3 ------------------------------------------------
r = s3.list_objects_v2(Bucket="videos", Prefix="")
check(r["KeyCount"] == 1000 and r["IsTruncated"] and
      "NextContinuationToken" in r, "first page: %s" % {
          k: v for k, v in r.items() if k != "Contents"})
check(keys_of(r) == ALL[:1000], "first page order: %s" % keys_of(r)[:30])
check(r["Contents"][0]["StorageClass"] == "STANDARD" and
      "Owner" not in r["Contents"][0], "v2 lists no owner unless asked")
head = keys_of(s3.list_objects_v2(Bucket="videos", MaxKeys=12))
check(head == ALL[:12], "S3's order (a, a b, a!, a+b, a-, a.b, a/b...): %s"
      % head)
check(ALL.index("a!") < ALL.index("a.b") < ALL.index("a/b") <
      ALL.index("a/b!") < ALL.index("a/b.c") < ALL.index("a/b/c"),
      "the expected order itself")

# every parameter
for prefix, delim, after in [("a", "/", None), ("a/", "/", None),
                             ("", "/", None), ("bulk/", "/", None),
                             ("bulk/0007/", None, "bulk/0007/f00750"),
                             ("", None, "a/b"), ("v/2026/11/", "/", None),
                             ("\u00e9", None, None), ("", "!", None),
                             ("a", ".", None), ("nope/", "/", None),
                             ("", "/", "a/b"), ("", "/", "bulk/0003/f")]:
    kw = {"Bucket": "videos", "Prefix": prefix, "MaxKeys": 1000}
    if delim:
        kw["Delimiter"] = delim
    if after:
        kw["StartAfter"] = after
    r = s3.list_objects_v2(**kw)
    want_keys, want_cps = expect_delimited(prefix, delim, after)
    if after and delim:  # a start inside a common prefix skips all of it
        want_cps = [c for c in want_cps if not after.startswith(c)]
    page = ordered(want_keys + want_cps)[:1000]  # a page: 1,000 entries
    want_keys = [k for k in want_keys if k in page]
    want_cps = [c for c in want_cps if c in page]
    check(keys_of(r) == want_keys,
          "prefix %r delimiter %r start-after %r: keys %s, want %s" %
          (prefix, delim, after, keys_of(r)[:10], want_keys[:10]))
    check(prefixes_of(r) == want_cps, "prefix %r delimiter %r: prefixes %s, "
          "want %s" % (prefix, delim, prefixes_of(r), want_cps))
    check(r["KeyCount"] == len(want_keys) + len(want_cps),
          "KeyCount %d" % r["KeyCount"])
    check(r.get("Delimiter") == delim and r.get("Prefix") == prefix and
          r.get("StartAfter") == after, "echoed parameters: %s" % r)

r = s3.list_objects_v2(Bucket="videos", Prefix="a", FetchOwner=True,
                       MaxKeys=3)
check(all(o["Owner"]["DisplayName"] and len(o["Owner"]["ID"]) == 64
          for o in r["Contents"]), "fetch-owner: %s" % r["Contents"])
# what each entry says: the current version's ETag, size and time
put("a.b", b"a longer second version")
head_ab = s3.head_object(Bucket="videos", Key="a.b")
o = [x for x in s3.list_objects_v2(Bucket="videos", Prefix="a.b")["Contents"]]
check(len(o) == 1 and o[0]["ETag"] == head_ab["ETag"] and
      o[0]["Size"] == len(b"a longer second version") and
      abs((o[0]["LastModified"] - head_ab["LastModified"]).total_seconds())
      < 1, "entry vs HEAD: %s / %s" % (o, head_ab))

# continuation tokens: every page once, nothing twice, max-keys pages
pages, token, seen = 0, None, []
while pages < 100:
    kw = {"Bucket": "videos", "MaxKeys": 333, "Delimiter": "/",
          "Prefix": "bulk/0002/"}
    if token:
        kw["ContinuationToken"] = token
    r = s3.list_objects_v2(**kw)
    pages += 1
    seen += keys_of(r)
    check(r["KeyCount"] <= 333, "page over max-keys")
    if not r["IsTruncated"]:
        break
    token = r["NextContinuationToken"]
check(seen == [k for k in ALL if k.startswith("bulk/0002/")] and pages == 1,
      "100 keys under bulk/0002/ in one page of 333: %d pages" % pages)

# paginators: 2,500 keys + the rest, default pages, and small pages with a
# delimiter (common prefixes never repeated across pages)
got = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="videos"):
    got += keys_of(page)
check(got == ALL, "v2 paginator: %d keys, want %d" % (len(got), len(ALL)))
got, cps = [], []
for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket="videos", Delimiter="/", PaginationConfig={"PageSize": 3}):
    got += keys_of(page)
    cps += prefixes_of(page)
want_keys, want_cps = expect_delimited("", "/")
check(got == want_keys and cps == want_cps,
      "v2 paginator, delimiter, pages of 3: %s %s" % (got, cps))
got = []
for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket="videos", Prefix="bulk/", StartAfter="bulk/0010/f01000",
        PaginationConfig={"PageSize": 700}):
    got += keys_of(page)
check(got == [k for k in BULK if k > "bulk/0010/f01000"],
      "v2 paginator with start-after: %d" % len(got))

# encoding-type=url asked for by the caller (boto3 then leaves it encoded)
r = s3.list_objects_v2(Bucket="videos", Prefix="a", EncodingType="url",
                       Delimiter="/")
check(r.get("EncodingType") == "url", "EncodingType echoed")
enc = keys_of(r)
check("a%20b" in enc and "a%2Bb" in enc and "a%21" in enc,
      "url-encoded keys: %s" % enc)
check([urllib.parse.unquote_plus(k) for k in enc] ==
      expect_delimited("a", "/")[0], "encoded keys decode back")
r = s3.list_objects_v2(Bucket="videos", Prefix="\u00e9", EncodingType="url")
check(keys_of(r) == ["%C3%A9", "%C3%A9/x"], "UTF-8 encoded: %s" % keys_of(r))

# without encoding-type (boto3 adds it unless told not to): XML escapes
s3raw = boto3_client(sink)
for op in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
    s3raw.meta.events.unregister("before-parameter-build.s3." + op,
                                 botocore.handlers.set_list_objects_encoding_type_url)
r = s3raw.list_objects_v2(Bucket="videos", Prefix="q")
check(keys_of(r) == ["q&<>\"'.mp4"] and "EncodingType" not in r,
      "XML-escaped key: %s" % r.get("Contents"))
r = s3raw.list_objects_v2(Bucket="videos", Prefix="\u20ac")
check(keys_of(r) == ["\u20ac"], "UTF-8 key as XML text: %s" % keys_of(r))

# ---- ListObjects v1 ------------------------------------------------------------
r = s3.list_objects(Bucket="videos", MaxKeys=5)
check(keys_of(r) == ALL[:5] and r["IsTruncated"] and "NextMarker" not in r,
      "v1 without delimiter: %s" % r)
check(all("Owner" in o for o in r["Contents"]), "v1 lists the owner")
r = s3.list_objects(Bucket="videos", Marker=ALL[4], MaxKeys=5)
check(keys_of(r) == ALL[5:10] and r["Marker"] == ALL[4], "v1 marker")
r = s3.list_objects(Bucket="videos", Delimiter="/", MaxKeys=4)
want_keys, want_cps = expect_delimited("", "/")
merged = sorted(want_keys + want_cps, key=lambda k: k.encode())
check(sorted(keys_of(r) + prefixes_of(r), key=lambda k: k.encode()) ==
      merged[:4] and r["NextMarker"] == merged[3],
      "v1 delimiter: NextMarker %s, %s %s" % (r.get("NextMarker"),
                                              keys_of(r), prefixes_of(r)))
got, cps = [], []
for page in s3.get_paginator("list_objects").paginate(
        Bucket="videos", Delimiter="/", PaginationConfig={"PageSize": 2}):
    got += keys_of(page)
    cps += prefixes_of(page)
check(got == want_keys and cps == want_cps, "v1 paginator with delimiter")
got = []
for page in s3.get_paginator("list_objects").paginate(Bucket="videos"):
    got += keys_of(page)
check(got == ALL, "v1 paginator: %d keys" % len(got))

# ---- ListObjectVersions -----------------------------------------------------------
vids = [put("ver/k", b"v%d" % i)["VersionId"] for i in range(3)]
vids.reverse()  # S3 lists a key's versions newest first
put("ver/l")
ALL = ordered(ALL + ["ver/k", "ver/l"])
r = s3.list_object_versions(Bucket="videos", Prefix="ver/")
vs = r["Versions"]
check([(v["Key"], v["VersionId"], v["IsLatest"]) for v in vs] ==
      [("ver/k", vids[0], True), ("ver/k", vids[1], False),
       ("ver/k", vids[2], False), ("ver/l", vs[3]["VersionId"], True)],
      "versions: %s" % vs)
check(vs[1]["Size"] == 2 and vs[1]["ETag"].startswith('"') and
      vs[1]["StorageClass"] == "STANDARD" and "Owner" in vs[1],
      "a version's fields: %s" % vs[1])
check("DeleteMarkers" not in r, "no delete markers yet")
# resuming inside a key: key-marker + version-id-marker
r = s3.list_object_versions(Bucket="videos", Prefix="ver/", MaxKeys=2)
check(r["IsTruncated"] and r["NextKeyMarker"] == "ver/k" and
      r["NextVersionIdMarker"] == vids[1], "versions page 1: %s" % r)
r = s3.list_object_versions(Bucket="videos", Prefix="ver/", MaxKeys=2,
                            KeyMarker="ver/k", VersionIdMarker=vids[1])
check([v["VersionId"] for v in r["Versions"]] ==
      [vids[2], vs[3]["VersionId"]] and not r["IsTruncated"],
      "versions page 2: %s" % r.get("Versions"))
got = []
for page in s3.get_paginator("list_object_versions").paginate(
        Bucket="videos", PaginationConfig={"PageSize": 7}):
    got += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
want = []
for k in ALL:
    n = 3 if k == "ver/k" else 2 if k == "a.b" else 1
    want += [k] * n
check([k for k, _ in got] == want, "versions paginator: %d of %d" %
      (len(got), len(want)))
check(len(set(got)) == len(got), "no version listed twice")
r = s3.list_object_versions(Bucket="videos", Delimiter="/", Prefix="v")
check(prefixes_of(r) == ["v/", "ver/"] and "Versions" not in r,
      "versions with a delimiter: %s" % r)


# ---- errors: S3's codes, for requests signed here -----------------------------
def signed(query, bucket="videos"):
    """A presigned GET of the bucket with query, a list of (name, value),
    str or bytes, signed over host only."""
    now = time.gmtime()
    amz, day = time.strftime("%Y%m%dT%H%M%SZ", now), \
        time.strftime("%Y%m%d", now)
    scope = "%s/us-east-1/s3/aws4_request" % day
    q = [(k, v) for k, v in query] + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "%s/%s" % (KEY_ID, scope)),
        ("X-Amz-Date", amz), ("X-Amz-Expires", "600"),
        ("X-Amz-SignedHeaders", "host")]
    enc = sorted((urllib.parse.quote(k, safe="-_.~"),
                  urllib.parse.quote(v, safe="-_.~")) for k, v in q)
    qs = "&".join("%s=%s" % kv for kv in enc)
    creq = "\n".join(["GET", "/" + bucket, qs, "host:%s:%d" % (sink.host,
                      sink.port), "", "host", "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + SECRET).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return "%s/%s?%s&X-Amz-Signature=%s" % (ENDPOINT, bucket, qs, sig)


V2 = [("list-type", "2")]
before = sorted(os.listdir(os.path.join(data, "buckets", "videos")))
for query, status, code in [
        (V2 + [("max-keys", "-1")], 400, "InvalidArgument"),
        (V2 + [("max-keys", "abc")], 400, "InvalidArgument"),
        (V2 + [("max-keys", "99999999999")], 400, "InvalidArgument"),
        ([("max-keys", "")], 400, "InvalidArgument"),
        (V2 + [("continuation-token", "not-base64!")], 400,
         "InvalidArgument"),
        (V2 + [("continuation-token", "")], 400, "InvalidArgument"),
        (V2 + [("continuation-token", base64.b64encode(b"a\xffb").decode())],
         400, "InvalidArgument"),
        ([("list-type", "3")], 400, "InvalidArgument"),
        (V2 + [("encoding-type", "xml")], 400, "InvalidArgument"),
        (V2 + [("fetch-owner", "maybe")], 400, "InvalidArgument"),
        ([("versions", ""), ("version-id-marker", "x")], 400,
         "InvalidArgument"),
        (V2 + [("prefix", b"\xff")], 400, "InvalidArgument"),
        (V2 + [("delimiter", "\x01")], 400, "InvalidArgument"),
        (V2 + [("marker", "a")], 501, "NotImplemented"),
        ([("versions", ""), ("continuation-token", "YQ==")], 501,
         "NotImplemented")]:
    st, hdrs, body = sink.request("GET", signed(query))
    check(st == status and s3_error_code(body) == code,
          "%s: %d %s, want %d %s" % (query, st, body[:200], status, code))
st, _, body = sink.request("GET", signed(V2, bucket="nosuchbucket"))
check(st == 404 and s3_error_code(body) == "NoSuchBucket",
      "another bucket: %d %s" % (st, body[:200]))
st, _, body = sink.request("GET", signed(V2 + [("max-keys", "0")]))
root = ET.fromstring(body)
check(st == 200 and root.find(NS + "KeyCount").text == "0" and
      root.find(NS + "IsTruncated").text == "false" and
      root.find(NS + "MaxKeys").text == "0", "max-keys=0: %s" % body)
st, _, body = sink.request("GET", signed(V2 + [("max-keys", "5000")]))
root = ET.fromstring(body)
check(st == 200 and root.find(NS + "KeyCount").text == "1000" and
      root.find(NS + "MaxKeys").text == "1000", "max-keys capped at 1000")
# a token is opaque but ours decodes to where the page ended
tok = s3.list_objects_v2(Bucket="videos", MaxKeys=3)["NextContinuationToken"]
check(base64.b64decode(tok).decode() == ALL[2], "token")
check(sorted(os.listdir(os.path.join(data, "buckets", "videos"))) == before,
      "listing changed the bucket")
print("list: boto3 rows ok")

# ---- the AWS command line -------------------------------------------------------
home = tmpdir("list-home")
cenv = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
            HOME=home, AWS_CONFIG_FILE=os.path.join(home, "none"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"))
cenv.pop("AWS_CA_BUNDLE", None)  # rclone refuses one on plain HTTP
cenv.pop("AWS_PROFILE", None)


def run(cmd, timeout=300):
    r = subprocess.run(cmd, capture_output=True, env=cenv, timeout=timeout)
    check(r.returncode == 0, "%s: exit %d\n%s\n%s" % (
        " ".join(cmd[:6]), r.returncode, r.stdout.decode()[-2000:],
        r.stderr.decode()[-2000:]))
    return r.stdout.decode(), r.stderr.decode()


AWS = ["/usr/bin/aws", "--endpoint-url", ENDPOINT]
out, _ = run(AWS + ["s3", "ls", "s3://videos/"])
lines = out.splitlines()
want_keys, want_cps = expect_delimited("", "/")
check([ln.split()[-1] for ln in lines if ln.split()[0] == "PRE"] == want_cps,
      "aws s3 ls: PRE lines %s" % lines[:10])
check([ln.split(None, 3)[3] for ln in lines if ln.split()[0] != "PRE"] ==
      want_keys, "aws s3 ls: keys %s" % lines[:20])
out, _ = run(AWS + ["s3", "ls", "--recursive", "s3://videos/"])
check([ln.split(None, 3)[3] for ln in out.splitlines()] == ALL,
      "aws s3 ls --recursive: %d lines" % len(out.splitlines()))
out, _ = run(AWS + ["s3", "ls", "s3://videos/bulk/0003/f0030"])
check(len(out.splitlines()) == 10, "aws s3 ls with a partial prefix: %s" %
      out)

folder = os.path.join(tmpdir("list-sync"), "up")
os.makedirs(os.path.join(folder, "sub dir"))
files = {}
for i in range(50):
    name = ("sub dir/clip %02d+.mp4" if i % 5 == 0 else "clip%02d.mp4") % i
    files[name] = os.urandom(1024 + i)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(files[name])
old = time.time() - 3600  # older than anything the sink will store
for name in files:
    os.utime(os.path.join(folder, name), (old, old))
out, _ = run(AWS + ["s3", "sync", folder, "s3://videos/sync/"])
check(out.count("upload:") == 50, "first sync up: %s" % out[-500:])
out, _ = run(AWS + ["s3", "sync", folder, "s3://videos/sync/"])
check(out.strip() == "", "second sync up transferred: %s" % out[-500:])
ALL = ordered(ALL + ["sync/" + n for n in files])
down = os.path.join(os.path.dirname(folder), "down")
out, _ = run(AWS + ["s3", "sync", "s3://videos/sync/", down])
check(out.count("download:") == 50, "sync down: %s" % out[-500:])
for name, body in files.items():
    with open(os.path.join(down, name), "rb") as f:
        check(f.read() == body, "aws sync: %s differs" % name)
out, _ = run(AWS + ["s3", "sync", "s3://videos/sync/", down])
check(out.strip() == "", "second sync down transferred: %s" % out[-500:])
print("list: aws cli rows ok")

# ---- rclone ------------------------------------------------------------------------
cenv.update({"RCLONE_CONFIG_VS_TYPE": "s3", "RCLONE_CONFIG_VS_PROVIDER": "Other",
             "RCLONE_CONFIG_VS_ENDPOINT": ENDPOINT,
             "RCLONE_CONFIG_VS_ACCESS_KEY_ID": KEY_ID,
             "RCLONE_CONFIG_VS_SECRET_ACCESS_KEY": SECRET,
             "RCLONE_CONFIG_VS_REGION": "us-east-1",
             "RCLONE_CONFIG_VS_FORCE_PATH_STYLE": "true"})
RC = ["rclone", "--config", os.path.join(home, "rclone.conf"),
      "--s3-no-check-bucket"]
for lv in ("1", "2"):
    out, _ = run(RC + ["--s3-list-version", lv, "ls", "vs:videos/bulk/0004"])
    check(sorted(ln.split()[1] for ln in out.splitlines()) ==
          [k[len("bulk/0004/"):] for k in BULK if k.startswith("bulk/0004/")],
          "rclone ls (list v%s): %s" % (lv, out[:300]))
    out, _ = run(RC + ["--s3-list-version", lv, "lsf", "vs:videos/v/2026/11"])
    check(out.splitlines() == ["24/", "3"], "rclone lsf (list v%s): %s" %
          (lv, out))
    out, _ = run(RC + ["--s3-list-version", lv, "lsf", "vs:videos/bulk"])
    check(out.splitlines() == ["%04d/" % i for i in range(25)],
          "rclone lsf (list v%s): %s" % (lv, out[:300]))


def transferred(stderr):
    """rclone's own count of files transferred, from its final summary
    ("Transferred: 50 / 50, 100%"; none when nothing was)."""
    n = None
    for ln in stderr.splitlines():
        if "There was nothing to transfer" in ln:
            n = 0
        m = re.match(r"Transferred:\s+(\d+) / \d+, ", ln)
        if m:
            n = int(m.group(1))
    return n


def rclone_sync(src, dst, *flags):
    _, err = run(RC + ["sync", "-v"] + list(flags) + [src, dst])
    return transferred(err), err


# --checksum: size and MD5, both from the listing (ETag), nothing else
n, err = rclone_sync(folder, "vs:videos/rc", "--checksum")
check(n == 50, "rclone sync up: %s\n%s" % (n, err[-1500:]))
n, err = rclone_sync(folder, "vs:videos/rc", "--checksum")
check(n == 0, "rclone second sync up transferred %s\n%s" % (n, err[-1500:]))
rdown = os.path.join(os.path.dirname(folder), "rdown")
n, err = rclone_sync("vs:videos/rc", rdown, "--checksum")
check(n == 50, "rclone sync down: %s\n%s" % (n, err[-1500:]))
for name, body in files.items():
    with open(os.path.join(rdown, name), "rb") as f:
        check(f.read() == body, "rclone sync: %s differs" % name)
n, err = rclone_sync("vs:videos/rc", rdown, "--checksum")
check(n == 0, "rclone second sync down transferred %s\n%s" % (n, err[-1500:]))
n, err = rclone_sync("vs:videos/rc", rdown)  # size and mtime, from listing
check(n == 0, "rclone default sync down transferred %s\n%s" % (n, err[-1500:]))
# the default mode up: rclone keeps the mtime in x-amz-meta-mtime and, when
# it finds none, sets it with a copy of the object onto itself
r = subprocess.run(RC + ["sync", "-v", folder, "vs:videos/rc"],
                   capture_output=True, env=cenv, timeout=300)
err = r.stderr.decode()
if r.returncode and "CopyObject" in err and "NotImplemented" in err:
    print("list: rclone default-mode sync up not checked: it needs "
          "CopyObject or x-amz-meta-mtime, not listing")
else:
    check(r.returncode == 0 and transferred(err) == 0,
          "rclone default second sync up: %s\n%s" % (r.returncode,
                                                     err[-1500:]))
print("list: rclone rows ok")
ALL = ordered(ALL + ["rc/" + n for n in files])
want_keys, want_cps = expect_delimited("", "/")

# ---- s3cmd and s4cmd -----------------------------------------------------------------
cfg = os.path.join(home, "s3cfg")
with open(cfg, "w") as f:
    f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
            "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
            "bucket_location = us-east-1\n" % (KEY_ID, SECRET, ENDPOINT[7:],
                                               ENDPOINT[7:]))
out, _ = run(["s3cmd", "-c", cfg, "ls", "s3://videos/"])
dirs = [ln.split()[-1] for ln in out.splitlines() if ln.split()[0] == "DIR"]
check(dirs == ["s3://videos/" + c for c in want_cps], "s3cmd ls: %s" % dirs)
out, _ = run(["s3cmd", "-c", cfg, "ls", "-r", "s3://videos/sync/"])
check(len(out.splitlines()) == 50, "s3cmd ls -r: %s" % out[:500])
cenv.update({"S3_ACCESS_KEY": KEY_ID, "S3_SECRET_KEY": SECRET})
out, _ = run(["s4cmd", "--endpoint-url", ENDPOINT, "ls", "s3://videos/"])
dirs = [ln.split()[-1] for ln in out.splitlines() if ln.split()[0] == "DIR"]
check(dirs == ["s3://videos/" + c for c in want_cps], "s4cmd ls: %s" % out)
out, _ = run(["s4cmd", "--endpoint-url", ENDPOINT, "ls", "-r",
              "s3://videos/bulk/0001/"])
check(sorted(ln.split()[-1] for ln in out.splitlines()) ==
      ["s3://videos/" + k for k in BULK if k.startswith("bulk/0001/")],
      "s4cmd ls -r: %s" % out[:300])
print("list: s3cmd and s4cmd rows ok")

check(sink.stop() == 0, "sink exit status")
print("list: all rows ok")
sys.exit(0)
