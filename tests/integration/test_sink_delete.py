"""Delete with real clients (issue 8): DeleteObject and DeleteObjects add
delete markers as S3 does in a versioned bucket. boto3: delete_object (the
marker's headers), get/head after it (404 NoSuchKey with
x-amz-delete-marker), older versions still served by versionId, the
marker's versionId 405 MethodNotAllowed, a put after a delete, a delete of
a missing key (a marker, as S3), delete_objects quiet and verbose,
listings (ListObjectsV2/V1 hide deleted keys, ListObjectVersions shows
DeleteMarker entries); purge (DELETE ?versionId=) refused without
--allow-purge, refused under --retention, done with it (files gone, a
`purged` event, @current repaired); error rows (malformed XML, missing
Content-MD5, bad Content-MD5, more than 1000 keys, too large) leave
nothing; manifest events; the aws cli (s3 rm, rm --recursive, sync
--delete), rclone (delete, sync) and s3cmd del; a marker whose event is
durable survives a kill -9 and a restart."""
import base64
import hashlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from vsharness import (Sink, check, boto3_client, KEY_ID, SECRET, tmpdir,
                       s3_error_code)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def err_of(fn):
    try:
        fn()
    except Exception as e:  # botocore ClientError
        if not hasattr(e, "response"):
            raise
        return (e.response["Error"].get("Code"),
                e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["ResponseMetadata"]["HTTPHeaders"])
    return None


def raw(sink, method, path, body=b"", headers=None):
    """A request signed here with botocore's SigV4 (body hash signed)."""
    url = sink.endpoint + path
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers=dict(headers or {}))
    creds = botocore.credentials.Credentials(KEY_ID, SECRET)
    botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    return sink.request(method, url, body=body, headers=dict(req.headers))


def md5_b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def key_files(sink, key, bucket="videos"):
    d = os.path.join(sink.data, "buckets", bucket, *key.split("/"))
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def delete_body(keys, quiet=False):
    objs = "".join("<Object><Key>%s</Key>%s</Object>" % (
        k.replace("&", "&amp;").replace("<", "&lt;"),
        "<VersionId>%s</VersionId>" % v if v else "")
        for k, v in keys)
    return ('<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.'
            'amazonaws.com/doc/2006-03-01/">%s%s</Delete>' % (
                "<Quiet>true</Quiet>" if quiet else "", objs)).encode()


sink = Sink(tag="delete").start()
s3 = boto3_client(sink)

# ---- DeleteObject: a marker --------------------------------------------------------
v1 = s3.put_object(Bucket="videos", Key="a/clip.mp4", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket="videos", Key="a/clip.mp4", Body=b"two")["VersionId"]
r = s3.delete_object(Bucket="videos", Key="a/clip.mp4")
check(r["ResponseMetadata"]["HTTPStatusCode"] == 204 and
      r.get("DeleteMarker") is True and r.get("VersionId") not in
      (None, v1, v2), "delete_object: %s" % r)
marker = r["VersionId"]
e = err_of(lambda: s3.get_object(Bucket="videos", Key="a/clip.mp4"))
check(e and e[:2] == ("NoSuchKey", 404) and
      e[2].get("x-amz-delete-marker") == "true", "get after delete: %s" % (e,))
e = err_of(lambda: s3.head_object(Bucket="videos", Key="a/clip.mp4"))
check(e and e[1] == 404 and e[2].get("x-amz-delete-marker") == "true",
      "head after delete: %s" % (e,))
check(e[2].get("x-amz-version-id") == marker,
      "the 404 names the marker, as S3's: %s" % (e,))
for v, body in ((v1, b"one"), (v2, b"two")):
    got = s3.get_object(Bucket="videos", Key="a/clip.mp4", VersionId=v)
    check(got["Body"].read() == body, "older version %s after delete" % v)
e = err_of(lambda: s3.get_object(Bucket="videos", Key="a/clip.mp4",
                                 VersionId=marker))
check(e and e[:2] == ("MethodNotAllowed", 405) and
      e[2].get("x-amz-delete-marker") == "true" and
      e[2].get("x-amz-version-id") == marker, "get the marker: %s" % (e,))
e = err_of(lambda: s3.head_object(Bucket="videos", Key="a/clip.mp4",
                                  VersionId=marker))
check(e and e[1] == 405, "head the marker: %s" % (e,))
# the marker: an empty data file and its metadata, nothing else
files = key_files(sink, "a/clip.mp4")
check("@" + marker in files and "@%s.json" % marker in files and
      os.path.getsize(os.path.join(sink.data, "buckets/videos/a/clip.mp4",
                                   "@" + marker)) == 0, "files: %s" % files)
