#!/usr/bin/python3
"""Driver of bench/bench_rgw.sh: Ceph RGW (started as the tests start it,
tests/integration/rgw.py) against vsink in front of it.

Part 1, one PUT: a SIZE_MIB body in /dev/shm, PUT with `curl -T` to a
presigned URL (made by `vsink presign`) into
  rgw       RGW itself, the bucket `videos`;
  vsink-s3  vsink storing into the same RGW (`--store s3://vsink-cluster/
            sink`, a versioned bucket): the sink must add under 10 %
            (issue 10);
  vsink-fs  vsink on its own disk (default settings: fsync before the 200);
in RUNS rounds whose order rotates, the page cache dropped before each PUT
and the previous object deleted after it. Each PUT prints its wall time,
curl's own CPU (user+sys of the child), the sink's CPU and RGW's (radosgw +
ceph-osd + ceph-mon); then the medians and vsink-s3/rgw.

Part 2, aggregate: CONC (12) concurrent PUTs of AGG_MIB (64) each, one curl
per PUT, into RGW directly, into one sink node and into three sink nodes,
both behind haproxy (balance roundrobin, as tests/integration/
test_cluster_three.py); AGG_RUNS (3) rounds, rotating. Prints MiB/s of the
whole batch (first byte sent to last answer) and the curls' CPU, which
shows whether the client could be the bottleneck.

RGW runs on memstore: its data stays in memory, it never writes a disk.
vsink-fs makes every byte durable. On a small machine every server (three
sinks, haproxy, RGW's three daemons) and the client share the same cores:
the aggregate then measures how the work is spread, not what three
machines would give."""
import os
import resource
import shutil
import socket
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
AGG = int(os.environ.get("AGG_MIB", "64")) << 20
CONC = int(os.environ.get("CONC", "12"))
AGG_RUNS = int(os.environ.get("AGG_RUNS", "3"))
PARTS = os.environ.get("PARTS", "single,agg").split(",")
BASE = os.environ.get("VSINK_BASE")  # another vsink build to compare
BUCKET = "videos"
CLUSTER = "vsink-cluster"
PFX = "sink/" + BUCKET + "/"  # where the sinks keep bucket videos
KEY_ID, SECRET = "AKIDRGWBENCH00000001", "rgwBenchSecret/0123456789abcdefghijk"
HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pids):
    t = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])  # utime, stime
    return t / HZ


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def drop_caches():
    subprocess.run(["sync"])
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def presign(endpoint, key_id, secret, key, bucket=BUCKET):
    env = dict(os.environ, VSINK_ACCESS_KEY_ID=key_id,
               VSINK_SECRET_ACCESS_KEY=secret)
    return subprocess.run([VSINK, "presign", "--endpoint", endpoint,
                           "--method", "PUT", "%s/%s" % (bucket, key)],
                          env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def curl_put(body, url):
    return subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w",
                             "%{http_code} %{time_total}", "-T", body, url],
                            stdout=subprocess.PIPE, text=True)


def put(server, body, key):
    url = presign(server["endpoint"], server["key_id"], server["secret"], key)
    s0, r0, u0 = cpu_s(server["sink"]), cpu_s(server["rgw"]), child_cpu()
    p = curl_put(body, url)
    out = p.communicate()[0]
    ccpu = child_cpu() - u0
    scpu, rcpu = cpu_s(server["sink"]) - s0, cpu_s(server["rgw"]) - r0
    code, secs = out.split()
    if p.returncode or code != "200":
        sys.exit("%s PUT answered %s" % (server["name"], code))
    return float(secs), ccpu, scpu, rcpu


def purge(cl, bucket, prefix=""):
    """Every version and marker under prefix (the cluster bucket keeps
    them all), then RGW's garbage collection so memstore frees them."""
    pages = cl.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix=prefix)
    for page in pages:
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            cl.delete_object(Bucket=bucket, Key=v["Key"],
                             VersionId=v["VersionId"])


