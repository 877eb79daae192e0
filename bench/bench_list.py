#!/usr/bin/python3
"""Driver of bench/bench_list.sh: the same KEYS keys in vsink and in Ceph
RGW, then ListObjectsV2 measured against both in one run:

  fill      KEYS small PUTs, INFLIGHT at a time (bench/putload), per server
  full      a full paginated listing (pages of 1,000, continuation tokens)
  prefix    one page with a prefix (one day folder: 1,000 keys)
  delim     one page with a prefix and delimiter "/" (the day folders)

Keys are laid out as `vsink submit` names them, PREFIX/YYYY/MM/DD/<uuid>.mp4:
100 day folders of KEYS/100 keys. Requests are presigned here (SigV4) and
sent on one kept-alive connection; the client only counts <Key> elements
and picks the next token out of the body, so the figures are the servers'.
Medians over RUNS runs (prefix and delim: over 20 requests per run). vsink's
resident memory is sampled every 10 ms during its listings.

Environment: VSINK, PUTLOAD, SRC (set by bench_list.sh), KEYS (100000),
INFLIGHT (64), RUNS (3), TMPDIR (vsink's data)."""
import hashlib
import hmac
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SRC = os.environ["SRC"]
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from rgw import RGW  # noqa: E402

VSINK = os.environ["VSINK"]
PUTLOAD = os.environ["PUTLOAD"]
N = int(os.environ.get("KEYS", "100000"))
INFLIGHT = int(os.environ.get("INFLIGHT", "64"))
RUNS = int(os.environ.get("RUNS", "3"))
BUCKET = "videos"
KEY_ID, SECRET = "AKIDLISTBENCH0001", "listBenchSecret/0123456789abcdefghijk"
DAYS = 100


def key_of(i):
    day = i % DAYS
    u = hashlib.md5(b"%d" % i).hexdigest()
    return "gen/2026/%02d/%02d/%s-%s-%s-%s-%s.mp4" % (
        1 + day // 10, 1 + day % 10, u[:8], u[8:12], u[12:16], u[16:20],
        u[20:])


