#!/usr/bin/python3
"""Tests of vsink-fakeapi itself: the fake is only worth something if it
behaves like the documented API, so it is driven here over real HTTP on
127.0.0.1 with urllib, and its deliveries land in a real Python receiver.
The delivered bytes are recomputed here from the recipe in
tests/fakeapi/README.md, independently of the C code."""
import base64
import decimal
import hashlib
import http.server
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
import zlib

FAKE = os.environ.get("VSINK_FAKEAPI")
KEY = "test-key-123"
TIMEOUT = 10


# ---- the deterministic content, recomputed from its recipe ---------------

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def header(fmt, size):
    if fmt == "WEBM":
        return bytes.fromhex(
            "1a45dfa39f4286810142f7810142f2810442f381084282847765626d"
            "4287810242858102" "1853806701ffffffffffffff")
    if fmt == "MP4":
        ftyp = b"\0\0\0\x18ftypisom\0\0\2\0isommp41"
    else:
        ftyp = b"\0\0\0\x14ftypqt  \0\0\2\0qt  "
    rest = max(size - len(ftyp), 0)  # mdat's size counts its own header
    box = rest if 8 <= rest <= 0xFFFFFFFF else 0
    return ftyp + struct.pack(">I", box) + b"mdat"


def content(task_uuid, index, size, fmt):
    seed = int.from_bytes(
        hashlib.sha256(f"{task_uuid}:{index}".encode()).digest()[:8], "big")
    words = ((splitmix64((seed + (k + 1) * GOLDEN) & MASK)).to_bytes(8, "little")
             for k in range((size + 7) // 8))
    body = bytearray(b"".join(words)[:size])
    head = header(fmt, size)[:size]
    body[:len(head)] = head
    return bytes(body)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def print_sha256(task_uuid, index, size, fmt):
    out = subprocess.run([FAKE, "--print-sha256", task_uuid, str(index),
                          str(size), fmt], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True)
    return out.stdout.strip()


# ---- images for inputs.frameImages -----------------------------------------

def png(w, h):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(b"\0" * 8)) + chunk(b"IEND", b""))


def data_uri(b, kind="png"):
    return f"data:image/{kind};base64," + base64.b64encode(b).decode()


# ---- the fake as a process -------------------------------------------------

