/* Multipart uploads: CreateMultipartUpload, UploadPart's two ends (its
 * body streams through objects.c's PUT path, hashed and verified like any
 * upload), CompleteMultipartUpload and AbortMultipartUpload.
 *
 * The store keeps each upload and its parts durably (store_fs_mpu.c);
 * Complete builds the object from the parts the client lists and commits
 * it like a PUT: a durable intent, then the `stored` event with the whole
 * object's SHA-256, then the 200. Only then is the upload removed, so a
 * crash before the event leaves the client free to retry Complete. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "server/internal.h"
#include "server/mpu_xml.h"
#include "server/objmeta.h"
#include "server/put_headers.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/uuid.h"
#include "util/xml.h"

static int fail(vs__s3code *code, char *msg, size_t cap, vs__s3code c,
                const char *text)
{
  *code = c;
  snprintf(msg, cap, "%s", text ? text : "");
  return -1;
}

int vs__mpu_lookup(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  char *id = vs__query_get(r->raw_uri, "uploadId");
  vs_err err = {0};
  int rc;
  if(!r->mpu && !(r->mpu = malloc(sizeof(*r->mpu)))) {
    free(id);
    return fail(code, msg, cap, VS__S3_INTERNAL, "out of memory");
  }
  rc = vs_store_mpu_get(r->srv->cfg.store, r->bucket, r->key, id ? id : "",
                        r->mpu, &err);
  free(id);
  if(!rc)
    return 0;
  if(rc != VS_ERR_NOTFOUND)
    vs_log("error", "multipart upload of %s/%s: %s", r->bucket, r->key,
           err.msg);
  return fail(code, msg, cap, vs__s3_of_store(rc, VS__S3_NO_SUCH_UPLOAD),
              NULL);
}

/* An XML answer (b's contents taken). */
static enum MHD_Result send_xml(vs__req *r, vs_buf *b)
{
  if(b->failed)
    return vs__reject(r, VS__S3_INTERNAL, "out of memory");
  return vs__send_buf(r, MHD_HTTP_OK, b, "application/xml");
}

/* A request without a body (Create, Abort): one announced is refused
 * before it is read. */
