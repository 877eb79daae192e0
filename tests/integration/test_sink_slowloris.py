"""Slow clients (issue 7, defect 5). The inactivity timeout alone let a
client that sends one header byte every 2 s hold a slot for ever. Now a
request's line and headers must arrive within --header-timeout (counted
from the connection's start or the previous answer), and an upload must
average --min-body-rate over every --body-rate-window; either closes the
connection, counted in /metrics, and a slow upload leaves nothing behind.
Clients at a fair pace are not touched."""
import threading
import time

from rawhttp import closed_by_peer, connect, metrics, read_response, target
from vsharness import Sink, check, pattern, sha256

sink = Sink(args=["--header-timeout", "2", "--min-body-rate", "20000",
                  "--body-rate-window", "2", "--idle-timeout", "60"]).start()
results = {}


def trickle_headers(name):
    s = connect(sink, timeout=10)
    t0 = time.time()
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    try:
        for i in range(len(req)):
            s.send(req[i:i + 1])
            time.sleep(0.25)
        results[name] = None  # never cut
    except OSError:
        results[name] = time.time() - t0
    s.close()


def silent(name):
    s = connect(sink, timeout=10)
    t0 = time.time()
    results[name] = time.time() - t0 if closed_by_peer(s, wait=8) else None
    s.close()


def trickle_body(name):
    url = sink.presign("PUT", "videos/slow.bin")
    s = connect(sink, timeout=10)
    s.sendall(("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: 1000000"
               "\r\n\r\n" % (target(url), sink.host, sink.port)).encode())
    t0 = time.time()
    try:
        for _ in range(200):  # 4 KB/s, under the 20 KB/s minimum
            s.send(b"x" * 1000)
            time.sleep(0.25)
        results[name] = None
    except OSError:
        results[name] = time.time() - t0
    s.close()


def fair_upload(name):
    """60 KB/s for 3 s, above the minimum: stored."""
    body = pattern(180000, seed=3)
    url = sink.presign("PUT", "videos/fair.bin")
    s = connect(sink, timeout=10)
    s.sendall(("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n\r\n"
               % (target(url), sink.host, sink.port, len(body))).encode())
    for i in range(0, len(body), 15000):
        s.sendall(body[i:i + 15000])
        time.sleep(0.25)
    r = read_response(s)
    results[name] = (r and r[0], sha256(body))
    s.close()


jobs = [threading.Thread(target=f, args=(f.__name__,))
        for f in (trickle_headers, silent, trickle_body, fair_upload)]
for j in jobs:
    j.start()
for j in jobs:
    j.join(30)
for name in ("trickle_headers", "silent", "trickle_body"):
    took = results.get(name)
    check(took is not None and 1.5 <= took <= 5,
          "%s: closed after %s s (want about 2-3)" % (name, took))
check(results["fair_upload"][0] == 200, "fair upload: %s" % results)

# A kept-alive connection that goes quiet ends at the header deadline too.
s = connect(sink)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
check(read_response(s)[0] == 200, "healthz")
t0 = time.time()
check(closed_by_peer(s, wait=8), "idle keep-alive connection never closed")
check(1.5 <= time.time() - t0 <= 5, "idle keep-alive closed after %.1f s"
      % (time.time() - t0))
s.close()

m = metrics(sink)
check(m['vsink_connections_closed_slow_total{reason="headers"}'] >= 3,
      "header deadlines counted: %s" % m)
check(m['vsink_connections_closed_slow_total{reason="body"}'] >= 1,
      "slow bodies counted: %s" % m)
ev = sink.manifest_events("stored")
check([e["key"] for e in ev] == ["fair.bin"] and
      ev[0]["sha256"] == results["fair_upload"][1], "events %s" % ev)
check(not sink.temp_files(), "a cut upload left %s" % sink.temp_files())
check(sink.stop() == 0, "sink exit status")
print("slowloris: %s" % {k: v for k, v in results.items()
                         if k != "fair_upload"})