def gc(rgw):
    """RGW's garbage collection now (rgw.admin's deadline is start-up's),
    so that memstore frees what purge deleted."""
    r = subprocess.run(["radosgw-admin", "-c", rgw.conf, "gc", "process",
                        "--include-all"], capture_output=True, timeout=300)
    if r.returncode:  # memory is ample: a failed gc is not fatal
        print("  (rgw gc: exit %d)" % r.returncode, flush=True)


def start_vsink(work, name, args=(), extra_env=None, port=0, binary=None):
    env = dict(os.environ, VSINK_ACCESS_KEY_ID=KEY_ID,
               VSINK_SECRET_ACCESS_KEY=SECRET, **(extra_env or {}))
    wrap = os.environ.get("SINK_WRAP", "").split() if name == "n0" else []
    p = subprocess.Popen(wrap + [binary or VSINK, "serve", "--listen",
                                 "127.0.0.1:%d" % port, "--data",
                                 os.path.join(work, name), "--bucket",
                                 BUCKET] + list(args),
                         stdout=subprocess.PIPE, stderr=open(
                             os.path.join(work, name + ".log"), "w"),
                         env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        ln = p.stdout.readline().decode()
        if ln.startswith("vsink: listening on "):
            return p, ln.split()[3]
    p.kill()
    sys.exit("vsink did not start")


def sink_pid(p):
    """The vsink process: p itself, or its child under SINK_WRAP."""
    if not os.environ.get("SINK_WRAP") or p.args[0] == VSINK:
        return p.pid
    with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
        kids = f.read().split()
    return int(kids[0]) if kids else p.pid


def stop(procs, kids):
    """SIGTERM to every server (and a wrapped sink itself: a wrapper such
    as strace may not pass it on), SIGKILL to what is left after 60 s."""
    for pid in kids:
        try:
            os.kill(pid, 15)
        except OSError:
            pass
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def haproxy(work, name, ports):
    port = free_port()
    cfg = os.path.join(work, name + ".cfg")
    with open(cfg, "w") as f:
        f.write("""global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
frontend vsink
    bind 127.0.0.1:%d
    default_backend nodes
backend nodes
    balance roundrobin
%s
""" % (port, "\n".join("    server n%d 127.0.0.1:%d" % (i, p)
                       for i, p in enumerate(ports))))
    lb = subprocess.Popen(["haproxy", "-db", "-f", cfg],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return lb, "http://127.0.0.1:%d" % port
        except OSError:
            time.sleep(0.1)
    sys.exit("haproxy did not start")


def med(xs):
    return statistics.median(xs)


def single(body, servers, cl):
    print("\n## 1. one %d MiB presigned PUT, curl -T, %d rounds" %
          (SIZE >> 20, RUNS), flush=True)
    res = {s["name"]: [] for s in servers}
    for i in range(RUNS):
        k = i % len(servers)
        for s in servers[k:] + servers[:k]:
            drop_caches()
            key = "bench-%d.bin" % i
            r = put(s, body, key)
            res[s["name"]].append(r)
            print("  round %d %-8s %7.3f s  curl CPU %5.2f s  sink CPU "
                  "%5.2f s  RGW CPU %5.2f s" % ((i + 1, s["name"]) + r),
                  flush=True)
            s["delete"](key)
    print("\n| %d MiB PUT | median | range | curl CPU s | sink CPU s | "
          "RGW CPU s |" % (SIZE >> 20))
    print("|---|---|---|---|---|---|")
    for n in [s["name"] for s in servers]:
        w = [r[0] for r in res[n]]
        print("| %s | %.3f s | %.3f-%.3f | %.2f | %.2f | %.2f |" % (
            n, med(w), min(w), max(w), med([r[1] for r in res[n]]),
            med([r[2] for r in res[n]]), med([r[3] for r in res[n]])))
    add = med([r[0] for r in res["vsink-s3"]]) / med(
        [r[0] for r in res["rgw"]]) - 1
    print("| vsink-s3 / rgw | %+.1f %% | target < +10 %%: %s | | | |" % (
        100 * add, "met" if add < 0.10 else "MISSED"), flush=True)
    # what the load cannot blur: the CPU the whole PUT took, all processes
    cpu = {n: med([r[1] + r[2] + r[3] for r in res[n]]) for n in res}
    print("| CPU of curl + sink + RGW, vsink-s3 / rgw | %+.1f %% | %.2f s "
          "/ %.2f s | | | |" % (100 * (cpu["vsink-s3"] / cpu["rgw"] - 1),
                                cpu["vsink-s3"], cpu["rgw"]), flush=True)


def batch(body, target, tag):
    """CONC curls at once: MiB/s of the batch, and the curls' CPU."""
    urls = [presign(target["endpoint"], target["key_id"], target["secret"],
                    "%s-%d.bin" % (tag, k)) for k in range(CONC)]
    u0, r0 = child_cpu(), cpu_s(target["rgw"])
    s0 = cpu_s(target["sink"] + target["lb"])
    t0 = time.monotonic()
    ps = [curl_put(body, u) for u in urls]
    outs = [p.communicate()[0] for p in ps]
    wall = time.monotonic() - t0
    ccpu = child_cpu() - u0
    scpu = cpu_s(target["sink"] + target["lb"]) - s0
    rcpu = cpu_s(target["rgw"]) - r0
    bad = [o for p, o in zip(ps, outs) if p.returncode or
           not o.startswith("200 ")]
    if bad:
        sys.exit("%s: %d PUTs failed: %s" % (target["name"], len(bad),
                                             bad[:3]))
    return CONC * AGG / (1 << 20) / wall, wall, ccpu, scpu, rcpu


def aggregate(abody, targets, cl, rgw):
    print("\n## 2. aggregate: %d concurrent PUTs of %d MiB, %d rounds" % (
        CONC, AGG >> 20, AGG_RUNS), flush=True)
    res = {t["name"]: [] for t in targets}
    for i in range(AGG_RUNS):
        order = targets[i % 3:] + targets[:i % 3]
        for t in order:
            drop_caches()
            r = batch(abody, t, "agg%d" % i)
            res[t["name"]].append(r)
            print("  round %d %-14s %7.1f MiB/s  %6.2f s  curl CPU %5.2f s  "
                  "sinks+lb CPU %5.2f s  RGW CPU %5.2f s" % ((i + 1, t["name"])
                                                          + r), flush=True)
            t["purge"]()
            gc(rgw)
    print("\n| %d x %d MiB at once | MiB/s median | range | wall s | curl "
          "CPU s | sinks+haproxy CPU s | RGW CPU s |" % (CONC, AGG >> 20))
    print("|---|---|---|---|---|---|---|")
    for t in targets:
        r = res[t["name"]]
        m = [x[0] for x in r]
        print("| %s | %.1f | %.1f-%.1f | %.2f | %.2f | %.2f | %.2f |" % (
            t["name"], med(m), min(m), max(m), med([x[1] for x in r]),
            med([x[2] for x in r]), med([x[3] for x in r]),
            med([x[4] for x in r])))
    one = med([x[0] for x in res["1 sink"]])
    three = med([x[0] for x in res["3 sinks"]])
    print("| 3 sinks / 1 sink | %.2fx | | | | | |" % (three / one),
          flush=True)


def write_body(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


def main():
    work = tempfile.mkdtemp(prefix="vsink-rgwbench-",
                            dir=os.environ.get("TMPDIR"))
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else work
    bdir = tempfile.mkdtemp(dir=shm)
    body, abody = os.path.join(bdir, "body"), os.path.join(bdir, "abody")
    procs, kids, rgw = [], [], None
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    print("bench_rgw: %s, %d CPUs, /proc/loadavg at start: %s" % (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        os.cpu_count(), load), flush=True)
    try:
        write_body(body, SIZE)
        write_body(abody, AGG)
        rgw = RGW(tag="rgwbench", mem_mib=12288)
        rgw.start()
        rgw.create_bucket(BUCKET)
        rpids = [p.pid for p in rgw._procs.values()]
        cl = rgw.client()
        cl.create_bucket(Bucket=CLUSTER)
        cl.put_bucket_versioning(Bucket=CLUSTER, VersioningConfiguration={
            "Status": "Enabled"})
        s3env = {"VSINK_S3_ACCESS_KEY_ID": rgw.access_key,
                 "VSINK_S3_SECRET_ACCESS_KEY": rgw.secret}
        ports = [free_port() for _ in range(3)]
        nodes = []
        for i in range(3):
            p, ep = start_vsink(work, "n%d" % i, [
                "--node", "n%d" % i, "--store", "s3://%s/sink" % CLUSTER,
                "--s3-endpoint", rgw.endpoint], s3env, ports[i])
            procs.append(p)
            nodes.append((sink_pid(p), ep))
            if nodes[-1][0] != p.pid:  # under SINK_WRAP
                kids.append(nodes[-1][0])
        fs, fs_ep = start_vsink(work, "fs")
        procs.append(fs)
        if BASE:  # another build of vsink, as vsink-s3 (before and after)
            bp, base_ep = start_vsink(work, "base", [
                "--node", "base", "--store", "s3://%s/base" % CLUSTER,
                "--s3-endpoint", rgw.endpoint], s3env, binary=BASE)
            procs.append(bp)
        dropped = drop_caches()
        print("page cache dropped before each PUT: %s" % (
            "yes" if dropped else "no (not root)"), flush=True)

        def rm_rgw(key):
            cl.delete_object(Bucket=BUCKET, Key=key)

        def rm_s3(key):
            purge(cl, CLUSTER, PFX)

        fs_cl = boto3.client("s3", endpoint_url=fs_ep,
                             region_name="us-east-1",
                             aws_access_key_id=KEY_ID,
                             aws_secret_access_key=SECRET)
        servers = [
            {"name": "rgw", "endpoint": rgw.endpoint,
             "key_id": rgw.access_key, "secret": rgw.secret, "sink": [],
             "rgw": rpids, "delete": rm_rgw},
            {"name": "vsink-s3", "endpoint": nodes[0][1], "key_id": KEY_ID,
             "secret": SECRET, "sink": [nodes[0][0]], "rgw": rpids,
             "delete": rm_s3},
            {"name": "vsink-fs", "endpoint": fs_ep, "key_id": KEY_ID,
             "secret": SECRET, "sink": [fs.pid], "rgw": [],
             "delete": lambda k: fs_cl.delete_object(Bucket=BUCKET, Key=k)}]
        if BASE:
            servers.insert(2, {
                "name": "vsink-s3-base", "endpoint": base_ep,
                "key_id": KEY_ID, "secret": SECRET, "sink": [bp.pid],
                "rgw": rpids, "delete": lambda k: purge(
                    cl, CLUSTER, "base/%s/" % BUCKET)})
        if "single" in PARTS:
            single(body, servers, cl)
        if "agg" in PARTS:
            lb1, ep1 = haproxy(work, "lb1", ports[:1])
            lb3, ep3 = haproxy(work, "lb3", ports)
            procs += [lb1, lb3]
            targets = [
                {"name": "rgw", "endpoint": rgw.endpoint,
                 "key_id": rgw.access_key, "secret": rgw.secret, "sink": [],
                 "rgw": rpids, "lb": [],
                 "purge": lambda: purge(cl, BUCKET)},
                {"name": "1 sink", "endpoint": ep1, "key_id": KEY_ID,
                 "secret": SECRET, "sink": [nodes[0][0]], "rgw": rpids,
                 "lb": [lb1.pid], "purge": lambda: purge(cl, CLUSTER, PFX)},
                {"name": "3 sinks", "endpoint": ep3, "key_id": KEY_ID,
                 "secret": SECRET, "sink": [n[0] for n in nodes],
                 "rgw": rpids, "lb": [lb3.pid],
                 "purge": lambda: purge(cl, CLUSTER, PFX)}]
            aggregate(abody, targets, cl, rgw)
        with open("/proc/loadavg") as f:
            print("\n/proc/loadavg at the end: %s" % f.read().strip())
    finally:
        stop(procs, kids)
        if rgw:
            rgw.stop()
        if os.environ.get("KEEP_LOGS"):
            print("logs kept in %s" % work)
        else:
            shutil.rmtree(work, True)
        shutil.rmtree(bdir, True)


if __name__ == "__main__":
    main()
