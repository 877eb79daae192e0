"""Operations: /healthz, /metrics in Prometheus text format, one JSON log
line per request without secrets, SIGHUP re-reading the credentials file,
generated credentials on first start, and connection limits that keep a
flood of idle sockets from starving real clients."""
import os
import re
import signal
import socket
import stat
import time
import urllib.request

from vsharness import (Sink, check, env_with_keys, tmpdir, pattern, VSINK,
                       SECRET)

# credentials generated on first start: mode 0600, secret never printed
env = {k: v for k, v in os.environ.items()
       if not k.startswith("VSINK_ACCESS") and not k.startswith("VSINK_SECRET")}
gen = Sink(tag="genkeys", env=env).start()
cred = os.path.join(gen.data, "credentials")
check(os.path.exists(cred), "no generated credentials file")
check(stat.S_IMODE(os.stat(cred).st_mode) == 0o600, "credentials not 0600")
kid, secret = [l for l in open(cred).read().splitlines()
               if l and not l.startswith("#")][0].split()
check(kid in gen.log() and secret not in gen.log(),
      "first start must print the key id and never the secret")
st, _, _ = gen.request("PUT", gen.presign("PUT", "videos/g.mp4"), b"hello")
check(st == 200, "PUT with generated keys: %d" % st)
gen.stop()

# SIGHUP re-reads --credentials (rotation: old key out, new key in)
work = tmpdir("ops")
credfile = os.path.join(work, "creds")
with open(credfile, "w") as f:
    f.write("# rotation test\nAKIDOLD0000000000001 oldsecretoldsecretoldsecret0001\n")
os.chmod(credfile, 0o600)
sink = Sink(tag="ops", env=env, args=["--credentials", credfile,
                                      "--max-connections-per-ip", "40",
                                      "--idle-timeout", "2"]).start()


def presign_with(kid, secret, key):
    s = Sink(data=sink.data, env=dict(env, VSINK_ACCESS_KEY_ID=kid,
                                      VSINK_SECRET_ACCESS_KEY=secret))
    s.endpoint = sink.endpoint
    return s.presign("PUT", "videos/" + key)


old = presign_with("AKIDOLD0000000000001", "oldsecretoldsecretoldsecret0001",
                   "a.mp4")
check(sink.request("PUT", old, b"1")[0] == 200, "old key before rotation")
with open(credfile, "w") as f:
    f.write("AKIDNEW0000000000002 newsecretnewsecretnewsecret0002\n")
sink.proc.send_signal(signal.SIGHUP)
time.sleep(0.5)
check(sink.request("PUT", old, b"1")[0] == 403, "old key after rotation")
new = presign_with("AKIDNEW0000000000002", "newsecretnewsecretnewsecret0002",
                   "b.mp4")
check(sink.request("PUT", new, b"2")[0] == 200, "new key after SIGHUP")
check(any("reloaded" in (l.get("msg") or "") for l in sink.log_lines()),
      "SIGHUP not logged")

# healthz and metrics
with urllib.request.urlopen(sink.endpoint + "/healthz", timeout=10) as r:
    check(r.status == 200 and r.read() == b"ok\n", "healthz")
# counters move when a request completes, a moment after its client has
# the answer: read until they settle (bounded), as a scraper would
deadline = time.time() + 10
while True:
    with urllib.request.urlopen(sink.endpoint + "/metrics", timeout=10) as r:
        m = r.read().decode()
    if "vsink_upload_duration_seconds_count 2" in m or time.time() > deadline:
        break
    time.sleep(0.05)
check(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
      "metrics content type")
for line in m.splitlines():
    check(line.startswith("#") or
          re.match(r'^[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9.e+]+$', line),
          "not Prometheus text format: %r" % line)
check('vsink_uploads_total{status="stored"} 2' in m, "stored count:\n" + m)
check('vsink_uploads_total{status="rejected"} 1' in m, "rejected count:\n" + m)
check("vsink_upload_duration_seconds_count 2" in m, "histogram count")
check("vsink_bytes_in_total 2" in m, "bytes in")
check("vsink_uploads_in_flight 0" in m, "in flight")
for lane in ("store", "sha256", "md5"):
    check(re.search(r'^vsink_pipe_waits_total\{lane="%s"\} \d+$' % lane, m,
                    re.M), "pipe waits for %s:\n%s" % (lane, m))

# one JSON log line per request, never a signature or secret
lines = [l for l in sink.log_lines() if l.get("msg") == "request"]
puts = [l for l in lines if l["method"] == "PUT"]
check(len(puts) == 3, "want 3 PUT log lines: %s" % puts)
for l in puts:
    for f in ("time", "method", "bucket", "key", "status", "bytes_in", "ms",
              "remote"):
        check(f in l, "log line lacks %s: %s" % (f, l))
log = sink.log()
check("Signature" not in log and "secret" not in log.lower().replace(
    "secret_access", ""), "signature or secret in the log")

# a flood of idle sockets from one address is capped, and idle ones are
# closed: a real client still gets through afterwards
idle = []
for i in range(60):
    try:
        idle.append(socket.create_connection((sink.host, sink.port),
                                             timeout=5))
    except OSError:
        break
time.sleep(3.5)  # past --idle-timeout 2
closed = 0
for s in idle:
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        closed += 1 if True else 0
    s.close()
check(closed == len(idle), "idle sockets were not all closed: %d of %d"
      % (closed, len(idle)))
st, _, _ = sink.request("PUT", presign_with(
    "AKIDNEW0000000000002", "newsecretnewsecretnewsecret0002", "c.mp4"),
    pattern(1000))
check(st == 200, "client after the idle flood: %d" % st)
check(sink.stop() == 0, "sink exit status")
print("ops: healthz, metrics, logs, SIGHUP, generated keys, idle limits OK")
