"""The load of the crash tests: CLIENTS threads PUT presigned bodies of
mixed sizes to a sink (some keys shared between them, or all), and the
sink is stopped in one of several ways at a random moment. A round keeps
what each client saw answered 200."""
import hashlib
import random
import signal
import subprocess
import threading
import time

from vsharness import check, pattern

CLIENTS = 6
SHARED = ["shared/a.mp4", "shared/b.mp4", "shared/deep/c.mp4"]


def bodies(sizes):
    """Four bodies of each size, the same in every run."""
    return {s: [pattern(s, seed=1000 + 7 * s % 97 + i) for i in range(4)]
            for s in sizes}


class Round:
    def __init__(self, sink, r, bodies, rng, shared_only=False,
                 shared=None):
        self.sink, self.r, self.shared_only = sink, r, shared_only
        self.shared = shared or SHARED
        self.bodies, self.rng = bodies, rng
        self.stop = threading.Event()
        self.ok = []          # (key, versionId, sha256, bytes) seen with 200
        self.lock = threading.Lock()
        self.counts = {"sent": 0, "ok": 0, "err": 0}
        self.exited = ""

    def client(self, c):
        crng = random.Random(self.r * 100 + c)
        n = 0
        while not self.stop.is_set():
            n += 1
            if self.shared_only or crng.random() < 0.35:
                key = crng.choice(self.shared)
            else:
                key = "c%d/r%d-%d.mp4" % (c, self.r, n)
            size = crng.choice(sorted(self.bodies))
            body = crng.choice(self.bodies[size])
            url = self.sink.presign_raw("PUT", "/videos/" + key)
            with self.lock:
                self.counts["sent"] += 1
            try:
                st, hd, _ = self.sink.request("PUT", url, body, timeout=20)
            except OSError:
                with self.lock:
                    self.counts["err"] += 1
                time.sleep(0.01)
                continue
            if st == 200:
                with self.lock:
                    self.counts["ok"] += 1
                    self.ok.append((key, hd.get("x-amz-version-id"),
                                    hashlib.sha256(body).hexdigest(),
                                    len(body)))

    def run(self, how, lo=0.3, hi=1.6):
        """Loads the sink for lo-hi s, then: "kill" (SIGKILL), "term-kill"
        (SIGKILL during the drain of uploads SIGTERM starts) or, once the
        clients stopped, "close-kill" (SIGTERM, then SIGKILL before, during
        or after the manifest's close)."""
        threads = [threading.Thread(target=self.client, args=(c,))
                   for c in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(self.rng.uniform(lo, hi))
        if how == "kill":
            self.sink.kill9()
        elif how == "term-kill":
            self.sink.proc.send_signal(signal.SIGTERM)
            time.sleep(self.rng.uniform(0.0, 0.03))
            self.sink.kill9()
        self.stop.set()
        for t in threads:
            t.join(60)
            check(not t.is_alive(), "a client did not stop")
        if how == "close-kill":
            self.sink.proc.send_signal(signal.SIGTERM)
            try:
                self.sink.proc.wait(self.rng.uniform(0.0, 0.02))
                self.exited = "exited by itself"
            except subprocess.TimeoutExpired:
                self.sink.kill9()
                self.exited = "killed while stopping"
