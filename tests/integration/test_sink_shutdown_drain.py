"""SIGTERM while uploads drain (issue 7, defects 4 and 12). Bodies that
finish during the drain, at its deadline or after it used to reach the
commit pool after it had stopped, and libmicrohttpd aborted the process
("MHD_stop_daemon() called while we have suspended connections", 1 round
in 22). Every round must now exit 0, every 200 must have its object and
event, and the log's count of aborted requests must be the number of
uploads that got no answer."""
import random
import re
import signal
import threading
import time

from rawhttp import connect, read_response, target
from vsharness import Sink, check, pattern, sha256

ROUNDS, CLIENTS, SIZE = 12, 8, 1 << 20


def client(sink, url, body, pace, out, i):
    try:
        s = connect(sink, timeout=15)
        s.sendall(("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n"
                   "\r\n" % (target(url), sink.host, sink.port,
                             len(body))).encode())
        step = len(body) // 16
        for off in range(0, len(body), step):
            s.sendall(body[off:off + step])
            time.sleep(pace)
        r = read_response(s)
        out[i] = r[0] if r else None
        s.close()
    except OSError:
        out[i] = None


rng = random.Random(7)
for rnd in range(ROUNDS):
    sink = Sink(args=["--shutdown-timeout", "1"], tag="drain").start()
    bodies = [pattern(SIZE, seed=rnd * 100 + i) for i in range(CLIENTS)]
    urls = [sink.presign("PUT", "videos/r%d-%d.bin" % (rnd, i))
            for i in range(CLIENTS)]
    out = [None] * CLIENTS
    # bodies end spread over 0.3 .. 2.3 s: before, during and after the
    # drain's deadline (SIGTERM at 0.4 s, deadline 1 s later)
    ts = [threading.Thread(target=client, args=(
        sink, urls[i], bodies[i], rng.uniform(0.02, 0.14), out, i))
        for i in range(CLIENTS)]
    for t in ts:
        t.start()
    time.sleep(0.4)
    sink.proc.send_signal(signal.SIGTERM)
    for t in ts:
        t.join(30)
    code = sink.stop()
    check(code == 0, "round %d: exit status %s; log tail:\n%s"
          % (rnd, code, sink.log()[-600:]))
    stored = {e["key"]: e["sha256"] for e in sink.manifest_events("stored")}
    for i, st in enumerate(out):
        key = "r%d-%d.bin" % (rnd, i)
        if st == 200:
            check(stored.get(key) == sha256(bodies[i]),
                  "round %d: %s answered 200 but event %s" % (rnd, key,
                                                             stored.get(key)))
    check(len(stored) == sum(1 for st in out if st == 200),
          "round %d: %d events for %s" % (rnd, len(stored), out))
    m = re.search(r"stopped; (\d+) requests aborted", sink.log())
    unanswered = sum(1 for st in out if st is None)
    check(m and int(m.group(1)) == unanswered,
          "round %d: log says %s aborted, %d got no answer (%s)"
          % (rnd, m and m.group(1), unanswered, out))
    check(not sink.temp_files(), "round %d: temp files %s"
          % (rnd, sink.temp_files()))
print("shutdown drain: %d rounds, exit 0 each, aborted counts exact"
      % ROUNDS)
