"""POST /hooks/...: three defects of issue 7, each checked against a real
`vsink serve`.
- 7: a header-signed hook's x-amz-content-sha256 must match the body (400
  XAmzContentSHA256Mismatch, nothing recorded, no de-dup marker);
  UNSIGNED-PAYLOAD and presigned hooks carry no payload hash.
- 13: a chunked hook body over 1 MiB is not read to its end: a body just over
  the limit gets its 400, a 64 MiB one has its connection closed after at
  most a small drain (measured: the server's bytes_in, the client's sends).
- 14: de-duplication is keyed on the exact values: videoUUIDs a.b and a_b
  are two results, errors differing only in message or parameter are two
  failures; markers of the earlier scheme are honoured only where exact."""
import json
import os
import socket
import time

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vsharness import KEY_ID, SECRET, Sink, check, fail, s3_error_code

LIMIT = 1024 * 1024
DRAIN = 64 * 1024          # hooks.c HOOK_DRAIN
PIECE = 64 * 1024          # the most one handler call can be given (generous)
JSON = {"Content-Type": "application/json"}


def uuid(n):
    return "%08x-8d1a-4f3b-9c5d-7e8f9a0b1c2d" % n


def item(task, video, **kw):
    d = {"taskType": "videoInference", "taskUUID": task, "status": "success",
         "videoUUID": video, "videoURL": "https://example.invalid/v.mp4",
         "seed": 7, "cost": 0.0668}
    d.update(kw)
    return d


def data(task, video):
    return json.dumps({"data": [item(task, video)]}).encode()


def errors(task, code, message, parameter=None):
    e = {"code": code, "message": message, "taskUUID": task,
         "taskType": "videoInference", "status": "error"}
    if parameter is not None:
        e["parameter"] = parameter
    return json.dumps({"errors": [e]}).encode()


def chunked(body, piece=PIECE):
    out = b""
    for i in range(0, len(body), piece):
        c = body[i:i + piece]
        out += b"%x\r\n%s\r\n" % (len(c), c)
    return out + b"0\r\n\r\n"


sink = Sink(tag="hookhard").start()


def events(kind, task):
    return [e for e in sink.manifest_events(kind) if e.get("taskUUID") == task]


def post(task, body, headers=JSON):
    return sink.request("POST", sink.presign("POST", "hooks/" + task), body,
                        headers)


# ---- defect 7: header-signed hooks, the payload hash is checked -----------
class Unsigned(S3SigV4Auth):
    def _should_sha256_sign_payload(self, request):
        return False


def header_signed(task, signed_body, unsigned=False):
    """Headers a real SigV4 client (botocore) sends for a POST of
    signed_body to the hook: the payload hash is of signed_body, or
    UNSIGNED-PAYLOAD."""
    req = AWSRequest(method="POST", url=sink.endpoint + "/hooks/" + task,
                     data=signed_body, headers=dict(JSON))
    auth = (Unsigned if unsigned else S3SigV4Auth)(
        Credentials(KEY_ID, SECRET), "s3", "us-east-1")
    auth.add_auth(req)
    return dict(req.headers.items())


T7 = uuid(7)
good, other = data(T7, uuid(71)), data(T7, uuid(72))
check(len(good) == len(other), "same length bodies")
h = header_signed(T7, good)
check(h["X-Amz-Content-SHA256"] not in ("UNSIGNED-PAYLOAD", ""),
      "botocore signed the payload: %s" % h)
url = sink.endpoint + "/hooks/" + T7

# a body that is not the signed one: refused, nothing recorded
st, _, out = sink.request("POST", url, other, h)
check(st == 400 and s3_error_code(out) == "XAmzContentSHA256Mismatch",
      "a body other than the signed one: %d %s" % (st, out[:300]))
check(b"x-amz-content-sha256" in out, "the message names the header: %s" % out)
check(events("result", T7) == [], "the mismatched body was recorded")
# the same, chunked (no Content-Length): the hash is checked at the end
st, _, out = sink.request("POST", url, chunked(other, 100),
                          dict(h, **{"Transfer-Encoding": "chunked"}))
check(st == 400 and s3_error_code(out) == "XAmzContentSHA256Mismatch",
      "chunked, a body other than the signed one: %d %s" % (st, out[:300]))
check(events("result", T7) == [], "the mismatched chunked body was recorded")

# the signed body itself: recorded; and the refused ones left no marker, so
# a correct delivery of the body that was refused is recorded too
st, _, out = sink.request("POST", url, good, h)
check(st == 200, "the signed body: %d %s" % (st, out[:300]))
st, _, out = sink.request("POST", url, other, header_signed(T7, other))
check(st == 200, "the other body, signed: %d %s" % (st, out[:300]))
got = sorted(e["videoUUID"] for e in events("result", T7))
check(got == [uuid(71), uuid(72)], "results after the refusals: %s" % got)

