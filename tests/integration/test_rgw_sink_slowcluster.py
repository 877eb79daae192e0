"""A slow cluster must not stall the sink's other connections: with
`--store s3://`, what asks the cluster before a body is read is done on
the commit pool, not on the event thread that serves every other
connection: GET and HEAD's look-up of the version, a PUT's look at the
key's current object (If-None-Match, If-Match, --on-existing reject),
UploadPart's look-up of its upload, a copy's (CopyObject, UploadPartCopy)
look at its source and destination, and the multipart requests without a
body or with a small one (ListParts, ListMultipartUploads, Complete's
look-up of its upload, Abort) and GetObjectTagging. An upload that comes
faster than the cluster takes it waits with its connection parked (the
pump's pipe full), not its thread (aws-chunked too: the decoder stops
where the pipe is full); a slow one (written inline) has its cluster
upload made by the store's part threads and parks while its part slots
are all on their way to the cluster, and one cut mid-body is dropped
without waiting on the cluster. A GET whose bytes the cluster has not
sent yet waits with its connection suspended too.

The sink (one event thread) reaches a real Ceph RGW through a relay that,
once slowed, holds every request 3 s before passing it on. Requests are
sent at once; while they wait on the cluster, /healthz and a request the
sink refuses by itself (a bad signature) are answered at once, and the
requests then get their right answers. A PUT refused by the key's state
(412) or by an unreachable cluster (503) is still refused before its
body: the client that asked `Expect: 100-continue` gets no 100."""
import hashlib
import socket
import threading
import time
import urllib.parse
import urllib.request

import awschunked
from rgw import relayed_sink, start_or_skip
import vsharness as h

CLUSTER = "vsink-slow"
DELAY = 2.0


rgw = start_or_skip("slowcluster", 320)
s3 = rgw.client()
relay, sink = relayed_sink(rgw, CLUSTER, "slowcluster")
c = h.boto3_client(sink)
body = h.pattern(200000, seed=4)
c.put_object(Bucket="videos", Key="a.mp4", Body=body)


