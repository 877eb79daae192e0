"""A slow cluster must not stall the sink's other connections: with
`--store s3://`, GET and HEAD ask the cluster for the version (a HEAD)
on the commit pool, not on the event thread that serves every other
connection of it.

The sink (one event thread) reaches a real Ceph RGW through a relay that,
once slowed, holds every request 3 s before passing it on. Four GET/HEAD
of an object are sent at once; while they wait on the cluster, /healthz
and a request the sink refuses by itself (a bad signature) are answered
at once, and the four then get the right bytes and headers."""
import threading
import time
import urllib.request

from faultproxy import FaultProxy
from rgw import start_or_skip
import vsharness as h

CLUSTER = "vsink-slow"
DELAY = 3.0


rgw = start_or_skip("slowcluster", 256)
s3 = rgw.client()
rgw.versioned_bucket(CLUSTER)
relay = FaultProxy(rgw.port).start()
env = rgw.sink_env(h.env_with_keys())
sink = h.Sink(args=["--store", "s3://%s/n" % CLUSTER, "--s3-endpoint",
                    relay.endpoint, "--threads", "1"],
              env=env, tag="slowcluster").start()
c = h.boto3_client(sink)
body = h.pattern(200000, seed=4)
c.put_object(Bucket="videos", Key="a.mp4", Body=body)

relay.slow(DELAY)
results = {}


def fetch(i):
    t0 = time.monotonic()
    try:
        if i % 2:
            r = c.head_object(Bucket="videos", Key="a.mp4")
            results[i] = (r["ContentLength"] == len(body),
                          time.monotonic() - t0)
        else:
            got = c.get_object(Bucket="videos", Key="a.mp4",
                               Range="bytes=10-99")["Body"].read()
            results[i] = (got == body[10:100], time.monotonic() - t0)
    except Exception as e:  # reported by the check below
        results[i] = (repr(e), time.monotonic() - t0)


threads = [threading.Thread(target=fetch, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
time.sleep(0.5)  # the four are waiting on the cluster now
t0 = time.monotonic()
try:
    with urllib.request.urlopen(sink.endpoint + "/healthz", timeout=30) as r:
        h.check(r.status == 200, "healthz: %d" % r.status)
except OSError as e:  # a stalled event thread may drop it unanswered
    h.fail("/healthz not answered while GETs waited on the cluster (%.3f "
           "s): %r" % (time.monotonic() - t0, e))
took_health = time.monotonic() - t0
st, _, b = sink.request("GET", "/videos/a.mp4",
                        headers={"Authorization": "AWS4-HMAC-SHA256 "
                                 "Credential=AKIDVSINKTEST0001/20261202/"
                                 "us-east-1/s3/aws4_request, SignedHeaders="
                                 "host, Signature=00"})
took_refused = time.monotonic() - t0 - took_health
print("while 4 GET/HEAD waited on the cluster: /healthz in %.3f s, a "
      "refused request (%d) in %.3f s" % (took_health, st, took_refused))
h.check(took_health < DELAY / 2,
        "/healthz waited on the cluster: %.3f s" % took_health)
h.check(400 <= st < 500 and took_refused < DELAY / 2,
        "a refused request waited on the cluster: %d in %.3f s" %
        (st, took_refused))
for t in threads:
    t.join(60)
print("the four: %r" % results)
h.check(len(results) == 4 and all(v[0] is True for v in results.values()),
        "every GET/HEAD answered right: %r" % results)
h.check(all(v[1] >= DELAY for v in results.values()),
        "each did wait on the slowed cluster: %r" % results)
relay.slow(0)
h.check(sink.stop() == 0, "sink stopped")
print("OK")
