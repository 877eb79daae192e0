"""deploy/multinode/ against real parts, on loopback:
- vsink@.service passes `systemd-analyze verify` (as instance a1, the
  binary path pointed at this build) with no warning about the unit;
- haproxy.cfg passes `haproxy -c` and nginx-vsink.conf `nginx -t`, each
  rendered with loopback addresses into a temporary folder (the rendering
  changes only addresses, paths and the root-only global lines; every
  timeout and option is the shipped one);
- bucket-setup.sh against a real Ceph RGW: creates a missing bucket, turns
  versioning on and sets the AbortIncompleteMultipartUpload rule on
  PREFIX/ (1 day), read back with boto3; a second run changes nothing; a
  run with --abort-days 3 on a bucket that already has another lifecycle
  rule updates the vsink rule and keeps the other one; no credentials in
  the environment is an error before any request, a wrong secret stops
  at the first request (403), neither makes the bucket;
- haproxy in front of two real `vsink serve` nodes: PUTs through it with
  boto3 (header-signed) and a presigned URL are 200 (Host reached the
  node as signed) and land on both nodes; each object reads back through
  the balancer (when it reaches the node holding it; the other answers
  404, never 403); /metrics is refused at the balancer; when a node is
  killed the PUTs sent before the health check notices are retried on
  the other node (none fails), then the node is marked DOWN by the
  /healthz check and every PUT lands on the other one; the node
  restarted is UP again and gets uploads; a node stopped (SIGTERM) with
  an upload in flight through haproxy is marked DOWN while it drains, new
  PUTs go to the other node, and the upload in flight ends 200;
- prometheus.yml and vsink-alerts.yml (targets on loopback, 1 s interval)
  pass `promtool check config`, and a real Prometheus scrapes both nodes
  and haproxy's exporter and evaluates every alert rule without an error;
  every metric name the alerts and the README use is served for real;
- nginx with the shipped server block in front of the same two nodes:
  PUTs of keys with "//", "+", "%", spaces and markup are 200 (the URI and
  the Host reached the node as signed) and read back byte for byte.
"""
import atexit
import csv
import http.client
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

import vsharness
from vsharness import (KEY_ID, SECRET, Sink, VSINK, check, fail, pattern,
                       sha256, tmpdir)
from rgw import free_port, start_or_skip, _die_with_parent

SRC = os.environ.get("VSINK_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../..")
DEPLOY = os.path.join(SRC, "deploy", "multinode")
AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")

for tool in ("haproxy", "nginx"):
    if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
        print("SKIP: %s is not installed (scripts/install-deps.sh --test)"
              % tool)
        sys.exit(77)
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
work = tmpdir("deploy")


def run(cmd, env=None, timeout=120):
    return subprocess.run(cmd, env=env, capture_output=True, timeout=timeout)


def spawn(cmd, name):
    """A balancer in the foreground, its output in WORK/NAME.log."""
    log = open(os.path.join(work, name + ".log"), "wb")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=_die_with_parent)
    vsharness._procs.append(p)
    # Runs before vsharness's SIGKILL at exit (atexit is last in, first
    # out): SIGTERM lets nginx's master stop its workers, which a SIGKILL
    # of the master would leave behind.
    atexit.register(lambda: p.poll() is None and (p.terminate(), p.wait(20)))
    return p


def log_of(name):
    with open(os.path.join(work, name + ".log"), "rb") as f:
        return f.read().decode(errors="replace")[-4000:]


