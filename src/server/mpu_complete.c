/* CompleteMultipartUpload: the upload and the preconditions checked before
 * the body, the body (the list of parts, at most 4 MiB) read whole and
 * verified against its digests, then on a commit thread the store builds
 * and commits the object (store_fs_mpu.c), its `stored` event is written
 * (vs__record_version: else it is taken back), and only then is the upload
 * removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "server/internal.h"
#include "server/mpu_xml.h"
#include "server/put_headers.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/uuid.h"
#include "util/xml.h"

/* x-amz-checksum-<alg> on Complete is the whole object's: a FULL_OBJECT
 * upload's CRC, computed while the parts are joined, is checked against it
 * before the commit (r->cksum_b64 keeps it). A COMPOSITE checksum (of the
 * parts' checksums) is not computed by vsink: refused, not ignored. */
static int object_checksum(vs__req *r, vs__fail *f)
{
  static const char *const algs[] = {"crc32", "crc32c", "crc64nvme", "sha1",
                                     "sha256"};
  const char *v = NULL, *alg = NULL;
  size_t i;
  for(i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
    char name[40];
    const char *h;
    snprintf(name, sizeof(name), "x-amz-checksum-%s", algs[i]);
    if(!(h = vs__header(r->conn, name)))
      continue;
    if(v)
      return vs__failed(f, VS__S3_INVALID_REQUEST, "Expecting a single "
                        "x-amz-checksum- header. Multiple checksum Types are "
                        "not allowed.");
    v = h;
    alg = algs[i];
  }
  if(!v)
    return 0;
  if(strcmp(r->mpu->checksum_type, "FULL_OBJECT")) {
    snprintf(f->msg, sizeof(f->msg), "x-amz-checksum-%s: a whole-object "
             "checksum on CompleteMultipartUpload is verified by vsink only "
             "for a FULL_OBJECT upload (each part's is verified)", alg);
    f->code = VS__S3_NOT_IMPLEMENTED;
    return -1;
  }
  if(strcmp(alg, r->mpu->checksum_alg)) {
    snprintf(f->msg, sizeof(f->msg), "Checksum Type mismatch occurred, "
             "expected checksum Type: %s, actual checksum Type: %s",
             r->mpu->checksum_alg, alg);
    f->code = VS__S3_INVALID_REQUEST;
    return -1;
  }
  if(strlen(v) >= sizeof(r->cksum_b64))
    return vs__failed(f, VS__S3_INVALID_REQUEST, "the checksum is too long");
  snprintf(r->cksum_b64, sizeof(r->cksum_b64), "%s", v);
  return 0;
}

static int first_check(vs__req *r, vs__fail *f)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if(cl && strtoull(cl, NULL, 10) > VS__MPU_BODY_MAX)
    return vs__failed(f, VS__S3_TOO_LARGE, "a CompleteMultipartUpload body is "
                      "at most 4 MiB");
  if((f->code = vs__body_digests(r, VS__BODY_MD5_ONLY, f->msg,
                                 sizeof(f->msg))))
    return -1;
  return vs__put_preconditions(r, &f->code, f->msg, sizeof(f->msg));
}

/* The upload, from the store, and the checksum asked against it. */
static int upload_check(vs__req *r, vs__fail *f)
{
  if(vs__mpu_lookup(r, &f->code, f->msg, sizeof(f->msg)))
    return -1;
  return object_checksum(r, f);
}

/* upload_check on a commit thread, for a store over the network. */
static void check_work(vs__req *r)
{
  vs__fail f = {VS__S3_NONE, ""};
  if(upload_check(r, &f))
    vs__done(r, f.code, f.msg);
}

/* The parts the body lists, checked for what the store does not know
 * (ranges, the upload's checksum algorithm). */
static int parse_parts(vs__req *r, vs__mpu_part **parts, size_t *n, vs__fail *f)
{
  size_t i;
  int rc = vs__mpu_complete_parse(r->body ? r->body : "", r->body_len,
                                  VS_PART_NUMBER_MAX, parts, n, f->msg,
                                  sizeof(f->msg));
  if(rc == -3)
    return vs__failed(f, VS__S3_INTERNAL, "out of memory");
  if(rc) { /* the parser's message stays */
    f->code = rc == -2 ? VS__S3_NOT_IMPLEMENTED : VS__S3_MALFORMED_XML;
    return -1;
  }
  for(i = 0; i < *n; i++) {
    const vs__mpu_part *p = &(*parts)[i];
    if(p->ref.number < 1 || p->ref.number > VS_PART_NUMBER_MAX)
      return vs__failed(f, VS__S3_INVALID_ARGUMENT, "Part number must be an "
                        "integer between 1 and 10000, inclusive");
    /* a part's checksum must be of the upload's algorithm, when it named
     * one; else the store compares it with what the part was sent with */
    if(p->checksum_alg[0] && r->mpu->checksum_alg[0] &&
       strcmp(p->checksum_alg, r->mpu->checksum_alg))
      return vs__failed(f, VS__S3_INVALID_PART, NULL);
  }
  return 0;
}

