/* DeleteObject and DeleteObjects, as S3 does them in a versioned bucket:
 * a delete adds a delete marker, a version without bytes that becomes the
 * key's current one (store_fs_delete.c), so every byte stays and a GET of
 * an older versionId still serves it. A delete of a key that holds nothing
 * adds a marker too (S3 does). Each marker is recorded as a `deleted`
 * event before it is settled, like an object's `stored` one, so a crash
 * never leaves a marker the manifest does not name (reconcile.c).
 *
 * Removing a version for good (DELETE ?versionId=, or an <Object> with a
 * <VersionId>) is a purge: refused (403 AccessDenied) unless the sink runs
 * with --allow-purge, and then refused as well for a version younger than
 * --retention days (as S3 Object Lock's governance mode refuses it). A
 * purge removes the version's files and is recorded as a `purged` event.
 *
 * DeleteObjects' body is read whole (2 MiB at most), checked against the
 * Content-MD5 or x-amz-checksum-* S3 requires, parsed (delete_xml.c) and
 * only then acted on, on the commit pool: a refused request changes
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "server/delete_xml.h"
#include "server/internal.h"
#include "util/buf.h"
#include "util/cksum.h"
#include "util/enc.h"
#include "util/log.h"
#include "util/xml.h"

#define BODY_MAX (2u << 20) /* S3's 1000 keys of 1 KiB, escaped, fit */
#define KEYS_MAX 1000
#define DAY_MS (86400LL * 1000)

/* ---- GET and HEAD of a marker (objects.c) ---------------------------------- */

enum MHD_Result vs__delete_marker_read(vs__req *r, vs_object_info *info,
                                       int fd, int by_version)
{
  if(fd >= 0)
    close(fd);
  /* S3 names the marker: a client learns which version to read or purge */
  r->marker_answer = 1;
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION) {
    r->extra_header = "x-amz-version-id";
    snprintf(r->extra_value, sizeof(r->extra_value), "%s", info->version_id);
  }
  free(info);
  return vs__reject(r, by_version ? VS__S3_METHOD : VS__S3_NO_SUCH_KEY,
                    by_version ? "The specified method is not allowed "
                    "against this resource (a delete marker)." : NULL);
}

/* ---- one delete ------------------------------------------------------------ */

static vs__s3code code_of(int rc)
{
  switch(rc) {
  case VS_ERR_NOSPACE: return VS__S3_STORAGE;
  case VS_ERR_TOOLARGE: return VS__S3_KEY_TOO_LONG;
  case VS_ERR_INVALID: return VS__S3_INVALID_ARGUMENT;
  default: return VS__S3_INTERNAL;
  }
}

static cJSON *event_fields(vs__req *r, const char *key,
                           const vs_object_info *info)
{
  char remote[64];
  cJSON *ev = cJSON_CreateObject();
  if(!ev || !cJSON_AddStringToObject(ev, "bucket", r->bucket) ||
     !cJSON_AddStringToObject(ev, "key", key) ||
     !cJSON_AddStringToObject(ev, "versionId", info->version_id) ||
     (info->delete_marker && !cJSON_AddTrueToObject(ev, "deleteMarker")) ||
     (!info->delete_marker &&
      (!cJSON_AddNumberToObject(ev, "bytes", (double)info->bytes) ||
       !cJSON_AddStringToObject(ev, "sha256", info->sha256))) ||
     !cJSON_AddStringToObject(ev, "remote",
                              vs__remote(r->conn, remote, sizeof(remote)))) {
    cJSON_Delete(ev);
    return NULL;
  }
  return ev;
}

static int record(vs__req *r, const char *event, const char *key,
                  const vs_object_info *info, vs_err *err)
{
  cJSON *ev = event_fields(r, key, info);
  int rc = ev ? vs_manifest_append(r->srv->cfg.manifest, event, ev, err)
              : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  cJSON_Delete(ev);
  return rc;
}

/* A new delete marker for key, recorded, then settled; on any failure
 * nothing stays. */
static vs__s3code add_marker(vs__req *r, const char *key,
                             vs_object_info *info)
{
  vs_store *st = r->srv->cfg.store;
  vs_err err = {0};
  int rc = vs_store_put_marker(st, r->bucket, key, info, &err);
  if(rc) {
    vs_log("error", "delete marker for %s/%s: %s", r->bucket, key, err.msg);
    return code_of(rc);
  }
  return vs__record_version(r, key, info->version_id, "deleted",
                            event_fields(r, key, info));
}

/* Version vid of key removed for good, when the sink allows it. A version
 * that does not exist is no error (S3 answers 204): info's version_id is
 * then "". */
