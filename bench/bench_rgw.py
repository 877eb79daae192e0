#!/usr/bin/python3
"""Driver of bench/bench_rgw.sh: one SIZE_MIB body in /dev/shm, PUT with
`curl -T` to a presigned URL (made by `vsink presign` for both servers)
into vsink (default settings: MD5 ETag, SHA-256, fsync before the 200) and
into Ceph RGW, in turns whose order alternates, RUNS times; before each PUT
the page cache is dropped and the previous object deleted. Prints each PUT
(wall time, the server's CPU seconds from /proc: vsink's process; RGW's
radosgw + ceph-osd + ceph-mon), then the medians and RGW/vsink.

A third server, "vsink-s3", is vsink storing into the same RGW
(`--store s3://vsink-cluster/sink`): the same PUT through a sink into the
cluster against the presigned PUT straight into it (issue 10: the sink must
add under 10 %). Its CPU is vsink's and RGW's together.

RGW runs as the integration tests run it (tests/integration/rgw.py): one
monitor, one OSD on memstore. Its data stays in memory, so RGW does not
write to the disk at all while vsink makes every byte durable: the
comparison favours RGW."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

SRC = os.environ["SRC"]
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from rgw import RGW  # noqa: E402

VSINK = os.environ["VSINK"]
SIZE = int(os.environ.get("SIZE_MIB", "256")) << 20
RUNS = int(os.environ.get("RUNS", "5"))
BUCKET = "videos"
KEY_ID, SECRET = "AKIDRGWBENCH00000001", "rgwBenchSecret/0123456789abcdefghijk"
HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pids):
    t = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])  # utime, stime
    return t / HZ


def drop_caches():
    subprocess.run(["sync"])
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False


def presign(endpoint, key_id, secret, method, key):
    env = dict(os.environ, VSINK_ACCESS_KEY_ID=key_id,
               VSINK_SECRET_ACCESS_KEY=secret)
    return subprocess.run([VSINK, "presign", "--endpoint", endpoint,
                           "--method", method, "%s/%s" % (BUCKET, key)],
                          env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def put(server, body, key):
    url = presign(server["endpoint"], server["key_id"], server["secret"],
                  "PUT", key)
    c0 = cpu_s(server["pids"])
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                        "%{http_code} %{time_total}", "-T", body, url],
                       capture_output=True, text=True, check=True)
    cpu = cpu_s(server["pids"]) - c0
    code, secs = r.stdout.split()
    if code != "200":
        sys.exit("%s PUT answered %s" % (server["name"], code))
    return float(secs), cpu


def delete(server, key):
    if "purge" in server:  # the cluster keeps every version: all of them
        c, b, pfx = server["purge"]
        for v in c.list_object_versions(Bucket=b, Prefix=pfx).get(
                "Versions", []) + c.list_object_versions(
                Bucket=b, Prefix=pfx).get("DeleteMarkers", []):
            c.delete_object(Bucket=b, Key=v["Key"], VersionId=v["VersionId"])
        return
    if "s3" not in server:
        server["s3"] = boto3.client(
            "s3", endpoint_url=server["endpoint"], region_name="us-east-1",
            aws_access_key_id=server["key_id"],
            aws_secret_access_key=server["secret"])
    server["s3"].delete_object(Bucket=BUCKET, Key=key)


def start_vsink(work, name="data", args=(), extra_env=None):
    env = dict(os.environ, VSINK_ACCESS_KEY_ID=KEY_ID,
               VSINK_SECRET_ACCESS_KEY=SECRET, **(extra_env or {}))
    p = subprocess.Popen([VSINK, "serve", "--listen", "127.0.0.1:0", "--data",
                          os.path.join(work, name), "--bucket", BUCKET] +
                         list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        ln = p.stdout.readline().decode()
        if ln.startswith("vsink: listening on "):
            return p, ln.split()[3]
    p.kill()
    sys.exit("vsink did not start")


def main():
    work = tempfile.mkdtemp(prefix="vsink-rgwbench-",
                            dir=os.environ.get("TMPDIR"))
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else work
    body = os.path.join(tempfile.mkdtemp(dir=shm), "body")
    vs = rgw = None
    try:
        with open(body, "wb") as f:
            left = SIZE
            while left:
                n = min(left, 1 << 20)
                f.write(os.urandom(n))
                left -= n
        vs, endpoint = start_vsink(work)
        # memstore frees deleted objects only after RGW's garbage collection:
        # room for every PUT of the run
        rgw = RGW(tag="rgwbench",
                  mem_mib=SIZE * (2 * RUNS + 2) // (1 << 20) + 1024)
        rgw.start()
        rgw.create_bucket(BUCKET)
        rpids = [p.pid for p in rgw._procs.values()]
        cl = rgw.client()
        cl.create_bucket(Bucket="vsink-cluster")
        cl.put_bucket_versioning(Bucket="vsink-cluster",
                                 VersioningConfiguration={"Status":
                                                          "Enabled"})
        vs3, endpoint3 = start_vsink(
            work, "data-s3", ["--store", "s3://vsink-cluster/sink",
                              "--s3-endpoint", rgw.endpoint],
            {"VSINK_S3_ACCESS_KEY_ID": rgw.access_key,
             "VSINK_S3_SECRET_ACCESS_KEY": rgw.secret})
        servers = [
            {"name": "vsink", "endpoint": endpoint, "key_id": KEY_ID,
             "secret": SECRET, "pids": [vs.pid]},
            {"name": "rgw", "endpoint": rgw.endpoint,
             "key_id": rgw.access_key, "secret": rgw.secret, "pids": rpids},
            {"name": "vsink-s3", "endpoint": endpoint3, "key_id": KEY_ID,
             "secret": SECRET, "pids": [vs3.pid] + rpids,
             "purge": (cl, "vsink-cluster", "sink/")}]
        dropped = drop_caches()
        print("(e) %d MiB presigned PUT, curl -T from %s, %d rounds; page "
              "cache dropped: %s" % (SIZE >> 20, shm, RUNS,
                                     "yes" if dropped else "no (not root)"),
              flush=True)
        res = {s["name"]: {"wall": [], "cpu": []} for s in servers}
        for i in range(RUNS):
            order = servers[i % 3:] + servers[:i % 3]
            for s in order:
                drop_caches()
                key = "bench-%d.bin" % i
                wall, cpu = put(s, body, key)
                res[s["name"]]["wall"].append(wall)
                res[s["name"]]["cpu"].append(cpu)
                print("  round %d %-6s %7.3f s  server CPU %6.2f s" % (
                    i + 1, s["name"], wall, cpu), flush=True)
                delete(s, key)  # RGW keeps its objects in memory
        med = {n: {k: statistics.median(v) for k, v in r.items()}
               for n, r in res.items()}
        print()
        print("| %d MiB PUT | median | range | server CPU s (median) |" %
              (SIZE >> 20))
        print("|---|---|---|---|")
        for n in ("vsink", "rgw", "vsink-s3"):
            print("| %s | %.3f s | %.3f-%.3f | %.2f |" % (
                n, med[n]["wall"], min(res[n]["wall"]),
                max(res[n]["wall"]), med[n]["cpu"]))
        ratio = med["rgw"]["wall"] / med["vsink"]["wall"]
        print("| RGW / vsink | %.2fx | target >= 5x: %s | |" % (
            ratio, "met" if ratio >= 5 else "MISSED"))
        add = med["vsink-s3"]["wall"] / med["rgw"]["wall"] - 1
        print("| vsink-s3 / RGW | %+.1f %% | target < +10 %%: %s | |" % (
            100 * add, "met" if add < 0.10 else "MISSED"))
    finally:
        for p in (vs, locals().get("vs3")):
            if p:
                p.terminate()
                p.wait(60)
        if rgw:
            rgw.stop()
        shutil.rmtree(work, True)
        shutil.rmtree(os.path.dirname(body), True)


if __name__ == "__main__":
    main()
