"""Keep-alive (issue 7, defect 11): answers to GET, HEAD, /healthz and
/metrics leave the connection open, so a client reuses one connection for
100 requests; an upload answered 200 does too."""
import http.client

from vsharness import Sink, check, pattern

sink = Sink().start()
body = pattern(5000)
st, _, _ = sink.request("PUT", sink.presign("PUT", "videos/a.bin"), body)
check(st == 200, "PUT: %d" % st)
url = sink.presign("GET", "videos/a.bin")
path = url[len(sink.endpoint):]
head_path = sink.presign("HEAD", "videos/a.bin")[len(sink.endpoint):]

c = http.client.HTTPConnection(sink.host, sink.port, timeout=10)
c.connect()
sock = c.sock
for i in range(100):
    method, p = [("GET", path), ("HEAD", head_path), ("GET", "/healthz"),
                 ("GET", "/metrics")][i % 4]
    c.request(method, p)
    r = c.getresponse()
    data = r.read()
    check(r.status == 200, "%s %s: %d" % (method, p[:20], r.status))
    check(r.getheader("Connection", "").lower() != "close",
          "request %d (%s %s) answered Connection: close" % (i, method,
                                                             p[:20]))
    if p == path:
        check(data == body, "GET body")
    check(c.sock is sock, "request %d needed a new connection" % i)

# an upload on the same connection, then a GET again
c.request("PUT", sink.presign("PUT", "videos/b.bin")[len(sink.endpoint):],
          body=body)
r = c.getresponse()
r.read()
check(r.status == 200 and c.sock is sock, "PUT on the kept connection")
c.request("GET", "/healthz")
r = c.getresponse()
check(r.status == 200 and r.read() == b"ok\n" and c.sock is sock,
      "GET after PUT on the kept connection")
c.close()
check(sink.stop() == 0, "sink exit status")
print("keepalive: 102 requests on one connection")
