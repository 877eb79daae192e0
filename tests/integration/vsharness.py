"""Shared by the integration tests: start a real `vsink serve` on 127.0.0.1,
presign with the real CLI, read the manifest back, look at the data folder.
Every process started here is stopped by the test (or at exit)."""
import atexit
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

VSINK = os.environ.get("VSINK") or os.path.join(
    os.path.dirname(__file__), "../../build/vsink")
KEY_ID = "AKIDVSINKTEST0001"
SECRET = "vsinkTestSecretKey/0123456789abcdefghijkl"
_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def env_with_keys(extra=None):
    env = dict(os.environ)
    env["VSINK_ACCESS_KEY_ID"] = KEY_ID
    env["VSINK_SECRET_ACCESS_KEY"] = SECRET
    env.update(extra or {})
    return env


def tmpdir(tag):
    d = tempfile.mkdtemp(prefix="vsink-it-%s-" % tag)
    atexit.register(shutil.rmtree, d, True)
    return d


class Sink:
    """A `vsink serve` process with its own data folder."""

    def __init__(self, data=None, args=(), env=None, tag="sink",
                 manifest=None):
        self.data = data or tmpdir(tag)
        self.manifest = manifest or os.path.join(self.data, "manifest")
        self.args = list(args)
        self.env = env if env is not None else env_with_keys()
        self.proc = None
        self.endpoint = None
        self.stderr_path = os.path.join(tempfile.mkdtemp(prefix="vsink-log-"),
                                        "stderr.log")
        atexit.register(shutil.rmtree, os.path.dirname(self.stderr_path),
                        True)

    def start(self, timeout=20):
        self.errf = open(self.stderr_path, "ab")
        cmd = [VSINK, "serve", "--listen", "127.0.0.1:0", "--data", self.data,
               "--manifest", self.manifest, "--threads", "2"] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.errf, env=self.env)
        _procs.append(self.proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            if line.startswith("vsink: listening on "):
                self.endpoint = line.split()[3]
                break
        if not self.endpoint:
            self.proc.kill()
            fail("sink did not start: %s" % self.log())
        u = urllib.parse.urlsplit(self.endpoint)
        self.host, self.port = u.hostname, u.port
        return self

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_lines(self):
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("sink did not stop within %d s" % timeout)
        return self.proc.returncode

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def presign(self, method, bucket_key, expires=3600, date=None,
                endpoint=None, region=None):
        cmd = [VSINK, "presign", "--method", method, "--expires",
               str(expires), "--endpoint", endpoint or self.endpoint,
               "--data", self.data]
        if date:
            cmd += ["--date", date]
        if region:
            cmd += ["--region", region]
        cmd.append(bucket_key)
        out = subprocess.run(cmd, env=self.env, capture_output=True,
                             timeout=30)
        check(out.returncode == 0, "presign failed: %s" % out.stderr)
        return out.stdout.decode().strip()

    def presign_raw(self, method, encoded_path, expires=600):
        """A presigned URL for a path given already %-encoded, signed here in
        Python (independent of vsink's signer): for paths no client would
        produce, such as invalid UTF-8."""
        import hmac
        now = time.gmtime()
        amz, day = time.strftime("%Y%m%dT%H%M%SZ", now), \
            time.strftime("%Y%m%d", now)
        scope = "%s/us-east-1/s3/aws4_request" % day
        q = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
             ("X-Amz-Credential", "%s/%s" % (KEY_ID, scope)),
             ("X-Amz-Date", amz), ("X-Amz-Expires", str(expires)),
             ("X-Amz-SignedHeaders", "host")]
        query = "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="-_.~"))
                         for k, v in sorted(q))
        host = "%s:%d" % (self.host, self.port)
        creq = "\n".join([method, encoded_path, query, "host:" + host, "",
                          "host", "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + SECRET).encode()
        for part in (day, "us-east-1", "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        return "%s%s?%s&X-Amz-Signature=%s" % (self.endpoint, encoded_path,
                                               query, sig)

    def conn(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)

    def request(self, method, url, body=None, headers=None, timeout=60):
        """One request to a full URL on this sink; returns (status, headers,
        body bytes)."""
        u = urllib.parse.urlsplit(url)
        path = u.path + ("?" + u.query if u.query else "")
        c = self.conn(timeout)
        c.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None and "Content-Length" not in hdrs and \
                "Transfer-Encoding" not in hdrs:
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            c.putheader(k, v)
        c.endheaders()
        if body is not None:
            try:
                c.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered early (e.g. EntityTooLarge): read it below
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def manifest_events(self, event=None):
        out = subprocess.run([VSINK, "manifest", "cat", self.manifest],
                             capture_output=True, timeout=60)
        check(out.returncode == 0, "manifest cat failed: %s" % out.stderr)
        evs = [json.loads(l) for l in out.stdout.decode().splitlines() if l]
        return [e for e in evs if event is None or e["event"] == event]

    def object_files(self):
        """Every file under the data folder that is object data or an
        upload in progress (not keys, lock or manifest)."""
        found = []
        for root, dirs, files in os.walk(self.data):
            rel = os.path.relpath(root, self.data)
            if rel.split(os.sep)[0] == "manifest":
                continue
            for f in files:
                if rel == "." and f in ("credentials", ".lock"):
                    continue
                found.append(os.path.join(rel, f))
        return sorted(found)

    def temp_files(self):
        t = os.path.join(self.data, ".tmp")
        return sorted(os.listdir(t)) if os.path.isdir(t) else []


def s3_error_code(body):
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    code = root.find("Code")
    return code.text if code is not None else None


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def pattern(n, seed=1):
    """n deterministic bytes, cheap to make and not all the same."""
    block = hashlib.sha256(b"vsink-%d" % seed).digest() * 2048  # 64 KiB
    reps, rest = divmod(n, len(block))
    return block * reps + block[:rest]


def boto3_client(sink, region="us-east-1"):
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=sink.endpoint, region_name=region,
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
        config=Config(signature_version="s3v4",
                      s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}))
