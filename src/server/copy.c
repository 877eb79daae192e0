/* CopyObject: PUT /bucket/key with x-amz-copy-source: /srcbucket/srckey
 * [?versionId=], as S3 has it.
 *
 * A copy is a new version of the destination, made like a PUT's (policy,
 * If-None-Match / If-Match, the store's intent, the `stored` event, taken
 * back when the event cannot be written), but its bytes are the source
 * version's file itself: the store hard-links it (vs_store_copy), nothing
 * is read or written. The event says "source":"copy" and names the source
 * version. Metadata: x-amz-metadata-directive COPY (the default: the
 * source's Content-Type, content headers and x-amz-meta-*) or REPLACE
 * (the request's). Copying an object onto itself is what rclone does to
 * change an mtime: allowed with REPLACE only (S3's rule), and harmless
 * then, since the new version links the same bytes. The copy conditions
 * (x-amz-copy-source-if-*) are checked against the source version the
 * copy is made of, by its real id, so the version checked is the version
 * copied. A copy carries no body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "server/internal.h"
#include "server/objmeta.h"
#include "server/precond.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"
#include "util/xml.h"
#include "vsink/manifest.h"
#include "vsink/sigv4.h"

/* ---- the request --------------------------------------------------------- */

/* "[/]bucket/key[?versionId=id]", the path part URL-encoded as S3 says
 * (a '?' of the key is %3F, so the first literal '?' starts the query). */
static int parse_source(vs__req *r, const char *v, char *vid, size_t vcap,
                        vs__fail *f)
{
  const char *q = strchr(v, '?');
  size_t plen, n, blen;
  char *path, *slash;
  int rc;
  vs_err err = {0};
  vid[0] = 0;
  if(*v == '/')
    v++;
  plen = q ? (size_t)(q - v) : strlen(v);
  if(q) {
    if(strncmp(q + 1, "versionId=", 10) || !q[11] ||
       strlen(q + 11) >= vcap || strpbrk(q + 11, "&=%"))
      return vs__failed(f, VS__S3_INVALID_ARGUMENT, "x-amz-copy-source: the "
                        "only parameter it takes is versionId");
    snprintf(vid, vcap, "%s", q + 11);
  }
  path = vs_sigv4_uri_decode(v, plen, &n);
  if(!path)
    return vs__failed(f, VS__S3_INVALID_ARGUMENT, "x-amz-copy-source: "
                      "malformed %-escape");
  slash = memchr(path, '/', n);
  blen = slash ? (size_t)(slash - path) : n;
  if(!slash || !blen || slash + 1 == path + n) {
    free(path);
    return vs__failed(f, VS__S3_INVALID_ARGUMENT, "Copy Source must mention "
                      "the source bucket and key: sourcebucket/sourcekey");
  }
  *slash = 0;
  if(blen >= sizeof(r->copy->bucket) || !vs__bucket_known(r->srv, path)) {
    free(path);
    return vs__failed(f, VS__S3_NO_SUCH_BUCKET, NULL);
  }
  rc = vs_store_check_key(slash + 1, n - blen - 1, &err);
  if(!rc) {
    struct vs__copy *c = calloc(1, sizeof(*c) + (n - blen));
    if(c) {
      memcpy(c->bucket, path, blen + 1);
      memcpy(c->key, slash + 1, n - blen);
      r->copy = c;
    }
    else
      rc = vs__failed(f, VS__S3_INTERNAL, "out of memory");
  }
  else
    vs__failed(f, rc == VS_ERR_TOOLARGE ? VS__S3_KEY_TOO_LONG
                                        : VS__S3_INVALID_ARGUMENT, err.msg);
  free(path);
  return rc ? -1 : 0;
}

/* A copy has no body: one announced is refused before it is read. */
static int no_body(vs__req *r, vs__fail *f)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if(vs__header(r->conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
     (cl && strcmp(cl, "0")))
    return vs__failed(f, VS__S3_INVALID_REQUEST, "CopyObject takes no request "
                      "body");
  return 0;
}

static int parse_directive(vs__req *r, vs__fail *f)
{
  const char *d = vs__header(r->conn, "x-amz-metadata-directive");
  if(!d || !strcmp(d, "COPY"))
    return 0;
  if(!strcmp(d, "REPLACE")) {
    r->copy->replace = 1;
    return 0;
  }
  return vs__failed(f, VS__S3_INVALID_ARGUMENT, "Unknown metadata directive.");
}

