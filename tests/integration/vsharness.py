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
        upload in progress (not keys, lock, manifest or bucket list)."""
        found = []
        for root, dirs, files in os.walk(self.data):
            rel = os.path.relpath(root, self.data)
            if rel.split(os.sep)[0] == "manifest":
                continue
            for f in files:
                if rel == "." and f in ("credentials", ".lock"):
                    continue
                if rel == "state" and f == "buckets":  # the bucket list
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


# ---- vsink submit and the fake API (issue 3) -------------------------------
FAKEAPI = os.environ.get("VSINK_FAKEAPI")
API_KEY = "vsink-it-api-key"


class FakeAPI:
    """A vsink-fakeapi process on 127.0.0.1; its JSON log is collected."""

    def __init__(self, *args, delay_ms=100, size=65536):
        if not FAKEAPI:
            print("SKIP: VSINK_FAKEAPI is not set")
            sys.exit(77)
        import threading
        cmd = [FAKEAPI, "--listen", "127.0.0.1:0", "--api-key", API_KEY,
               "--delay-ms", str(delay_ms), "--size", str(size)] + list(args)
        self.size = size
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        _procs.append(self.proc)
        self.log = []
        threading.Thread(target=self._read_log, daemon=True).start()
        line = self.proc.stdout.readline().decode()
        check(line.startswith("listening on http://"),
              "fake API did not start: %r" % line)
        self.url = line.split()[-1]
        self.api = self.url + "/v1"

    def _read_log(self):
        for raw in self.proc.stderr:
            try:
                self.log.append(json.loads(raw))
            except ValueError:
                pass

    def events(self, kind, **match):
        """Log lines of one event kind (request, upload, webhook) whose
        fields equal match."""
        return [e for e in list(self.log) if e.get("event") == kind and
                all(e.get(k) == v for k, v in match.items())]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        return self.proc.returncode


def fake_sha256(task_uuid, index, size, fmt):
    out = subprocess.run([FAKEAPI, "--print-sha256", task_uuid, str(index),
                          str(size), fmt], capture_output=True, timeout=30)
    check(out.returncode == 0, "--print-sha256: %s" % out.stderr)
    return out.stdout.decode().strip()


class Recorder:
    """A proxy in front of the fake API that remembers every POST body, so
    a test can count how many times each taskUUID was sent."""

    def __init__(self, upstream):
        import http.server
        import threading
        up = urllib.parse.urlsplit(upstream)
        self.posts = []
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                rec.posts.append(json.loads(body))
                c = http.client.HTTPConnection(up.hostname, up.port,
                                               timeout=60)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("authorization", "content-type")}
                c.request("POST", self.path, body, hdrs)
                r = c.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() in ("content-type", "retry-after"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                c.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.api = "http://127.0.0.1:%d/v1" % self.server.server_address[1]

    def sends(self, task_type="videoInference"):
        """taskUUID -> how many POSTs carried it as task_type."""
        n = {}
        for body in self.posts:
            for t in body if isinstance(body, list) else []:
                if isinstance(t, dict) and t.get("taskType") == task_type:
                    n[t.get("taskUUID")] = n.get(t.get("taskUUID"), 0) + 1
        return n

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def submit(args, api=None, env=None, timeout=120, key=API_KEY):
    """Runs `vsink submit`; returns (exit status, stdout JSON lines, stderr
    text, seconds taken)."""
    e = env_with_keys(env)
    if key is not None:
        e["RUNWARE_API_KEY"] = key
    else:
        e.pop("RUNWARE_API_KEY", None)
    cmd = [VSINK, "submit"] + (["--api-url", api] if api else []) + list(args)
    t = time.monotonic()
    out = subprocess.run(cmd, env=e, capture_output=True, timeout=timeout)
    took = time.monotonic() - t
    lines = []
    for l in out.stdout.decode().splitlines():
        try:
            lines.append(json.loads(l))
        except ValueError:
            fail("submit printed a line that is not JSON: %r" % l)
    return out.returncode, lines, out.stderr.decode(), took


def by_task(events):
    """taskUUID -> {event name -> [events]}"""
    out = {}
    for e in events:
        u = e.get("taskUUID")
        if u:
            out.setdefault(u, {}).setdefault(e["event"], []).append(e)
    return out


# ---- real S3 clients, one workflow file each (issue 8, test_client_*) ------
MiB = 1 << 20


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MiB), b""):
            h.update(b)
    return h.hexdigest()


def write_file(path, size, seed):
    """size bytes at path, each MiB different (so that the parts of a
    multipart upload differ and a reordering shows); returns the SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(0, size, MiB):
            b = pattern(min(MiB, size - i), seed=seed * 100003 + i // MiB)
            h.update(b)
            f.write(b)
    return h.hexdigest()


def multipart_etag(path, part_size):
    """S3's ETag of the object uploaded from path in parts of part_size
    bytes: the MD5 of the parts' MD5s, then -N."""
    digests, n = b"", 0
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(part_size), b""):
            digests += hashlib.md5(b).digest()
            n += 1
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), n)