/* ---- the commit thread -------------------------------------------------- */

static vs__s3code code_of_fault(vs_mpu_fault fault)
{
  switch(fault) {
  case VS_MPU_PART_ORDER:
    return VS__S3_INVALID_PART_ORDER;
  case VS_MPU_TOO_SMALL:
    return VS__S3_ENTITY_TOO_SMALL;
  default:
    return VS__S3_INVALID_PART;
  }
}

static cJSON *complete_event(vs__req *r, const vs_object_info *info)
{
  char uuid[37], remote[64];
  cJSON *ev = vs_store_event_fields(r->bucket, r->key, info,
                                    vs_uuid_find_v4(r->key, uuid) ? uuid
                                                                  : NULL,
                                    "multipart");
  if(ev && (!cJSON_AddStringToObject(ev, "uploadId", r->mpu->upload_id) ||
            !cJSON_AddStringToObject(ev, "remote",
                                     vs__remote(r->conn, remote,
                                                sizeof(remote))))) {
    cJSON_Delete(ev);
    return NULL;
  }
  return ev;
}

static void forget_upload(vs__req *r)
{
  vs_err err = {0};
  if(vs_store_mpu_abort(r->srv->cfg.store, r->bucket, r->key,
                        r->mpu->upload_id, &err))
    vs_log("warn", "completed upload %s of %s/%s stays until it expires: "
           "%s", r->mpu->upload_id, r->bucket, r->key, err.msg);
}

/* The object the listed parts make may not pass --max-object-size, as a
 * PUT may not (each part was held to it alone). 0, or -1 with the code. */
static int within_limit(vs__req *r, const vs_part_ref *refs)
{
  vs_part_info *parts = NULL;
  size_t n = 0, i, j = 0;
  uint64_t total = 0;
  if(vs_store_mpu_parts(r->srv->cfg.store, r->bucket, r->key,
                        r->mpu->upload_id, &parts, &n, NULL))
    return 0; /* the store's Complete says what is wrong */
  for(i = 0; i < r->n_parts; i++) {
    while(j < n && parts[j].number < refs[i].number)
      j++;
    if(j < n && parts[j].number == refs[i].number)
      total += parts[j].bytes;
  }
  free(parts);
  if(total <= r->srv->cfg.max_object_size)
    return 0;
  r->done_code = VS__S3_TOO_LARGE;
  snprintf(r->done_msg, sizeof(r->done_msg), "the parts make %llu bytes, "
           "over the size limit", (unsigned long long)total);
  return -1;
}

static void complete_work(vs__req *r)
{
  vs_server *s = r->srv;
  vs_part_ref *refs = calloc(r->n_parts, sizeof(*refs));
  vs_commit c = {0};
  vs_mpu_fault fault = VS_MPU_OK;
  vs_err err = {0};
  size_t i;
  int rc;
  if(!refs) {
    r->done_code = VS__S3_INTERNAL;
    return;
  }
  for(i = 0; i < r->n_parts; i++)
    refs[i] = r->parts[i].ref;
  if(within_limit(r, refs)) {
    free(refs);
    return;
  }
  c.policy = s->cfg.on_existing;
  c.if_none_match = r->if_none_match;
  c.defer_overwrite = 1;
  c.if_match = r->if_match[0] ? r->if_match : NULL;
  c.checksum = r->cksum_b64[0] ? r->cksum_b64 : NULL;
  rc = vs_store_mpu_complete(s->cfg.store, r->bucket, r->key,
                             r->mpu->upload_id, refs, r->n_parts, &c,
                             r->done_info, &fault, &err);
  free(refs);
  if(rc) {
    r->done_code = fault ? code_of_fault(fault)
                         : vs__s3_of_store(rc, VS__S3_NO_SUCH_UPLOAD);
    /* If-Match on a key that holds nothing: S3's 404 NoSuchKey (the
     * upload was there a moment ago) */
    if(rc == VS_ERR_NOTFOUND && r->if_match[0])
      r->done_code = VS__S3_NO_SUCH_KEY;
    snprintf(r->done_msg, sizeof(r->done_msg), "%s",
             fault || rc == VS_ERR_EXISTS || rc == VS_ERR_DIGEST ? err.msg
                                                                : "");
    if(!fault && rc != VS_ERR_EXISTS && rc != VS_ERR_NOTFOUND &&
       rc != VS_ERR_DIGEST)
      vs_log("error", "complete %s/%s: %s", r->bucket, r->key, err.msg);
    return;
  }
  r->done_code = vs__record_version(r, r->key, r->done_info->version_id,
                                    "stored",
                                    complete_event(r, r->done_info));
  if(!r->done_code) {
    forget_upload(r);
    atomic_fetch_add(&s->m.mpu_completed, 1);
  }
}

