"""Hostile load (issue 7, standing defence): the sink keeps serving its
legitimate client while, all at once and from other loopback addresses,
  - 2,000 idle sockets are held open (re-opened when the server drops them),
  - a slowloris group trickles request headers one byte at a time,
  - another trickles upload bodies (16 bytes every 0.5 s),
  - bursts of 200 sockets per address go over the per-address limit,
  - requests with 600-parameter query strings arrive back to back.
Meanwhile 127.0.0.1 sends a 256 MiB upload (streamed from a generator) and
50 small uploads, and polls /healthz every 0.5 s.

Server options, as a careful operator would set them for an upload sink
whose clients are a generation API and a few tools:
  --max-connections 1024        the default total
  --max-connections-per-ip 64   so that attackers from a few addresses
                                (here 9: at most 576 slots) cannot fill the
                                total; 64 parallel uploads from one address
                                is far more than one API egress needs
  --header-timeout 5            real clients send their headers in one
                                packet; 5 s also ends idle keep-alives
  --min-body-rate 1024 --body-rate-window 8
                                a datacenter upload moves MB/s; 8 KiB in 8 s
                                is a very low bar
  --shutdown-timeout 20         (the stop must not need it)

Asserted: every legitimate upload answers 200 and its stored event has the
right SHA-256; no slow upload is stored and no temporary file is left;
/healthz answers 200 within 2 s every time; the server's VmHWM stays under
RSS_BOUND (larger under ASan, whose shadow memory and quarantine count);
the per-address limit refused sockets and the total limit never had to;
slow headers and slow bodies were closed (counted in /metrics) and none
outlived its deadline by more than SLACK; afterwards requests_in_flight is
back to its idle value and the open connections fall; SIGTERM exits 0
promptly. Printed, not asserted: the 256 MiB upload's throughput under
attack against the same upload on the idle server."""
import collections
import errno
import hashlib
import http.client
import os
import resource
import select
import socket
import sys
import threading
import time

import rawhttp
from vsharness import Sink, check, pattern

MAX_CONN, PER_IP = 1024, 64
HEADER_TIMEOUT, RATE_WINDOW = 5, 8
SLACK = 8.0                    # sweeper period, load, ASan
ATTACK_MIN_S, ATTACK_MAX_S = 20.0, 100.0
BIG = 256 * 1024 * 1024
IDLE_SOCKETS, SLOW_HEADERS, SLOW_BODIES, BURST = 2000, 40, 16, 200
# plain: ~10 MiB idle (~12 MiB seen here) + 40 KiB of connection memory
# for each of the 1024 connections allowed + slack. ASan (~20 MiB idle,
# ~120 MiB seen here): its shadow memory and up to 256 MiB of quarantined
# frees count too. (A per-request leak shows first in requests_in_flight:
# before issue 7's fix, this test's 4,000 long queries left 4,002 in
# flight and RSS at 33 MiB.)
RSS_BOUND = {"plain": 64 << 20, "asan": 384 << 20}
LEGIT = "127.0.0.1"
IDLE_SRC = ["127.0.0.%d" % i for i in (2, 3, 4, 5)]
HDR_SRC, BODY_SRC = "127.0.0.6", "127.0.0.7"
BURST_SRC = ["127.0.0.8", "127.0.0.9"]
QUERY_SRC = "127.0.0.10"
QUERY = "/healthz?" + "&".join("a%d=b" % i for i in range(600))
CONNECT_ERRORS = collections.Counter()  # printed: how the backlog held up


def raise_nofile(want=16384):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft),
                                                    max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE_SOCKETS + 1500:
        print("SKIP: RLIMIT_NOFILE %d is too low for %d sockets" %
              (soft, IDLE_SOCKETS))
        sys.exit(77)


