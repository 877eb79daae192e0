/* The listings: ListObjectsV2, ListObjectVersions, ListMultipartUploads,
 * ListParts, one page each; the caller follows the markers. Each asks for
 * encoding-type=url: a key may hold control bytes, which XML 1.0 cannot
 * carry; the parsers decode what comes back so encoded. */
#include <stdio.h>
#include <string.h>

#include "store/s3/s3_int.h"

typedef int (*parse_fn)(const char *body, size_t n, void *out, vs_err *err);

/* GET /bucket?query, the 200's body through parse into out. */
static int list_call(const vs_s3_target *t, const char *bucket, vs_buf *q,
                     parse_fn parse, void *out, vs_err *err)
{
  vs__s3_call c = {0};
  int rc;
  if(q->failed)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  c.t = t, c.method = "GET", c.bucket = bucket, c.query = q->data;
  if(!(rc = vs__s3_do(&c, err)) &&
     (rc = parse(vs_buf_str(&c.body), c.body.len, out, err))) {
    vs_err inner = *err;
    vs_fail(err, rc, "%s: %s", c.what, inner.msg);
  }
  vs__s3_call_free(&c);
  return rc;
}

static void add_common(vs_buf *q, const vs_s3_list_opts *o)
{
  char max[16];
  if(!o)
    return;
  vs__s3_qadd(q, "prefix", o->prefix);
  vs__s3_qadd(q, "delimiter", o->delimiter);
  if(o->max_keys) {
    snprintf(max, sizeof(max), "%u", o->max_keys);
    vs__s3_qadd(q, "max-keys", max);
  }
}

static int parse_list(const char *b, size_t n, void *out, vs_err *err)
{
  return vs__s3_parse_list(b, n, out, err);
}

static int parse_versions(const char *b, size_t n, void *out, vs_err *err)
{
  return vs__s3_parse_versions(b, n, out, err);
}

static int parse_parts(const char *b, size_t n, void *out, vs_err *err)
{
  return vs__s3_parse_parts(b, n, out, err);
}

static int parse_uploads(const char *b, size_t n, void *out, vs_err *err)
{
  return vs__s3_parse_uploads(b, n, out, err);
}

int vs_s3_list(const vs_s3_target *t, const char *bucket,
               const vs_s3_list_opts *opts, vs_s3_list_page *out,
               vs_err *err)
{
  vs_buf q = VS_BUF_INIT;
  int rc;
  memset(out, 0, sizeof(*out));
  vs_buf_adds(&q, "encoding-type=url&list-type=2");
  add_common(&q, opts);
  if(opts)
    vs__s3_qadd(&q, "continuation-token", opts->token);
  rc = list_call(t, bucket, &q, parse_list, out, err);
  vs_buf_free(&q);
  return rc;
}

int vs_s3_list_versions(const vs_s3_target *t, const char *bucket,
                        const vs_s3_list_opts *opts, vs_s3_list_page *out,
                        vs_err *err)
{
  vs_buf q = VS_BUF_INIT;
  int rc;
  memset(out, 0, sizeof(*out));
  vs_buf_adds(&q, "encoding-type=url&versions");
  add_common(&q, opts);
  if(opts) {
    vs__s3_qadd(&q, "key-marker", opts->key_marker);
    vs__s3_qadd(&q, "version-id-marker", opts->version_marker);
  }
  rc = list_call(t, bucket, &q, parse_versions, out, err);
  vs_buf_free(&q);
  return rc;
}

int vs_s3_mpu_list(const vs_s3_target *t, const char *bucket,
                   const char *prefix, const char *key_marker,
                   const char *upload_id_marker, vs_s3_uploads_page *out,
                   vs_err *err)
{
  vs_buf q = VS_BUF_INIT;
  int rc;
  memset(out, 0, sizeof(*out));
  vs_buf_adds(&q, "encoding-type=url&uploads");
  vs__s3_qadd(&q, "prefix", prefix);
  vs__s3_qadd(&q, "key-marker", key_marker);
  vs__s3_qadd(&q, "upload-id-marker", upload_id_marker);
  rc = list_call(t, bucket, &q, parse_uploads, out, err);
  vs_buf_free(&q);
  return rc;
}

int vs_s3_mpu_parts(const vs_s3_target *t, const char *bucket,
                    const char *key, const char *upload_id, unsigned marker,
                    vs_s3_parts_page *out, vs_err *err)
{
  vs__s3_call c = {0};
  vs_buf q = VS_BUF_INIT;
  char m[16];
  int rc;
  memset(out, 0, sizeof(*out));
  vs__s3_qadd(&q, "uploadId", upload_id);
  if(marker) {
    snprintf(m, sizeof(m), "%u", marker);
    vs__s3_qadd(&q, "part-number-marker", m);
  }
  if(q.failed || !q.data) {
    vs_buf_free(&q);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  c.t = t, c.method = "GET", c.bucket = bucket, c.key = key;
  c.query = q.data;
  if(!(rc = vs__s3_do(&c, err)) &&
     (rc = parse_parts(vs_buf_str(&c.body), c.body.len, out, err))) {
    vs_err inner = *err;
    vs_fail(err, rc, "%s: %s", c.what, inner.msg);
  }
  vs__s3_call_free(&c);
  vs_buf_free(&q);
  return rc;
}