def wait_for(what, cond, timeout=30, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    fail("timed out after %d s waiting for %s" % (timeout, what))


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# ---- the systemd unit ------------------------------------------------------
def verify_unit():
    sa = shutil.which("systemd-analyze")
    if not sa:
        print("systemd-analyze not installed: unit check skipped")
        return
    d = os.path.join(work, "unit")
    os.mkdir(d)
    with open(os.path.join(DEPLOY, "vsink@.service")) as f:
        text = f.read()
    check("/usr/local/bin/vsink serve" in text, "unit: no ExecStart vsink")
    # verify insists that the binary exists: point it at this build
    text = text.replace("/usr/local/bin/vsink", os.path.abspath(VSINK))
    unit = os.path.join(d, "vsink@a1.service")
    with open(unit, "w") as f:
        f.write(text)
    out = run([sa, "verify", unit], timeout=60)
    said = (out.stdout + out.stderr).decode()
    mine = [l for l in said.splitlines() if "vsink@" in l]
    check(out.returncode == 0 and not mine,
          "systemd-analyze verify: %d\n%s" % (out.returncode, said))
    # secrets only through EnvironmentFile, never on the command line
    check("SECRET" not in text.split("ExecStart=")[1].split("ExecReload")[0],
          "a secret on ExecStart")
    print("systemd-analyze verify vsink@a1.service: ok")


# ---- the balancers' configs, rendered for loopback -------------------------
def render_haproxy(lb_port, stats_port, nodes):
    """The shipped haproxy.cfg with loopback addresses, a stats socket in
    the temporary folder and without chroot/user/group/daemon/syslog (root
    and system-wide things a test must not need)."""
    with open(os.path.join(DEPLOY, "haproxy.cfg")) as f:
        text = f.read()
    seen, out = set(), []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("chroot ", "user ", "group ", "log /dev/log")) or \
                s == "daemon":
            seen.add(s.split()[0])
            continue
        if s.startswith("stats socket "):
            line = "    stats socket %s/admin.sock mode 600 level admin" % work
        elif s == "bind :80":
            line = "    bind 127.0.0.1:%d" % lb_port
        elif s == "bind 127.0.0.1:8404":
            line = "    bind 127.0.0.1:%d" % stats_port
        elif s.startswith("server "):
            if "server" in seen:
                continue
            line = "\n".join("    server %s 127.0.0.1:%d check" % n
                             for n in nodes)
        else:
            out.append(line)
            continue
        seen.add(s.split()[0] if not s.startswith("bind") else s)
        out.append(line)
    want = {"chroot", "user", "group", "log", "daemon", "stats", "server",
            "bind :80", "bind 127.0.0.1:8404"}
    check(want <= seen, "haproxy.cfg changed shape: %s not found"
          % sorted(want - seen))
    path = os.path.join(work, "haproxy.cfg")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def render_nginx(lb_port, nodes):
    """nginx-vsink.conf with loopback addresses, included by a whole
    nginx.conf whose pid, logs and temporary folders are all in ours."""
    with open(os.path.join(DEPLOY, "nginx-vsink.conf")) as f:
        text = f.read()
    check("    listen 80;\n" in text, "nginx-vsink.conf: no 'listen 80;'")
    text = text.replace("    listen 80;\n", "    listen 127.0.0.1:%d;\n"
                        % lb_port)
    lines, done = [], False
    for line in text.splitlines():
        if line.strip().startswith("server 10.") and "max_fails" in line:
            if not done:
                lines += ["    server 127.0.0.1:%d max_fails=2 "
                          "fail_timeout=10s;" % p for _, p in nodes]
                done = True
            continue
        lines.append(line)
    check(done, "nginx-vsink.conf: no upstream server lines")
    d = os.path.join(work, "nginx")
    os.mkdir(d)
    with open(os.path.join(d, "vsink.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    temps = "".join("%s_temp_path %s/%s;\n" % (t, d, t) for t in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off;\nworker_processes 1;\npid %s/nginx.pid;\n"
                "error_log %s/error.log;\nevents { worker_connections 256; }"
                "\nhttp {\naccess_log %s/access.log;\n%sinclude %s/vsink.conf;"
                "\n}\n" % (d, d, d, temps, d))
    return conf, d


def check_configs():
    nodes = [("a1", free_port()), ("a2", free_port())]
    cfg = render_haproxy(free_port(), free_port(), nodes)
    out = run([HAPROXY, "-c", "-f", cfg], timeout=30)
    check(out.returncode == 0, "haproxy -c: %s" % (out.stdout + out.stderr))
    print("haproxy -c: ok")
    conf, d = render_nginx(free_port(), nodes)
    out = run([NGINX, "-t", "-c", conf, "-e", d + "/error.log"], timeout=30)
    check(out.returncode == 0, "nginx -t: %s" % out.stderr.decode())
    print("nginx -t: ok")
    # the checks can fail: a broken copy of each is refused
    with open(cfg) as f:
        broken = f.read().replace("balance leastconn", "balance fewest")
    with open(cfg, "w") as f:
        f.write(broken)
    check(run([HAPROXY, "-c", "-f", cfg]).returncode != 0,
          "haproxy -c accepted a broken config")
    shutil.rmtree(d)


# ---- bucket-setup.sh against RGW --------------------------------------------
def setup_env(rgw, with_keys=True, secret=None):
    env = dict(os.environ)
    env.pop("AWS_ACCESS_KEY_ID", None)
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    if with_keys:
        env["VSINK_S3_ACCESS_KEY_ID"] = rgw.access_key
        env["VSINK_S3_SECRET_ACCESS_KEY"] = secret or rgw.secret
    else:
        env.pop("VSINK_S3_ACCESS_KEY_ID", None)
        env.pop("VSINK_S3_SECRET_ACCESS_KEY", None)
    env["AWS"] = AWS
    return env


def bucket_setup(rgw, bucket, *more, with_keys=True, secret=None):
    cmd = [os.path.join(DEPLOY, "bucket-setup.sh"), "--endpoint",
           rgw.endpoint, "--bucket", bucket] + list(more)
    out = run(cmd, env=setup_env(rgw, with_keys, secret), timeout=180)
    said = (out.stdout + out.stderr).decode()
    check(rgw.secret not in said and not (secret and secret in said),
          "bucket-setup printed the secret")
    return out.returncode, said


def vsink_rules(s3, bucket):
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    return {r["ID"]: r for r in rules}


def check_bucket_setup():
    if not AWS:
        fail("awscli is not installed (scripts/install-deps.sh --test)")
    rgw = start_or_skip("deploy", 1024)
    s3 = rgw.client()

    rc, said = bucket_setup(rgw, "vsink-deploy", "--prefix", "prod",
                            with_keys=False)
    check(rc != 0 and "VSINK_S3_ACCESS_KEY_ID" in said,
          "no keys: %d %s" % (rc, said))
    rc, said = bucket_setup(rgw, "vsink-deploy", secret="wrong" * 8)
    check(rc == 1 and "HEAD vsink-deploy failed" in said and "403" in said,
          "a wrong secret: %d %s" % (rc, said))
    check("vsink-deploy" not in [b["Name"] for b in
                                 s3.list_buckets()["Buckets"]],
          "bucket made without keys or with a wrong secret")

    for run_no in (1, 2):
        rc, said = bucket_setup(rgw, "vsink-deploy", "--prefix", "/prod/")
        check(rc == 0, "bucket-setup run %d: %s" % (run_no, said))
        check(("created" if run_no == 1 else "exists") in said,
              "run %d: %s" % (run_no, said))
        v = s3.get_bucket_versioning(Bucket="vsink-deploy")
        check(v.get("Status") == "Enabled", "versioning: %s" % v)
        rules = vsink_rules(s3, "vsink-deploy")
        check(list(rules) == ["vsink-abort-mpu-prod"], "rules: %s" % rules)
        r = rules["vsink-abort-mpu-prod"]
        check(r["Status"] == "Enabled" and
              r.get("Filter", {}).get("Prefix") == "prod/" and
              r["AbortIncompleteMultipartUpload"] ==
              {"DaysAfterInitiation": 1}, "rule: %s" % r)
        print("bucket-setup run %d: versioning Enabled, rule %s" % (
            run_no, r))

    # an existing bucket with a rule of its own, and another abort delay
    s3.create_bucket(Bucket="vsink-deploy-b")
    mine = {"ID": "keep-tmp-7d", "Status": "Enabled",
            "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}}
    s3.put_bucket_lifecycle_configuration(
        Bucket="vsink-deploy-b", LifecycleConfiguration={"Rules": [mine]})
    for days in ("1", "3"):
        rc, said = bucket_setup(rgw, "vsink-deploy-b", "--abort-days", days)
        check(rc == 0 and "exists" in said, "bucket b: %s" % said)
    rules = vsink_rules(s3, "vsink-deploy-b")
    check(sorted(rules) == ["keep-tmp-7d", "vsink-abort-mpu"],
          "bucket b rules: %s" % rules)
    check(rules["keep-tmp-7d"]["Expiration"] == {"Days": 7},
          "the other rule changed: %s" % rules["keep-tmp-7d"])
    r = rules["vsink-abort-mpu"]
    check(r["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
          and r.get("Filter", {}).get("Prefix", "") == "", "rule: %s" % r)
    check(s3.get_bucket_versioning(Bucket="vsink-deploy-b").get("Status") ==
          "Enabled", "bucket b versioning")
    rc, said = bucket_setup(rgw, "vsink-deploy-b", "--abort-days", "0")
    check(rc == 2, "--abort-days 0: %d %s" % (rc, said))
    print("bucket-setup: other rules kept, --abort-days 3 applied")
    rgw.stop()


# ---- haproxy in front of two sinks ------------------------------------------
def lb_status():
    """svname -> status (UP, DOWN, ...) of the vsink_nodes servers, from
    haproxy's stats socket."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(os.path.join(work, "admin.sock"))
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    text = data.decode().lstrip("# ")
    return {r["svname"]: r["status"] for r in csv.DictReader(io.StringIO(text))
            if r["pxname"] == "vsink_nodes" and
            r["svname"] not in ("FRONTEND", "BACKEND")}


def client(endpoint):
    """boto3 without its own retries (a retried 503 would hide what the
    balancer did)."""
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
        config=Config(signature_version="s3v4",
                      s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1}))


def holders(nodes, key):
    """The node names whose manifest has a stored event for key."""
    return [name for name, sink in nodes.items()
            if any(e["key"] == key for e in sink.manifest_events("stored"))]


def put_through(s3, keys, seed):
    for i, k in enumerate(keys):
        body = pattern(20000 + i * 777, seed + i)
        r = s3.put_object(Bucket="videos", Key=k, Body=body)
        check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "PUT %s" % k)


def get_through(s3, key, body, tries=4):
    """GET key through the balancer until it reaches the node holding it;
    the other node may say 404, nothing else is allowed."""
    from botocore.exceptions import ClientError
    for _ in range(tries):
        try:
            got = s3.get_object(Bucket="videos", Key=key)["Body"].read()
            check(got == body, "GET %s: other bytes" % key)
            return
        except ClientError as e:
            code = e.response["Error"]["Code"]
            check(code in ("NoSuchKey", "404"), "GET %s: %s" % (key, code))
    fail("GET %s: never reached its node in %d tries" % (key, tries))


def scrape(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    check(r.status == 200, "GET /metrics on %d: %d" % (port, r.status))
    return body


def check_metric_names(node, stats_port):
    """Every vsink_* and haproxy_* name in the alerts, and every vsink_*
    name in the README, is one a running node or haproxy's exporter
    really serves (label values included where the alerts name them)."""
    import re
    import yaml
    with open(os.path.join(DEPLOY, "prometheus.yml")) as f:
        prom = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    check(jobs["vsink"]["metrics_path"] == "/metrics" and
          len(jobs["vsink"]["static_configs"]) >= 2, "prometheus.yml: %s"
          % jobs)
    with open(os.path.join(DEPLOY, "vsink-alerts.yml")) as f:
        rules = yaml.safe_load(f)["groups"][0]["rules"]
    with open(os.path.join(DEPLOY, "README.md")) as f:
        readme = f.read()
    served = scrape(node.port) + scrape(stats_port)
    names = set(re.findall(r"^([a-z_]+)[{ ]", served, re.M)) | \
        set(re.findall(r"^# TYPE ([a-z_]+) ", served, re.M))
    want = set(re.findall(r"\b((?:vsink|haproxy)_[a-z_]+)",
                          " ".join(r["expr"] for r in rules)))
    want |= set(re.findall(r"\b((?:vsink|haproxy)_[a-z_]+)", readme))
    want.discard("vsink_nodes")  # haproxy's backend, not a metric
    missing = sorted(w for w in want if w not in names)
    check(not missing, "metrics not served: %s" % missing)
    for sel in re.findall(r"((?:vsink|haproxy)_[a-z_]+)\{([^}]*)\}",
                          " ".join(r["expr"] for r in rules)):
        for k, v in re.findall(r'(\w+)="([^"]*)"', sel[1]):
            if k in ("proxy", "job"):
                continue
            check('%s="%s"' % (k, v) in served, "%s{%s} not served"
                  % (sel[0], sel[1]))
    print("%d metric names of the alerts and README: all served" % len(want))


def prom_query(port, path):
    import json
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
    except OSError:
        return None  # not listening yet
    finally:
        c.close()
    return json.loads(body)["data"] if r.status == 200 else None


def check_prometheus(nodes, stats_port):
    """The shipped prometheus.yml and alerts, targets and rule path put on
    loopback and the scrape interval at 1 s: `promtool check config`
    passes, and a real Prometheus scrapes both nodes and haproxy (up == 1,
    each node's uploads under its node label) and evaluates every alert
    rule without an error."""
    import yaml
    prom_bin = shutil.which("prometheus")
    if not prom_bin:
        print("prometheus not installed: scrape check skipped")
        return
    d = os.path.join(work, "prometheus")
    os.mkdir(d)
    with open(os.path.join(DEPLOY, "prometheus.yml")) as f:
        conf = yaml.safe_load(f)
    shutil.copy(os.path.join(DEPLOY, "vsink-alerts.yml"), d)
    conf["rule_files"] = [os.path.join(d, "vsink-alerts.yml")]
    conf["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    for job in conf["scrape_configs"]:
        job.pop("scrape_interval", None)
        if job["job_name"] == "vsink":
            job["static_configs"] = [
                {"targets": ["127.0.0.1:%d" % s.port], "labels": {"node": n}}
                for n, s in sorted(nodes.items())]
        else:
            job["static_configs"] = [{"targets": ["127.0.0.1:%d"
                                                  % stats_port]}]
    path = os.path.join(d, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(conf, f)
    out = run([shutil.which("promtool") or "promtool", "check", "config",
               path], timeout=60)
    check(out.returncode == 0, "promtool: %s" % (out.stdout + out.stderr))
    port = free_port()
    pr = spawn([prom_bin, "--config.file=" + path, "--storage.tsdb.path=" +
                os.path.join(d, "data"), "--web.listen-address=127.0.0.1:%d"
                % port], "prometheus")

    def scraped():
        if pr.poll() is not None:
            fail("prometheus exited: %s" % log_of("prometheus"))
        up = prom_query(port, "/api/v1/query?query=up")
        ups = {(r["metric"]["job"], r["metric"].get("node")): r["value"][1]
               for r in (up or {}).get("result", [])}
        return ups == {("vsink", "a1"): "1", ("vsink", "a2"): "1",
                       ("vsink-haproxy", None): "1"}
    wait_for("prometheus to scrape both nodes and haproxy", scraped,
             timeout=60, interval=0.5)
    q = urllib.parse.quote('sum by (node) (vsink_uploads_total'
                           '{status="stored"})')
    res = prom_query(port, "/api/v1/query?query=" + q)["result"]
    stored = {r["metric"]["node"]: float(r["value"][1]) for r in res}
    check(sorted(stored) == ["a1", "a2"] and min(stored.values()) > 0,
          "stored per node in Prometheus: %s" % stored)

    def evaluated():
        groups = (prom_query(port, "/api/v1/rules") or {}).get("groups", [])
        rules = [r for g in groups for r in g["rules"]]
        return len(rules) == 8 and all(r.get("lastEvaluation", "").
                                       startswith("20") for r in rules) \
            and rules
    wait_for("the alert rules to be evaluated", evaluated, timeout=30)
    groups = prom_query(port, "/api/v1/rules")["groups"]
    bad = [(r["name"], r.get("lastError")) for g in groups
           for r in g["rules"] if r.get("health") != "ok"]
    check(not bad, "alert rules failing: %s" % bad)
    pr.send_signal(signal.SIGTERM)
    pr.wait(30)
    print("prometheus: both nodes and haproxy scraped, stored per node %s, "
          "8 alert rules evaluated" % stored)


def start_node(name, port, data=None):
    return Sink(data=data, tag=name,
                args=["--listen", "127.0.0.1:%d" % port, "--node", name,
                      "--max-connections-per-ip", "1024"]).start()


def in_flight(node):
    import re
    m = re.search(r"^vsink_uploads_in_flight (\d+)$", scrape(node.port), re.M)
    return int(m.group(1))


def check_drain(nodes, ports, s3, endpoint):
    """A node stopped (SIGTERM, as systemctl stop or restart does) with an
    upload in flight through the balancer: /healthz says 503, haproxy marks
    it DOWN and sends new uploads elsewhere, and the upload in flight is
    not cut: it finishes with 200 on the draining node."""
    url = nodes["a1"].presign("PUT", "videos/lb/drain.bin", endpoint=endpoint)
    u = urllib.parse.urlsplit(url)
    body = pattern(3 << 20, 77)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.putrequest("PUT", u.path + "?" + u.query, skip_accept_encoding=True)
    c.putheader("Content-Length", str(len(body)))
    c.endheaders()
    c.send(body[:1 << 20])
    busy = []
    wait_for("the upload to reach a node", lambda: busy.extend(
        n for n in nodes if in_flight(nodes[n]) == 1) or busy, timeout=20)
    name = busy[0]
    other = [n for n in nodes if n != name][0]
    nodes[name].proc.send_signal(signal.SIGTERM)
    wait_for("%s DOWN while draining" % name,
             lambda: lb_status().get(name) == "DOWN", timeout=20)
    keys = ["lb/drain%02d.bin" % i for i in range(3)]
    put_through(s3, keys, 500)
    check(all(holders(nodes, k) == [other] for k in keys),
          "while %s drains: %s" % (name, {k: holders(nodes, k)
                                          for k in keys}))
    c.send(body[1 << 20:])
    r = c.getresponse()
    r.read()
    c.close()
    check(r.status == 200, "the upload in flight through a drain: %d"
          % r.status)
    check(nodes[name].stop() == 0, "%s did not exit 0" % name)
    ev = [e for e in nodes[name].manifest_events("stored")
          if e["key"] == "lb/drain.bin"]
    check(len(ev) == 1 and ev[0]["sha256"] == sha256(body),
          "drained upload's event: %s" % ev)
    print("%s drained: DOWN by /healthz, 3 PUTs on %s meanwhile, the upload "
          "in flight finished 200" % (name, other))
    nodes[name] = start_node(name, ports[name], data=nodes[name].data)
    wait_for("%s UP" % name, lambda: lb_status().get(name) == "UP",
             timeout=20)


def check_haproxy():
    ports = {"a1": free_port(), "a2": free_port()}
    nodes = {n: start_node(n, p) for n, p in ports.items()}
    lb_port, stats_port = free_port(), free_port()
    cfg = render_haproxy(lb_port, stats_port, sorted(ports.items()))
    lb = spawn([HAPROXY, "-db", "-f", cfg], "haproxy")
    wait_for("haproxy to listen", lambda: listening(lb_port) or
             lb.poll() is not None)
    if lb.poll() is not None:
        fail("haproxy exited: %s" % log_of("haproxy"))
    wait_for("both nodes UP", lambda: lb_status() == {"a1": "UP",
                                                      "a2": "UP"})
    endpoint = "http://127.0.0.1:%d" % lb_port
    s3 = client(endpoint)

    keys = ["lb/k%02d.bin" % i for i in range(10)]
    put_through(s3, keys, 100)
    where = {k: holders(nodes, k) for k in keys}
    check(all(len(h) == 1 for h in where.values()),
          "each key on exactly one node: %s" % where)
    spread = {n: sum(1 for h in where.values() if h == [n]) for n in nodes}
    check(all(v > 0 for v in spread.values()), "both nodes: %s" % spread)
    print("10 PUTs through haproxy: %s" % spread)
    for i, k in enumerate(keys):
        get_through(s3, k, pattern(20000 + i * 777, 100 + i))
    print("10 GETs through haproxy: ok")

    # a presigned URL made for the balancer's address works through it
    url = nodes["a1"].presign("PUT", "videos/lb/presigned.bin",
                              endpoint=endpoint)
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("PUT", u.path + "?" + u.query, body=b"y" * 4096)
    r = c.getresponse()
    r.read()
    check(r.status == 200, "presigned PUT through haproxy: %d" % r.status)
    check(len(holders(nodes, "lb/presigned.bin")) == 1, "presigned: where?")
    c.request("GET", "/metrics")
    r = c.getresponse()
    r.read()
    check(r.status == 403, "/metrics through haproxy: %d" % r.status)
    c.request("GET", "/healthz")
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"ok\n", "/healthz: %d" % r.status)
    c.close()

    check_metric_names(nodes["a2"], stats_port)
    check_prometheus(nodes, stats_port)

    # a1 dies (kill -9: no draining 503 first). Uploads sent before the
    # health check notices are retried on a2 (retries + redispatch: a
    # refused connection carried no body byte), none fails.
    nodes["a1"].kill9()
    keys1 = ["lb/gone%02d.bin" % i for i in range(4)]
    put_through(s3, keys1, 150)
    was = lb_status().get("a1")
    check(all(holders(nodes, k) == ["a2"] for k in keys1),
          "a1 killed: %s" % {k: holders(nodes, k) for k in keys1})
    print("a1 killed: 4 PUTs all on a2 (haproxy still said %s after them)"
          % was)
    # then the health check marks it DOWN, and a2 takes every upload
    wait_for("a1 DOWN", lambda: lb_status().get("a1") == "DOWN", timeout=20)
    check(lb_status().get("a2") == "UP", "a2: %s" % lb_status())
    before = len(nodes["a1"].manifest_events("stored"))
    keys2 = ["lb/down%02d.bin" % i for i in range(6)]
    put_through(s3, keys2, 200)
    check(all(holders(nodes, k) == ["a2"] for k in keys2),
          "with a1 down: %s" % {k: holders(nodes, k) for k in keys2})
    check(len(nodes["a1"].manifest_events("stored")) == before, "a1 grew")
    print("a1 DOWN by /healthz: 6 PUTs all on a2")

    # a1 back on its port and data folder: UP again, gets uploads again
    nodes["a1"] = start_node("a1", ports["a1"], data=nodes["a1"].data)
    wait_for("a1 UP", lambda: lb_status().get("a1") == "UP", timeout=20)
    keys3 = ["lb/back%02d.bin" % i for i in range(6)]
    put_through(s3, keys3, 300)
    check(any(holders(nodes, k) == ["a1"] for k in keys3),
          "a1 back but unused: %s" % {k: holders(nodes, k) for k in keys3})
    print("a1 restarted: UP, gets uploads again")
    check_drain(nodes, ports, s3, endpoint)
    lb.send_signal(signal.SIGTERM)
    lb.wait(20)
    return nodes


# ---- nginx in front of the same two sinks -----------------------------------
def check_nginx(nodes):
    port = free_port()
    conf, d = render_nginx(port, sorted((n, s.port) for n, s in nodes.items()))
    ng = spawn([NGINX, "-c", conf, "-e", d + "/error.log"], "nginx")
    wait_for("nginx to listen", lambda: listening(port) or
             ng.poll() is not None)
    if ng.poll() is not None:
        fail("nginx exited: %s" % log_of("nginx"))
    s3 = client("http://127.0.0.1:%d" % port)
    keys = ["ng/a//b.bin", "ng/plus+sign.bin", "ng/100% sure.bin",
            "ng/<tag>&amp.bin", "ng/sp ace/x.bin", "ng/x1.bin"]
    put_through(s3, keys, 400)
    where = {k: holders(nodes, k) for k in keys}
    check(all(len(h) == 1 for h in where.values()), "nginx: %s" % where)
    for i, k in enumerate(keys):
        get_through(s3, k, pattern(20000 + i * 777, 400 + i), tries=6)
    print("6 PUTs and GETs of odd keys through nginx: ok (%s)" % where)
    ng.send_signal(signal.SIGQUIT)
    ng.wait(20)


verify_unit()
check_configs()
check_bucket_setup()
sinks = check_haproxy()
check_nginx(sinks)
for s in sinks.values():
    s.stop()
print("PASS")
