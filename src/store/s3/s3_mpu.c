/* Multipart uploads into a bucket: create, parts (retried from their file),
 * complete from the caller's own list of parts, abort. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3_int.h"
#include "util/enc.h"
#include "util/xml.h"

#define MAX_PARTS 10000
#define DEFAULT_PART_ATTEMPTS 4

/* "uploadId=ID" (and "partNumber=N&" before it when number is set). */
static char *upload_query(const char *upload_id, unsigned number)
{
  vs_buf q = VS_BUF_INIT;
  if(number)
    vs_buf_addf(&q, "partNumber=%u", number);
  vs__s3_qadd(&q, "uploadId", upload_id);
  if(q.failed) {
    vs_buf_free(&q);
    return NULL;
  }
  return vs_buf_steal(&q);
}

static int check_upload_id(const char *upload_id, vs_err *err)
{
  if(!upload_id || !*upload_id || strlen(upload_id) >= VS_S3_UPLOAD_ID_MAX)
    return vs_fail(err, VS_ERR_INVALID, "bad multipart upload id");
  return VS_OK;
}

int vs_s3_mpu_create(const vs_s3_target *t, const char *bucket,
                     const char *key, const vs_s3_write_opts *o,
                     char upload_id[VS_S3_UPLOAD_ID_MAX], vs_err *err)
{
  vs__s3_call c = {0};
  int rc;
  *upload_id = 0;
  c.t = t, c.method = "POST", c.bucket = bucket, c.key = key ? key : "";
  c.query = "uploads";
  if((rc = vs__s3_write_headers(&c, o, err))) {
    vs__s3_call_free(&c);
    return rc;
  }
  if(!(rc = vs__s3_do(&c, err)) &&
     (rc = vs__s3_parse_create(vs_buf_str(&c.body), c.body.len, upload_id,
                               VS_S3_UPLOAD_ID_MAX, err))) {
    vs_err inner = *err;
    vs_fail(err, rc, "%s: %s", c.what, inner.msg);
  }
  vs__s3_call_free(&c);
  return rc;
}