ev = [x for x in sink.manifest_events("deleted")]
check(len(ev) == 1 and ev[0]["key"] == "a/clip.mp4" and
      ev[0]["bucket"] == "videos" and ev[0]["versionId"] == marker and
      ev[0].get("deleteMarker") is True, "deleted event: %s" % ev)
# a put after the delete is current again; If-None-Match: * passes (the
# key holds no object while a marker is current, as in S3)
v3 = s3.put_object(Bucket="videos", Key="a/clip.mp4", Body=b"three",
                   IfNoneMatch="*")["VersionId"] \
    if "IfNoneMatch" in s3.meta.service_model.operation_model(
        "PutObject").input_shape.members else \
    s3.put_object(Bucket="videos", Key="a/clip.mp4", Body=b"three")["VersionId"]
check(s3.get_object(Bucket="videos", Key="a/clip.mp4")["Body"].read() ==
      b"three", "put after delete")
# a delete of a key that never held anything: 204 and a marker (S3 does)
r = s3.delete_object(Bucket="videos", Key="never/there")
check(r["ResponseMetadata"]["HTTPStatusCode"] == 204 and
      r.get("DeleteMarker") is True, "delete of a missing key: %s" % r)
# a delete of a deleted key: one more marker
s3.put_object(Bucket="videos", Key="b.mp4", Body=b"b")
m1 = s3.delete_object(Bucket="videos", Key="b.mp4")["VersionId"]
m2 = s3.delete_object(Bucket="videos", Key="b.mp4")["VersionId"]
check(m1 != m2, "two markers")
print("delete: DeleteObject rows ok")

# ---- listings ----------------------------------------------------------------------
s3.put_object(Bucket="videos", Key="keep.mp4", Body=b"k")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="videos")
        .get("Contents", [])]
check(keys == ["a/clip.mp4", "keep.mp4"], "list v2 after deletes: %s" % keys)
keys = [o["Key"] for o in s3.list_objects(Bucket="videos")
        .get("Contents", [])]
check(keys == ["a/clip.mp4", "keep.mp4"], "list v1 after deletes: %s" % keys)
cps = [p["Prefix"] for p in s3.list_objects_v2(
    Bucket="videos", Delimiter="/").get("CommonPrefixes", [])]
check(cps == ["a/"], "no common prefix of deleted keys only: %s" % cps)
lv = s3.list_object_versions(Bucket="videos")
dms = [(d["Key"], d["VersionId"], d["IsLatest"])
       for d in lv.get("DeleteMarkers", [])]
check(("b.mp4", m2, True) in dms and ("b.mp4", m1, False) in dms and
      ("a/clip.mp4", marker, False) in dms and
      any(d[0] == "never/there" and d[2] for d in dms),
      "DeleteMarkers: %s" % dms)
vers = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in lv["Versions"]]
check(("a/clip.mp4", v3, True) in vers and ("a/clip.mp4", v1, False) in vers
      and ("b.mp4", m1, False) not in vers, "Versions: %s" % vers)
print("delete: listing rows ok")

# ---- DeleteObjects -------------------------------------------------------------------
for i in range(5):
    s3.put_object(Bucket="videos", Key="m/%d" % i, Body=b"x%d" % i)
r = s3.delete_objects(Bucket="videos", Delete={"Objects": [
    {"Key": "m/0"}, {"Key": "m/1"}, {"Key": "m/<&'\">"}]})
dl = {d["Key"]: d for d in r.get("Deleted", [])}
check(set(dl) == {"m/0", "m/1", "m/<&'\">"} and not r.get("Errors") and
      all(d["DeleteMarker"] and d["DeleteMarkerVersionId"]
          for d in dl.values()), "delete_objects verbose: %s" % r)
check(err_of(lambda: s3.get_object(Bucket="videos", Key="m/0"))[1] == 404,
      "m/0 deleted")
r = s3.delete_objects(Bucket="videos", Delete={"Quiet": True, "Objects": [
    {"Key": "m/2"}, {"Key": "m/3"}]})
check(not r.get("Deleted") and not r.get("Errors"), "quiet: %s" % r)
r = s3.delete_objects(Bucket="videos", Delete={"Objects": [
    {"Key": "m/4", "VersionId": "20200101T000000000Z-000000"},
    {"Key": "m/4"}]})
