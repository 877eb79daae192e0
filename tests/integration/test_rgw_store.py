"""The S3 store (include/vsink/s3.h: vs_store_s3_open) against a real Ceph
RGW: starts RGW, makes a versioned bucket and a plain one, then runs the
cmocka binary vsink-rgw-store-test (tests/integration/rgw_store_test.c,
which lists what it covers) with the endpoint, keys and buckets in
VSINK_RGW_*. Its exit status is the test's."""
import os
import subprocess
import sys

from rgw import RGW, RGWUnavailable

BINARY = os.environ["VSINK_RGW_STORE_TEST"]

try:
    rgw = RGW(tag="s3store").start()
except RGWUnavailable as e:
    print("SKIP: %s" % e)
    sys.exit(77)
print("RGW started in %.1f s at %s" % (rgw.startup_seconds, rgw.endpoint))
s3 = rgw.client()
VERS = rgw.create_bucket("vsink-store")
s3.put_bucket_versioning(Bucket=VERS,
                         VersioningConfiguration={"Status": "Enabled"})
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
