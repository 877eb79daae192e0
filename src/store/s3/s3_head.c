/* The S3 client's HEAD and presigned PUT, path-style, on the signed
 * request of s3_req.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3_int.h"
#include "vsink/sigv4.h"

/* ?versionId=..., or NULL for none; *q is what to free. */
static int version_query(const char *version_id, char **q, vs_err *err)
{
  char *v;
  *q = NULL;
  if(!version_id || !*version_id)
    return VS_OK;
  if(!(v = vs__s3_qenc(version_id)) ||
     !(*q = malloc(strlen(v) + sizeof("versionId=")))) {
    free(v);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  sprintf(*q, "versionId=%s", v);
  free(v);
  return VS_OK;
}

/* The GET below wants an error document, not an object that appeared
 * meanwhile: a 2xx body stops at its first byte. */
static int refuse_body(void *ctx, const void *p, size_t n)
{
  (void)ctx;
  (void)p;
  (void)n;
  return 1;
}

/* An error status of the HEAD: a HEAD answer has no body, so GET the same
 * object once to learn S3's error code for the message. */
static int status_error(vs__s3_call *head, vs_err *err)
{
  vs__s3_call get = *head;
  vs_err ignored;
  int rc;
  memset(&get.body, 0, sizeof(get.body));
  get.method = "GET";
  get.sink = refuse_body;
  if(vs__s3_send(&get, &ignored) || get.status != head->status)
    vs_buf_reset(&get.body);
  get.status = head->status;
  snprintf(get.what, sizeof(get.what), "%s", head->what);
  rc = vs__s3_status_error(&get, err);
  if(head->status == 405 && head->info.delete_marker)
    err->code = rc = VS_ERR_NOTFOUND; /* a delete marker's version */
  vs__s3_call_free(&get);
  return rc;
}

int vs_s3_head_version(const vs_s3_target *t, const char *bucket,
                       const char *key, const char *version_id,
                       vs_object_info *info, vs_err *err)
{
  vs__s3_call c = {0};
  char *q;
  int rc = version_query(version_id, &q, err);
  if(rc)
    return rc;
  c.t = t, c.method = "HEAD", c.bucket = bucket, c.key = key ? key : "";
  c.query = q;
  rc = vs__s3_send(&c, err);
  if(!rc && (c.status < 200 || c.status > 299))
    rc = status_error(&c, err);
  else if(!rc && c.bad_header)
    rc = vs_fail(err, VS_ERR_NET, "%s: malformed %s in the answer", c.what,
                 c.bad_header);
  else if(!rc && !c.have_length)
    rc = vs_fail(err, VS_ERR_NET, "%s: no Content-Length in the answer",
                 c.what);
  *info = c.info;
  vs__s3_call_free(&c);
  free(q);
  return rc;
}

int vs_s3_head(const vs_s3_target *t, const char *bucket, const char *key,
               vs_object_info *info, vs_err *err)
{
  return vs_s3_head_version(t, bucket, key, NULL, info, err);
}

int vs_s3_presign_put(const vs_s3_target *t, const char *bucket,
                      const char *key, int64_t now, int64_t expires,
                      char **url, vs_err *err)
{
  char endpoint[512];
  vs_buf path = VS_BUF_INIT;
  vs_sigv4_creds c;
  vs_presign_req req;
  int rc;
  *url = NULL;
  if((rc = vs__s3_check_target(t, endpoint, sizeof(endpoint), err)) ||
     (rc = vs_store_check_bucket(bucket ? bucket : "", err)) ||
     (rc = vs_store_check_key(key ? key : "", key ? strlen(key) : 0, err)))
    return rc;
  if(vs_buf_addf(&path, "/%s/%s", bucket, key))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  c = (vs_sigv4_creds){t->key_id, t->secret,
                       t->region && *t->region ? t->region : "us-east-1",
                       "s3"};
  req = (vs_presign_req){"PUT", endpoint, path.data, NULL, now, expires};
  rc = vs_sigv4_presign(&c, &req, url, err);
  vs_buf_free(&path);
  return rc;
}