check([x["Key"] for x in r.get("Errors", [])] == ["m/4"] and
      r["Errors"][0]["Code"] == "AccessDenied" and
      [x["Key"] for x in r.get("Deleted", [])] == ["m/4"],
      "a version in DeleteObjects without --allow-purge: %s" % r)
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="videos",
                                             Prefix="m/").get("Contents", [])]
check(keys == [], "m/ after deletes: %s" % keys)
check(len(sink.manifest_events("deleted")) == 1 + 1 + 2 + 3 + 2 + 1,
      "deleted events: %d" % len(sink.manifest_events("deleted")))
print("delete: DeleteObjects rows ok")

# ---- error rows: nothing left behind -----------------------------------------------
s3.put_object(Bucket="videos", Key="e.mp4", Body=b"e")
n_events = len(sink.manifest_events())
before = sink.object_files()
good = delete_body([("e.mp4", None)])
rows = [
    ("malformed XML", b"<Delete><Object><Key>e.mp4</Key></Object>", None,
     400, "MalformedXML"),
    ("not XML", b"e.mp4", None, 400, "MalformedXML"),
    ("no Object", b"<Delete></Delete>", None, 400, "MalformedXML"),
    ("Object without Key", b"<Delete><Object></Object></Delete>", None,
     400, "MalformedXML"),
    ("unknown element", b"<Delete><Object><Key>e.mp4</Key><X/></Object>"
     b"</Delete>", None, 400, "MalformedXML"),
    ("bad entity", b"<Delete><Object><Key>e&bogus;</Key></Object></Delete>",
     None, 400, "MalformedXML"),
    ("1001 keys", delete_body([("k%d" % i, None) for i in range(1001)]), None,
     400, "MalformedXML"),
    ("missing Content-MD5", good, {}, 400, "InvalidRequest"),
    ("wrong Content-MD5", good, {"Content-MD5": md5_b64(b"other")}, 400,
     "BadDigest"),
    ("malformed Content-MD5", good, {"Content-MD5": "nope"}, 400,
     "InvalidDigest"),
    ("ETag condition", b"<Delete><Object><Key>e.mp4</Key><ETag>x</ETag>"
     b"</Object></Delete>", None, 501, "NotImplemented"),
]
for what, body, hdrs, status, code in rows:
    h = {"Content-MD5": md5_b64(body)} if hdrs is None else hdrs
    st, _, out = raw(sink, "POST", "/videos?delete", body, h)
    check((st, s3_error_code(out)) == (status, code),
          "%s: %d %s" % (what, st, out[:300]))