static int no_body(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if(vs__header(r->conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
     (cl && strcmp(cl, "0")))
    return fail(code, msg, cap, VS__S3_INVALID_REQUEST,
                "this operation takes no request body");
  return 0;
}

/* ---- CreateMultipartUpload ---------------------------------------------- */

/* x-amz-checksum-algorithm and -type (the route table allowed only the
 * values S3 has): FULL_OBJECT exists for the CRCs only, as in S3. */
static int create_checksum(vs__req *r, vs_mpu *m, vs__s3code *code,
                           char *msg, size_t cap)
{
  const char *alg = vs__header(r->conn, "x-amz-checksum-algorithm");
  const char *type = vs__header(r->conn, "x-amz-checksum-type");
  if(type && !alg)
    return fail(code, msg, cap, VS__S3_INVALID_REQUEST, "The "
                "x-amz-checksum-type header can only be used with the "
                "x-amz-checksum-algorithm header.");
  if(!alg)
    return 0;
  vs_ascii_lower(m->checksum_alg, sizeof(m->checksum_alg), alg);
  vs_ascii_upper(m->checksum_type, sizeof(m->checksum_type),
                 type ? type : "COMPOSITE");
  if(!strcmp(m->checksum_type, "FULL_OBJECT") &&
     (!strcmp(m->checksum_alg, "sha1") || !strcmp(m->checksum_alg, "sha256")))
    return fail(code, msg, cap, VS__S3_INVALID_REQUEST, "The FULL_OBJECT "
                "checksum type cannot be used with the sha1 or sha256 "
                "checksum algorithm.");
  return 0;
}

static int create_check(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  vs_mpu *m;
  if(no_body(r, code, msg, cap) ||
     vs__put_content_type(r, code, msg, cap))
    return -1;
  if(!(m = r->mpu = calloc(1, sizeof(*r->mpu))))
    return fail(code, msg, cap, VS__S3_INTERNAL, "out of memory");
  snprintf(m->bucket, sizeof(m->bucket), "%s", r->bucket);
  snprintf(m->key, sizeof(m->key), "%s", r->key);
  snprintf(m->content_type, sizeof(m->content_type), "%s", r->content_type);
  if(vs__meta_collect(r, m->headers, sizeof(m->headers), code, msg, cap))
    return -1;
  return create_checksum(r, m, code, msg, cap);
}

static void create_work(vs__req *r)
{
  vs_err err = {0};
  int rc = vs_store_mpu_create(r->srv->cfg.store, r->mpu, &err);
  r->done_code = rc ? vs__s3_of_store(rc, VS__S3_NO_SUCH_UPLOAD) : VS__S3_NONE;
  if(rc)
    vs_log("error", "create multipart upload of %s/%s: %s", r->bucket,
           r->key, err.msg);
  else
    atomic_fetch_add(&r->srv->m.mpu_created, 1);
}

static enum MHD_Result create_answer(vs__req *r)
{
  vs_buf b = VS_BUF_INIT;
  r->phase = 2;
  if(r->done_code)
    return vs__reject(r, r->done_code == VS__S3_NO_SUCH_UPLOAD
                      ? VS__S3_INTERNAL : r->done_code, NULL);
  vs_buf_adds(&b, VS_XML_HEAD "<InitiateMultipartUploadResult xmlns=\""
              VS_XML_NS "\">");
  vs_xml_elem(&b, "Bucket", r->bucket, 0);
  vs_xml_elem(&b, "Key", r->key, 0);
  vs_xml_elem(&b, "UploadId", r->mpu->upload_id, 0);
  vs_buf_adds(&b, "</InitiateMultipartUploadResult>");
  if(r->mpu->checksum_alg[0]) {
    r->extra_header = "x-amz-checksum-algorithm";
    vs_ascii_upper(r->extra_value, sizeof(r->extra_value),
                   r->mpu->checksum_alg);
  }
  return send_xml(r, &b);
}

enum MHD_Result vs__mpu_create(vs__req *r, const char *data, size_t *size)
{
  vs__s3code code = VS__S3_NONE;
  char msg[200] = "";
  (void)data;
  *size = 0;
  if(r->phase == 3)
    return create_answer(r);
  if(r->phase)
    return MHD_YES;
  if(create_check(r, &code, msg, sizeof(msg)))
    return vs__reject(r, code, msg[0] ? msg : NULL);
  r->phase = 3;
  if(vs__commit_submit(r, create_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}

/* ---- UploadPart: objects.c's PUT path calls these ---------------------- */

/* partNumber: 1 .. 10,000, digits only. */
int vs__part_number(vs__req *r, unsigned *out)
{
  char *v = vs__query_get(r->raw_uri, "partNumber");
  unsigned long n = 0;
  size_t i, len = v ? strlen(v) : 0;
  int ok = len > 0 && len <= 5;
  for(i = 0; ok && i < len; i++)
    if(v[i] < '0' || v[i] > '9')
      ok = 0;
    else
      n = n * 10 + (unsigned long)(v[i] - '0');
  free(v);
  if(!ok || n < 1 || n > VS_PART_NUMBER_MAX)
    return -1;
  *out = (unsigned)n;
  return 0;
}

int vs__part_begin(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  vs_err err = {0};
  int rc;
  if(vs__part_number(r, &r->part_number))
    return fail(code, msg, cap, VS__S3_INVALID_ARGUMENT, "Part number must "
                "be an integer between 1 and 10000, inclusive");
  if(r->content_length > (int64_t)VS_PART_MAX_BYTES)
    return fail(code, msg, cap, VS__S3_TOO_LARGE, "a part is at most 5 GiB");
  if(vs__mpu_lookup(r, code, msg, cap))
    return -1;
  /* the upload's algorithm, if it named one, is the parts' too */
  if(r->mpu->checksum_alg[0] && r->cksum_alg &&
     strcmp(r->mpu->checksum_alg, vs_cksum_name(r->cksum_alg))) {
    snprintf(msg, cap, "Checksum Type mismatch occurred, expected checksum "
             "Type: %s, actual checksum Type: %s", r->mpu->checksum_alg,
             vs_cksum_name(r->cksum_alg));
    *code = VS__S3_INVALID_REQUEST;
    return -1;
  }
  rc = vs_store_part_begin(r->srv->cfg.store, r->bucket, r->key,
                           r->mpu->upload_id, r->part_number, &r->up, &err);
  if(rc)
    return fail(code, msg, cap, vs__s3_of_store(rc, VS__S3_NO_SUCH_UPLOAD),
                rc == VS_ERR_NOTFOUND ? NULL : err.msg);
  return 0;
}

void vs__part_commit(vs__req *r)
{
  vs_part_info p = {0};
  vs_err err = {0};
  int rc;
  p.bytes = r->bytes_in;
  snprintf(p.md5, sizeof(p.md5), "%s", r->md5_hex);
  if(r->cksum_alg) {
    snprintf(p.checksum_alg, sizeof(p.checksum_alg), "%s",
             vs_cksum_name(r->cksum_alg));
    snprintf(p.checksum, sizeof(p.checksum), "%s", r->cksum_b64);
  }
  rc = vs_store_part_commit(r->srv->cfg.store, r->up, &p, &err);
  r->up = NULL; /* committed or gone */
  if(rc && rc != VS_ERR_NOTFOUND)
    vs_log("error", "part %u of %s/%s: %s", r->part_number, r->bucket,
           r->key, err.msg);
  r->done_code = rc ? vs__s3_of_store(rc, VS__S3_NO_SUCH_UPLOAD) : VS__S3_NONE;
  if(!rc)
    atomic_fetch_add(&r->srv->m.parts_ok, 1);
}

enum MHD_Result vs__part_ok(vs__req *r)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  char etag[40];
  if(!resp)
    return MHD_NO;
  snprintf(etag, sizeof(etag), "\"%s\"", r->md5_hex);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
  if(r->cksum_alg) { /* S3 echoes the checksum it verified */
    char name[40];
    snprintf(name, sizeof(name), "x-amz-checksum-%s",
             vs_cksum_name(r->cksum_alg));
    MHD_add_response_header(resp, name, r->cksum_b64);
  }
  return vs__send(r, MHD_HTTP_OK, resp);
}

/* ---- AbortMultipartUpload ---------------------------------------------- */

/* On a commit thread: the upload looked up (the store may be a cluster),
 * then aborted. */
static void abort_work(vs__req *r)
{
  vs__s3code code = VS__S3_NONE;
  char msg[200] = "";
  vs_err err = {0};
  int rc;
  if(vs__mpu_lookup(r, &code, msg, sizeof(msg))) {
    vs__done(r, code, msg);
    return;
  }
  rc = vs_store_mpu_abort(r->srv->cfg.store, r->bucket, r->key,
                          r->mpu->upload_id, &err);
  r->done_code = rc ? vs__s3_of_store(rc, VS__S3_NO_SUCH_UPLOAD) : VS__S3_NONE;
  if(rc && rc != VS_ERR_NOTFOUND)
    vs_log("error", "abort multipart upload of %s/%s: %s", r->bucket,
           r->key, err.msg);
  if(!rc)
    atomic_fetch_add(&r->srv->m.mpu_aborted, 1);
}

enum MHD_Result vs__mpu_abort(vs__req *r, const char *data, size_t *size)
{
  vs__s3code code = VS__S3_NONE;
  char msg[200] = "";
  struct MHD_Response *resp;
  (void)data;
  *size = 0;
  if(r->phase == 3) {
    r->phase = 2;
    if(r->done_code)
      return vs__reject(r, r->done_code, r->done_msg[0] ? r->done_msg : NULL);
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    return resp ? vs__send(r, MHD_HTTP_NO_CONTENT, resp) : MHD_NO;
  }
  if(r->phase)
    return MHD_YES;
  if(no_body(r, &code, msg, sizeof(msg)))
    return vs__reject(r, code, msg[0] ? msg : NULL);
  r->phase = 3;
  if(vs__commit_submit(r, abort_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}
