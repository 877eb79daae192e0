"""A real S3 server for the tests: a single-node Ceph RADOS Gateway on
127.0.0.1 (one monitor, one memstore OSD, one radosgw, no cephx), all of it
under one temporary folder, on ports chosen at run time so that parallel
ctest runs do not collide.

    from rgw import RGW
    with RGW() as rgw:                 # or rgw = RGW().start() ... stop()
        rgw.create_bucket("videos")
        s3 = rgw.client()              # boto3, path style
        rgw.endpoint                   # "http://127.0.0.1:PORT"

RGW checks SigV4 for real (a wrong secret, a tampered or expired URL gets
403), which is the point of using it. Objects live in the OSD's RAM: keep
test data small. Every daemon is stopped by stop(), at exit, or (should the
test process be killed) by the kernel through PR_SET_PDEATHSIG.

See /work/shared/reference/s3-test-server.md for why each setting is there.
"""
import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ACCESS_KEY = "VSINKRGWTESTKEY00001"
SECRET = "vsinkRgwTestSecret/0123456789abcdefghijk"
BINARIES = ("ceph-authtool", "monmaptool", "ceph-mon", "ceph-osd", "ceph",
            "radosgw", "radosgw-admin")


class RGWError(RuntimeError):
    """RGW could not be started; the message holds the daemons' log tails."""


class RGWUnavailable(RGWError):
    """The Ceph packages are not installed (scripts/install-deps.sh --test)."""