def md5_etag(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MiB), b""):
            h.update(b)
    return '"%s"' % h.hexdigest()


class ClientFiles:
    """The upload set every client workflow uses: 1 KiB, 20 MiB and
    200 MiB files, made once, with their SHA-256."""

    SIZES = (("1k.bin", 1024), ("20m.bin", 20 * MiB), ("200m.bin", 200 * MiB))

    def __init__(self, tag, seed=1):
        self.dir = tmpdir(tag + "-src")
        self.path, self.sha, self.size = {}, {}, {}
        for i, (name, size) in enumerate(self.SIZES):
            self.path[name] = os.path.join(self.dir, name)
            self.sha[name] = write_file(self.path[name], size, seed * 10 + i)
            self.size[name] = size

    def names(self):
        return [n for n, _ in self.SIZES]


def small_folder(path, n=50, seed=5):
    """n small files under path (some in a sub folder with spaces in its
    name), their mtimes an hour ago; returns {relative name: bytes}."""
    os.makedirs(os.path.join(path, "sub dir"), exist_ok=True)
    files = {}
    old = time.time() - 3600
    for i in range(n):
        name = ("sub dir/clip %02d+.mp4" if i % 5 == 0 else "clip%02d.mp4") % i
        files[name] = pattern(700 + 37 * i, seed=seed * 1000 + i)
        p = os.path.join(path, name)
        with open(p, "wb") as f:
            f.write(files[name])
        os.utime(p, (old, old))
    return files


def same_tree(folder, files):
    """True when folder holds exactly files ({relative name: bytes})."""
    found = {}
    for root, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                found[os.path.relpath(p, folder)] = f.read()
    return found == files


def client_env(sink, home):
    """The environment for the command-line clients against sink: the AWS
    CLI (no config files), rclone (remote `vs:`), s4cmd; HOME is home."""
    env = env_with_keys({
        "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1", "HOME": home,
        "AWS_CONFIG_FILE": os.path.join(home, "none"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "none"),
        "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": "",
        "RCLONE_CONFIG_VS_TYPE": "s3", "RCLONE_CONFIG_VS_PROVIDER": "Other",
        "RCLONE_CONFIG_VS_ENDPOINT": sink.endpoint,
        "RCLONE_CONFIG_VS_ACCESS_KEY_ID": KEY_ID,
        "RCLONE_CONFIG_VS_SECRET_ACCESS_KEY": SECRET,
        "RCLONE_CONFIG_VS_REGION": "us-east-1",
        "RCLONE_CONFIG_VS_FORCE_PATH_STYLE": "true",
        "S3_ACCESS_KEY": KEY_ID, "S3_SECRET_KEY": SECRET})
    for k in ("AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_ENDPOINT_URL",
              "RCLONE_CONFIG"):
        env.pop(k, None)
    return env


def run_ok(cmd, env, timeout=180, what=None):
    """Runs a client command that must succeed; returns (stdout, stderr)
    as text."""
    r = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout)
    check(r.returncode == 0, "%s: exit %d\n%s\n%s" % (
        what or " ".join(cmd[:8]), r.returncode, r.stdout.decode(
            errors="replace")[-2000:], r.stderr.decode(errors="replace")[-3000:]))
    return r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def stored_of(sink, key, bucket="videos", events=None):
    evs = events if events is not None else sink.manifest_events("stored")
    return [e for e in evs if e.get("key") == key and
            e.get("bucket") == bucket]


def check_stored_once(sink, key, sha, size, what, events=None):
    """key has exactly one `stored` event, with sha and size; returns it."""
    ev = stored_of(sink, key, events=events)
    check(len(ev) == 1, "%s: want one stored event for %s, got %s" %
          (what, key, ev))
    check(ev[0]["sha256"] == sha and ev[0]["bytes"] == size,
          "%s: stored event of %s: %s (want %s, %d bytes)" %
          (what, key, ev[0], sha, size))
    return ev[0]


def version_count(s3, prefix, bucket="videos"):
    """How many versions and delete markers ListObjectVersions shows under
    prefix (every page)."""
    n = 0
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix):
        n += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    return n


class Stopwatch:
    """Prints how long each step of a workflow took (to keep the files
    under their time budget)."""

    def __init__(self, tag):
        self.tag, self.t0 = tag, time.monotonic()
        self.t = self.t0

    def step(self, what):
        now = time.monotonic()
        print("%s: ok %-50s %5.1f s" % (self.tag, what, now - self.t))
        sys.stdout.flush()
        self.t = now

    def total(self):
        print("%s: total %.1f s" % (self.tag, time.monotonic() - self.t0))