def connect(sink, src, timeout=3.0):
    """A socket from src, or None when the connect fails (a full backlog
    is part of being attacked)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((sink.host, sink.port))
        return s
    except OSError as e:
        CONNECT_ERRORS[errno.errorcode.get(e.errno, type(e).__name__)] += 1
        s.close()
        return None


def peer_closed(s):
    """True when s has something to read: the server closed it (or sent an
    answer, which for these attackers also ends the connection)."""
    try:
        s.setblocking(False)
        try:
            return s.recv(4096, socket.MSG_PEEK) is not None
        except BlockingIOError:
            return False
        except OSError:
            return True
    finally:
        s.settimeout(3.0)


class Attack:
    """Every hostile group in a thread of its own; all stop on one event
    and every loop also ends at ATTACK_MAX_S."""

    def __init__(self, sink, slow_urls):
        self.sink, self.slow_urls = sink, slow_urls
        self.stop = threading.Event()
        self.deadline = time.monotonic() + ATTACK_MAX_S
        self.n = {}
        self.lifetimes = {"headers": [], "body": []}
        self.open_at_end = {"headers": [], "body": []}
        self.lock = threading.Lock()
        self.threads = []

    def count(self, what, k=1):
        with self.lock:
            self.n[what] = self.n.get(what, 0) + k

    def running(self):
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def start(self):
        groups = [(self.idle, ()), (self.trickle, ("headers",)),
                  (self.trickle, ("body",)), (self.bursts, ()),
                  (self.queries, ()), (self.queries, ())]
        for fn, args in groups:
            t = threading.Thread(target=fn, args=args, daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
            check(not t.is_alive(), "an attacker thread did not stop")

    def idle(self):
        socks = []
        for i in range(IDLE_SOCKETS):
            s = connect(self.sink, IDLE_SRC[i % len(IDLE_SRC)])
            self.count("idle_open" if s else "idle_connect_failed")
            if s:
                socks.append((IDLE_SRC[i % len(IDLE_SRC)], s))
            if not self.running():
                break
        while self.running():
            self.stop.wait(2.5)
            keep = []
            for src, s in socks:
                if peer_closed(s):
                    s.close()
                    self.count("idle_dropped_by_server")
                    if not self.running():
                        continue
                    s = connect(self.sink, src)
                    self.count("idle_open" if s else "idle_connect_failed")
                    if s:
                        keep.append((src, s))
                else:
                    keep.append((src, s))
            socks = keep
        for _, s in socks:
            s.close()

    def _slow_open(self, kind, i):
        if kind == "headers":
            s = connect(self.sink, HDR_SRC)
            data = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " +
                    b"a" * 4000)
        else:
            s = connect(self.sink, BODY_SRC)
            url = self.slow_urls[i]
            head = ("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d"
                    "\r\n\r\n" % (rawhttp.target(url), self.sink.host,
                                  self.sink.port, 1 << 20)).encode()
            if s:
                try:
                    s.sendall(head)
                except OSError:
                    s.close()
                    s = None
            data = pattern(1 << 20, seed=900 + i)[:4000]
        return s and [s, time.monotonic(), data, 0]

    def trickle(self, kind):
        """Slowloris: one header byte, or 16 body bytes, per connection
        every 0.5 s; a connection the server ends is timed and replaced."""
        n, step = (SLOW_HEADERS, 1) if kind == "headers" else (SLOW_BODIES,
                                                               16)
        conns = [self._slow_open(kind, i) for i in range(n)]
        while self.running():
            self.stop.wait(0.5)
            now = time.monotonic()
            for i, c in enumerate(conns):
                if c is None:
                    conns[i] = self._slow_open(kind, i)
                    continue
                s, opened, data, off = c
                closed = peer_closed(s)
                if not closed:
                    try:
                        s.send(data[off:off + step])
                        c[3] = off + step
                    except OSError:
                        closed = True
                if closed:
                    with self.lock:
                        self.lifetimes[kind].append(now - opened)
                    s.close()
                    self.count("slow_%s_closed" % kind)
                    conns[i] = self._slow_open(kind, i) if self.running() \
                        else None
        now = time.monotonic()
        for c in conns:
            if c:
                self.open_at_end[kind].append(now - c[1])
                c[0].close()

    def bursts(self):
        """200 sockets at once from one address (over 3x its limit), each
        asking for /healthz; then all closed; the other address next."""
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        k = 0
        while self.running():
            src = BURST_SRC[k % len(BURST_SRC)]
            k += 1
            socks = []
            for _ in range(BURST):
                s = connect(self.sink, src, 2.0) if self.running() else None
                if s:
                    socks.append(s)
            for s in socks:
                try:
                    s.sendall(req)
                except OSError:
                    pass
            for s in socks:
                r = rawhttp.read_response(s) if self.running() else None
                self.count("burst_answered" if r and r[0] == 200
                           else "burst_refused")
                s.close()
            self.stop.wait(0.3)

    def queries(self):
        req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % QUERY).encode()
        while self.running() and self.n.get("query_sent", 0) < 4000:
            s = connect(self.sink, QUERY_SRC, 2.0)
            if not s:
                continue
            try:
                s.sendall(req)
                r = rawhttp.read_response(s)
            except OSError:
                r = None
            s.close()
            self.count("query_sent")
            self.count("query_answer_%s" % (r[0] if r else "none"))


class Watch:
    """From 127.0.0.1: /healthz every 0.5 s (each within 2 s), the server's
    VmRSS every 0.2 s and its open connections every second."""

    def __init__(self, sink):
        self.sink, self.stop = sink, threading.Event()
        self.health, self.rss, self.open = [], [], []
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self.poll_health, self.poll_rss,
                                  self.poll_open)]
        for t in self.threads:
            t.start()

    def poll_health(self):
        for _ in range(1000):  # 500 s at most
            if self.stop.is_set():
                return
            t = time.monotonic()
            try:
                c = http.client.HTTPConnection(self.sink.host, self.sink.port,
                                               timeout=2.0,
                                               source_address=(LEGIT, 0))
                c.request("GET", "/healthz")
                st = c.getresponse().status
                c.close()
            except OSError as e:
                st = repr(e)
            self.health.append((st, time.monotonic() - t))
            self.stop.wait(max(0.0, 0.5 - (time.monotonic() - t)))

    def poll_rss(self):
        while not self.stop.wait(0.2):
            self.rss.append(status_kb(self.sink, "VmRSS"))

    def poll_open(self):
        while not self.stop.wait(1.0):
            try:
                m = rawhttp.metrics(self.sink)
            except (OSError, TypeError):  # TypeError: no answer
                continue
            self.open.append(metric(m, "vsink_connections_open"))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)


def status_kb(sink, field):
    with open("/proc/%d/status" % sink.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def is_asan(sink):
    with open("/proc/%d/maps" % sink.proc.pid) as f:
        return "libasan" in f.read()


def big_body(h, block=4 << 20):
    """BIG bytes in 4 MiB blocks, no two alike, hashed as they go out: the
    body is never held whole."""
    base = pattern(block, seed=7)
    for i in range(BIG // block):
        b = i.to_bytes(4, "big") + base[4:]
        h.update(b)
        yield b


def put_big(sink, key):
    """(status, sha256 hex, seconds) of a 256 MiB PUT from 127.0.0.1."""
    url = sink.presign("PUT", "videos/" + key)
    h = hashlib.sha256()
    c = http.client.HTTPConnection(sink.host, sink.port, timeout=120,
                                   source_address=(LEGIT, 0))
    t = time.monotonic()
    c.request("PUT", rawhttp.target(url), body=big_body(h),
              headers={"Content-Length": str(BIG)})
    r = c.getresponse()
    r.read()
    took = time.monotonic() - t
    c.close()
    return r.status, h.hexdigest(), took


def put_small(sink, jobs, results):
    while jobs:
        try:
            key, url, data = jobs.pop()
        except IndexError:
            return
        try:
            st, _, _ = sink.request("PUT", url, data, timeout=60)
        except OSError as e:
            st = repr(e)
        results[key] = st


def metric(m, name):
    return m.get(name, 0.0)


raise_nofile()
sink = Sink(tag="hostile", args=[
    "--max-connections", str(MAX_CONN),
    "--max-connections-per-ip", str(PER_IP),
    "--header-timeout", str(HEADER_TIMEOUT), "--min-body-rate", "1024",
    "--body-rate-window", str(RATE_WINDOW), "--shutdown-timeout", "20"]).start()
asan = is_asan(sink)
bound = RSS_BOUND["asan" if asan else "plain"]
idle_rss = status_kb(sink, "VmRSS")
idle_m = rawhttp.metrics(sink)
idle_in_flight = metric(idle_m, "vsink_requests_in_flight")  # the scrape

# the same upload on the idle server first, for the comparison
st, want_big, idle_s = put_big(sink, "big/idle.mp4")
check(st == 200, "256 MiB upload on the idle server: %s" % st)

small = {}
for i in range(50):
    data = pattern(1024 + i * 40 * 1024, seed=100 + i)
    small["small/%02d.bin" % i] = (data, hashlib.sha256(data).hexdigest())
jobs = [(k, sink.presign("PUT", "videos/" + k), d)
        for k, (d, _) in sorted(small.items())]
slow_urls = [sink.presign("PUT", "videos/slow/%02d.bin" % i)
             for i in range(SLOW_BODIES)]

watch = Watch(sink)
attack = Attack(sink, slow_urls)
t0 = time.monotonic()
attack.start()
time.sleep(2.0)  # let the idle sockets and the slowloris settle in
small_results = {}
workers = [threading.Thread(target=put_small, args=(sink, jobs,
                                                    small_results),
                            daemon=True) for _ in range(4)]
for w in workers:
    w.start()
st, got_big, attack_s = put_big(sink, "big/attack.mp4")
for w in workers:
    w.join(120)
# long enough for every slowloris deadline to pass at least once
while time.monotonic() - t0 < ATTACK_MIN_S:
    time.sleep(0.2)
attack.finish()
attack_total_s = time.monotonic() - t0
print("attack ran %.1f s: %s; failed connects %s" % (
    attack_total_s, dict(sorted(attack.n.items())), dict(CONNECT_ERRORS)))

# ---- the legitimate work ---------------------------------------------------
check(st == 200 and got_big == want_big,
      "256 MiB upload under attack: %s" % st)
bad = {k: v for k, v in small_results.items() if v != 200}
check(len(small_results) == 50 and not bad,
      "small uploads under attack: %d done, not 200: %s" %
      (len(small_results), bad))
stored = {e["key"]: e for e in sink.manifest_events("stored")}
for key, (data, sha) in small.items():
    e = stored.get(key)
    check(e and e["sha256"] == sha and e["bytes"] == len(data),
          "stored event of %s: %s" % (key, e))
for key in ("big/idle.mp4", "big/attack.mp4"):
    e = stored.get(key)
    check(e and e["sha256"] == want_big and e["bytes"] == BIG,
          "stored event of %s: %s" % (key, e))
check(not [k for k in stored if k.startswith("slow/")],
      "a trickled upload was stored")

# ---- the defences ----------------------------------------------------------
time.sleep(1.0)  # the last poll and the last sweep
watch_health = list(watch.health)
slow_h = [h for h in watch_health if h[0] != 200 or h[1] > 2.0]
check(len(watch_health) >= attack_total_s, "too few /healthz polls: %d" %
      len(watch_health))
check(not slow_h, "/healthz failed or slow during the attack: %s" % slow_h)
m = rawhttp.metrics(sink)
refused_ip = metric(m, 'vsink_connections_refused_total{limit="per_ip"}')
refused_total = metric(m, 'vsink_connections_refused_total{limit="total"}')
closed_h = metric(m, 'vsink_connections_closed_slow_total{reason="headers"}')
closed_b = metric(m, 'vsink_connections_closed_slow_total{reason="body"}')
print("metrics: refused per_ip %d total %d; closed slow headers %d body %d;"
      " open connections at most %d" % (refused_ip, refused_total, closed_h,
                                        closed_b, max(watch.open)))
check(refused_ip > 0, "the per-address limit never refused a socket")
check(refused_total == 0, "attackers from %d addresses reached the total "
      "limit" % (len(IDLE_SRC) + len(BURST_SRC) + 3))
check(len(watch.open) >= attack_total_s / 2, "too few /metrics samples")
check(max(watch.open) <= MAX_CONN, "more connections open than the limit: "
      "%d" % max(watch.open))
for kind, counted in (("headers", closed_h), ("body", closed_b)):
    lives = attack.lifetimes[kind]
    deadline = HEADER_TIMEOUT if kind == "headers" else RATE_WINDOW
    longest = max(lives + attack.open_at_end[kind])
    print("slow %-7s: %d closed by the server, lifetimes %.1f..%.1f s, "
          "longest %.1f s (deadline %d s)" % (kind, len(lives),
                                              min(lives or [0]),
                                              max(lives or [0]), longest,
                                              deadline))
    check(counted > 0 and lives, "no slow %s connection was closed" % kind)
    check(longest <= deadline + SLACK, "a slow %s connection lived %.1f s" %
          (kind, longest))

# ---- afterwards: the server lets go of everything ----------------------------
after = {}


def settled():
    after.update(rawhttp.metrics(sink))
    return (metric(after, "vsink_requests_in_flight") == idle_in_flight and
            metric(after, "vsink_connections_open") <= 4 and
            not sink.temp_files())


ok = rawhttp.wait_for(settled, timeout=20.0, step=0.5)
print("after the attack: in flight %d, open connections %d (at most %d "
      "during it)" % (metric(after, "vsink_requests_in_flight"),
                      metric(after, "vsink_connections_open"),
                      max(watch.open)))
check(ok, "after the attack: in flight %s (idle %s), open %s, temp files %s"
      % (metric(after, "vsink_requests_in_flight"), idle_in_flight,
         metric(after, "vsink_connections_open"), sink.temp_files()[:5]))
watch.finish()
hwm = status_kb(sink, "VmHWM") << 10
rss_max = max(watch.rss or [0]) << 10
print("RSS: idle %.1f MiB, max sampled %.1f MiB, VmHWM %.1f MiB (bound "
      "%d MiB, %s build)" % (idle_rss / 1024.0,
                             rss_max / 1048576.0, hwm / 1048576.0,
                             bound >> 20, "ASan" if asan else "plain"))
check(hwm < bound, "VmHWM %d MiB over the bound %d MiB" %
      (hwm >> 20, bound >> 20))

t = time.monotonic()
rc = sink.stop(timeout=60)
stop_s = time.monotonic() - t
check(rc == 0, "SIGTERM after the attack: exit %s" % rc)
check(stop_s < 10, "SIGTERM took %.1f s" % stop_s)
print("256 MiB upload: idle %.2f s (%.0f MiB/s), under attack %.2f s "
      "(%.0f MiB/s); /healthz polls %d, slowest %.3f s; stop %.1f s" % (
          idle_s, 256 / idle_s, attack_s, 256 / attack_s,
          len(watch_health), max(h[1] for h in watch_health), stop_s))
print("hostile: legitimate uploads stored, health answered, limits held")
