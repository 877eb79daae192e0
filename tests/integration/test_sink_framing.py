"""Request framing and headers are checked before a body byte is read
(issue 7, defects 6 and 8): two Content-Length headers (equal or not), two
Host headers, Content-Length with Transfer-Encoding are answered 400 and the
connection is closed, so nothing after them can be read as another request;
a bad Content-Type is refused with a precise message before 100-continue;
a tab, legal in a field value, is kept."""
import xml.etree.ElementTree as ET

from rawhttp import closed_by_peer, connect, read_response, target
from vsharness import Sink, check, pattern, sha256

sink = Sink().start()


def raw_put(key, headers, body=b"", expect=False):
    """Sends a PUT's head (and body unless expect); returns the socket and
    the first response."""
    path = target(sink.presign("PUT", "videos/" + key))
    head = "PUT %s HTTP/1.1\r\nHost: %s:%d\r\n" % (path, sink.host, sink.port)
    head += "".join("%s: %s\r\n" % kv for kv in headers)
    if expect:
        head += "Expect: 100-continue\r\n"
    s = connect(sink)
    s.sendall(head.encode("latin-1") + b"\r\n" + (b"" if expect else body))
    return s, read_response(s)


def refused(resp, want_msg):
    check(resp is not None, "no answer")
    st, _, body = resp
    root = ET.fromstring(body)
    check(st == 400 and root.findtext("Code") == "InvalidArgument",
          "want 400 InvalidArgument, got %d %s" % (st, body[:200]))
    check(want_msg in root.findtext("Message"),
          "message %r lacks %r" % (root.findtext("Message"), want_msg))


# Two lengths that disagree: 3 bytes would be stored and "de" plus a
# pipelined GET read as the next request. Now: 400, closed, nothing kept.
smuggled = b"abcdeGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
for cls in (("3", "5"), ("5", "3"), ("5", "5")):
    s, resp = raw_put("cl.bin", [("Content-Length", cls[0]),
                                 ("Content-Length", cls[1])], smuggled)
    refused(resp, "more than one Content-Length header")
    check(closed_by_peer(s), "connection left open after 2 Content-Length")
    s.close()

s, resp = raw_put("host.bin", [("Host", "evil.example"),
                               ("Content-Length", "5")], b"abcde")
refused(resp, "more than one Host header")
s.close()
s, resp = raw_put("sha.bin", [("Content-Length", "5"),
                              ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                              ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")],
                  b"abcde")
refused(resp, "more than one X-Amz-Content-Sha256 header")
s.close()

# Content-Length with Transfer-Encoding: refused, closed (RFC 9112 §6.3).
s, resp = raw_put("te.bin", [("Content-Length", "5"),
                             ("Transfer-Encoding", "chunked")],
                  b"5\r\nabcde\r\n0\r\n\r\n")
refused(resp, "both Content-Length and Transfer-Encoding")
check(closed_by_peer(s), "CL + TE left the connection open")
s.close()

# A control byte in Content-Type: 400 with where it is, before the body
# (Expect: 100-continue gets the refusal, not a 100).
s, resp = raw_put("ct.bin", [("Content-Length", "5"),
                             ("Content-Type", "video/mp4\x01")], expect=True)
refused(resp, "Content-Type has the control byte 0x01 at offset 9")
s.close()
s, resp = raw_put("ct.bin", [("Content-Length", "5"),
                             ("Content-Type", "v/" + "x" * 300)], expect=True)
refused(resp, "Content-Type is 302 bytes")
s.close()

check(not sink.object_files() and not sink.temp_files(),
      "refused requests left files: %s" % sink.object_files())
check(not sink.manifest_events("stored"), "refused requests wrote events")

# A tab is legal in a field value: stored and given back as sent.
ct = "video/mp4;\tcodecs=avc1"
body = pattern(1000)
st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/tab.mp4"), body,
                        {"Content-Type": ct})
check(st == 200, "PUT with a tab in Content-Type: %d" % st)
st, h, got = sink.request("GET", sink.presign("GET", "videos/tab.mp4"))
check(st == 200 and got == body and h["content-type"] == ct,
      "GET back: %d %r" % (st, h.get("content-type")))
ev = sink.manifest_events("stored")
check(len(ev) == 1 and ev[0]["sha256"] == sha256(body), "events %s" % ev)
check(sink.stop() == 0, "sink exit status")
print("framing: duplicate framing headers and bad Content-Type refused "
      "before the body; tab kept")
