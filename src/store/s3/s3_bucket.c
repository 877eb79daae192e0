/* The bucket's own state: GetBucketVersioning (an S3 store must not start
 * on a bucket that would let a PUT destroy the version before it). */
#include <string.h>

#include "store/s3/s3_int.h"

int vs_s3_bucket_versioning(const vs_s3_target *t, const char *bucket,
                            int *state, vs_err *err)
{
  vs__s3_call c = {0};
  int rc;
  *state = VS_S3_VERSIONING_NEVER;
  c.t = t, c.method = "GET", c.bucket = bucket, c.query = "versioning";
  if(!(rc = vs__s3_do(&c, err)) &&
     (rc = vs__s3_parse_versioning(vs_buf_str(&c.body), c.body.len, state,
                                   err))) {
    vs_err inner = *err;
    vs_fail(err, rc, "%s: %s", c.what, inner.msg);
  }
  vs__s3_call_free(&c);
  return rc;
}
