"""The soak's driver (bench/soak.sh runs it): one `vsink serve` on
127.0.0.1, MINUTES of mixed legitimate and hostile traffic, the server's
RSS and open descriptors sampled every INTERVAL seconds and printed as a
table; then first/last/max and a verdict: flat or not.

Legitimate, from 127.0.0.1:
  2 uploaders   PUT 16 KiB..8 MiB (and 1 in 50 a 64 MiB one, streamed) to
                16 keys each, overwritten (--on-existing overwrite: the disk
                holds at most 32 objects), 0.2 s between uploads;
  1 reader      keep-alive GETs (a quarter of them ranged) of those keys;
                the body's SHA-256 must equal the ETag;
  1 hook poster a presigned POST /hooks/<new task> with a result about every
                0.5 s, and every fifth one delivered twice (de-duplicated).
Hostile, from 127.0.0.2..127.0.0.9 (one thread, a 0.5 s tick):
  400 idle sockets (re-opened when dropped), 20 connections trickling
  header bytes, 8 trickling an upload body, every 5 s a burst of 150
  sockets from one address (over the per-address limit) and 20 requests
  with 600-parameter query strings.

Server: the defaults (header deadline 10 s, 1 KiB/s over 30 s, 1024
connections) with --max-connections-per-ip 64 and --on-existing overwrite.

Verdict (after a warm-up of the first fifth of the samples, at least one):
RSS is flat when the later half's median and maximum are within 10 % + 2 MiB
of the earlier half's and the least-squares trend of the samples predicts
at most 1 MiB + 5 % of growth over the span measured; descriptors are flat when the later half's median is
within 16 of the earlier half's (they move with the connections open at
the instant of the sample) and, once the load has stopped and the server
has let go of its connections, the count is back within 2 of the count
before the load. Legitimate requests that fail are counted and make the
run fail too. Exit status 0 only when everything is flat and nothing failed
and SIGTERM exited 0."""
import argparse
import collections
import hashlib
import http.client
import json
import os
import random
import resource
import socket
import statistics
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import rawhttp  # noqa: E402
from vsharness import Sink, pattern  # noqa: E402

LEGIT = "127.0.0.1"
IDLE_SRC = ["127.0.0.%d" % i for i in (2, 3, 4, 5)]
HDR_SRC, BODY_SRC, QUERY_SRC = "127.0.0.6", "127.0.0.7", "127.0.0.8"
BURST_SRC = "127.0.0.9"
QUERY = "/healthz?" + "&".join("a%d=b" % i for i in range(600))
SIZES = [16 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20]
BIG = 64 << 20
EXPIRES = 604800


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}
        self.errors = []

    def add(self, what, k=1):
        with self.lock:
            self.n[what] = self.n.get(what, 0) + k

    def error(self, what, msg):
        self.add(what + "_failed")
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append("%s: %s" % (what, msg))

    def get(self, what):
        with self.lock:
            return self.n.get(what, 0)


