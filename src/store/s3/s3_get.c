/* GetObject, streamed to the caller's receiver: the body never sits in
 * memory whole. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3_int.h"

int vs_s3_get(const vs_s3_target *t, const char *bucket, const char *key,
              const vs_s3_get_opts *opts, vs_s3_data_fn fn, void *ctx,
              vs_object_info *info, vs_err *err)
{
  vs__s3_call c = {0};
  vs_buf q = VS_BUF_INIT;
  char range[80];
  int rc;
  if(!fn)
    return vs_fail(err, VS_ERR_INVALID, "GetObject: no receiver");
  c.t = t, c.method = "GET", c.bucket = bucket, c.key = key ? key : "";
  if(opts && opts->range) {
    if(opts->last >= 0 && (uint64_t)opts->last < opts->first)
      return vs_fail(err, VS_ERR_INVALID, "GetObject: range %" PRIu64
                     "-%" PRId64 " ends before it starts", opts->first,
                     opts->last);
    if(opts->last >= 0)
      snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRId64,
               opts->first, opts->last);
    else
      snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-",
               opts->first);
    c.headers[c.n_headers++] = range;
  }
  if(opts)
    vs__s3_qadd(&q, "versionId", opts->version_id);
  if(q.failed) {
    vs_buf_free(&q);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  c.query = q.data;
  c.sink = fn;
  c.sink_ctx = ctx;
  c.alive = opts ? opts->alive : NULL;
  rc = vs__s3_do(&c, err);
  if(!rc && c.bad_header)
    rc = vs_fail(err, VS_ERR_NET, "%s: malformed %s in the answer", c.what,
                 c.bad_header);
  if(info)
    *info = c.info;
  vs__s3_call_free(&c);
  vs_buf_free(&q);
  return rc;
}