def refused_meanwhile():
    """/healthz and a refused request: their times."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(sink.endpoint + "/healthz",
                                    timeout=30) as r:
            h.check(r.status == 200, "healthz: %d" % r.status)
    except OSError as e:  # a stalled event thread may drop it unanswered
        h.fail("/healthz not answered while requests waited on the cluster "
               "(%.3f s): %r" % (time.monotonic() - t0, e))
    took_health = time.monotonic() - t0
    st, _, _ = sink.request("GET", "/videos/a.mp4", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDVSINKTEST0001/"
        "20261202/us-east-1/s3/aws4_request, SignedHeaders=host, "
        "Signature=00"})
    return took_health, st, time.monotonic() - t0 - took_health


def meanwhile(label, jobs, after=0.5):
    """Runs jobs (name: function returning True or what went wrong) at once
    against the slowed cluster; `after` seconds later, while they wait,
    the sink must serve others."""
    results = {}

    def run(name, fn):
        t0 = time.monotonic()
        try:
            ok = fn()
        except Exception as e:  # reported by the check below
            ok = repr(e)
        results[name] = (ok, round(time.monotonic() - t0, 3))

    threads = [threading.Thread(target=run, args=j) for j in jobs.items()]
    for t in threads:
        t.start()
    time.sleep(after)  # they are waiting on the cluster now
    took_health, st, took_refused = refused_meanwhile()
    print("while %d %s waited on the cluster: /healthz in %.3f s, a "
          "refused request (%d) in %.3f s" % (len(jobs), label, took_health,
                                             st, took_refused))
    h.check(took_health < DELAY / 2, "%s: /healthz waited on the cluster: "
            "%.3f s" % (label, took_health))
    h.check(400 <= st < 500 and took_refused < DELAY / 2,
            "%s: a refused request waited on the cluster: %d in %.3f s" %
            (label, st, took_refused))
    for t in threads:
        t.join(90)
    print("  %r" % results)
    h.check(len(results) == len(jobs) and
            all(v[0] is True for v in results.values()),
            "%s: every one answered right: %r" % (label, results))
    h.check(all(v[1] >= DELAY for v in results.values()),
            "%s: each did wait on the slowed cluster: %r" % (label, results))


def get_range():
    got = c.get_object(Bucket="videos", Key="a.mp4",
                       Range="bytes=10-99")["Body"].read()
    return got == body[10:100] or "wrong bytes"


def head():
    return c.head_object(Bucket="videos", Key="a.mp4")["ContentLength"] \
        == len(body) or "wrong length"


def put_if_none_match(key, data):
    st, _, b = sink.request("PUT", sink.presign_raw("PUT", "/videos/" + key),
                            body=data, headers={"If-None-Match": "*"})
    return st == 200 or "%d %s" % (st, b[:200])


def first_line_of_put(key, extra):
    """The first answer to a PUT of 10 MiB announced with Expect:
    100-continue, before any body byte is sent."""
    u = urllib.parse.urlsplit(sink.presign_raw("PUT", "/videos/" + key))
    s = socket.create_connection((sink.host, sink.port), timeout=60)
    try:
        s.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: "
                   "%d\r\nExpect: 100-continue\r\n%s\r\n" %
                   (u.path, u.query, sink.host, sink.port, 10 << 20,
                    "".join("%s: %s\r\n" % kv for kv in extra.items())))
                  .encode())
        return s.recv(4096).split(b"\r\n", 1)[0].decode()
    finally:
        s.close()


def refused_before_body():
    line = first_line_of_put("a.mp4", {"If-None-Match": "*"})
    return line.startswith("HTTP/1.1 412") or line


mpu = c.create_multipart_upload(Bucket="videos", Key="m.mp4")["UploadId"]
part = h.pattern(300000, seed=9)
PART_ETAG = '"%s"' % hashlib.md5(part).hexdigest()


def upload_part():
    r = c.upload_part(Bucket="videos", Key="m.mp4", UploadId=mpu,
                      PartNumber=1, Body=part)
    return r["ETag"] == PART_ETAG or r["ETag"]


mpu2 = c.create_multipart_upload(Bucket="videos", Key="m2.mp4")["UploadId"]


def copy():
    r = c.copy_object(Bucket="videos", Key="c.mp4",
                      CopySource={"Bucket": "videos", "Key": "a.mp4"})
    return r["CopyObjectResult"]["ETag"] == A_ETAG or repr(r)


def upload_part_copy():
    r = c.upload_part_copy(Bucket="videos", Key="m2.mp4", UploadId=mpu2,
                           PartNumber=1, CopySource={"Bucket": "videos",
                                                     "Key": "a.mp4"})
    return r["CopyPartResult"]["ETag"] == A_ETAG or repr(r)


mpu3 = c.create_multipart_upload(Bucket="videos", Key="m3.mp4")["UploadId"]
c.upload_part(Bucket="videos", Key="m3.mp4", UploadId=mpu3, PartNumber=1,
              Body=body)


def list_parts():
    got = c.list_parts(Bucket="videos", Key="m.mp4", UploadId=mpu)["Parts"]
    return [p["ETag"] for p in got] == [PART_ETAG] or repr(got)


def list_uploads():
    got = c.list_multipart_uploads(Bucket="videos").get("Uploads", [])
    return mpu in [u["UploadId"] for u in got] or repr(got)


def tagging():
    return c.get_object_tagging(Bucket="videos", Key="a.mp4")["TagSet"] \
        == [] or "tags"


def complete3():
    r = c.complete_multipart_upload(
        Bucket="videos", Key="m3.mp4", UploadId=mpu3,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": A_ETAG}]})
    return r["ETag"].endswith('-1"') or repr(r)


def abort2():
    c.abort_multipart_upload(Bucket="videos", Key="m2.mp4", UploadId=mpu2)
    return True


A_ETAG = '"%s"' % hashlib.md5(body).hexdigest()
BIG = h.pattern(48 << 20, seed=11)


def put_fast():
    """48 MiB at loopback speed: 6 parts of 8 MiB, 2 in flight at a time,
    each held by the relay: the pipe fills within the first second."""
    r = c.put_object(Bucket="videos", Key="big.mp4", Body=BIG)
    # (its ETag is the cluster's "-N" for now; the bytes are checked below)
    return r["ResponseMetadata"]["HTTPStatusCode"] == 200 or repr(r)


relay.slow(DELAY)
meanwhile("GET/HEAD", {"get0": get_range, "head1": head, "get2": get_range,
                       "head3": head})
meanwhile("PUT/UploadPart", {
    "put If-None-Match new": lambda: put_if_none_match("n1.mp4", body),
    "put If-None-Match empty": lambda: put_if_none_match("e.mp4", b""),
    "put If-None-Match taken, Expect": refused_before_body,
    "upload part": upload_part})
meanwhile("copies", {"copy": copy, "upload part copy": upload_part_copy})
meanwhile("multipart requests and tagging", {
    "list parts": list_parts, "list uploads": list_uploads,
    "tagging": tagging, "complete": complete3, "abort": abort2})

def healthz_during(label, fn):
    """/healthz again and again while fn runs: the longest wait."""
    out = {}
    t = threading.Thread(target=lambda: out.update(ok=fn()))
    t.start()
    worst, n = 0.0, 0
    while t.is_alive():
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(sink.endpoint + "/healthz",
                                        timeout=30) as r:
                r.read()
        except OSError as e:
            h.fail("%s: /healthz not answered: %r" % (label, e))
        worst = max(worst, time.monotonic() - t0)
        n += 1
        time.sleep(0.05)
    t.join()
    print("while %s: %d /healthz, the longest in %.3f s" % (label, n, worst))
    h.check(out.get("ok") is True, "%s: %r; the sink's log ends:\n%s" %
            (label, out.get("ok"), sink.log()[-4000:]))
    h.check(worst < DELAY / 2, "%s: /healthz waited %.3f s" % (label, worst))


SLOW = h.pattern(32 << 20, seed=12)


def metrics():
    with urllib.request.urlopen(sink.endpoint + "/metrics", timeout=30) as r:
        return dict(line.rsplit(" ", 1) for line in r.read().decode()
                    .splitlines() if line.startswith("vsink_") and " " in line)


def waiting_store():
    """/metrics' uploads and downloads waiting on the store."""
    m = metrics()
    return (int(m["vsink_uploads_waiting_store"]),
            int(m["vsink_downloads_waiting_store"]))


