"""When the sink cannot park a connection, it waits on the event thread as
it must, and answers right. A GET from the S3 store whose bytes the
cluster holds back parks its connection in the waker (an fd on epoll);
if the waker cannot take the fd (epoll_ctl fails: out of memory), or the
store's pipe cannot be made non-blocking (fcntl fails), the GET waits in
poll() or read() instead. Both faults are made by an LD_PRELOAD shim
(faultshim.c), armed while a file exists, against a real Ceph RGW behind a
relay that holds every request 2 s: first without a fault, where the GET
is seen parked in /metrics (vsink_downloads_waiting_store), then with each
fault, where it never is, and each time the GET returns the object's
bytes and the sink goes on serving."""
import os
import sys
import threading
import urllib.request

from rgw import relayed_sink, start_or_skip
import vsharness as h

SHIM = os.environ.get("VSINK_FAULTSHIM")
if not SHIM or not os.path.exists(SHIM):
    print("SKIP: no VSINK_FAULTSHIM (the shim library)")
    sys.exit(77)

rgw = start_or_skip("fallbacks", 128)
arms = h.tmpdir("faultshim")
EPOLL = os.path.join(arms, "epoll")
FCNTL = os.path.join(arms, "fcntl")
asan = os.environ.get("ASAN_OPTIONS", "")
relay, sink = relayed_sink(rgw, "vsink-fallbacks", "fallbacks", env={
    "LD_PRELOAD": SHIM, "VSINK_FAULTSHIM_EPOLL": EPOLL,
    "VSINK_FAULTSHIM_FCNTL": FCNTL,
    # the shim comes before a sanitized build's runtime
    "ASAN_OPTIONS": (asan + ":" if asan else "") +
    "verify_asan_link_order=0"})
c = h.boto3_client(sink)
BODY = h.pattern(3 << 20, seed=21)
c.put_object(Bucket="videos", Key="f.mp4", Body=BODY)


def downloads_parked():
    with urllib.request.urlopen(sink.endpoint + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("vsink_downloads_waiting_store "):
                return int(line.split()[1])
    h.fail("no vsink_downloads_waiting_store in /metrics")


def get_round(label, arm):
    """One GET with the fault armed (None: none): the most GETs /metrics
    saw parked meanwhile."""
    seen, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            seen.append(downloads_parked())
            stop.wait(0.1)

    if arm:
        open(arm, "w").close()
    t = threading.Thread(target=sample)
    t.start()
    try:
        got = c.get_object(Bucket="videos", Key="f.mp4")["Body"].read()
    finally:
        stop.set()
        t.join()
        if arm:
            os.unlink(arm)
    h.check(got == BODY, "%s: the GET's bytes differ (%d)" % (label, len(got)))
    print("%s: GET right, %d samples of /metrics, at most %d parked" %
          (label, len(seen), max(seen)))
    return max(seen)


relay.slow(2.0)
h.check(get_round("no fault", None) >= 1,
        "the GET was never seen parked: the rounds below would prove nothing")
h.check(get_round("epoll_ctl fails", EPOLL) == 0,
        "parked although the waker could not take the fd")
h.check(get_round("fcntl fails", FCNTL) == 0,
        "parked although the pipe stayed blocking")
h.check(get_round("no fault again", None) >= 1, "not parked once disarmed")
relay.slow(0)
with urllib.request.urlopen(sink.endpoint + "/healthz", timeout=10) as r:
    h.check(r.status == 200, "healthz after the faults")
h.check(sink.stop() == 0, "the sink did not stop cleanly: %s" %
        sink.log()[-2000:])
relay.stop()
rgw.stop()
print("PASS")
