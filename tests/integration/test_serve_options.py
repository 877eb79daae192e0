"""vsink serve refuses what it cannot run with, precisely and before
starting: bad options, a bucket-HEAD endpoint without its keys, a data
folder another sink holds. A SIGHUP with a broken credentials file keeps
the keys in use. IPv6 loopback works."""
import os
import signal
import subprocess
import time

from vsharness import VSINK, Sink, check, env_with_keys, tmpdir


def refused(args, status, words, env=None):
    r = subprocess.run([VSINK, "serve", "--listen", "127.0.0.1:0"] + args,
                       capture_output=True, timeout=20,
                       env=env or env_with_keys())
    err = r.stderr.decode()
    check(r.returncode == status and words in err,
          "serve %s: want exit %d with %r, got %d: %s" % (args, status, words,
                                                          r.returncode, err))
    print("ok  %-50s exit %d" % (" ".join(args), status))


data = tmpdir("serve-opts")
refused(["--data", data, "--on-existing", "keep"], 2,
        "version, reject or overwrite")
refused(["--data", data, "--max-object-size", "5XB"], 2, "a size such as")
refused(["--data", data, "--threads", "0"], 2, "1..1024")
refused(["--data", data, "--bucket", "Bad_Name"], 2, "--bucket 'Bad_Name'")
refused(["--data", data, "--s3-endpoint", "ftp://x"], 2, "http(s):// URL")
env = {k: v for k, v in env_with_keys().items() if not k.startswith("VSINK_S3")}
refused(["--data", data, "--s3-endpoint", "http://127.0.0.1:1"], 2,
        "VSINK_S3_ACCESS_KEY_ID", env)
r = subprocess.run([VSINK, "serve", "--listen", "300.1.1.1:9", "--data", data],
                   capture_output=True, timeout=20, env=env_with_keys())
check(r.returncode == 3 and b"bad IPv4 address" in r.stderr,
      "bad listen address: %d %s" % (r.returncode, r.stderr))
print("ok  --listen 300.1.1.1:9                               exit 3")

# a data folder another sink holds
sink = Sink(data=data).start()
refused(["--data", data], 3, "in use")

# SIGHUP with a broken credentials file: the keys in use stay
creds = os.path.join(tmpdir("serve-creds"), "creds")
with open(creds, "w") as f:
    f.write("AKIDHUP0000000000001 hupsecrethupsecrethupsecret01\n")
plain = {k: v for k, v in os.environ.items()
         if not k.startswith("VSINK_ACCESS") and not k.startswith("VSINK_SECRET")}
hup = Sink(env=plain, args=["--credentials", creds]).start()
signer = Sink(data=hup.data, env=dict(
    plain, VSINK_ACCESS_KEY_ID="AKIDHUP0000000000001",
    VSINK_SECRET_ACCESS_KEY="hupsecrethupsecrethupsecret01"))
signer.endpoint = hup.endpoint
with open(creds, "w") as f:
    f.write("only-one-field\n")
hup.proc.send_signal(signal.SIGHUP)
deadline = time.time() + 10
while "not reloaded" not in hup.log() and time.time() < deadline:
    time.sleep(0.05)
check("not reloaded" in hup.log(), "broken reload not logged")
st, _, _ = hup.request("PUT", signer.presign("PUT", "videos/k.mp4"), b"x")
check(st == 200, "the old key must still work after a broken reload: %d" % st)
print("ok  SIGHUP with a broken credentials file keeps the old keys")

# IPv6 loopback: the printed address works for a real upload
p = subprocess.Popen([VSINK, "serve", "--listen", "[::1]:0", "--data",
                      tmpdir("serve-v6")], stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, env=env_with_keys())
try:
    line = p.stdout.readline().decode()
    check(line.startswith("vsink: listening on http://[::1]:"),
          "IPv6 listen: %r" % line)
    url = subprocess.run([VSINK, "presign", "--endpoint", line.split()[3],
                          "videos/v6.mp4"], capture_output=True,
                         env=env_with_keys(), timeout=20).stdout.decode()
    r = subprocess.run(["curl", "-sS", "-g", "-o", "/dev/null", "-w",
                        "%{http_code}", "-T", "-", url.strip()],
                       input=b"over ipv6", capture_output=True, timeout=20)
    check(r.stdout == b"200", "PUT over [::1]: %s %s" % (r.stdout, r.stderr))
    print("ok  --listen [::1]:0, PUT over IPv6 loopback")
finally:
    p.send_signal(signal.SIGTERM)
    p.wait(20)
for s in (sink, hup):
    check(s.stop() == 0, "sink exit status")
print("serve options: refusals precise, reload safe")