def pipe_waits():
    """/metrics' count of fast uploads' stops for a full pipe, by lane."""
    m = metrics()
    return {lane: int(m['vsink_pipe_waits_total{lane="%s"}' % lane])
            for lane in ("store", "sha256", "md5")}


def put_slow():
    """32 MiB at under 1 MiB/s on average (a pause of 25.5 s, then the
    rest at once): hashed and written inline, not in the pump. Its first
    part's cluster upload is made by the part threads; past 24 MiB all
    three of its part slots (one filling, two in flight) are held by the
    slowed cluster, and the connection must park until one frees, seen in
    /metrics as an upload waiting on the store, not a download."""
    u = urllib.parse.urlsplit(sink.presign_raw("PUT", "/videos/slow.mp4"))
    s = socket.create_connection((sink.host, sink.port), timeout=60)
    seen, stop = set(), threading.Event()

    def sample():
        while not stop.is_set():
            seen.add(waiting_store())
            time.sleep(0.1)

    t = threading.Thread(target=sample)
    try:
        s.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: "
                   "%d\r\n\r\n" % (u.path, u.query, sink.host, sink.port,
                                     len(SLOW))).encode() + SLOW[:65536])
        time.sleep(25.5)  # 24 MiB in more than 24 s: under the pump's rate
        t.start()
        s.sendall(SLOW[65536:])
        line = s.recv(4096).split(b"\r\n", 1)[0].decode()
        if not line.startswith("HTTP/1.1 200"):
            return line
        stop.set()
        t.join()
        return (1, 0) in seen or "never seen parked: %r" % seen
    finally:
        stop.set()
        s.close()


def put_cut():
    """48 MiB announced, 30 sent fast, then the client goes away while the
    upload waits on the cluster: dropping it (a lane inside the store's
    write, parts in flight, the cluster upload to abort) must not hold the
    event thread; /healthz is polled on until that upload is gone."""
    u = urllib.parse.urlsplit(sink.presign_raw("PUT", "/videos/cut.mp4"))
    s = socket.create_connection((sink.host, sink.port), timeout=60)
    s.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d"
               "\r\n\r\n" % (u.path, u.query, sink.host, sink.port,
                               len(BIG))).encode())
    s.sendall(BIG[:30 << 20])
    deadline = time.monotonic() + 30
    while not cut_uploads():  # its first part is on its way
        if time.monotonic() > deadline:
            return "the cut PUT's cluster upload was never made"
        time.sleep(0.1)
    s.close()
    deadline = time.monotonic() + 60
    while cut_uploads():
        if time.monotonic() > deadline:
            return "the cut PUT's cluster upload was not aborted"
        time.sleep(0.2)
    return True


def cut_uploads():
    return [u for u in s3.list_multipart_uploads(Bucket=CLUSTER).get(
        "Uploads", []) if u["Key"].endswith("/cut.mp4")]