int vs_s3_mpu_part(const vs_s3_target *t, const char *bucket,
                   const char *key, const char *upload_id, unsigned number,
                   const vs_s3_body *body, char etag[VS_S3_ETAG_MAX],
                   vs_err *err)
{
  vs__s3_call c = {0};
  char md5[25], sha[65], h_md5[48], *q;
  int rc;
  *etag = 0;
  if((rc = check_upload_id(upload_id, err)))
    return rc;
  if(!body || number < 1 || number > MAX_PARTS)
    return vs_fail(err, VS_ERR_INVALID, "UploadPart: part number %u not in "
                   "1..%d, or no body", number, MAX_PARTS);
  if((rc = vs__s3_hash_body(body, md5, sha, err)))
    return rc;
  if(!(q = upload_query(upload_id, number)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  c.t = t, c.method = "PUT", c.bucket = bucket, c.key = key ? key : "";
  c.query = q;
  snprintf(h_md5, sizeof(h_md5), "Content-MD5: %s", md5);
  c.headers[c.n_headers++] = h_md5;
  vs__s3_set_body(&c, body);
  c.payload_sha256 = sha;
  c.attempts = t && t->part_attempts > 0 ? t->part_attempts
                                         : DEFAULT_PART_ATTEMPTS;
  if(!(rc = vs__s3_do(&c, err)) && !c.info.etag[0])
    rc = vs_fail(err, VS_ERR_NET, "%s: no ETag in the answer", c.what);
  if(!rc)
    snprintf(etag, VS_S3_ETAG_MAX, "%s", c.info.etag);
  vs__s3_call_free(&c);
  free(q);
  return rc;
}

/* The request body of CompleteMultipartUpload. */
static int complete_body(const vs_s3_part *parts, size_t n, vs_buf *b,
                         vs_err *err)
{
  size_t i;
  if(!parts || !n || n > MAX_PARTS)
    return vs_fail(err, VS_ERR_INVALID, "CompleteMultipartUpload: %zu parts "
                   "(1..%d)", n, MAX_PARTS);
  vs_buf_adds(b, VS_XML_HEAD "<CompleteMultipartUpload xmlns=\"" VS_XML_NS
              "\">");
  for(i = 0; i < n; i++) {
    const vs_s3_part *p = &parts[i];
    if(p->number < 1 || p->number > MAX_PARTS || !p->etag[0] ||
       (i && p->number <= parts[i - 1].number))
      return vs_fail(err, VS_ERR_INVALID, "CompleteMultipartUpload: part %zu "
                     "(number %u) out of order, out of range or without an "
                     "ETag", i, p->number);
    vs_buf_addf(b, "<Part><PartNumber>%u</PartNumber><ETag>\"", p->number);
    vs_xml_text(b, p->etag, strnlen(p->etag, sizeof(p->etag)), 0);
    vs_buf_adds(b, "\"</ETag></Part>");
  }
  vs_buf_adds(b, "</CompleteMultipartUpload>");
  return b->failed ? vs_fail(err, VS_ERR_NOMEM, "out of memory") : VS_OK;
}

/* S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, "-"
 * and their count; "" when a part's ETag is not an MD5 (SSE-C, KMS). */
static void multipart_etag(const vs_s3_part *parts, size_t n,
                           char out[VS_S3_ETAG_MAX])
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char one[16], sum[16];
  char hex[33];
  size_t i;
  int ok = md && EVP_DigestInit_ex(md, EVP_md5(), NULL);
  for(i = 0; ok && i < n; i++)
    ok = strlen(parts[i].etag) == 32 && !vs_unhex(parts[i].etag, 16, one) &&
         EVP_DigestUpdate(md, one, 16);
  if(ok && EVP_DigestFinal_ex(md, sum, NULL)) {
    vs_hex(sum, 16, hex);
    snprintf(out, VS_S3_ETAG_MAX, "%s-%zu", hex, n);
  }
  EVP_MD_CTX_free(md);
}

int vs_s3_mpu_complete(const vs_s3_target *t, const char *bucket,
                       const char *key, const char *upload_id,
                       const vs_s3_part *parts, size_t n,
                       vs_s3_put_result *out, vs_err *err)
{
  vs__s3_call c = {0};
  vs_buf xml = VS_BUF_INIT;
  vs_s3_body body = {NULL, -1, 0, 0, NULL};
  char md5[25], sha[65], h_md5[48], *q = NULL;
  int rc;
  memset(out, 0, sizeof(*out));
  if((rc = check_upload_id(upload_id, err)) ||
     (rc = complete_body(parts, n, &xml, err)))
    goto done;
  body.mem = xml.data;
  body.len = xml.len;
  if((rc = vs__s3_hash_body(&body, md5, sha, err)))
    goto done;
  if(!(q = upload_query(upload_id, 0))) {
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    goto done;
  }
  c.t = t, c.method = "POST", c.bucket = bucket, c.key = key ? key : "";
  c.query = q;
  snprintf(h_md5, sizeof(h_md5), "Content-MD5: %s", md5);
  c.headers[c.n_headers++] = h_md5;
  c.headers[c.n_headers++] = "Content-Type: application/xml";
  vs__s3_set_body(&c, &body);
  c.payload_sha256 = sha;
  if((rc = vs__s3_do(&c, err)))
    goto done;
  /* the 200 may still carry an <Error>: only the body says it worked */
  rc = vs__s3_parse_complete(vs_buf_str(&c.body), c.body.len, out->etag,
                             sizeof(out->etag), err);
  if(rc) {
    vs_err inner = *err;
    vs_fail(err, rc, "%s: %s", c.what, inner.msg);
  }
  else {
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             strcmp(c.info.version_id, "null") ? c.info.version_id : "");
    if(!out->etag[0])
      multipart_etag(parts, n, out->etag);
  }
done:
  vs__s3_call_free(&c);
  vs_buf_free(&xml);
  free(q);
  return rc;
}

int vs_s3_mpu_abort(const vs_s3_target *t, const char *bucket,
                    const char *key, const char *upload_id, vs_err *err)
{
  vs__s3_call c = {0};
  char *q;
  int rc = check_upload_id(upload_id, err);
  if(rc)
    return rc;
  if(!(q = upload_query(upload_id, 0)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  c.t = t, c.method = "DELETE", c.bucket = bucket, c.key = key ? key : "";
  c.query = q;
  rc = vs__s3_do(&c, err);
  vs__s3_call_free(&c);
  free(q);
  return rc;
}
