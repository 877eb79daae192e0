#!/usr/bin/env python3
"""CompleteMultipartUpload's cost: N MiB (default 256) uploaded in 8 MiB
parts with boto3, then Complete timed (it joins the parts into one version
file while hashing it whole, then fsyncs and commits), three runs; and the
sink's peak RSS while the parts stream in (constant: the PUT path's fixed
buffers).

  VSINK=build/vsink bench/bench_mpu.py [N]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from vsharness import Sink, boto3_client, pattern
MiB = 1 << 20
N = int(sys.argv[1]) if len(sys.argv) > 1 else 256
sink = Sink(tag="cbench").start()
s3 = boto3_client(sink)
part = [pattern(8 * MiB, i) for i in range(4)]


def rss():
    with open("/proc/%d/status" % sink.proc.pid) as f:
        return [l for l in f if l.startswith("VmRSS")][0].split()[1]


for run in range(3):
    k = "c%d" % run
    uid = s3.create_multipart_upload(Bucket="videos", Key=k)["UploadId"]
    parts, peak = [], 0
    for n in range(N // 8):
        e = s3.upload_part(Bucket="videos", Key=k, UploadId=uid, PartNumber=n + 1, Body=part[n % 4])["ETag"]
        parts.append({"PartNumber": n + 1, "ETag": e})
        peak = max(peak, int(rss()))
    t = time.time()
    s3.complete_multipart_upload(Bucket="videos", Key=k, UploadId=uid, MultipartUpload={"Parts": parts})
    dt = time.time() - t
    print("run %d: Complete of %d MiB (%d parts) %.2f s = %.0f MiB/s; sink RSS peak during parts %d KiB" % (run, N, len(parts), dt, N / dt, peak))
sink.stop()