def put_chunked():
    """The same 48 MiB as signed aws-chunked (64 KiB chunks): the decoder
    stops where the pipe is full and takes up there once resumed."""
    path = "/videos/chunked.mp4"
    hd, k, amz, scope, seed = awschunked.sign_request(
        sink, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        {"Content-Encoding": "aws-chunked",
         "x-amz-decoded-content-length": str(len(BIG))})
    st, _, b = sink.request("PUT", sink.endpoint + path, CHUNKED_BODY(
        k, amz, scope, seed), hd, timeout=120)
    return st == 200 or "%d %s" % (st, b[:300])


def CHUNKED_BODY(k, amz, scope, seed):
    return awschunked.signed_body(k, amz, scope, seed, BIG, 65536)


before = pipe_waits()
healthz_during("a 48 MiB PUT outran the slowed cluster", put_fast)
after = pipe_waits()
# the pipe filled, and what held it was the store (the cluster), not a hash
h.check(after["store"] > before["store"] and
        after["store"] - before["store"] >
        (after["sha256"] - before["sha256"]) +
        (after["md5"] - before["md5"]),
        "pipe waits before %s, after %s: the store not counted as what the "
        "upload waited on" % (before, after))
healthz_during("an aws-chunked 48 MiB PUT outran the slowed cluster",
               put_chunked)


def get_big():
    """48 MiB streamed from the cluster, whose answer the relay holds: the
    answer waits with its connection suspended, not in read()."""
    got = c.get_object(Bucket="videos", Key="big.mp4")["Body"].read()
    return got == BIG or "wrong bytes (%d)" % len(got)


healthz_during("a GET waited on the slowed cluster", get_big)
healthz_during("a PUT cut while it waited on the cluster", put_cut)
healthz_during("a slow 32 MiB PUT filled its part slots", put_slow)
relay.slow(0)

# the new object is there, once; the taken key still holds the first one
h.check(c.get_object(Bucket="videos", Key="n1.mp4")["Body"].read() == body,
        "n1.mp4 stored")
h.check(len(h.stored_of(sink, "n1.mp4")) == 1, "n1.mp4 recorded once")
h.check(len(h.stored_of(sink, "a.mp4")) == 1, "a.mp4 not stored again")
h.check(c.head_object(Bucket="videos", Key="e.mp4")["ContentLength"] == 0,
        "the empty e.mp4 stored")
c.complete_multipart_upload(Bucket="videos", Key="m.mp4", UploadId=mpu,
                            MultipartUpload={"Parts": [
                                {"PartNumber": 1, "ETag": PART_ETAG}]})
h.check(c.get_object(Bucket="videos", Key="m.mp4")["Body"].read() == part,
        "m.mp4 completed from the part sent while the cluster was slow")
h.check(c.get_object(Bucket="videos", Key="c.mp4")["Body"].read() == body,
        "c.mp4 copied while the cluster was slow")
h.check(c.get_object(Bucket="videos", Key="m3.mp4")["Body"].read() == body,
        "m3.mp4 completed while the cluster was slow")
h.check(c.get_object(Bucket="videos", Key="big.mp4")["Body"].read() == BIG,
        "big.mp4 stored whole while the cluster was slow")
h.check(c.get_object(Bucket="videos", Key="chunked.mp4")["Body"].read() ==
        BIG, "chunked.mp4 stored whole while the cluster was slow")
h.check(c.get_object(Bucket="videos", Key="slow.mp4")["Body"].read() == SLOW,
        "slow.mp4 stored whole while the cluster was slow")
h.check(not s3.list_object_versions(Bucket=CLUSTER, Prefix="n/videos/cut")
        .get("Versions") and h.stored_of(sink, "cut.mp4") == [],
        "nothing of the cut PUT")
h.check(mpu2 not in [u["UploadId"] for u in c.list_multipart_uploads(
    Bucket="videos").get("Uploads", [])], "m2.mp4's upload aborted")

# the cluster gone: a conditional PUT is refused (503) before its body
relay.down(True)
t0 = time.monotonic()
line = first_line_of_put("n2.mp4", {"If-None-Match": "*"})
print("cluster down: conditional PUT answered %r in %.3f s" %
      (line, time.monotonic() - t0))
h.check(line.startswith("HTTP/1.1 503"),
        "a conditional PUT with the cluster down: %r, not 503 before the "
        "body" % line)
relay.down(False)
h.check(sink.stop() == 0, "sink stopped")
print("OK")