/* If-None-Match: * and If-Match: <etag> on the destination, as on a PUT
 * (the store checks them again under the key's lock). */
static int parse_dest_conditions(vs__req *r, vs__fail *f)
{
  const char *inm = vs__header(r->conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
  const char *im = vs__header(r->conn, MHD_HTTP_HEADER_IF_MATCH);
  if(inm) {
    if(strcmp(inm, "*"))
      return vs__failed(f, VS__S3_NOT_IMPLEMENTED, "only If-None-Match: * is "
                        "supported on a copy");
    r->if_none_match = 1;
  }
  if(im) {
    size_t n = strlen(im);
    if(n >= 2 && im[0] == '"' && im[n - 1] == '"')
      im++, n -= 2;
    if(!n || n >= sizeof(r->if_match) || memchr(im, ',', n) ||
       memchr(im, '"', n))
      return vs__failed(f, VS__S3_NOT_IMPLEMENTED, "If-Match on a copy takes "
                        "one ETag (or *)");
    memcpy(r->if_match, im, n);
    r->if_match[n] = 0;
  }
  return 0;
}

/* x-amz-copy-source-if-*: RFC 9110's order (If-Match true decides over a
 * false If-Unmodified-Since; If-None-Match false over If-Modified-Since),
 * every failure 412, as S3 answers a copy. */
static int source_conditions(vs__req *r, const vs_object_info *src, vs__fail *f)
{
  vs__conds c = {
    vs__header(r->conn, "x-amz-copy-source-if-match"),
    vs__header(r->conn, "x-amz-copy-source-if-none-match"),
    vs__header(r->conn, "x-amz-copy-source-if-modified-since"),
    vs__header(r->conn, "x-amz-copy-source-if-unmodified-since"),
  };
  if(vs__precond_eval(&c, src->etag, src->mtime_ms / 1000) == 200)
    return 0;
  return vs__failed(f, VS__S3_PRECONDITION, "a copy source condition "
                    "(x-amz-copy-source-if-*) did not hold");
}

static int source_version(vs__req *r, const char *vid, vs_object_info *src,
                          vs__fail *f)
{
  vs_err err = {0};
  int rc = vs_store_stat(r->srv->cfg.store, r->copy->bucket, r->copy->key,
                         vid[0] ? vid : NULL, src, &err);
  if(rc == VS_ERR_NOTFOUND)
    return vs__failed(f, vid[0] ? VS__S3_NO_SUCH_VERSION : VS__S3_NO_SUCH_KEY,
                      NULL);
  if(rc)
    return vs__failed(f, vs__s3_of_store(rc, VS__S3_NO_SUCH_KEY), err.msg);
  snprintf(r->copy->vid, sizeof(r->copy->vid), "%s", src->version_id);
  return 0;
}

int vs__copy_source(vs__req *r, vs_object_info *src, vs__s3code *code,
                    char *msg, size_t cap)
{
  const char *v = vs__header(r->conn, "x-amz-copy-source");
  vs__fail f = {VS__S3_NONE, ""};
  char vid[48];
  int rc = no_body(r, &f) || parse_source(r, v ? v : "", vid, sizeof(vid),
                                          &f) ||
           source_version(r, vid, src, &f) || source_conditions(r, src, &f);
  if(rc) {
    *code = f.code;
    snprintf(msg, cap, "%s", f.msg);
  }
  return rc ? -1 : 0;
}

/* Onto itself: only to change its metadata (S3's words), unless the source
 * is an older version (restoring it is a copy like any other). */
static int self_copy_ok(vs__req *r, vs__fail *f)
{
  vs_object_info *cur;
  int current;
  if(r->copy->replace || strcmp(r->copy->bucket, r->bucket) ||
     strcmp(r->copy->key, r->key))
    return 0;
  if(!(cur = malloc(sizeof(*cur))))
    return vs__failed(f, VS__S3_INTERNAL, "out of memory");
  current = vs_store_stat(r->srv->cfg.store, r->bucket, r->key, NULL, cur,
                          NULL) == VS_OK &&
            !strcmp(cur->version_id, r->copy->vid);
  free(cur);
  if(!current)
    return 0;
  return vs__failed(f, VS__S3_INVALID_REQUEST, "This copy request is illegal "
                    "because it is trying to copy an object to itself without "
                    "changing the object's metadata, storage class, website "
                    "redirect location or encryption attributes.");
}

/* A field value (RFC 9110 §5.5) the store keeps: at most 255 bytes. */
static int replaced_type(vs__req *r, vs__fail *f)
{
  const char *ct = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_TYPE);
  const unsigned char *p;
  if(!ct || !*ct)
    ct = "binary/octet-stream";
  if(strlen(ct) >= sizeof(((vs_object_info *)0)->content_type))
    return vs__failed(f, VS__S3_INVALID_ARGUMENT, "Content-Type is longer than "
                      "the 255 bytes kept");
  for(p = (const unsigned char *)ct; *p; p++)
    if((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return vs__failed(f, VS__S3_INVALID_ARGUMENT, "Content-Type has a "
                        "control byte");
  r->content_type = strdup(ct);
  return r->content_type ? 0 : vs__failed(f, VS__S3_INTERNAL, "out of memory");
}

/* What the new version keeps: the source's (COPY) or the request's. */
static int choose_metadata(vs__req *r, const vs_object_info *src, vs__fail *f)
{
  r->obj_headers = malloc(VS_OBJ_HEADERS_MAX);
  if(!r->obj_headers)
    return vs__failed(f, VS__S3_INTERNAL, "out of memory");
  if(r->copy->replace)
    return vs__meta_collect(r, r->obj_headers, VS_OBJ_HEADERS_MAX, &f->code,
                            f->msg, sizeof(f->msg)) ||
           replaced_type(r, f);
  snprintf(r->obj_headers, VS_OBJ_HEADERS_MAX, "%s", src->headers);
  r->content_type = strdup(src->content_type);
  return r->content_type ? 0 : vs__failed(f, VS__S3_INTERNAL, "out of memory");
}

/* The destination's policy and conditions now, for an early answer. */
static int dest_ok(vs__req *r, vs__fail *f)
{
  vs_object_info *cur = malloc(sizeof(*cur));
  int exists, rc = 0;
  if(!cur)
    return vs__failed(f, VS__S3_INTERNAL, "out of memory");
  exists = vs_store_stat(r->srv->cfg.store, r->bucket, r->key, NULL, cur,
                         NULL) == VS_OK;
  if(exists && (r->if_none_match ||
                r->srv->cfg.on_existing == VS_ON_EXISTING_REJECT))
    rc = vs__failed(f, VS__S3_PRECONDITION, "an object already exists under "
                    "this key");
  else if(r->if_match[0] && !exists)
    rc = vs__failed(f, VS__S3_NO_SUCH_KEY, NULL);
  else if(r->if_match[0] && strcmp(r->if_match, "*") &&
          strcmp(r->if_match, cur->etag))
    rc = vs__failed(f, VS__S3_PRECONDITION, "If-Match: the destination's ETag "
                    "differs");
  free(cur);
  return rc;
}

/* What the headers alone refuse (on the event thread): 0 or the answer in
 * f; the source's versionId as asked into r->copy->ask. */
static int copy_parse(vs__req *r, vs__fail *f)
{
  const char *src = vs__header(r->conn, "x-amz-copy-source");
  char vid[48];
  if(no_body(r, f) || parse_source(r, src ? src : "", vid, sizeof(vid), f))
    return -1;
  snprintf(r->copy->ask, sizeof(r->copy->ask), "%s", vid);
  return parse_directive(r, f) || parse_dest_conditions(r, f);
}

/* What the store refuses, before the commit (on the pool: the store may
 * be a cluster): 0 or the answer in f. */
static int copy_check(vs__req *r, vs__fail *f)
{
  vs_object_info *info = malloc(sizeof(*info));
  int rc;
  if(!info)
    return vs__failed(f, VS__S3_INTERNAL, "out of memory");
  rc = source_version(r, r->copy->ask, info, f) ||
       source_conditions(r, info, f) || self_copy_ok(r, f) ||
       choose_metadata(r, info, f) || dest_ok(r, f);
  free(info);
  return rc ? -1 : 0;
}

/* ---- the commit (a commit thread) ---------------------------------------- */

static cJSON *copy_event(vs__req *r, const vs_object_info *info)
{
  char uuid[37], remote[64];
  cJSON *ev = vs_store_event_fields(r->bucket, r->key, info,
                                    vs_uuid_find_v4(r->key, uuid) ? uuid
                                                                  : NULL,
                                    "copy");
  cJSON *src = ev ? cJSON_AddObjectToObject(ev, "copySource") : NULL;
  if(!src || !cJSON_AddStringToObject(src, "bucket", r->copy->bucket) ||
     !cJSON_AddStringToObject(src, "key", r->copy->key) ||
     !cJSON_AddStringToObject(src, "versionId", r->copy->vid) ||
     !cJSON_AddStringToObject(ev, "remote",
                              vs__remote(r->conn, remote, sizeof(remote)))) {
    cJSON_Delete(ev);
    return NULL;
  }
  return ev;
}

/* As a PUT's commit (objects.c): durable and visible, then recorded, then
 * settled; an object that cannot be recorded is taken back. */
static void copy_commit(vs__req *r)
{
  vs_server *s = r->srv;
  vs_commit c = {0};
  vs_err err = {0};
  int rc;
  c.content_type = r->content_type;
  c.policy = s->cfg.on_existing;
  c.if_none_match = r->if_none_match;
  c.defer_overwrite = 1;
  c.headers = r->obj_headers;
  c.if_match = r->if_match[0] ? r->if_match : NULL;
  rc = vs_store_copy(s->cfg.store, r->copy->bucket, r->copy->key,
                     r->copy->vid, r->bucket, r->key, &c, r->done_info,
                     &err);
  if(rc) {
    if(rc != VS_ERR_EXISTS && rc != VS_ERR_NOTFOUND)
      vs_log("error", "copy to %s/%s: %s", r->bucket, r->key, err.msg);
    /* a copy sends no bytes: a copy that did not check out (a store
     * whose bytes travel, S3) is the sink's fault, not a BadDigest */
    r->done_code = rc == VS_ERR_DIGEST
                     ? VS__S3_INTERNAL
                     : vs__s3_of_store(rc, VS__S3_NO_SUCH_KEY);
    snprintf(r->done_msg, sizeof(r->done_msg), "%s",
             rc == VS_ERR_NOTFOUND && !r->if_match[0]
             ? "the copy source is gone" : "");
    return;
  }
  r->done_code = vs__record_version(r, r->key, r->done_info->version_id,
                                    "stored", copy_event(r, r->done_info));
}

/* On a commit thread: what the store refuses, else the commit. */
static void copy_work(vs__req *r)
{
  vs__fail f = {VS__S3_NONE, ""};
  if(copy_check(r, &f))
    vs__done(r, f.code, f.msg);
  else
    copy_commit(r);
}

/* ---- the answer --------------------------------------------------------- */

static enum MHD_Result copy_ok(vs__req *r)
{
  const vs_object_info *i = r->done_info;
  struct MHD_Response *resp;
  vs_buf b = VS_BUF_INIT;
  char when[25];
  vs_time_rfc3339(i->mtime_ms, when);
  vs_buf_addf(&b, VS_XML_HEAD "<CopyObjectResult xmlns=\"" VS_XML_NS
              "\"><LastModified>%s</LastModified>"
              "<ETag>&quot;%s&quot;</ETag></CopyObjectResult>", when,
              i->etag);
  if(b.failed || !b.data || !(resp = MHD_create_response_from_buffer(
                    b.len, b.data, MHD_RESPMEM_MUST_FREE))) {
    vs_buf_free(&b);
    return vs__reject(r, VS__S3_INTERNAL, "out of memory");
  }
  b.data = NULL; /* the response owns it now */
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "application/xml");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION) {
    MHD_add_response_header(resp, "x-amz-version-id", i->version_id);
    MHD_add_response_header(resp, "x-amz-copy-source-version-id",
                            r->copy->vid);
  }
  return vs__send(r, MHD_HTTP_OK, resp);
}

static enum MHD_Result copy_answer(vs__req *r)
{
  r->phase = 2;
  if(r->done_code == VS__S3_PRECONDITION && !r->done_msg[0])
    return vs__reject(r, r->done_code, r->if_match[0]
                      ? "If-Match: the destination changed meanwhile"
                      : "an object already exists under this key");
  if(r->done_code)
    return vs__reject(r, r->done_code,
                      r->done_msg[0] ? r->done_msg : NULL);
  return copy_ok(r);
}

/* Its headers checked on the first call (a copy has no body); the source
 * and destination checked and the copy committed on the pool; answered
 * when resumed. */
enum MHD_Result vs__copy_object(vs__req *r, const char *data, size_t *size)
{
  vs__fail f = {VS__S3_NONE, ""};
  (void)data;
  *size = 0;
  if(r->phase == 3)
    return copy_answer(r);
  if(r->phase)
    return MHD_YES;
  if(copy_parse(r, &f))
    return vs__reject(r, f.code, f.msg[0] ? f.msg : NULL);
  r->phase = 3;
  if(vs__commit_submit(r, copy_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}