def connect(sink, src, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((sink.host, sink.port))
        return s
    except OSError:
        s.close()
        return None


def peer_closed(s):
    try:
        s.setblocking(False)
        return s.recv(4096, socket.MSG_PEEK) is not None
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.settimeout(5.0)


def streamed(n, seed, h):
    base = pattern(4 << 20, seed=seed)
    for i in range(n // len(base)):
        b = i.to_bytes(4, "big") + base[4:]
        h.update(b)
        yield b


class Load:
    def __init__(self, sink, stats, stop):
        self.sink, self.stats, self.stop = sink, stats, stop
        self.bodies = {n: pattern(n, seed=n & 0xffff) for n in SIZES}
        self.keys = ["soak/u%d/k%02d" % (t, i) for t in range(2)
                     for i in range(16)]
        self.put_url = {k: sink.presign("PUT", "videos/" + k, EXPIRES)
                        for k in self.keys}
        self.get_url = {k: sink.presign("GET", "videos/" + k, EXPIRES)
                        for k in self.keys}
        self.slow_urls = [sink.presign("PUT", "videos/soak/slow/%d" % i,
                                       EXPIRES) for i in range(8)]
        self.stored = set()

    def conn(self, timeout=120):
        return http.client.HTTPConnection(self.sink.host, self.sink.port,
                                          timeout=timeout,
                                          source_address=(LEGIT, 0))

    # ---- legitimate -------------------------------------------------------
    def uploader(self, t):
        rnd = random.Random(t)
        keys = [k for k in self.keys if k.startswith("soak/u%d/" % t)]
        while not self.stop.is_set():
            key = rnd.choice(keys)
            big = rnd.random() < 0.02
            h = hashlib.sha256()
            if big:
                body, n = streamed(BIG, rnd.randrange(1 << 16), h), BIG
            else:
                n = rnd.choice(SIZES)
                body = self.bodies[n]
                h.update(body)
            try:
                c = self.conn()
                c.request("PUT", rawhttp.target(self.put_url[key]), body=body,
                          headers={"Content-Length": str(n)})
                r = c.getresponse()
                r.read()
                c.close()
                etag = (r.getheader("ETag") or "").strip('"')
                if r.status != 200 or etag != h.hexdigest():
                    self.stats.error("upload", "%s %d etag %s" %
                                     (key, r.status, etag))
                else:
                    self.stats.add("upload")
                    self.stats.add("upload_bytes", n)
                    self.stored.add(key)
            except OSError as e:
                self.stats.error("upload", "%s %r" % (key, e))
            self.stop.wait(0.2)

    def reader(self):
        rnd = random.Random(9)
        while not self.stop.wait(0.05):
            keys = sorted(self.stored)
            if not keys:
                continue
            try:
                c = self.conn(60)
                for _ in range(10):  # one keep-alive connection
                    key = rnd.choice(keys)
                    rng = rnd.random() < 0.25
                    hdrs = {"Range": "bytes=0-999"} if rng else {}
                    c.request("GET", rawhttp.target(self.get_url[key]),
                              headers=hdrs)
                    r = c.getresponse()
                    data = r.read()
                    etag = (r.getheader("ETag") or "").strip('"')
                    ok = (r.status == 206 and len(data) == 1000) if rng else \
                        (r.status == 200 and
                         hashlib.sha256(data).hexdigest() == etag)
                    if ok:
                        self.stats.add("get")
                    else:
                        self.stats.error("get", "%s %d" % (key, r.status))
                c.close()
            except OSError as e:
                self.stats.error("get", repr(e))

    def hooks(self):
        while not self.stop.wait(0.5):
            task = str(uuid.uuid4())
            item = {"taskType": "videoInference", "taskUUID": task,
                    "status": "success", "videoUUID": str(uuid.uuid4()),
                    "videoURL": "https://example.invalid/v.mp4",
                    "seed": random.randrange(1 << 62), "cost": 0.0668}
            body = json.dumps({"data": [item]}).encode()
            try:
                url = self.sink.presign("POST", "hooks/" + task)
                for _ in range(2 if random.random() < 0.2 else 1):
                    c = self.conn(30)
                    c.request("POST", rawhttp.target(url), body=body,
                              headers={"Content-Type": "application/json"})
                    st = c.getresponse().status
                    c.close()
                    if st == 200:
                        self.stats.add("hook")
                    else:
                        self.stats.error("hook", "%s %d" % (task, st))
            except (OSError, SystemExit) as e:  # presign's fail() exits
                self.stats.error("hook", repr(e))

    # ---- hostile ------------------------------------------------------------
    def _slow(self, kind, i):
        if kind == "headers":
            s = connect(self.sink, HDR_SRC)
            return s and [s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-S: " +
                          b"a" * 100000, 0, 1]
        s = connect(self.sink, BODY_SRC)
        if not s:
            return None
        head = ("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n\r\n"
                % (rawhttp.target(self.slow_urls[i]), self.sink.host,
                   self.sink.port, 1 << 20)).encode()
        try:
            s.sendall(head)
        except OSError:
            s.close()
            return None
        return [s, b"x" * (1 << 20), 0, 16]

    def hostile(self):
        idle, slow = [], {"headers": [None] * 20, "body": [None] * 8}
        tick = 0
        while not self.stop.wait(0.5):
            for kind, conns in slow.items():
                for i, c in enumerate(conns):
                    if c is None or peer_closed(c[0]):
                        if c:
                            c[0].close()
                            self.stats.add("slow_%s_dropped" % kind)
                        conns[i] = self._slow(kind, i)
                        continue
                    try:
                        c[0].send(c[1][c[2]:c[2] + c[3]])
                        c[2] += c[3]
                    except OSError:
                        pass  # seen as closed on the next tick
            if tick % 10 == 0:
                idle = self._idle(idle)
                self._burst()
                self._queries()
            tick += 1
        for c in idle + [c for cs in slow.values() for c in cs if c]:
            (c if isinstance(c, socket.socket) else c[0]).close()

    def _idle(self, idle):
        keep = []
        for s in idle:
            if peer_closed(s):
                s.close()
                self.stats.add("idle_dropped")
            else:
                keep.append(s)
        while len(keep) < 400 and not self.stop.is_set():
            s = connect(self.sink, IDLE_SRC[len(keep) % len(IDLE_SRC)])
            if not s:
                break
            keep.append(s)
        return keep

    def _burst(self):
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        socks = [s for s in (connect(self.sink, BURST_SRC, 2.0)
                             for _ in range(150) if not self.stop.is_set())
                 if s]
        for s in socks:
            try:
                s.sendall(req)
            except OSError:
                pass
        for s in socks:
            r = rawhttp.read_response(s)
            self.stats.add("burst_answered" if r else "burst_refused")
            s.close()

    def _queries(self):
        req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % QUERY).encode()
        for _ in range(20):
            s = connect(self.sink, QUERY_SRC, 2.0)
            if not s:
                continue
            try:
                s.sendall(req)
                rawhttp.read_response(s)
            except OSError:
                pass
            s.close()
            self.stats.add("long_query")


def proc_sample(pid):
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def fd_targets(pid):
    out = []
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            out.append(os.readlink(os.path.join(d, fd)))
        except OSError:
            pass
    return sorted(out)


def scrape(sink):
    try:
        return rawhttp.metrics(sink)
    except (OSError, TypeError):  # TypeError: no answer
        return {}


ROW = ("%7s %8s %6s %6s %7s %8s %8s %7s %7s %8s %8s")


def header():
    print(ROW % ("t (s)", "RSS MiB", "fds", "open", "inflight", "uploads",
                 "GETs", "hooks", "failed", "refused", "slow-cut"))


def row(t, rss, fds, m, st):
    failed = sum(st.get(k) for k in ("upload_failed", "get_failed",
                                     "hook_failed"))
    refused = sum(v for k, v in m.items()
                  if k.startswith("vsink_connections_refused_total"))
    cut = sum(v for k, v in m.items()
              if k.startswith("vsink_connections_closed_slow_total"))
    print(ROW % ("%.0f" % t, "%.1f" % (rss / 1024.0), fds,
                 "%d" % m.get("vsink_connections_open", -1),
                 "%d" % m.get("vsink_requests_in_flight", -1),
                 st.get("upload"), st.get("get"), st.get("hook"), failed,
                 "%d" % refused, "%d" % cut), flush=True)


def trend(points):
    """The least-squares slope of (t, v) points."""
    n = len(points)
    mt = sum(p[0] for p in points) / n
    mv = sum(p[1] for p in points) / n
    var = sum((p[0] - mt) ** 2 for p in points)
    return sum((p[0] - mt) * (p[1] - mv) for p in points) / var if var else 0


def verdict(samples, quiet_before, quiet_after):
    body = samples[max(1, len(samples) // 5):]
    if len(body) < 4:
        print("verdict: too few samples for a verdict (run longer)")
        return False
    early, late = body[:len(body) // 2], body[len(body) // 2:]
    rss_e = [s[1] for s in early]
    rss_l = [s[1] for s in late]
    fd_e = [s[2] for s in early]
    fd_l = [s[2] for s in late]
    slope = trend([(s[0], s[1]) for s in body])  # KiB per second
    span = body[-1][0] - body[0][0]
    rss_flat = (statistics.median(rss_l) <= statistics.median(rss_e) * 1.10
                + 2048 and max(rss_l) <= max(rss_e) * 1.10 + 2048 and
                slope * span <= 1024 + 0.05 * body[0][1])
    fd_flat = (statistics.median(fd_l) <= statistics.median(fd_e) + 16 and
               abs(quiet_after - quiet_before) <= 2)
    for name, col, unit in (("RSS", 1, "MiB"), ("fds", 2, "")):
        vals = [s[col] for s in samples]
        f = (lambda v: "%.1f %s" % (v / 1024.0, unit)) if col == 1 else str
        print("%-4s first %s, last %s, max %s; after warm-up: earlier half "
              "median %s, later half median %s" % (
                  name, f(vals[0]), f(vals[-1]), f(max(vals)),
                  f(statistics.median([s[col] for s in early])),
                  f(statistics.median([s[col] for s in late]))))
    print("RSS trend after warm-up: %+.2f MiB/hour (%+.2f MiB over the %.0f s"
          " measured)" % (slope * 3600 / 1024, slope * span / 1024, span))
    print("fds with no load: %d before, %d after" % (quiet_before,
                                                      quiet_after))
    print("verdict: RSS %s, descriptors %s" % (
        "flat" if rss_flat else "NOT flat", "flat" if fd_flat else "NOT flat"))
    return rss_flat and fd_flat


def settle(sink, idle_inflight, timeout=45):
    """Waits until the server holds no connection but the scrape's."""
    m = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = scrape(sink)
        if m.get("vsink_connections_open", 99) <= 1 and \
                m.get("vsink_requests_in_flight") == idle_inflight:
            break
        time.sleep(1)
    time.sleep(0.5)  # the scrape's own connection closes
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("minutes", type=float, nargs="?", default=30.0)
    ap.add_argument("--interval", type=float, default=10.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)),
                                                hard))
    sink = Sink(tag="soak", args=["--max-connections-per-ip", "64",
                                  "--on-existing", "overwrite"])
    sink.start()
    pid = sink.proc.pid
    idle_inflight = scrape(sink).get("vsink_requests_in_flight", 1)
    time.sleep(0.5)
    quiet_before = proc_sample(pid)[1]
    fds_before = fd_targets(pid)
    print("vsink %s (pid %d), data %s; %.1f min, a sample every %.0f s" % (
        sink.endpoint, pid, sink.data, a.minutes, a.interval), flush=True)
    stats, stop = Stats(), threading.Event()
    load = Load(sink, stats, stop)
    threads = [threading.Thread(target=f, args=args, daemon=True)
               for f, args in ((load.uploader, (0,)), (load.uploader, (1,)),
                               (load.reader, ()), (load.hooks, ()),
                               (load.hostile, ()))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    header()
    samples, end = [], t0 + a.minutes * 60
    while time.monotonic() < end:
        time.sleep(max(0.0, min(a.interval, end - time.monotonic())))
        if sink.proc.poll() is not None:
            print("the server exited: %s" % sink.proc.returncode)
            return 1
        rss, fds = proc_sample(pid)
        t = time.monotonic() - t0
        samples.append((t, rss, fds))
        row(t, rss, fds, scrape(sink), stats)
    stop.set()
    for t in threads:
        t.join(180)
    m = settle(sink, idle_inflight)
    rss, quiet_after = proc_sample(pid)
    print("load stopped; %s" % json.dumps(dict(sorted(stats.n.items()))))
    print("after the load: %d connections open, %d requests in flight, "
          "RSS %.1f MiB, %d fds" % (m.get("vsink_connections_open", -1),
                                    m.get("vsink_requests_in_flight", -1),
                                    rss / 1024.0, quiet_after))
    new = list((collections.Counter(fd_targets(pid)) -
                collections.Counter(fds_before)).elements())
    if new:
        print("descriptors open now that were not before the load: %s" %
              ", ".join(f.replace(sink.data, "DATA") for f in new))
    flat = verdict(samples, quiet_before, quiet_after)
    failed = sum(stats.get(k) for k in ("upload_failed", "get_failed",
                                        "hook_failed"))
    for e in stats.errors:
        print("  failed: " + e)
    t = time.monotonic()
    rc = sink.stop(timeout=90)
    print("legitimate requests failed: %d; SIGTERM: exit %s in %.1f s" % (
        failed, rc, time.monotonic() - t))
    return 0 if flat and not failed and rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