class Signer:
    def __init__(self, endpoint, key_id, secret):
        u = urllib.parse.urlsplit(endpoint)
        self.endpoint, self.host, self.port = endpoint, u.hostname, u.port
        self.key_id, self.secret = key_id, secret

    def url(self, method, path, params=()):
        """Presigned URL; path unencoded, params (name, value) pairs."""
        now = time.gmtime()
        amz, day = (time.strftime("%Y%m%dT%H%M%SZ", now),
                    time.strftime("%Y%m%d", now))
        scope = "%s/us-east-1/s3/aws4_request" % day
        q = list(params) + [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "%s/%s" % (self.key_id, scope)),
            ("X-Amz-Date", amz), ("X-Amz-Expires", "86400"),
            ("X-Amz-SignedHeaders", "host")]
        qs = "&".join("%s=%s" % kv for kv in sorted(
            (urllib.parse.quote(k, safe="-_.~"),
             urllib.parse.quote(v, safe="-_.~")) for k, v in q))
        epath = urllib.parse.quote(path, safe="/-_.~")
        creq = "\n".join([method, epath, qs, "host:%s:%d" % (self.host,
                          self.port), "", "host", "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + self.secret).encode()
        for part in (day, "us-east-1", "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        return "%s?%s&X-Amz-Signature=%s" % (epath, qs, sig)


def fill(sig, work, name):
    urls = os.path.join(work, name + ".urls")
    with open(urls, "w") as f:
        for i in range(N):
            f.write(sig.endpoint + sig.url("PUT", "/%s/%s" % (BUCKET,
                                                            key_of(i))) + "\n")
    t = time.time()
    r = subprocess.run([PUTLOAD, "-n", str(INFLIGHT), "-s", "64", urls],
                       capture_output=True, timeout=7200)
    secs = time.time() - t
    total = [ln for ln in r.stdout.decode().splitlines()
             if ln.startswith("TOTAL")]
    if r.returncode or not total:
        sys.exit("%s: fill failed: %s %s" % (name, total, r.stderr[-500:]))
    ok = int(total[0].split()[3])
    if ok != N:
        sys.exit("%s: %d of %d PUTs succeeded" % (name, ok, N))
    return secs


def get(conn, sig, params):
    conn.request("GET", sig.url("GET", "/" + BUCKET, params))
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("GET %s: %d %s" % (params, r.status, body[:300]))
    return body


TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")


def full_listing(sig):
    conn = http.client.HTTPConnection(sig.host, sig.port, timeout=600)
    t, token, pages, keys = time.time(), None, 0, 0
    while pages < N // 1000 + 10:
        params = [("list-type", "2"), ("max-keys", "1000")]
        if token:
            params.append(("continuation-token", token))
        body = get(conn, sig, params)
        pages += 1
        keys += body.count(b"<Key>")
        m = TOKEN.search(body)
        if not m:
            break
        token = m.group(1).decode()
    conn.close()
    if keys != N:
        sys.exit("full listing found %d keys, want %d" % (keys, N))
    return time.time() - t, pages


def one_page(sig, params, want):
    """Median time of one page, and the fewest entries a page held: S3
    lets a server answer fewer than max-keys (truncated), RGW does."""
    conn = http.client.HTTPConnection(sig.host, sig.port, timeout=600)
    times, least = [], None
    for _ in range(20):
        t = time.time()
        body = get(conn, sig, params)
        times.append(time.time() - t)
        n = body.count(b"<Key>") + body.count(b"<CommonPrefixes>")
        if n > want or (n < want and b"<IsTruncated>true" not in body):
            sys.exit("page %s: %d entries, want %d" % (params, n, want))
        least = n if least is None else min(least, n)
    conn.close()
    return statistics.median(times), least


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)


def start_vsink(work):
    env = dict(os.environ, VSINK_ACCESS_KEY_ID=KEY_ID,
               VSINK_SECRET_ACCESS_KEY=SECRET)
    data = os.path.join(work, "vsink-data")
    p = subprocess.Popen([VSINK, "serve", "--listen", "127.0.0.1:0", "--data",
                          data, "--bucket", BUCKET],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        ln = p.stdout.readline().decode()
        if ln.startswith("vsink: listening on "):
            return p, ln.split()[3]
    p.kill()
    sys.exit("vsink did not start")


def measure(name, sig, pid=None):
    day = key_of(7)[:len("gen/2026/01/08/")]
    out = {"full": [], "pages": 0, "prefix": [], "delim": [], "least": {}}
    sampler = Sampler(pid) if pid else None
    if sampler:
        sampler.start()
    for _ in range(RUNS):
        secs, out["pages"] = full_listing(sig)
        out["full"].append(secs)
        for what, params, want in (
                ("prefix", [("list-type", "2"), ("prefix", day),
                            ("max-keys", "1000")], min(1000, N // DAYS)),
                ("delim", [("list-type", "2"), ("prefix", "gen/2026/01/"),
                           ("delimiter", "/")], 10)):
            secs, least = one_page(sig, params, want)
            out[what].append(secs)
            out["least"][what] = min(least, out["least"].get(what, least))
    if sampler:
        sampler.stop = True
        sampler.join()
        out["rss_peak"] = sampler.peak
    pages = out["pages"]
    print("%-5s full listing %d pages: %.1f ms (%.1f ms a page); prefix "
          "page: %.1f ms (%d keys); delimiter page: %.1f ms (%d prefixes)" % (
              name, pages, statistics.median(out["full"]) * 1000,
              statistics.median(out["full"]) * 1000 / pages,
              statistics.median(out["prefix"]) * 1000,
              out["least"]["prefix"], statistics.median(out["delim"]) * 1000,
              out["least"]["delim"]), flush=True)
    return out


def main():
    work = tempfile.mkdtemp(prefix="vsink-listbench-",
                            dir=os.environ.get("TMPDIR"))
    vs = rgw = None
    try:
        vs, endpoint = start_vsink(work)
        vsig = Signer(endpoint, KEY_ID, SECRET)
        rgw = RGW(tag="listbench", mem_mib=2048).start()
        rgw.create_bucket(BUCKET)
        rsig = Signer(rgw.endpoint, rgw.access_key, rgw.secret)
        print("list bench: %d keys in %d day folders, %d PUTs in flight, "
              "%d runs" % (N, DAYS, INFLIGHT, RUNS), flush=True)
        fills = {"vsink": fill(vsig, work, "vsink")}
        print("fill  vsink %7.1f s  (%.0f PUT/s)" % (
            fills["vsink"], N / fills["vsink"]), flush=True)
        fills["rgw"] = fill(rsig, work, "rgw")
        print("fill  rgw   %7.1f s  (%.0f PUT/s)" % (
            fills["rgw"], N / fills["rgw"]), flush=True)
        rss0 = rss_kib(vs.pid)
        res = {"vsink": measure("vsink", vsig, vs.pid),
               "rgw": measure("rgw", rsig)}
        med = {s: {k: statistics.median(v) for k, v in r.items()
                   if isinstance(v, list)} for s, r in res.items()}
        print("medians of %d runs:" % RUNS)
        pages = res["vsink"]["pages"]
        for what, label in (("full", "full listing, %d pages" % pages),
                            ("prefix", "one page, prefix (1 day folder)"),
                            ("delim", "one page, prefix + delimiter")):
            v, r = med["vsink"][what], med["rgw"][what]
            print("%-34s vsink %9.1f ms   rgw %9.1f ms   vsink/rgw %.2f" % (
                label, v * 1000, r * 1000, v / r))
        print("full listing per page             vsink %9.1f ms   rgw %9.1f "
              "ms" % (med["vsink"]["full"] * 1000 / pages,
                      med["rgw"]["full"] * 1000 / pages))
        print("vsink RSS: %.1f MiB after the fill, peak %.1f MiB while "
              "listing" % (rss0 / 1024, res["vsink"]["rss_peak"] / 1024))
    finally:
        if vs:
            vs.terminate()
            vs.wait(60)
        if rgw:
            rgw.stop()
        shutil.rmtree(work, True)


if __name__ == "__main__":
    main()
