/* DeleteObject: on a versioned bucket a delete without a version id adds a
 * delete marker (its id comes back); with one, that version goes. */
#include <stdio.h>
#include <string.h>

#include "store/s3/s3_int.h"

int vs_s3_delete(const vs_s3_target *t, const char *bucket, const char *key,
                 const char *version_id, vs_s3_delete_result *out,
                 vs_err *err)
{
  vs__s3_call c = {0};
  vs_buf q = VS_BUF_INIT;
  int rc;
  if(out)
    memset(out, 0, sizeof(*out));
  vs__s3_qadd(&q, "versionId", version_id);
  if(q.failed) {
    vs_buf_free(&q);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  c.t = t, c.method = "DELETE", c.bucket = bucket, c.key = key ? key : "";
  c.query = q.data;
  rc = vs__s3_do(&c, err);
  if(!rc && out) {
    out->delete_marker = c.info.delete_marker;
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             strcmp(c.info.version_id, "null") ? c.info.version_id : "");
  }
  vs__s3_call_free(&c);
  vs_buf_free(&q);
  return rc;
}
