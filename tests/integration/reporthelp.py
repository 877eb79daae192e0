"""Shared by the report/verify/HTML integration tests: manifest segments
written the way vsink's writers write them (for the `submitted` events that
`vsink submit` would write), the report read back as JSONL, and a small
driver of the fake generation API."""
import json
import os
import secrets
import subprocess
import time
import urllib.request

from vsharness import VSINK, check, env_with_keys


def line(event, when, node, **fields):
    head = {"v": 1, "event": event, "time": when, "node": node}
    head.update(fields)
    return json.dumps(head, ensure_ascii=False, separators=(",", ":"))


def rfc3339(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_s)) + \
        ".%03dZ" % int((unix_s % 1) * 1000)


def write_segment(mdir, node, lines, opened=None):
    """One complete plain segment named as a writer names it, written
    through a temporary file so no reader sees half of it."""
    opened = time.time() if opened is None else opened
    name = "%s%03dZ-%s-%d-%s.jsonl" % (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime(opened)),
        int((opened % 1) * 1000), node, os.getpid(), secrets.token_hex(4))
    os.makedirs(mdir, exist_ok=True)
    tmp = os.path.join(mdir, "." + name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        for text in lines:
            f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(mdir, name))
    return os.path.join(mdir, name)


def task(tid, prompt, resolution="720p", duration=5, nres=1, seed=None,
         upload=None, webhook=None):
    t = {"taskType": "videoInference", "taskUUID": tid,
         "model": "bytedance:2@2", "positivePrompt": prompt,
         "resolution": resolution, "duration": duration,
         "numberResults": nres, "outputFormat": "MP4",
         "outputQuality": 90, "includeCost": True,
         "deliveryMethod": "async"}
    if seed is not None:
        t["seed"] = seed
    if upload:
        t["uploadEndpoint"] = upload
    if webhook:
        t["webhookURL"] = webhook
    return t


def submitted(mdir, tasks_estimates, bucket, when=None, node="submit"):
    """`submitted` events as `vsink submit` writes them: the task without
    its presigned URLs' signatures, the estimate, the target."""
    when = time.time() if when is None else when
    lines = []
    for t, estimate in tasks_estimates:
        clean = dict(t)
        for k in ("uploadEndpoint", "webhookURL"):
            if k in clean:
                clean[k] = clean[k].split("?")[0]
        lines.append(line("submitted", rfc3339(when), node,
                          taskUUID=t["taskUUID"], task=clean,
                          estimate=estimate,
                          target={"kind": "sink", "bucket": bucket,
                                  "key": "out/%s.mp4" % t["taskUUID"]}))
    return write_segment(mdir, node, lines, when)


def report_rows(mdir, *extra, now=None, expect_rc=None):
    cmd = [VSINK, "report", "--manifest", mdir, "--format", "jsonl"]
    if now:
        cmd += ["--now", now]
    out = subprocess.run(cmd + list(extra), capture_output=True, timeout=120)
    check(out.returncode in (0, 1), "report failed (%d): %s" %
          (out.returncode, out.stderr.decode()))
    if expect_rc is not None:
        check(out.returncode == expect_rc, "report exit %d, expected %d" %
              (out.returncode, expect_rc))
    return [json.loads(x) for x in out.stdout.decode().splitlines() if x]


def verify(data, *extra, manifest=None):
    cmd = [VSINK, "verify", "--data", data] + list(extra)
    if manifest:
        cmd += ["--manifest", manifest]
    return subprocess.run(cmd, capture_output=True, timeout=300,
                          env=env_with_keys())


class FakeAPI:
    """vsink-fakeapi on 127.0.0.1 with an API key of its own."""
    KEY = "fake-api-key-for-tests"

    def __init__(self, *args):
        self.exe = os.environ.get("VSINK_FAKEAPI")
        self.args = list(args)
        self.proc = None

    def start(self):
        from vsharness import _procs, fail
        if not self.exe or not os.path.exists(self.exe):
            fail("VSINK_FAKEAPI is not built")
        self.proc = subprocess.Popen(
            [self.exe, "--listen", "127.0.0.1:0", "--api-key", self.KEY] +
            self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        _procs.append(self.proc)
        first = self.proc.stdout.readline().decode()
        check(first.startswith("listening on "), "fake did not start")
        self.url = first.split()[2].strip()
        return self

    def post(self, tasks):
        req = urllib.request.Request(
            self.url + "/v1", data=json.dumps(tasks).encode(),
            headers={"Authorization": "Bearer " + self.KEY,
                     "Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