st, _, out = raw(sink, "POST", "/videos?delete",
                 b"<Delete>" + b" " * (2 << 20) + b"</Delete>",
                 {"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
check(st == 400 and s3_error_code(out) == "EntityTooLarge",
      "over 2 MiB: %d %s" % (st, out[:200]))
st, h, _ = raw(sink, "DELETE", "/videos/e.mp4?versionId=" + "x" * 26)
check(st == 403, "purge without --allow-purge: %d" % st)
v_e = s3.head_object(Bucket="videos", Key="e.mp4")["VersionId"]
st, _, out = raw(sink, "DELETE", "/videos/e.mp4?versionId=" + v_e)
check(st == 403 and s3_error_code(out) == "AccessDenied" and
      b"--allow-purge" in out, "purge refused: %d %s" % (st, out[:300]))
check(sink.object_files() == before and
      len(sink.manifest_events()) == n_events, "refusals left something")
# a body that decodes entities and character references
body = (b"<?xml version='1.0'?>\n<Delete xmlns='http://s3.amazonaws.com/doc/"
        b"2006-03-01/'>\n <Quiet>false</Quiet>\n <Object>\n  <Key>e&#46;mp&#x34;"
        b"</Key>\n </Object>\n</Delete>\n")
st, _, out = raw(sink, "POST", "/videos?delete", body,
                 {"x-amz-checksum-crc32": base64.b64encode(
                     (__import__("zlib").crc32(body)).to_bytes(4, "big"))
                  .decode()})
root = ET.fromstring(out)
check(st == 200 and root.find(NS + "Deleted/" + NS + "Key").text ==
      "e.mp4", "entities and a CRC32 instead of MD5: %d %s" % (st, out))
print("delete: error rows ok")

# ---- a marker survives kill -9 once its event is durable ---------------------------
s3.put_object(Bucket="videos", Key="k9.mp4", Body=b"k")
mk = s3.delete_object(Bucket="videos", Key="k9.mp4")["VersionId"]
sink.kill9()
sink.start()
s3 = boto3_client(sink)
e = err_of(lambda: s3.head_object(Bucket="videos", Key="k9.mp4"))
check(e and e[1] == 404, "marker after kill -9: %s" % (e,))
check(any(d["VersionId"] == mk for d in
          s3.list_object_versions(Bucket="videos", Prefix="k9")
          .get("DeleteMarkers", [])), "marker listed after restart")
check(not os.listdir(os.path.join(sink.data, ".intent")),
      "intents left: %s" % os.listdir(os.path.join(sink.data, ".intent")))
print("delete: restart rows ok")

# ---- real clients: aws cli, rclone, s3cmd ---------------------------------------
home = tmpdir("delete-home")
cenv = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
            HOME=home, AWS_CONFIG_FILE=os.path.join(home, "none"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"),
            RCLONE_CONFIG_VS_TYPE="s3", RCLONE_CONFIG_VS_PROVIDER="Other",
            RCLONE_CONFIG_VS_ENDPOINT=sink.endpoint,
            RCLONE_CONFIG_VS_ACCESS_KEY_ID=KEY_ID,
            RCLONE_CONFIG_VS_SECRET_ACCESS_KEY=SECRET,
            RCLONE_CONFIG_VS_REGION="us-east-1",
            RCLONE_CONFIG_VS_FORCE_PATH_STYLE="true")
cenv.pop("AWS_CA_BUNDLE", None)
cenv.pop("AWS_PROFILE", None)


def run(cmd, timeout=120):
    r = subprocess.run(cmd, capture_output=True, env=cenv, timeout=timeout)
    check(r.returncode == 0, "%s: exit %d\n%s\n%s" % (
        " ".join(cmd[:6]), r.returncode, r.stdout.decode()[-1500:],
        r.stderr.decode()[-1500:]))
    return r.stdout.decode()


def live(prefix):
    return sorted(o["Key"] for o in s3.list_objects_v2(
        Bucket="videos", Prefix=prefix).get("Contents", []))


def markers(prefix):
    return sorted(d["Key"] for d in s3.list_object_versions(
        Bucket="videos", Prefix=prefix).get("DeleteMarkers", [])
        if d["IsLatest"])


for i in range(4):
    s3.put_object(Bucket="videos", Key="cli/%d.mp4" % i, Body=b"c%d" % i)
AWS = ["/usr/bin/aws", "--endpoint-url", sink.endpoint]
run(AWS + ["s3", "rm", "s3://videos/cli/0.mp4"])
check(live("cli/") == ["cli/1.mp4", "cli/2.mp4", "cli/3.mp4"] and
      markers("cli/") == ["cli/0.mp4"], "aws s3 rm: %s" % live("cli/"))
run(AWS + ["s3", "rm", "--recursive", "s3://videos/cli/"])
check(live("cli/") == [] and len(markers("cli/")) == 4,
      "aws s3 rm --recursive: %s" % live("cli/"))
folder = os.path.join(home, "up")
os.makedirs(folder)
for n in ("x.mp4", "y.mp4", "z.mp4"):
    with open(os.path.join(folder, n), "wb") as f:
        f.write(n.encode())
run(AWS + ["s3", "sync", folder, "s3://videos/sync/"])
os.unlink(os.path.join(folder, "y.mp4"))
out = run(AWS + ["s3", "sync", "--delete", folder, "s3://videos/sync/"])
check("delete: s3://videos/sync/y.mp4" in out and
      live("sync/") == ["sync/x.mp4", "sync/z.mp4"],
      "aws s3 sync --delete: %s %s" % (out, live("sync/")))
print("delete: aws cli rows ok")
RC = ["rclone", "--config", os.path.join(home, "rclone.conf"),
      "--s3-no-check-bucket"]
run(RC + ["copy", folder, "vs:videos/rc"])
run(RC + ["delete", "vs:videos/rc", "--include", "x.mp4"])
check(live("rc/") == ["rc/z.mp4"], "rclone delete: %s" % live("rc/"))
run(RC + ["copy", folder, "vs:videos/rc2"])
os.unlink(os.path.join(folder, "z.mp4"))
run(RC + ["sync", folder, "vs:videos/rc2"])
check(live("rc2/") == ["rc2/x.mp4"] and markers("rc2/") == ["rc2/z.mp4"],
      "rclone sync: %s" % live("rc2/"))
print("delete: rclone rows ok")
cfg = os.path.join(home, "s3cfg")
with open(cfg, "w") as f:
    f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
            "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
            "bucket_location = us-east-1\n" % (
                KEY_ID, SECRET, sink.endpoint[7:], sink.endpoint[7:]))
s3.put_object(Bucket="videos", Key="s3cmd/a.mp4", Body=b"a")
s3.put_object(Bucket="videos", Key="s3cmd/b.mp4", Body=b"b")
run(["s3cmd", "-c", cfg, "del", "s3://videos/s3cmd/a.mp4"])
check(live("s3cmd/") == ["s3cmd/b.mp4"], "s3cmd del: %s" % live("s3cmd/"))
run(["s3cmd", "-c", cfg, "del", "--recursive", "--force",
     "s3://videos/s3cmd/"])
check(live("s3cmd/") == [], "s3cmd del --recursive: %s" % live("s3cmd/"))
print("delete: s3cmd rows ok")
check(sink.stop() == 0, "sink exit status")

# ---- purge: --allow-purge, --retention ----------------------------------------------
sink = Sink(data=sink.data, args=["--allow-purge"]).start()
s3 = boto3_client(sink)
p1 = s3.put_object(Bucket="videos", Key="p.mp4", Body=b"p1")["VersionId"]
p2 = s3.put_object(Bucket="videos", Key="p.mp4", Body=b"p2")["VersionId"]
r = s3.delete_object(Bucket="videos", Key="p.mp4", VersionId=p2)
check(r["ResponseMetadata"]["HTTPStatusCode"] == 204 and
      r.get("VersionId") == p2 and not r.get("DeleteMarker"),
      "purge: %s" % r)
check(s3.get_object(Bucket="videos", Key="p.mp4")["Body"].read() == b"p1",
      "@current back to the older version after the purge")
check("@" + p2 not in key_files(sink, "p.mp4") and
      "@%s.json" % p2 not in key_files(sink, "p.mp4"),
      "purged files: %s" % key_files(sink, "p.mp4"))
ev = sink.manifest_events("purged")
check(len(ev) == 1 and ev[0]["versionId"] == p2 and ev[0]["key"] ==
      "p.mp4" and ev[0]["bytes"] == 2, "purged event: %s" % ev)
pm = s3.delete_object(Bucket="videos", Key="p.mp4")["VersionId"]
r = s3.delete_object(Bucket="videos", Key="p.mp4", VersionId=pm)
check(r.get("DeleteMarker") is True and r.get("VersionId") == pm,
      "purge of a marker: %s" % r)
check(s3.get_object(Bucket="videos", Key="p.mp4")["Body"].read() == b"p1",
      "undeleted by purging the marker")
r = s3.delete_object(Bucket="videos", Key="p.mp4",
                     VersionId="20200101T000000000Z-000000")
check(r["ResponseMetadata"]["HTTPStatusCode"] == 204 and
      len(sink.manifest_events("purged")) == 2,
      "purge of a missing version: 204, nothing recorded")
q = s3.put_object(Bucket="videos", Key="q.mp4", Body=b"q")["VersionId"]
r = s3.delete_objects(Bucket="videos", Delete={"Objects": [
    {"Key": "q.mp4", "VersionId": q}]})
check([(d["Key"], d["VersionId"]) for d in r.get("Deleted", [])] ==
      [("q.mp4", q)] and key_files(sink, "q.mp4") == [],
      "purge in DeleteObjects: %s %s" % (r, key_files(sink, "q.mp4")))
check(sink.stop() == 0, "sink exit status")
sink = Sink(data=sink.data, args=["--allow-purge", "--retention", "1"]).start()
s3 = boto3_client(sink)
before = sink.object_files()
n_events = len(sink.manifest_events())
e = err_of(lambda: s3.delete_object(Bucket="videos", Key="p.mp4",
                                    VersionId=p1))
check(e and e[:2] == ("AccessDenied", 403), "purge under --retention: %s" %
      (e,))
st, _, out = raw(sink, "DELETE", "/videos/p.mp4?versionId=" + p1)
check(b"retention" in out, "the refusal says why: %s" % out)
check(sink.object_files() == before and
      len(sink.manifest_events()) == n_events, "retention refusal changed")
check(sink.stop() == 0, "sink exit status")
r = subprocess.run([os.environ["VSINK"], "serve", "--retention", "x"],
                   capture_output=True, timeout=30)
check(r.returncode != 0 and b"--retention" in r.stderr, "--retention x")
print("delete: purge rows ok")