/* ---- the answer --------------------------------------------------------- */

static enum MHD_Result complete_ok(vs__req *r)
{
  const vs_object_info *i = r->done_info;
  vs_buf b = VS_BUF_INIT;
  vs_buf_adds(&b, VS_XML_HEAD "<CompleteMultipartUploadResult xmlns=\""
              VS_XML_NS "\">"
              "<Location>/");
  vs_xml_text(&b, r->bucket, strlen(r->bucket), 0);
  vs_buf_adds(&b, "/");
  vs_xml_text(&b, r->key, r->key_len, 0);
  vs_buf_adds(&b, "</Location>");
  vs_xml_elem(&b, "Bucket", r->bucket, 0);
  vs_xml_elem(&b, "Key", r->key, 0);
  vs_buf_addf(&b, "<ETag>&quot;%s&quot;</ETag>"
              "</CompleteMultipartUploadResult>", i->etag);
  if(b.failed)
    return vs__reject(r, VS__S3_INTERNAL, "out of memory");
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION) {
    r->extra_header = "x-amz-version-id";
    snprintf(r->extra_value, sizeof(r->extra_value), "%s", i->version_id);
  }
  return vs__send_buf(r, MHD_HTTP_OK, &b, "application/xml");
}

static enum MHD_Result complete_answer(vs__req *r)
{
  r->phase = 2;
  if(r->done_code == VS__S3_PRECONDITION)
    return vs__reject(r, r->done_code, r->if_match[0]
                      ? "If-Match: the object's ETag differs"
                      : "an object already exists under this key");
  if(r->done_code)
    return vs__reject(r, r->done_code, r->done_msg[0] ? r->done_msg : NULL);
  return complete_ok(r);
}

/* The body is in: verify, parse, hand to the pool. */
static enum MHD_Result body_done(vs__req *r)
{
  vs__fail f = {VS__S3_NONE, ""};
  vs__mpu_part *parts = NULL;
  size_t n = 0;
  if((f.code = vs__body_matches(r, f.msg, sizeof(f.msg))))
    return vs__reject(r, f.code, f.msg[0] ? f.msg : NULL);
  if(parse_parts(r, &parts, &n, &f)) {
    free(parts);
    return vs__reject(r, f.code, f.msg[0] ? f.msg : NULL);
  }
  r->parts = parts;
  r->n_parts = n;
  r->done_msg[0] = 0;
  r->phase = 3;
  if(vs__commit_submit(r, complete_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}

enum MHD_Result vs__mpu_complete(vs__req *r, const char *data, size_t *size)
{
  vs__fail f = {VS__S3_NONE, ""};
  size_t n = *size;
  if(r->phase == 3)
    return complete_answer(r);
  *size = 0;
  if(r->phase == 2)
    return MHD_YES;
  if(r->phase == 0) {
    if(first_check(r, &f))
      return vs__reject(r, f.code, f.msg[0] ? f.msg : NULL);
    if(vs_store_is_remote(r->srv->cfg.store)) {
      r->phase = 4;
      if(vs__commit_submit(r, check_work))
        return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
      return MHD_YES;
    }
    if(upload_check(r, &f))
      return vs__reject(r, f.code, f.msg[0] ? f.msg : NULL);
    r->phase = 1;
    return MHD_YES;
  }
  if(r->phase == 4) { /* resumed from check_work: no body read yet */
    vs__s3code code = vs__checked(r);
    if(code)
      return vs__reject(r, code, r->done_msg[0] ? r->done_msg : NULL);
    r->phase = 1;
    return MHD_YES;
  }
  if(!n)
    return body_done(r);
  return vs__body_piece(r, data, n, VS__MPU_BODY_MAX,
                        "a CompleteMultipartUpload body is at most 4 MiB");
}