class Fake:
    def __init__(self, *args, delay_ms=100):
        if not FAKE:
            raise unittest.SkipTest("VSINK_FAKEAPI is not set")
        cmd = [FAKE, "--listen", "127.0.0.1:0", "--api-key", KEY,
               "--delay-ms", str(delay_ms), *args]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.log, self.junk = [], []
        self.err_reader = threading.Thread(target=self._read_err, daemon=True)
        self.err_reader.start()
        line = []
        t = threading.Thread(target=lambda: line.append(
            self.p.stdout.readline().decode()), daemon=True)
        t.start()
        t.join(TIMEOUT)
        if not line or not line[0].startswith("listening on http://"):
            self.p.kill()
            self.p.wait(TIMEOUT)
            raise AssertionError(f"fake did not start: {line}")
        self.url = line[0].split()[-1]

    def _read_err(self):
        for raw in self.p.stderr:
            try:
                self.log.append(json.loads(raw))
            except ValueError:
                self.junk.append(raw.decode(errors="replace"))

    def call(self, body, key=KEY, raw=None, scheme="Bearer"):
        data = raw if raw is not None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/v1", data=data,
                                     method="POST")
        req.add_header("Content-Type", "application/json")
        if key is not None:
            req.add_header("Authorization", f"{scheme} {key}")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                text = r.read()
                return r.status, json.loads(text, parse_float=decimal.Decimal), r.headers, text
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, json.loads(text, parse_float=decimal.Decimal), e.headers, text

    def poll(self, task_uuid):
        return self.call([{"taskType": "getResponse", "taskUUID": task_uuid}])

    def wait_done(self, task_uuid, n=1, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            status, body, _, text = self.poll(task_uuid)
            done = [d for d in body.get("data", []) if d["status"] == "success"]
            if len(done) >= n or body.get("errors"):
                return status, body, text
            time.sleep(0.05)
        raise AssertionError(f"task {task_uuid} not done in {timeout}s")

    def events(self, name):
        return [e for e in self.log if e.get("event") == name]

    def stop(self):
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(TIMEOUT)
        return rc, time.monotonic() - t0

    def close(self):
        """Stops the fake; it must exit 0 and have logged only JSON lines
        (a sanitizer's or valgrind's report would break both)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(TIMEOUT)
        self.err_reader.join(TIMEOUT)
        self.p.stdout.close()
        self.p.stderr.close()
        return self.p.returncode, self.junk


def task(**kw):
    t = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
         "model": "bytedance:2@2", "positivePrompt": "a cat dancing",
         "resolution": "720p"}
    for k, v in kw.items():
        if v is DROP:
            t.pop(k, None)
        else:
            t[k] = v
    return t


DROP = object()


# ---- a receiver for the PUTs and the webhooks ------------------------------

class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that closes a kept-alive connection is no error here
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Receiver:
    def __init__(self, put_codes=(), hook_codes=()):
        self.puts, self.posts = [], []
        self.put_codes, self.hook_codes = list(put_codes), list(hook_codes)
        self.cv = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, code):
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def read_body(self):
                n = int(self.headers.get("Content-Length", "-1"))
                data = bytearray()
                while len(data) < n:
                    try:
                        chunk = self.rfile.read1(min(65536, n - len(data)))
                    except OSError:
                        break
                    if not chunk:
                        break
                    data += chunk
                return n, bytes(data)

            def do_PUT(self):
                t0 = time.monotonic()
                n, data = self.read_body()
                rec = {"path": self.path, "declared": n, "body": data,
                       "ctype": self.headers.get("Content-Type"),
                       "secs": time.monotonic() - t0,
                       "complete": len(data) == n}
                with outer.cv:
                    code = outer.put_codes.pop(0) if outer.put_codes else 200
                    outer.puts.append(rec)
                    outer.cv.notify_all()
                if rec["complete"]:
                    self.reply(code)
                else:
                    self.close_connection = True

            def do_POST(self):
                n, data = self.read_body()
                with outer.cv:
                    code = outer.hook_codes.pop(0) if outer.hook_codes else 200
                    outer.posts.append({"path": self.path,
                                        "body": json.loads(data, parse_float=decimal.Decimal),
                                        "ctype": self.headers.get("Content-Type"),
                                        "code": code})
                    outer.cv.notify_all()
                self.reply(code)

        self.srv = QuietServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def wait(self, what, n, timeout=TIMEOUT):
        with self.cv:
            ok = self.cv.wait_for(lambda: len(getattr(self, what)) >= n,
                                  timeout)
        if not ok:
            raise AssertionError(f"receiver: {len(getattr(self, what))} "
                                 f"{what}, wanted {n}")
        return getattr(self, what)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class FakeCase(unittest.TestCase):
    def fake(self, *args, **kw):
        f = Fake(*args, **kw)

        def clean_exit():
            rc, junk = f.close()
            self.assertEqual((rc, junk), (0, []), "".join(junk)[:4000])
        self.addCleanup(clean_exit)
        return f

    def receiver(self, **kw):
        r = Receiver(**kw)
        self.addCleanup(r.close)
        return r

    def delivered_task(self, rcv, **kw):
        tag = uuid.uuid4().hex[:8]
        return task(uploadEndpoint=f"{rcv.base}/bucket/{tag}.mp4?X-Amz-Signature=ab%2Fcd&X-Amz-Expires=60",
                    webhookURL=f"{rcv.base}/hooks/{tag}?token=t%20x", **kw)


# ---- the envelope ----------------------------------------------------------

class TestEnvelope(FakeCase):
    def test_api_key(self):
        f = self.fake()
        for key, scheme in ((None, "Bearer"), ("wrong", "Bearer"),
                            (KEY + "x", "Bearer"), (KEY, "Basic"), ("", "Bearer")):
            status, body, _, _ = f.call([task()], key=key, scheme=scheme)
            self.assertEqual(status, 401, (key, scheme))
            e = body["errors"][0]
            self.assertEqual(e["code"], "invalidApiKey")
            self.assertEqual(e["parameter"], "apiKey")
            self.assertEqual(e["taskType"], "authentication")
            self.assertIn("message", e)
            self.assertNotIn("data", body)
        status, body, _, _ = f.call([task()])
        self.assertEqual(status, 200)

    def test_malformed_bodies(self):
        f = self.fake()
        for raw, code in ((b"not json", "invalidJSON"), (b"[1,", "invalidJSON"),
                          (b'{"taskType":"videoInference"}', "invalidRequest"),
                          (b"[]", "invalidRequest"), (b"", "invalidJSON"),
                          (b"[{}] x", "invalidJSON")):
            status, body, _, _ = f.call(None, raw=raw)
            self.assertEqual(status, 400, raw)
            self.assertEqual(body["errors"][0]["code"], code, raw)
        status, body, _, _ = f.call([1])
        self.assertEqual((status, body["errors"][0]["code"]), (400, "invalidTask"))
        status, body, _, _ = f.call([{"taskType": "imageInference", "taskUUID": str(uuid.uuid4())}])
        self.assertEqual(status, 400)
        e = body["errors"][0]
        self.assertEqual((e["code"], e["parameter"]), ("invalidTaskType", "taskType"))
        self.assertEqual(e["allowedValues"], ["videoInference", "getResponse"])
        status, body, _, _ = f.call([{"taskUUID": str(uuid.uuid4())}])
        self.assertEqual(body["errors"][0]["code"], "missingTaskType")

    def test_other_routes(self):
        f = self.fake()
        with urllib.request.urlopen(f.url + "/healthz", timeout=TIMEOUT) as r:
            self.assertEqual(r.status, 200)
        for path, method, code in (("/v1", "GET", 405), ("/v2", "POST", 404)):
            req = urllib.request.Request(f.url + path, method=method, data=b"[]" if method == "POST" else None)
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req, timeout=TIMEOUT)
            self.assertEqual(cm.exception.code, code)


# ---- validation ------------------------------------------------------------

U = "aac49721-1964-481a-ae78-8a4e29b91402"

# (overrides, [(code, parameter)]) for bad tasks
BAD = [
    ({"positivePrompt": "a"}, [("invalidPositivePrompt", "positivePrompt")]),
    ({"positivePrompt": "é" * 3001}, [("invalidPositivePrompt", "positivePrompt")]),
    ({"positivePrompt": 42}, [("invalidPositivePrompt", "positivePrompt")]),
    ({"positivePrompt": DROP}, [("missingPositivePrompt", "positivePrompt")]),
    ({"model": "bytedance:1@1"}, [("invalidModel", "model")]),
    ({"model": DROP}, [("missingModel", "model")]),
    ({"taskUUID": "not-a-uuid"}, [("invalidTaskUUID", "taskUUID")]),
    ({"taskUUID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, [("invalidTaskUUID", "taskUUID")]),
    ({"taskUUID": DROP}, [("missingTaskUUID", "taskUUID")]),
    ({"resolution": DROP, "width": 864}, [("missingHeight", "height")]),
    ({"resolution": DROP, "height": 480}, [("missingWidth", "width")]),
    ({"resolution": DROP, "width": 100, "height": 100}, [("unsupportedDimensions", "width")]),
    ({"resolution": DROP, "width": 480, "height": 864.5}, [("invalidHeight", "height")]),
    ({"resolution": DROP, "width": "864", "height": 480}, [("invalidWidth", "width")]),
    ({"width": 864, "height": 480}, [("conflictingResolution", "resolution")]),
    ({"resolution": "4k"}, [("invalidResolution", "resolution")]),
    ({"resolution": DROP}, [("missingResolution", "resolution")]),
    ({"duration": 1.25}, [("invalidDuration", "duration")]),
    ({"duration": 1.1}, [("invalidDuration", "duration")]),
    ({"duration": 12.1}, [("invalidDuration", "duration")]),
    ({"duration": "5"}, [("invalidDuration", "duration")]),
    ({"seed": -1}, [("invalidSeed", "seed")]),
    ({"seed": 9223372036854775808}, [("invalidSeed", "seed")]),
    ({"seed": 1.5}, [("invalidSeed", "seed")]),
    ({"numberResults": 0}, [("invalidNumberResults", "numberResults")]),
    ({"numberResults": 5}, [("invalidNumberResults", "numberResults")]),
    ({"outputType": "base64Data"}, [("invalidOutputType", "outputType")]),
    ({"outputFormat": "GIF"}, [("invalidOutputFormat", "outputFormat")]),
    ({"outputFormat": "mp4"}, [("invalidOutputFormat", "outputFormat")]),
    ({"outputQuality": 19}, [("invalidOutputQuality", "outputQuality")]),
    ({"outputQuality": 100}, [("invalidOutputQuality", "outputQuality")]),
    ({"deliveryMethod": "sync"}, [("invalidDeliveryMethod", "deliveryMethod")]),
    ({"ttl": 59}, [("invalidTtl", "ttl")]),
    ({"includeCost": "yes"}, [("invalidIncludeCost", "includeCost")]),
    ({"safety": {"mode": "strict"}}, [("invalidMode", "safety.mode")]),
    ({"safety": {"checkContent": 1}}, [("invalidCheckContent", "safety.checkContent")]),
    ({"safety": {"level": 1}}, [("unsupportedParameter", "safety.level")]),
    ({"safety": "full"}, [("invalidSafety", "safety")]),
    ({"inputs": {"frameImages": []}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [U, U]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [{"image": U, "frame": "last"}]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [{"image": U, "frame": 1}]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [{"frame": 0}]}}, [("missingFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [data_uri(png(200, 400))]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [data_uri(png(400, 6001))]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": [base64.b64encode(b"GIF89a" + b"\0" * 30).decode()]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"frameImages": ["!!not base64!!"]}}, [("invalidFrameImages", "inputs.frameImages")]),
    ({"inputs": {"referenceImages": [U]}}, [("unsupportedParameter", "inputs.referenceImages")]),
    ({"providerSettings": {"bytedance": {"cameraFixed": "no"}}}, [("invalidCameraFixed", "providerSettings.bytedance.cameraFixed")]),
    ({"providerSettings": {"bytedance": []}}, [("invalidBytedance", "providerSettings.bytedance")]),
    ({"webhookURL": "ftp://example.com/x"}, [("invalidWebhookURL", "webhookURL")]),
    ({"uploadEndpoint": "not a url"}, [("invalidUploadEndpoint", "uploadEndpoint")]),
    ({"negativePrompt": "blur"}, [("unsupportedParameter", "negativePrompt")]),
]

GOOD = [
    {"positivePrompt": "é" * 3000},
    {"positivePrompt": "ab"},
    {"duration": 1.2}, {"duration": 12}, {"duration": 7.3}, {"duration": 12.0},
    {"seed": 0}, {"seed": 9223372036854775807},
    {"numberResults": 4}, {"outputFormat": "WEBM"}, {"outputFormat": "MOV"},
    {"outputQuality": 20}, {"outputQuality": 99}, {"ttl": 60},
    {"deliveryMethod": "async", "outputType": "URL", "includeCost": False},
    {"resolution": DROP, "width": 2176, "height": 928},
    {"resolution": DROP, "width": 640, "height": 1504},
    {"resolution": "480p"}, {"resolution": "1080p"},
    {"resolution": DROP, "inputs": {"frameImages": [U]}},
    {"resolution": DROP, "inputs": {"frameImages": [{"image": U, "frame": "first"}]}},
    {"inputs": {"frameImages": [{"image": "https://example.com/a.png", "frame": 0}]}},
    {"inputs": {"frameImages": [data_uri(png(300, 6000))]}},
    {"inputs": {"frameImages": [base64.b64encode(png(1024, 768)).decode()]}},
    {"safety": {"checkContent": True, "mode": "full"}},
    {"providerSettings": {"bytedance": {"cameraFixed": True}}},
    {"webhookURL": "https://hooks.example.com/h?token=a%2Fb", "uploadEndpoint": "http://127.0.0.1:9/b/k.mp4"},
]


class TestValidation(FakeCase):
    def test_each_bad_field(self):
        f = self.fake()
        for over, want in BAD:
            t = task(**over)
            status, body, _, _ = f.call([t])
            with self.subTest(over=str(over)[:80]):
                self.assertEqual(status, 400)
                self.assertNotIn("data", body)
                got = [(e["code"], e.get("parameter")) for e in body["errors"]]
                self.assertEqual(got, want)
                for e in body["errors"]:
                    self.assertEqual(e["taskType"], "videoInference")
                    if isinstance(t.get("taskUUID"), str):
                        self.assertEqual(e["taskUUID"], t["taskUUID"])
                    self.assertTrue(e["documentation"].startswith("https://"))
                    self.assertIn(e["parameter"].split(".")[-1], e["message"])

    def test_allowed_values(self):
        f = self.fake()
        cases = [({"outputFormat": "GIF"}, ["MP4", "WEBM", "MOV"]),
                 ({"resolution": "4k"}, ["480p", "720p", "1080p"]),
                 ({"safety": {"mode": "x"}}, ["none", "fast", "full"]),
                 ({"model": "m"}, ["bytedance:2@2"])]
        for over, allowed in cases:
            _, body, _, _ = f.call([task(**over)])
            self.assertEqual(body["errors"][0]["allowedValues"], allowed)
            self.assertEqual(body["errors"][0]["type"], "string")
        _, body, _, _ = f.call([task(resolution=DROP, width=100, height=100)])
        allowed = body["errors"][0]["allowedValues"]
        self.assertEqual(len(allowed), 21)
        self.assertIn("864x480", allowed)
        self.assertIn("1920x1088", allowed)

    def test_all_errors_at_once(self):
        f = self.fake()
        t = task(positivePrompt="x", duration=20, outputQuality=5, ttl=1,
                 outputFormat="AVI", numberResults=9)
        status, body, _, _ = f.call([t])
        self.assertEqual(status, 400)
        self.assertEqual(sorted(e["parameter"] for e in body["errors"]),
                         sorted(["positivePrompt", "duration", "outputQuality",
                                 "ttl", "outputFormat", "numberResults"]))

    def test_good_tasks(self):
        f = self.fake()
        for over in GOOD:
            t = task(**over)
            status, body, _, _ = f.call([t])
            with self.subTest(over=str(over)[:80]):
                self.assertEqual(status, 200, body)
                self.assertEqual(body, {"data": [{"taskType": "videoInference",
                                                  "taskUUID": t["taskUUID"]}]})

    def test_batch_good_and_bad(self):
        f = self.fake()
        good, bad = task(), task(ttl=10)
        status, body, _, _ = f.call([good, bad])
        self.assertEqual(status, 200)
        self.assertEqual(body["data"], [{"taskType": "videoInference",
                                         "taskUUID": good["taskUUID"]}])
        self.assertEqual([(e["code"], e["taskUUID"]) for e in body["errors"]],
                         [("invalidTtl", bad["taskUUID"])])
        # the bad one was not accepted: it is unknown to getResponse
        status, body, _, _ = f.poll(bad["taskUUID"])
        self.assertEqual(body["errors"][0]["code"], "unknownTaskUUID")

    def test_conflict_task_uuid(self):
        f = self.fake()
        t = task()
        self.assertEqual(f.call([t])[0], 200)
        for again in (t, dict(t, taskUUID=t["taskUUID"].upper())):
            status, body, _, _ = f.call([again])
            self.assertEqual(status, 400)
            e = body["errors"][0]
            self.assertEqual((e["code"], e["parameter"], e["taskUUID"]),
                             ("conflictTaskUUID", "taskUUID", again["taskUUID"]))
        # twice in one batch: the first is accepted, the second conflicts
        t2 = task()
        status, body, _, _ = f.call([t2, t2])
        self.assertEqual(status, 200)
        self.assertEqual(len(body["data"]), 1)
        self.assertEqual(body["errors"][0]["code"], "conflictTaskUUID")


# ---- results ---------------------------------------------------------------

class TestResults(FakeCase):
    def test_processing_then_success(self):
        f = self.fake(delay_ms=300)
        t = task(includeCost=True, seed=1234, numberResults=2, duration=5)
        f.call([t])
        status, body, _, _ = f.poll(t["taskUUID"])
        self.assertEqual(status, 200)
        self.assertEqual(body["data"], [{"taskType": "videoInference",
                                         "taskUUID": t["taskUUID"],
                                         "status": "processing"}])
        status, body, text = f.wait_done(t["taskUUID"], 2)
        self.assertEqual(status, 200)
        items = body["data"]
        self.assertEqual(len(items), 2)
        self.assertEqual({i["videoUUID"] for i in items}.__len__(), 2)
        for i, item in enumerate(sorted(items, key=lambda x: x["seed"])):
            self.assertEqual(set(item), {"taskType", "taskUUID", "status", "videoUUID",
                                         "videoURL", "seed", "cost", "NSFWContent"})
            self.assertEqual(item["status"], "success")
            self.assertEqual(item["taskUUID"], t["taskUUID"])
            self.assertEqual(uuid.UUID(item["videoUUID"]).version, 4)
            self.assertEqual(item["seed"], 1234 + i)
            self.assertEqual(item["cost"], decimal.Decimal("0.07"))
            self.assertIs(item["NSFWContent"], False)
            self.assertTrue(item["videoURL"].endswith(item["videoUUID"] + ".mp4"))
        self.assertIn(b'"cost":0.07,', text)  # exact decimal text on the wire

    def test_costs_exact(self):
        f = self.fake(delay_ms=1)
        cases = [({"resolution": "480p", "duration": 5}, "0.031"),
                 ({"resolution": "720p"}, "0.07"),
                 ({"resolution": "1080p", "duration": 12}, "0.3768"),
                 ({"resolution": "1080p", "duration": 1.2}, "0.03768"),
                 ({"resolution": DROP, "width": 864, "height": 480, "duration": 7.3}, "0.04526"),
                 ({"resolution": DROP, "width": 960, "height": 960, "duration": 2.7}, "0.0378"),
                 ({"resolution": DROP, "inputs": {"frameImages": [U]}}, "0.07")]
        for over, cost in cases:
            t = task(includeCost=True, **over)
            f.call([t])
            _, body, text = f.wait_done(t["taskUUID"])
            self.assertEqual(body["data"][0]["cost"], decimal.Decimal(cost), over)
            self.assertIn(f'"cost":{cost},'.encode(), text)
        t = task()
        f.call([t])
        _, body, _ = f.wait_done(t["taskUUID"])
        self.assertNotIn("cost", body["data"][0])

    def test_seeds(self):
        f = self.fake(delay_ms=1)
        t = task(seed=9223372036854775806, numberResults=2)
        f.call([t])
        _, body, text = f.wait_done(t["taskUUID"], 2)
        self.assertEqual(sorted(i["seed"] for i in body["data"]),
                         [9223372036854775806, 9223372036854775807])
        self.assertIn(b'"seed":9223372036854775807,', text)
        t = task(numberResults=3)
        f.call([t])
        _, body, _ = f.wait_done(t["taskUUID"], 3)
        for item in body["data"]:
            self.assertTrue(0 <= item["seed"] < 2 ** 32)

    def test_unknown_and_bad_poll(self):
        f = self.fake()
        u = str(uuid.uuid4())
        status, body, _, _ = f.poll(u)
        self.assertEqual(status, 400)
        e = body["errors"][0]
        self.assertEqual((e["code"], e["taskUUID"], e["taskType"]),
                         ("unknownTaskUUID", u, "getResponse"))
        status, body, _, _ = f.call([{"taskType": "getResponse", "taskUUID": 5}])
        self.assertEqual(body["errors"][0]["code"], "invalidTaskUUID")

    def test_video_url_serves_the_bytes(self):
        f = self.fake("--size", "5000", delay_ms=1)
        t = task(outputFormat="WEBM")
        f.call([t])
        _, body, _ = f.wait_done(t["taskUUID"])
        url = body["data"][0]["videoURL"]
        self.assertTrue(url.endswith(".webm"))
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            got = r.read()
        self.assertEqual(got, content(t["taskUUID"], 0, 5000, "WEBM"))


# ---- deliveries ------------------------------------------------------------

class TestDelivery(FakeCase):
    def test_formats_put_and_webhook(self):
        rcv = self.receiver()
        f = self.fake("--size", "100003", delay_ms=50)
        for n, fmt in enumerate(("MP4", "WEBM", "MOV")):
            t = self.delivered_task(rcv, outputFormat=fmt, includeCost=True,
                                    seed=7)
            self.assertEqual(f.call([t])[0], 200)
            put = rcv.wait("puts", n + 1)[n]
            hook = rcv.wait("posts", n + 1)[n]
            # the exact URL string we gave, query and escapes untouched
            self.assertEqual(put["path"], t["uploadEndpoint"][len(rcv.base):])
            self.assertEqual(put["declared"], 100003)
            self.assertEqual(len(put["body"]), 100003)
            self.assertEqual(put["ctype"], {"MP4": "video/mp4", "WEBM": "video/webm",
                                            "MOV": "video/quicktime"}[fmt])
            magic = {"MP4": b"\0\0\0\x18ftypisom", "WEBM": b"\x1a\x45\xdf\xa3",
                     "MOV": b"\0\0\0\x14ftypqt  "}[fmt]
            self.assertTrue(put["body"].startswith(magic), fmt)
            want = content(t["taskUUID"], 0, 100003, fmt)
            self.assertEqual(sha(put["body"]), sha(want))
            self.assertEqual(print_sha256(t["taskUUID"], 0, 100003, fmt), sha(want))
            logged = [e for e in f.events("upload") if e["taskUUID"] == t["taskUUID"]]
            self.assertEqual(logged[-1]["sha256"], sha(want))
            self.assertNotIn("X-Amz-Signature", logged[-1]["url"])
            # the webhook: {"data":[item]}, the item getResponse shows
            self.assertEqual(hook["path"], t["webhookURL"][len(rcv.base):])
            self.assertEqual(hook["ctype"], "application/json")
            _, body, _ = f.wait_done(t["taskUUID"])
            self.assertEqual(hook["body"], {"data": body["data"]})
            self.assertEqual(hook["body"]["data"][0]["seed"], 7)

    def test_number_results_same_url(self):
        rcv = self.receiver()
        f = self.fake(delay_ms=50)
        t = self.delivered_task(rcv, numberResults=3, seed=100)
        f.call([t])
        puts = rcv.wait("puts", 3)
        posts = rcv.wait("posts", 3)
        self.assertEqual({p["path"] for p in puts}, {t["uploadEndpoint"][len(rcv.base):]})
        self.assertEqual(sorted(sha(p["body"]) for p in puts),
                         sorted(sha(content(t["taskUUID"], i, 65536, "MP4")) for i in range(3)))
        seeds = sorted(p["body"]["data"][0]["seed"] for p in posts)
        self.assertEqual(seeds, [100, 101, 102])
        self.assertEqual(len({p["body"]["data"][0]["videoUUID"] for p in posts}), 3)

    def test_webhook_retried_after_500(self):
        rcv = self.receiver(hook_codes=[500])
        f = self.fake("--webhook-backoff-ms", "50", delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        posts = rcv.wait("posts", 2)
        self.assertEqual([p["code"] for p in posts], [500, 200])
        self.assertEqual(posts[0]["body"], posts[1]["body"])
        time.sleep(0.3)
        self.assertEqual(len(rcv.posts), 2)
        hooks = f.events("webhook")
        self.assertEqual([(h["attempt"], h["status"]) for h in hooks], [(1, 500), (2, 200)])

    def test_webhook_gives_up(self):
        rcv = self.receiver(hook_codes=[503] * 10)
        f = self.fake("--webhook-attempts", "3", "--webhook-backoff-ms", "20",
                      delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        rcv.wait("posts", 3)
        time.sleep(0.5)
        self.assertEqual(len(rcv.posts), 3)
        # the result itself stays a success: the webhook is only a notice
        _, body, _ = f.wait_done(t["taskUUID"])
        self.assertEqual(body["data"][0]["status"], "success")

    def test_webhook_to_closed_port_is_retried(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        f = self.fake("--webhook-attempts", "2", "--webhook-backoff-ms", "20",
                      delay_ms=10)
        t = task(webhookURL=f"http://127.0.0.1:{port}/h")
        f.call([t])
        f.wait_done(t["taskUUID"])
        end = time.monotonic() + TIMEOUT
        while len(f.events("webhook")) < 2 and time.monotonic() < end:
            time.sleep(0.05)
        hooks = f.events("webhook")
        self.assertEqual([h["attempt"] for h in hooks], [1, 2])
        self.assertTrue(all("error" in h for h in hooks))

    def test_duplicate_webhook(self):
        rcv = self.receiver()
        f = self.fake("--duplicate-webhook", delay_ms=10)
        t = self.delivered_task(rcv, numberResults=2)
        f.call([t])
        posts = rcv.wait("posts", 4)
        time.sleep(0.3)
        self.assertEqual(len(rcv.posts), 4)
        by_video = {}
        for p in posts:
            by_video.setdefault(p["body"]["data"][0]["videoUUID"], []).append(p["body"])
        self.assertEqual(len(by_video), 2)
        for bodies in by_video.values():
            self.assertEqual(len(bodies), 2)
            self.assertEqual(bodies[0], bodies[1])
        self.assertEqual(len(rcv.puts), 2)

    def test_upload_refused_fails_the_task(self):
        rcv = self.receiver(put_codes=[403])
        f = self.fake(delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        hook = rcv.wait("posts", 1)[0]
        self.assertEqual(len(rcv.puts), 1)  # 4xx: never retried
        e = hook["body"]["errors"][0]
        self.assertEqual((e["code"], e["taskUUID"], e["status"]),
                         ("uploadFailed", t["taskUUID"], "error"))
        self.assertIn("403", e["message"])
        status, body, _ = f.wait_done(t["taskUUID"])
        self.assertEqual(status, 200)
        self.assertEqual(body["errors"], hook["body"]["errors"])
        self.assertNotIn("data", body)

    def test_upload_retried_after_500(self):
        rcv = self.receiver(put_codes=[500])
        f = self.fake(delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        hook = rcv.wait("posts", 1)[0]
        self.assertEqual(len(rcv.puts), 2)
        self.assertEqual(hook["body"]["data"][0]["status"], "success")
        self.assertEqual(sha(rcv.puts[1]["body"]), sha(content(t["taskUUID"], 0, 65536, "MP4")))


# ---- fault injection -------------------------------------------------------

class TestFaults(FakeCase):
    def test_429_with_retry_after(self):
        f = self.fake("--fault-429", "2")
        t = task()
        for _ in range(2):
            status, body, headers, _ = f.call([t])
            self.assertEqual(status, 429)
            self.assertEqual(headers["Retry-After"], "1")
            self.assertEqual(body["errors"][0]["code"], "rateLimitExceeded")
        status, body, _, _ = f.call([t])
        self.assertEqual(status, 200)  # not accepted before: no conflict

    def test_500(self):
        f = self.fake("--fault-500", "1")
        t = task()
        status, body, _, _ = f.call([t])
        self.assertEqual((status, body["errors"][0]["code"]), (500, "internalServerError"))
        self.assertEqual(f.call([t])[0], 200)

    def test_402_every_submit(self):
        f = self.fake("--fault-402")
        for _ in range(2):
            t1, t2 = task(), task()
            status, body, _, _ = f.call([t1, t2])
            self.assertEqual(status, 402)
            self.assertEqual([(e["code"], e["taskUUID"]) for e in body["errors"]],
                             [("insufficientCredits", t1["taskUUID"]),
                              ("insufficientCredits", t2["taskUUID"])])
            self.assertEqual(f.poll(t1["taskUUID"])[1]["errors"][0]["code"], "unknownTaskUUID")

    def test_402_first_only(self):
        f = self.fake("--fault-402=1")
        self.assertEqual(f.call([task()])[0], 402)
        self.assertEqual(f.call([task()])[0], 200)

    def test_lost_ack_then_conflict(self):
        f = self.fake("--fault-lost-ack", "1", delay_ms=10)
        t = task()
        status, body, _, _ = f.call([t])
        self.assertEqual(status, 500)
        self.assertNotIn("data", body)
        status, body, _, _ = f.call([t])
        self.assertEqual((status, body["errors"][0]["code"]), (400, "conflictTaskUUID"))
        _, body, _ = f.wait_done(t["taskUUID"])
        self.assertEqual(body["data"][0]["status"], "success")

    def test_drop_webhook(self):
        rcv = self.receiver()
        f = self.fake("--drop-webhook", delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        rcv.wait("puts", 1)
        f.wait_done(t["taskUUID"])
        time.sleep(0.3)
        self.assertEqual(rcv.posts, [])
        self.assertEqual(f.events("webhook")[0]["fault"], "dropped")

    def test_drop_upload(self):
        rcv = self.receiver()
        f = self.fake("--drop-upload", delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        hook = rcv.wait("posts", 1)[0]
        self.assertEqual(hook["body"]["data"][0]["status"], "success")
        self.assertEqual(rcv.puts, [])

    def test_truncate_upload(self):
        rcv = self.receiver()
        f = self.fake("--truncate-upload", "--size", "200000", delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        put = rcv.wait("puts", 1)[0]
        self.assertEqual(put["declared"], 200000)
        self.assertFalse(put["complete"])
        self.assertLessEqual(len(put["body"]), 100000)
        self.assertEqual(put["body"], content(t["taskUUID"], 0, 200000, "MP4")[:len(put["body"])])
        # the provider believes it delivered: the webhook still comes
        hook = rcv.wait("posts", 1)[0]
        self.assertEqual(hook["body"]["data"][0]["status"], "success")
        self.assertEqual(len(rcv.puts), 1)  # not retried

    def test_slow_upload(self):
        rcv = self.receiver()
        f = self.fake("--slow-upload-ms", "150", delay_ms=10)
        t = self.delivered_task(rcv)
        f.call([t])
        put = rcv.wait("puts", 1)[0]
        self.assertTrue(put["complete"])
        # 64 KiB goes in 16 KiB chunks: three pauses
        self.assertGreaterEqual(put["secs"], 0.4)
        self.assertEqual(sha(put["body"]), sha(content(t["taskUUID"], 0, 65536, "MP4")))

    def test_fail_task(self):
        rcv = self.receiver()
        f = self.fake("--fail-task=1", delay_ms=10)
        bad, good = self.delivered_task(rcv, numberResults=2), self.delivered_task(rcv)
        f.call([bad])
        hook = rcv.wait("posts", 1)[0]
        e = hook["body"]["errors"][0]
        self.assertEqual((e["taskUUID"], e["status"], e["taskType"]),
                         (bad["taskUUID"], "error", "videoInference"))
        self.assertTrue(e["code"] and e["message"])
        status, body, _ = f.wait_done(bad["taskUUID"])
        self.assertEqual(status, 200)
        self.assertEqual(body["errors"], [e])
        self.assertEqual(rcv.puts, [])
        f.call([good])
        rcv.wait("puts", 1)
        self.assertIn("data", rcv.wait("posts", 2)[1]["body"])
        time.sleep(0.2)
        self.assertEqual(len(rcv.posts), 2)  # one error notice, not one per result


# ---- the process -----------------------------------------------------------

class TestProcess(FakeCase):
    def test_stops_quickly_mid_delivery(self):
        rcv = self.receiver()
        f = self.fake("--slow-upload-ms", "5000", delay_ms=1)
        f.call([self.delivered_task(rcv)])
        time.sleep(0.3)  # the first chunk is out, the upload is pausing
        rc, secs = f.stop()
        self.assertEqual(rc, 0)
        self.assertLess(secs, 1.5)

    def test_stops_when_idle_and_logs_requests(self):
        f = self.fake()
        f.call([task()])
        rc, secs = f.stop()
        self.assertEqual(rc, 0)
        self.assertLess(secs, 1.5)
        req = f.events("request")
        self.assertEqual((req[0]["method"], req[0]["path"], req[0]["status"]),
                         ("POST", "/v1", 200))
        self.assertNotIn(KEY, json.dumps(f.log))

    def test_port_file(self):
        import tempfile
        d = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(d))
        pf = os.path.join(d, "port")
        f = self.fake("--port-file", pf)
        with open(pf) as fh:
            self.assertEqual(f.url, "http://127.0.0.1:%d" % int(fh.read()))

    def test_bad_options(self):
        if not FAKE:
            self.skipTest("VSINK_FAKEAPI is not set")
        for args, msg in ((["--api-key", "k"], "--listen"),
                          (["--listen", "127.0.0.1:0"], "--api-key"),
                          (["--listen", "nowhere", "--api-key", "k"], "HOST:PORT"),
                          (["--listen", "127.0.0.1:0", "--api-key", "k", "--size", "x"], "--size"),
                          (["--listen", "127.0.0.1:0", "--api-key", "k", "--fault-429"], "--fault-429"),
                          (["--listen", "127.0.0.1:0", "--api-key", "k", "--bogus"], "--bogus"),
                          (["--listen", "localhost:0", "--api-key", "k"], "IPv4")):
            r = subprocess.run([FAKE, *args], capture_output=True, text=True,
                               timeout=TIMEOUT, env={"PATH": "/usr/bin"})
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(msg, r.stderr, args)

    def test_print_sha256_matches_recipe(self):
        if not FAKE:
            self.skipTest("VSINK_FAKEAPI is not set")
        u = str(uuid.uuid4())
        for idx, size, fmt in ((0, 0, "MP4"), (1, 10, "MOV"), (2, 33, "WEBM"),
                               (3, 65536, "MOV"), (0, 1000001, "MP4")):
            self.assertEqual(print_sha256(u, idx, size, fmt),
                             sha(content(u, idx, size, fmt)), (idx, size, fmt))
        r = subprocess.run([FAKE, "--print-sha256", u, "0", "10", "GIF"],
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    if not FAKE:
        sys.exit("VSINK_FAKEAPI is not set (ctest sets it)")
    unittest.main(verbosity=1)
