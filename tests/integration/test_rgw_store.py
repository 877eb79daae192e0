"""The S3 store (include/vsink/s3.h: vs_store_s3_open) against a real Ceph
RGW: starts RGW, makes a versioned bucket and a plain one, then runs the
cmocka binary vsink-rgw-store-test (tests/integration/rgw_store_test.c,
which lists what it covers) with the endpoint, keys and buckets in
VSINK_RGW_*. Its exit status is the test's."""
import os
import subprocess
import sys

from rgw import start_or_skip

BINARY = os.environ["VSINK_RGW_STORE_TEST"]

rgw = start_or_skip("s3store", 1024)
s3 = rgw.client()
VERS = rgw.versioned_bucket("vsink-store")
PLAIN = rgw.create_bucket("vsink-store-plain")

env = dict(os.environ)
env.update({"VSINK_RGW_ENDPOINT": rgw.endpoint,
            "VSINK_RGW_KEY": rgw.access_key,
            "VSINK_RGW_SECRET": rgw.secret,
            "VSINK_RGW_BUCKET": VERS,
            "VSINK_RGW_PLAIN": PLAIN})
r = subprocess.run([BINARY], env=env, timeout=240)
if r.returncode:
    print("FAIL: %s exited %d" % (BINARY, r.returncode), file=sys.stderr)
rgw.stop()
sys.exit(1 if r.returncode else 0)