def free_port():
    """A port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _die_with_parent():
    # Runs in the child between fork and exec: if the test process dies
    # without running its atexit handlers (SIGKILL), so does the daemon.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _exit_on_sigterm():
    # ctest's timeout and a plain `kill` send SIGTERM; turning it into
    # SystemExit runs the atexit handlers, which stop the daemons.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))


def _tail(path, n=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return "(no %s)" % os.path.basename(path)
    return "\n".join(lines[-n:])


def _show(cmd):
    """A command for an error message, without the secret it may carry."""
    shown = []
    for i, a in enumerate(cmd):
        shown.append("***" if i and cmd[i - 1] == "--secret" else a)
    return " ".join(shown)


CONF = """[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc secure
ms mon cluster mode = crc secure
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon data avail crit = 1
paxos propose interval = 0.02
paxos min wait = 0.01
mon data avail warn = 2
run dir = {d}/run
log file = {d}/log/$name.log
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
keyring = {d}/keyring
mon data = {d}/mon/$cluster-$id
osd data = {d}/osd/$cluster-$id
log to stderr = false
err to stderr = true
debug ms = 0

[osd]
osd objectstore = memstore
memstore device bytes = {mem_bytes}
osd max object name len = 256
osd max object namespace len = 64

[client.rgw.{name}]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw dns name = localhost
rgw thread pool size = 32
debug rgw = 1
"""


class RGW:
    """One single-node Ceph RGW with one S3 user (access_key, secret)."""

    def __init__(self, access_key=ACCESS_KEY, secret=SECRET, uid="vsink-test",
                 tag="rgw", mem_mib=1024, start_timeout=90):
        self.access_key = access_key
        self.secret = secret
        self.uid = uid
        self.tag = tag
        self.mem_bytes = mem_mib * 1024 * 1024
        self.start_timeout = start_timeout
        self.dir = None
        self.port = None
        self.mon_port = None
        self.endpoint = None
        self.startup_seconds = None
        self._procs = {}
        self._deadline = 0

    # ---- life cycle -------------------------------------------------------
    def start(self):
        missing = [b for b in BINARIES if not shutil.which(b)]
        if missing:
            raise RGWUnavailable("not installed: %s (run scripts/install-deps"
                                 ".sh --test)" % " ".join(missing))
        _exit_on_sigterm()
        atexit.register(self._atexit)
        t0 = time.monotonic()
        self._deadline = t0 + self.start_timeout
        for attempt in (1, 2):
            self.dir = tempfile.mkdtemp(prefix="vsink-%s-" % self.tag)
            try:
                self._setup()
                break
            except BaseException as e:
                logs = self._log_tails()
                self.stop()
                if not isinstance(e, RGWError):
                    raise
                # a port found free may be taken before the daemon binds it
                # (another test starting at the same moment): once more
                if attempt == 1 and "Address already in use" in logs:
                    continue
                raise RGWError("%s\n%s" % (e, logs)) from None
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self, timeout=20):
        """Stops every daemon (SIGTERM, then SIGKILL after timeout) and
        removes the folder."""
        for name in ("rgw", "osd", "mon"):
            self._stop_daemon(name, timeout)
        if self.dir:
            shutil.rmtree(self.dir, True)
            self.dir = None

    def stop_gateway(self, timeout=20):
        """Stops radosgw alone (the cluster keeps its data): the endpoint
        then refuses connections until start_gateway()."""
        self._stop_daemon("rgw", timeout)

    def _stop_daemon(self, name, timeout):
        p = self._procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def start_gateway(self, timeout=60):
        """Starts radosgw again on the same port."""
        self._deadline = time.monotonic() + timeout
        self._start_rgw()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _atexit(self):
        self.stop(timeout=5)

    # ---- S3 helpers -------------------------------------------------------
    def client(self, access_key=None, secret=None, region="us-east-1"):
        import boto3
        from botocore.config import Config
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret or self.secret,
            config=Config(signature_version="s3v4",
                          s3={"addressing_style": "path"},
                          retries={"max_attempts": 1},
                          connect_timeout=10, read_timeout=60))

    def create_bucket(self, name):
        self.client().create_bucket(Bucket=name)
        return name

    def versioned_bucket(self, name):
        """A bucket with versioning on, as `--store s3://` requires."""
        self.create_bucket(name)
        self.client().put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def sink_env(self, base):
        """base (a sink's environment) with this cluster's keys."""
        env = dict(base)
        env["VSINK_S3_ACCESS_KEY_ID"] = self.access_key
        env["VSINK_S3_SECRET_ACCESS_KEY"] = self.secret
        return env

    def admin(self, *args, timeout=30):
        """radosgw-admin against this cluster; returns its stdout."""
        return self._run(["radosgw-admin", "-c", self.conf] + list(args),
                         timeout=timeout)

    def log(self, daemon="rgw"):
        """The tail of a daemon's log ("mon", "osd" or "rgw")."""
        name = {"mon": "mon.a", "osd": "osd.0"}.get(daemon,
                                                     "client.rgw." + self.tag)
        return _tail(os.path.join(self.dir, "log", name + ".log"))

    # ---- start-up steps ---------------------------------------------------
    @property
    def conf(self):
        return os.path.join(self.dir, "ceph.conf")

    def _setup(self):
        d = self.dir
        for sub in ("run", "log", "mon", "osd"):
            os.mkdir(os.path.join(d, sub))
        self.fsid = str(uuid.uuid4())
        self.mon_port = free_port()
        self.port = free_port()
        with open(self.conf, "w") as f:
            f.write(CONF.format(fsid=self.fsid, mon_port=self.mon_port,
                                rgw_port=self.port, d=d, name=self.tag,
                                mem_bytes=self.mem_bytes))
        self._start_mon()
        self._start_osd()
        self._start_rgw()
        self.admin("user", "create", "--uid", self.uid, "--display-name",
                   "vsink tests", "--access-key", self.access_key,
                   "--secret", self.secret)

    def _start_mon(self):
        d = self.dir
        keyring = os.path.join(d, "mon.keyring")
        self._run(["ceph-authtool", "--create-keyring", keyring, "--gen-key",
                   "-n", "mon.", "--cap", "mon", "allow *"])
        monmap = os.path.join(d, "monmap")
        self._run(["monmaptool", "--create", "--addv", "a",
                   "[v2:127.0.0.1:%d]" % self.mon_port, "--fsid", self.fsid,
                   monmap])
        self._run(["ceph-mon", "-c", self.conf, "--mkfs", "-i", "a",
                   "--monmap", monmap, "--keyring", keyring])
        self._spawn("mon", ["ceph-mon", "-c", self.conf, "-f", "-i", "a"])
        # waiting here, watching the process, finds a monitor that died
        # (port taken) at once instead of after the ceph tool's timeout
        self._wait("the monitor to listen on port %d" % self.mon_port,
                   lambda: _listening(self.mon_port), interval=0.05)

    def _start_osd(self):
        osd_uuid = str(uuid.uuid4())
        osd_id = self._ceph("osd", "new", osd_uuid).strip()
        if osd_id != "0":
            raise RGWError("ceph osd new gave id %r, want 0" % osd_id)
        # memstore keeps only its fsid and keyring on disk, but asserts
        # (SIGABRT in MemStore::set_fsid) when the folder is missing
        os.mkdir(os.path.join(self.dir, "osd", "ceph-0"))
        self._run(["ceph-osd", "-c", self.conf, "-i", "0", "--mkfs",
                   "--osd-uuid", osd_uuid])
        self._spawn("osd", ["ceph-osd", "-c", self.conf, "-f", "-i", "0"])
        self._wait("the OSD to be up",
                   lambda: "1 up" in self._ceph("osd", "stat"))

    def _start_rgw(self):
        self._spawn("rgw", ["radosgw", "-c", self.conf, "-f", "-n",
                            "client.rgw.%s" % self.tag,
                            "--client-mount-timeout", "30"])
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self._wait("radosgw to answer HTTP on %s" % self.endpoint,
                   self._http_up, interval=0.1)

    def _http_up(self):
        try:
            urllib.request.urlopen(self.endpoint + "/", timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer (403 for anonymous) means up
        except OSError:
            return False

    # ---- process plumbing -------------------------------------------------
    def _left(self):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise RGWError("RGW did not start within %g s" %
                           self.start_timeout)
        return left

    def _run(self, cmd, timeout=30):
        try:
            out = subprocess.run(cmd, capture_output=True,
                                 timeout=min(timeout, self._left()))
        except subprocess.TimeoutExpired:
            raise RGWError("%s: no answer within %d s" %
                           (_show(cmd), timeout)) from None
        if out.returncode != 0:
            raise RGWError("%s failed (exit %d): %s" % (
                _show(cmd), out.returncode,
                (out.stderr or out.stdout).decode(errors="replace")[-2000:]))
        return out.stdout.decode(errors="replace")

    def _ceph(self, *args):
        return self._run(["ceph", "-c", self.conf, "--connect-timeout", "10"]
                         + list(args))

    def _spawn(self, name, cmd):
        err = open(os.path.join(self.dir, "log", name + ".stderr"), "wb")
        self._procs[name] = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
            preexec_fn=_die_with_parent)
        err.close()

    def _wait(self, what, ready, interval=0.25):
        while True:
            for name, p in self._procs.items():
                if p.poll() is not None:
                    raise RGWError("%s exited with %d while waiting for %s" %
                                   (name, p.returncode, what))
            if ready():
                return
            if time.monotonic() + interval >= self._deadline:
                raise RGWError("timed out after %g s waiting for %s" %
                               (self.start_timeout, what))
            time.sleep(interval)

    def _log_tails(self):
        if not self.dir or not os.path.isdir(self.dir):
            return ""
        out = []
        for f in sorted(os.listdir(os.path.join(self.dir, "log"))):
            out.append("---- %s ----\n%s" %
                       (f, _tail(os.path.join(self.dir, "log", f))))
        return "\n".join(out)


if __name__ == "__main__":
    # python3 rgw.py: start one, print how long it took, stop it.
    t = time.monotonic()
    with RGW() as r:
        print("RGW up at %s in %.1f s" % (r.endpoint, r.startup_seconds))
        r.create_bucket("smoke")
        r.client().put_object(Bucket="smoke", Key="k", Body=b"hello")
        body = r.client().get_object(Bucket="smoke", Key="k")["Body"].read()
        assert body == b"hello", body
        t1 = time.monotonic()
    print("stopped in %.1f s" % (time.monotonic() - t1))


def start_or_skip(tag, mem_mib):
    """A started RGW, or the test skipped (exit 77) on a machine that
    cannot run one."""
    try:
        rgw = RGW(tag=tag, mem_mib=mem_mib).start()
    except RGWUnavailable as e:
        print("SKIP: %s" % e)
        sys.exit(77)
    print("RGW started in %.1f s at %s" % (rgw.startup_seconds, rgw.endpoint))
    return rgw


def relayed_sink(rgw, bucket, tag, args=(), env=None):
    """A sink storing into bucket (made here, versioned) on rgw through a
    faultproxy relay, as the tests of a slow or failing cluster need:
    (relay, the started sink). One event thread (--threads 1), so a wait
    on the cluster there shows in every other request. env: more of the
    sink's environment."""
    from faultproxy import FaultProxy
    import vsharness as h
    rgw.versioned_bucket(bucket)
    relay = FaultProxy(rgw.port).start()
    sink = h.Sink(args=["--store", "s3://%s/n" % bucket, "--s3-endpoint",
                        relay.endpoint, "--threads", "1"] + list(args),
                  env=dict(rgw.sink_env(h.env_with_keys()), **(env or {})),
                  tag=tag).start()
    return relay, sink
