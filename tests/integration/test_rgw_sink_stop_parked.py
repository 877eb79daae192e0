"""A stop (SIGTERM past --shutdown-timeout) while an upload waits, its
connection suspended, for a slow cluster to take its parts (the pump's pipe
full), and a GET waits, suspended too, for the cluster's first bytes.
libmicrohttpd 0.9.75 aborts the process if it is stopped with a connection
suspended, so the stop must wake both first; the upload then ends without
a 200, and leaves nothing: no object, no `stored` event, no multipart
upload on the cluster. The sink exits 0.

The sink reaches a real Ceph RGW through a relay that holds every request
a few seconds; /metrics' vsink_uploads_waiting_store and
vsink_downloads_waiting_store say when they are parked."""
import threading
import time
import urllib.request

from rgw import relayed_sink, start_or_skip
import vsharness as h

CLUSTER = "vsink-stopparked"
DELAY = 3.0

rgw = start_or_skip("stopparked", 256)
s3 = rgw.client()
relay, sink = relayed_sink(rgw, CLUSTER, "stopparked",
                           ["--shutdown-timeout", "1"])


def waiting_store(what="uploads"):
    name = "vsink_%s_waiting_store " % what
    with urllib.request.urlopen(sink.endpoint + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    h.fail("/metrics has no %s" % name)


h.check(waiting_store() == 0 and waiting_store("downloads") == 0,
        "nothing waits before anything was sent")
BIG = h.pattern(48 << 20, seed=21)
SMALL = h.pattern(300000, seed=22)
st, _, _ = sink.request("PUT", sink.presign_raw("PUT", "/videos/small.mp4"),
                        body=SMALL)
h.check(st == 200, "small.mp4 stored first: %d" % st)
out = {}


def get_small():
    """A GET whose first bytes the slowed cluster holds: parked too."""
    try:
        st, _, b = sink.request(
            "GET", sink.presign_raw("GET", "/videos/small.mp4"), timeout=120)
        out["get"] = (st, len(b))
    except Exception as e:  # cut: a short body or a closed connection
        out["get"] = repr(e)


def put_big():
    """One PUT, no retries: its status, or what cut it."""
    try:
        out["status"] = sink.request(
            "PUT", sink.presign_raw("PUT", "/videos/big.mp4"), body=BIG,
            timeout=120)[0]
    except OSError as e:
        out["status"] = repr(e)


relay.slow(DELAY)
t = threading.Thread(target=put_big)
t.start()
deadline = time.monotonic() + 30
while waiting_store() == 0:
    h.check(time.monotonic() < deadline and t.is_alive(),
            "the 48 MiB PUT never waited on the slowed cluster: %r" % out)
    time.sleep(0.05)
# the GET's transfer from the cluster never answered (until the store's
# own timeout): it is still parked when libmicrohttpd stops
relay.fail("GET", r"/n/videos/small\.mp4", "hold")
g = threading.Thread(target=get_small)
g.start()
while waiting_store("downloads") == 0:
    h.check(time.monotonic() < deadline and g.is_alive(),
            "the GET never waited on the slowed cluster: %r" % out)
    time.sleep(0.05)
print("a PUT and a GET wait on the cluster, parked; stopping the sink")

t0 = time.monotonic()
rc = sink.stop(timeout=120)
took = time.monotonic() - t0
t.join(30)
g.join(30)
print("sink exited %d in %.1f s; the PUT got %r, the GET %r" %
      (rc, took, out.get("status"), out.get("get")))
h.check(rc == 0, "the sink exits 0 when stopped with an upload parked "
        "(not %d); its log ends:\n%s" % (rc, sink.log()[-3000:]))
# the GET's transfer is stopped once its answer is cut (its pipe has no
# reader), not at the store's stall timeout (30 s): a functional bound
h.check(took < 20, "the stop waited %.1f s: on the held GET's transfer?" %
        took)
h.check(out.get("status") != 200, "the cut upload got no 200: %r" % out)
relay.slow(0)
relay.clear()

# nothing of it anywhere: no version, no event, no cluster upload
vers = s3.list_object_versions(Bucket=CLUSTER, Prefix="n/videos/big")
h.check(not vers.get("Versions") and not vers.get("DeleteMarkers"),
        "nothing of the cut upload in the cluster: %r" %
        [v["Key"] for v in vers.get("Versions", [])])
h.check(h.stored_of(sink, "big.mp4") == [], "no stored event")
ups = s3.list_multipart_uploads(Bucket=CLUSTER).get("Uploads", [])
h.check(ups == [], "its cluster upload aborted: %r" %
        [u["Key"] for u in ups])
relay.stop()
print("OK")