static vs__s3code purge(vs__req *r, const char *key, const char *vid,
                        vs_object_info *info, char *msg, size_t cap)
{
  vs_server *s = r->srv;
  vs_err err = {0};
  int rc;
  memset(info, 0, sizeof(*info));
  if(!s->cfg.allow_purge) {
    snprintf(msg, cap, "removing a version for good (versionId) takes "
             "vsink serve --allow-purge; a delete without versionId adds "
             "a delete marker and keeps every version");
    return VS__S3_ACCESS_DENIED;
  }
  rc = vs_store_purge(s->cfg.store, r->bucket, key, vid,
                      (int64_t)s->cfg.retention_days * DAY_MS,
                      vs_now_ms(NULL, NULL), info, &err);
  if(rc == VS_ERR_NOTFOUND) {
    memset(info, 0, sizeof(*info));
    return VS__S3_NONE;
  }
  if(rc == VS_ERR_EXISTS) {
    snprintf(msg, cap, "%s (vsink serve --retention %u)", err.msg,
             s->cfg.retention_days);
    return VS__S3_ACCESS_DENIED;
  }
  if(rc) {
    vs_log("error", "purge %s/%s version %s: %s", r->bucket, key, vid,
           err.msg);
    return code_of(rc);
  }
  /* The files are gone: an event that cannot be written is logged, not
   * undone (there is nothing to put back). */
  if(record(r, "purged", key, info, &err))
    vs_log("error", "purged %s/%s version %s but the manifest append "
           "failed: %s", r->bucket, key, vid, err.msg);
  else
    vs_log("info", "purged %s/%s version %s", r->bucket, key, vid);
  return VS__S3_NONE;
}

/* ---- DeleteObject ---------------------------------------------------------- */

static void object_work(vs__req *r)
{
  char *vid = vs__query_get(r->raw_uri, "versionId");
  r->done_msg[0] = 0;
  r->done_code = vid ? purge(r, r->key, vid, r->done_info, r->done_msg,
                             sizeof(r->done_msg))
                     : add_marker(r, r->key, r->done_info);
  free(vid);
}

static enum MHD_Result object_answer(vs__req *r)
{
  struct MHD_Response *resp;
  r->phase = 2;
  if(r->done_code)
    return vs__reject(r, r->done_code, r->done_msg[0] ? r->done_msg : NULL);
  if(!(resp = MHD_create_response_from_buffer(0, NULL,
                                              MHD_RESPMEM_PERSISTENT)))
    return MHD_NO;
  if(r->done_info->delete_marker)
    MHD_add_response_header(resp, "x-amz-delete-marker", "true");
  if(r->done_info->version_id[0])
    MHD_add_response_header(resp, "x-amz-version-id",
                            r->done_info->version_id);
  return vs__send(r, MHD_HTTP_NO_CONTENT, resp);
}

enum MHD_Result vs__delete_object(vs__req *r, const char *data, size_t *size)
{
  (void)data;
  if(r->phase == 0) {
    char *vid = vs__query_get(r->raw_uri, "versionId");
    int refuse = vid && !r->srv->cfg.allow_purge;
    free(vid);
    if(refuse) /* answered at once: nothing to wait for */
      return vs__reject(r, VS__S3_ACCESS_DENIED, "removing a version for "
                        "good (versionId) takes vsink serve --allow-purge; "
                        "a delete without versionId adds a delete marker "
                        "and keeps every version");
    r->phase = 1;
    return MHD_YES;
  }
  if(r->phase == 1 && *size) { /* a DELETE's body means nothing */
    r->bytes_in += *size;
    *size = 0;
    return MHD_YES;
  }
  if(r->phase == 1) {
    r->phase = 3;
    if(vs__commit_submit(r, object_work))
      return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
    return MHD_YES;
  }
  if(r->phase == 3)
    return object_answer(r);
  *size = 0;
  return MHD_YES;
}

/* ---- DeleteObjects --------------------------------------------------------- */

static void result_entry(vs_buf *b, const vs__del_item *it, vs__s3code code,
                         const char *msg, const vs_object_info *info,
                         int quiet)
{
  if(code) {
    vs_buf_adds(b, "<Error>");
    vs_xml_elem(b, "Key", it->key, 0);
    if(it->vid)
      vs_xml_elem(b, "VersionId", it->vid, 0);
    vs_xml_elem(b, "Code", vs__s3_name(code), 0);
    vs_xml_elem(b, "Message", msg, 0);
    vs_buf_adds(b, "</Error>");
    return;
  }
  if(quiet)
    return;
  vs_buf_adds(b, "<Deleted>");
  vs_xml_elem(b, "Key", it->key, 0);
  if(it->vid)
    vs_xml_elem(b, "VersionId", it->vid, 0);
  if(info->delete_marker) {
    vs_buf_adds(b, "<DeleteMarker>true</DeleteMarker>");
    vs_xml_elem(b, "DeleteMarkerVersionId", info->version_id, 0);
  }
  vs_buf_adds(b, "</Deleted>");
}

