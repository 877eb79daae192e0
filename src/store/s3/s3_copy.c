/* Server-side copies on the cluster: CopyObject and UploadPartCopy. The
 * bytes never leave the cluster; the source is named by key and version
 * id, so the version the caller checked is the version copied. Both
 * answers may be a 200 whose body is an <Error> (S3 sends the status
 * before the copy ends): only the parsed body says the copy worked. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3_int.h"
#include "vsink/sigv4.h"

#define ANSWER_MAX (64u << 10)

/* "x-amz-copy-source: /bucket/key[?versionId=v]", the key encoded as a
 * path (its '/' kept), the version as a query value. */
static char *source_header(const vs_s3_copy_src *src)
{
  char *ek = vs_sigv4_uri_encode(src->key, strlen(src->key), 1);
  vs_buf b = VS_BUF_INIT;
  if(!ek)
    return NULL;
  vs_buf_addf(&b, "x-amz-copy-source: /%s/%s", src->bucket, ek);
  free(ek);
  if(src->version_id && *src->version_id) {
    char *ev = vs__s3_qenc(src->version_id);
    if(!ev)
      b.failed = 1;
    else
      vs_buf_addf(&b, "?versionId=%s", ev);
    free(ev);
  }
  if(b.failed) {
    vs_buf_free(&b);
    return NULL;
  }
  return vs_buf_steal(&b);
}

static int check_src(const vs_s3_copy_src *src, vs_err *err)
{
  int rc;
  if(!src || !src->bucket || !src->key)
    return vs_fail(err, VS_ERR_INVALID, "copy: no source");
  if((rc = vs_store_check_bucket(src->bucket, err)) ||
     (rc = vs_store_check_key(src->key, strlen(src->key), err)))
    return rc;
  if(src->range && src->first > src->last)
    return vs_fail(err, VS_ERR_INVALID, "copy: range %" PRIu64 "-%" PRIu64,
                   src->first, src->last);
  return VS_OK;
}

/* The 2xx answer through a sink: a copy sends no body, so only a sink
 * gets the call the stall timeout (a long copy's answer comes late, with
 * white space meanwhile) instead of the whole-request one. */
static int to_buf(void *ctx, const void *p, size_t n)
{
  vs_buf *b = ctx;
  if(b->len + n > ANSWER_MAX)
    return 1;
  vs_buf_add(b, p, n);
  return b->failed;
}

/* Sends c (its copy source header given) and reads the result document
 * named root into etag. */
static int copy_call(vs__s3_call *c, const char *root, const char *what,
                     char *etag, size_t cap, vs_err *err)
{
  vs_buf ans = VS_BUF_INIT;
  int rc;
  c->sink = to_buf;
  c->sink_ctx = &ans;
  if(!(rc = vs__s3_do(c, err))) {
    rc = vs__s3_parse_result(vs_buf_str(&ans), ans.len, root, what, etag,
                             cap, err);
    if(rc) {
      vs_err inner = *err;
      vs_fail(err, rc, "%s: %s", c->what, inner.msg);
    }
  }
  vs_buf_free(&ans);
  return rc;
}

int vs_s3_copy(const vs_s3_target *t, const vs_s3_copy_src *src,
               const char *bucket, const char *key,
               const vs_s3_write_opts *o, vs_s3_put_result *out, vs_err *err)
{
  vs__s3_call c = {0};
  char *h = NULL;
  int rc;
  memset(out, 0, sizeof(*out));
  if((rc = check_src(src, err)))
    return rc;
  if(src->range)
    return vs_fail(err, VS_ERR_INVALID, "CopyObject takes no range");
  if(!(h = source_header(src)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  c.t = t, c.method = "PUT", c.bucket = bucket, c.key = key ? key : "";
  c.headers[c.n_headers++] = h;
  c.headers[c.n_headers++] = "x-amz-metadata-directive: REPLACE";
  if(o && o->if_none_match)
    c.headers[c.n_headers++] = "If-None-Match: *";
  if(!(rc = vs__s3_write_headers(&c, o, err)) &&
     !(rc = copy_call(&c, "CopyObjectResult", "CopyObject", out->etag,
                      sizeof(out->etag), err)))
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             strcmp(c.info.version_id, "null") ? c.info.version_id : "");
  vs__s3_call_free(&c);
  free(h);
  return rc;
}

int vs_s3_mpu_part_copy(const vs_s3_target *t, const vs_s3_copy_src *src,
                        const char *bucket, const char *key,
                        const char *upload_id, unsigned number,
                        char etag[VS_S3_ETAG_MAX], vs_err *err)
{
  vs__s3_call c = {0};
  vs_buf q = VS_BUF_INIT;
  char *h = NULL, range[80];
  int rc;
  *etag = 0;
  if((rc = check_src(src, err)))
    return rc;
  if(!upload_id || !*upload_id || number < 1 || number > 10000)
    return vs_fail(err, VS_ERR_INVALID, "UploadPartCopy: bad upload id or "
                   "part number %u", number);
  vs_buf_addf(&q, "partNumber=%u", number);
  vs__s3_qadd(&q, "uploadId", upload_id);
  if(q.failed || !(h = source_header(src))) {
    vs_buf_free(&q);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  c.t = t, c.method = "PUT", c.bucket = bucket, c.key = key ? key : "";
  c.query = q.data;
  c.headers[c.n_headers++] = h;
  if(src->range) {
    snprintf(range, sizeof(range), "x-amz-copy-source-range: bytes=%" PRIu64
             "-%" PRIu64, src->first, src->last);
    c.headers[c.n_headers++] = range;
  }
  rc = copy_call(&c, "CopyPartResult", "UploadPartCopy", etag,
                 VS_S3_ETAG_MAX, err);
  if(!rc && !*etag)
    rc = vs_fail(err, VS_ERR_NET, "%s: no ETag in the answer", c.what);
  vs__s3_call_free(&c);
  vs_buf_free(&q);
  free(h);
  return rc;
}