# UNSIGNED-PAYLOAD stays accepted (header form), and presigned hooks too
hu = header_signed(T7, b"ignored", unsigned=True)
check(hu["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD", "unsigned: %s" % hu)
st, _, out = sink.request("POST", url, data(T7, uuid(73)), hu)
check(st == 200, "UNSIGNED-PAYLOAD: %d %s" % (st, out[:300]))
st, _, out = post(T7, data(T7, uuid(74)))
check(st == 200, "presigned: %d %s" % (st, out[:300]))
check(len(events("result", T7)) == 4, "four results for T7")
print("ok  header-signed hooks: payload hash checked, unsigned and presigned "
      "accepted")


# ---- defect 13: a chunked body over the limit -------------------------------
T13 = uuid(13)
pad = b'{"data":[' + b" " * (LIMIT + 1000) + b"]}"
st, _, out = post(T13, chunked(pad), dict(JSON, **{"Transfer-Encoding":
                                                   "chunked"}))
check(st == 400 and s3_error_code(out) == "EntityTooLarge",
      "chunked, just over 1 MiB: %d %s" % (st, out[:300]))


def flood(task, total=64 << 20, piece=64 * 1024):
    """Sends a chunked body of `total` bytes; returns (bytes of body the
    client got into the socket, the response's status line or None)."""
    from urllib.parse import urlsplit
    u = urlsplit(sink.presign("POST", "hooks/" + task))
    s = socket.create_connection((sink.host, sink.port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    s.sendall(("POST %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: "
               "application/json\r\nTransfer-Encoding: chunked\r\n\r\n" %
               (u.path, u.query, sink.host, sink.port)).encode())
    chunk = b"%x\r\n%s\r\n" % (piece, b" " * piece)
    sent = 0
    try:
        for _ in range(total // piece):  # bounded
            s.sendall(chunk)
            sent += piece
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection
    status = None
    try:
        line = s.makefile("rb").readline()
        status = line.decode(errors="replace").strip() or None
    except OSError:
        pass
    s.close()
    return sent, status


t0 = time.time()
sent, status = flood(T13)
took = time.time() - t0


def request_lines(path, n):
    """The request log's lines for path, once there are n (each is written
    when its request is over, which may be just after its answer)."""
    for _ in range(100):  # bounded: 10 s
        got = [l for l in sink.log_lines() if l.get("msg") == "request" and
               l.get("path") == path]
        if len(got) >= n:
            return got
        time.sleep(0.1)
    fail("%d request log lines for %s: %s" % (n, path, got))


line = request_lines("/hooks/" + T13, 2)
read = line[-1]["bytes_in"]
print("measure 64 MiB chunked hook: client got %d bytes into the socket, "
      "server read %d bytes (limit %d + drain %d), status %s, %.2f s" %
      (sent, read, LIMIT, DRAIN, status, took))
check(sent < 16 << 20, "the server read the chunked body on: the client sent "
      "%d bytes (%s)" % (sent, status))
check(LIMIT < read <= LIMIT + DRAIN + PIECE,
      "server read %d bytes of a body over the limit" % read)
check(events("result", T13) == [] and events("failed", T13) == [],
      "an oversize body was recorded")
st, _, _ = sink.request("GET", sink.endpoint + "/healthz")
check(st == 200, "healthz after the flood: %d" % st)
print("ok  chunked bodies over 1 MiB: precise 400 just over, closed after "
      "a bounded drain")

# ---- defect 14: de-duplication on the exact values ------------------------
T14 = uuid(14)
for video in ("a.b", "a_b", "a/b", "a.b"):
    st, _, out = post(T14, data(T14, video))
    check(st == 200, "result %s: %d %s" % (video, st, out[:300]))
got = sorted(e["videoUUID"] for e in events("result", T14))
check(got == ["a.b", "a/b", "a_b"], "distinct videoUUIDs, once each: %s" % got)

for code, msg, param in (("timeoutProvider", "took too long", None),
                         ("timeoutProvider", "took much too long", None),
                         ("invalidParameter", "bad", "width"),
                         ("invalidParameter", "bad", "height"),
                         ("timeoutProvider", "took too long", None),
                         ("invalidParameter", "bad", "width")):
    st, _, out = post(T14, errors(T14, code, msg, param))
    check(st == 200, "error %s: %d %s" % (code, st, out[:300]))
got = sorted((e["code"], e.get("message"), e.get("parameter"))
             for e in events("failed", T14))
check(got == [("invalidParameter", "bad", "height"),
              ("invalidParameter", "bad", "width"),
              ("timeoutProvider", "took much too long", None),
              ("timeoutProvider", "took too long", None)],
      "errors keyed on code, message and parameter, once each: %s" % got)

# markers of the earlier scheme (state/hooks/<task>/<name>): honoured only
# for a canonical UUID, where the old name was exact; "x_y" might have been
# written for "x.y" or "x_y", "error-C" for any error with code C
T14b = uuid(141)
V = uuid(142)
sink.stop()
legacy = os.path.join(sink.data, "state", "hooks", T14b)
os.makedirs(legacy, exist_ok=True)
for name in (V, "x_y", "error-quotaExceeded"):
    open(os.path.join(legacy, name), "w").close()
sink.start()
for body in (data(T14b, V), data(T14b, "x.y"),
             errors(T14b, "quotaExceeded", "over quota")):
    st, _, out = post(T14b, body)
    check(st == 200, "after the old markers: %d %s" % (st, out[:300]))
got = [e["videoUUID"] for e in events("result", T14b)]
check(got == ["x.y"], "old marker honoured for the UUID only: %s" % got)
check([e["code"] for e in events("failed", T14b)] == ["quotaExceeded"],
      "an old error marker dropped a fresh error")
# and the new markers hold across the restart
n = len(sink.manifest_events())
for task, body in ((T14, data(T14, "a.b")), (T14b, data(T14b, "x.y")),
                   (T14, errors(T14, "timeoutProvider", "took too long"))):
    st, _, out = post(task, body)
    check(st == 200, "redelivery after restart: %d %s" % (st, out[:300]))
check(len(sink.manifest_events()) == n, "a redelivery after restart was "
      "recorded again")
print("ok  de-duplication on the exact values; old markers only where exact")
check(sink.stop() == 0, "sink exit status")