static void objects_one(vs__req *r, vs_buf *b, const vs__del_item *it,
                        int quiet, vs_object_info *info)
{
  char msg[300] = "";
  vs_err err = {0};
  vs__s3code code;
  int rc = vs_store_check_key(it->key, it->key_len, &err);
  if(rc) {
    code = rc == VS_ERR_TOOLARGE ? VS__S3_KEY_TOO_LONG
                                 : VS__S3_INVALID_ARGUMENT;
    snprintf(msg, sizeof(msg), "%s", err.msg);
  }
  else if(it->vid)
    code = purge(r, it->key, it->vid, info, msg, sizeof(msg));
  else
    code = add_marker(r, it->key, info);
  if(code && !msg[0])
    snprintf(msg, sizeof(msg), "%s", code == VS__S3_STORAGE
             ? "not enough space to record the delete"
             : "the delete could not be made");
  result_entry(b, it, code, msg, info, quiet);
}

/* On a commit thread: parse, then each delete in the body's order. The
 * answer replaces the body in r->body. */
static void objects_work(vs__req *r)
{
  vs__del_req d;
  vs_buf b = VS_BUF_INIT;
  vs_object_info *info = malloc(sizeof(*info));
  size_t i;
  int rc = info ? vs__delete_parse(r->body ? r->body : "", r->body_len,
                                   KEYS_MAX, &d, r->done_msg,
                                   sizeof(r->done_msg))
                : -3;
  if(rc) {
    free(info);
    r->done_code = rc == -1 ? VS__S3_MALFORMED_XML
                   : rc == -2 ? VS__S3_NOT_IMPLEMENTED : VS__S3_INTERNAL;
    return;
  }
  vs_buf_adds(&b, VS_XML_HEAD "<DeleteResult xmlns=\"" VS_XML_NS "\">");
  for(i = 0; i < d.n; i++)
    objects_one(r, &b, &d.items[i], d.quiet, info);
  vs_buf_adds(&b, "</DeleteResult>\n");
  vs__delete_req_free(&d);
  free(info);
  free(r->body);
  r->body_len = b.len;
  r->body = vs_buf_steal(&b);
  r->done_code = r->body ? VS__S3_NONE : VS__S3_INTERNAL;
}

static enum MHD_Result objects_first(vs__req *r)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  char msg[200] = "";
  vs__s3code code;
  if(cl && strtoull(cl, NULL, 10) > BODY_MAX)
    return vs__reject(r, VS__S3_TOO_LARGE, "a DeleteObjects body is at "
                      "most 2 MiB");
  /* S3 requires Content-MD5 or an x-amz-checksum-* for DeleteObjects */
  if((code = vs__body_digests(r, VS__BODY_REQUIRED, msg, sizeof(msg))))
    return vs__reject(r, code, msg);
  r->phase = 1;
  return MHD_YES;
}

static enum MHD_Result objects_answer(vs__req *r)
{
  vs_buf b = VS_BUF_INIT;
  r->phase = 2;
  if(r->done_code)
    return vs__reject(r, r->done_code, r->done_msg[0] ? r->done_msg : NULL);
  b.data = r->body;
  b.len = b.cap = r->body_len;
  r->body = NULL;
  r->body_len = 0;
  return vs__send_buf(r, MHD_HTTP_OK, &b, "application/xml");
}

enum MHD_Result vs__delete_objects(vs__req *r, const char *data,
                                   size_t *size)
{
  char msg[200] = "";
  vs__s3code code;
  if(r->phase == 0)
    return objects_first(r);
  if(r->phase == 3)
    return objects_answer(r);
  if(r->phase == 2) {
    *size = 0;
    return MHD_YES;
  }
  if(*size) {
    size_t n = *size;
    *size = 0;
    return vs__body_piece(r, data, n, BODY_MAX,
                          "a DeleteObjects body is at most 2 MiB");
  }
  if((code = vs__body_matches(r, msg, sizeof(msg))))
    return vs__reject(r, code, msg[0] ? msg : NULL);
  r->done_msg[0] = 0;
  r->phase = 3;
  if(vs__commit_submit(r, objects_work))
    return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
  return MHD_YES;
}
