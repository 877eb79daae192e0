/* POST /hooks/<taskUUID>[/s3/<bucket>/<key>]: the generation API's result
 * callback. The URL is presigned by `vsink submit` (POST, so it cannot be
 * replayed as anything else, and the taskUUID in its path is signed), the
 * body is {"data":[item]} or {"errors":[item]}. Each item becomes a
 * `result` or `failed` event, durable before the 200. The API retries and
 * may deliver twice: an item already recorded is answered 200 and not
 * recorded again. For a bucket target the object is then HEADed in the
 * bucket and a `stored` event written from what the bucket says. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "server/internal.h"
#include "util/dec.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/uuid.h"
#include "vsink/s3.h"
#include "vsink/task.h"

#define HOOK_MAX_BODY (1024 * 1024)
/* A chunked body has no length to refuse up front, and libmicrohttpd 0.9.75
 * cannot queue an answer while body data is arriving: past the limit this
 * much more is read and dropped, so that a body just over it still gets its
 * precise 400, and then the connection is closed. */
#define HOOK_DRAIN (64 * 1024)

typedef struct hook_target {
  char task_uuid[37];
  char *bucket; /* bucket target, or NULL */
  char *key;
} hook_target;

static enum MHD_Result refuse(vs__req *r, vs__s3code code, const char *msg)
{
  atomic_fetch_add(&r->srv->m.hooks_rejected, 1);
  r->rejected = 1;
  r->phase = 2;
  return vs__s3_error(r, code, msg);
}

/* "/hooks/<uuid>" or "/hooks/<uuid>/s3/<bucket>/<key...>" */
static int parse_target(const char *raw_uri, hook_target *t)
{
  const char *q = strchr(raw_uri, '?');
  size_t n, plen = q ? (size_t)(q - raw_uri) : strlen(raw_uri);
  char *path = vs_sigv4_uri_decode(raw_uri, plen, &n), *p, *slash;
  int rc = -1;
  memset(t, 0, sizeof(*t));
  if(!path || n != strlen(path) || strncmp(path, "/hooks/", 7))
    goto out;
  p = path + 7;
  if(strlen(p) < 36 || !vs_uuid_is_v4(p, 36) || (p[36] && p[36] != '/'))
    goto out;
  for(int i = 0; i < 36; i++)
    t->task_uuid[i] = (char)tolower((unsigned char)p[i]);
  p += 36;
  if(!*p) {
    rc = 0;
    goto out;
  }
  if(strncmp(p, "/s3/", 4) || !(slash = strchr(p + 4, '/')) || !slash[1])
    goto out;
  t->bucket = strndup(p + 4, (size_t)(slash - p - 4));
  t->key = strdup(slash + 1);
  rc = t->bucket && t->key ? 0 : -1;
out:
  free(path);
  return rc;
}

static void free_target(hook_target *t)
{
  free(t->bucket);
  free(t->key);
}

/* ---- de-duplication: a marker file per recorded item ---------------------
 * The marker's name is the SHA-256 of the exact values an event is made of
 * (result: taskUUID, videoUUID; failed: taskUUID, code, message,
 * parameter), each length-prefixed, so two different items never share one.
 * Checked and written under hooks_lock. The event is appended before the
 * marker, so a crash between the two can only cause a duplicate line on
 * redelivery (the report folds those), never a lost result.
 *
 * Markers of the earlier scheme (hooks/<task>/<videoUUID with '.' and '/'
 * made '_'>, or error-<code>) are honoured only for a videoUUID that is a
 * UUID (what the API sends), the one case where that name was exact. Any
 * other old marker may stand for a different item: dropping a fresh item
 * would lose it, while recording an old one again adds a line the report
 * folds (one row per videoUUID; a task's first failed event). */
#define MARKERS "hook-seen"

typedef struct item_key {
  char hex[65];
  const char *legacy; /* an exact marker name of the earlier scheme */
} item_key;

static int key_add(EVP_MD_CTX *c, const char *s)
{
  char len[32];
  int n;
  if(!s)
    return EVP_DigestUpdate(c, "-", 1);
  n = snprintf(len, sizeof(len), "+%zu:", strlen(s));
  return EVP_DigestUpdate(c, len, (size_t)n) &&
         EVP_DigestUpdate(c, s, strlen(s));
}

static int make_key(const char *const *fields, size_t n, item_key *k,
                    vs_err *err)
{
  unsigned char md[32];
  unsigned len;
  size_t i;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  for(i = 0; ok && i < n; i++)
    ok = key_add(c, fields[i]);
  ok = ok && EVP_DigestFinal_ex(c, md, &len);
  EVP_MD_CTX_free(c);
  if(!ok)
    return vs_fail(err, VS_ERR_NOMEM, "hook: cannot hash an item's key");
  vs_hex(md, 32, k->hex);
  k->legacy = NULL;
  return 0;
}

static int result_key(const char *task, const char *video, item_key *k,
                      vs_err *err)
{
  const char *f[] = {"result", task, video};
  int rc = make_key(f, 3, k, err);
  if(!rc && strlen(video) == 36 && vs_uuid_is_v4(video, 36))
    k->legacy = video;
  return rc;
}

static int failed_key(const char *task, const vs_task_api_error *e,
                      item_key *k, vs_err *err)
{
  const char *f[] = {"failed", task, e->code, e->message, e->parameter};
  return make_key(f, 5, k, err);
}

static int marker_path(vs_server *s, const char *dir, const char *task,
                       const char *name, char *out, size_t cap)
{
  return snprintf(out, cap, "%s/%s/%s/%s", s->cfg.state_dir, dir, task,
                  name) >= (int)cap ? -1 : 0;
}

static int seen(vs_server *s, const char *task, const item_key *k)
{
  char p[1024];
  struct stat st;
  if(!s->cfg.state_dir)
    return 0;
  if(!marker_path(s, MARKERS, task, k->hex, p, sizeof(p)) &&
     stat(p, &st) == 0)
    return 1;
  return k->legacy && !marker_path(s, "hooks", task, k->legacy, p, sizeof(p))
         && stat(p, &st) == 0;
}

static void remember(vs_server *s, const char *task, const item_key *k)
{
  char p[1024], dir[1024];
  int fd;
  if(!s->cfg.state_dir || marker_path(s, MARKERS, task, k->hex, p, sizeof(p)))
    return;
  vs_dirname(p, dir, sizeof(dir));
  if(vs_mkdirs(dir, 0755, NULL))
    return;
  fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if(fd >= 0)
    close(fd);
}

/* ---- events --------------------------------------------------------------- */
static int append(vs__req *r, const char *event, cJSON *fields, vs_err *err)
{
  int rc = fields ? vs_manifest_append(r->srv->cfg.manifest, event, fields,
                                       err)
                  : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  cJSON_Delete(fields);
  return rc;
}

/* Bucket target: what the bucket holds now becomes the `stored` event. */
static void head_object(vs__req *r, const hook_target *t)
{
  vs_object_info info;
  vs_err err = {0};
  cJSON *f;
  if(!r->srv->cfg.s3) {
    vs_log("warn", "hook for %s names bucket %s but the sink has no "
           "--s3-endpoint: no stored event", t->task_uuid, t->bucket);
    return;
  }
  if(vs_s3_head(r->srv->cfg.s3, t->bucket, t->key, &info, &err)) {
    vs_log("warn", "task %s: object s3://%s/%s is %s: %s", t->task_uuid,
           t->bucket, t->key, err.code == VS_ERR_NOTFOUND ? "missing"
                                                          : "unreadable",
           err.msg);
    return;
  }
  f = vs_store_event_fields(t->bucket, t->key, &info, t->task_uuid, "head");
  if(append(r, "stored", f, &err))
    vs_log("error", "stored event for s3://%s/%s: %s", t->bucket, t->key,
           err.msg);
}

/* Every item must belong to the task the URL was signed for. */
static const char *check_items(const vs_task_response *res,
                               const hook_target *t)
{
  size_t i;
  if(!res->n_items && !res->n_errors)
    return "the body holds neither data nor errors";
  for(i = 0; i < res->n_items; i++) {
    const vs_task_item *it = &res->items[i];
    if(strcasecmp(it->task_uuid, t->task_uuid))
      return "a data item's taskUUID is not the one this hook URL is for";
    if(it->status != VS_TASK_STATUS_SUCCESS &&
       it->status != VS_TASK_STATUS_NONE)
      return "a data item is not a completed result";
    if(!it->video_uuid)
      return "a data item has no videoUUID";
  }
  for(i = 0; i < res->n_errors; i++)
    if(res->errors[i].task_uuid &&
       strcasecmp(res->errors[i].task_uuid, t->task_uuid))
      return "an error item's taskUUID is not the one this hook URL is for";
  return NULL;
}

static int record(vs__req *r, const vs_task_response *res,
                  const hook_target *t, int *fresh, vs_err *err)
{
  vs_server *s = r->srv;
  item_key k;
  size_t i;
  int rc = 0;
  *fresh = 0;
  pthread_mutex_lock(&s->hooks_lock);
  for(i = 0; !rc && i < res->n_items; i++) {
    const vs_task_item *it = &res->items[i];
    if((rc = result_key(t->task_uuid, it->video_uuid, &k, err)) ||
       seen(s, t->task_uuid, &k))
      continue;
    rc = append(r, "result", vs_task_result_fields(it, "webhook"), err);
    if(!rc) {
      remember(s, t->task_uuid, &k);
      ++*fresh;
      if(t->bucket)
        head_object(r, t);
    }
  }
  for(i = 0; !rc && i < res->n_errors; i++) {
    const vs_task_api_error *e = &res->errors[i];
    if((rc = failed_key(t->task_uuid, e, &k, err)) ||
       seen(s, t->task_uuid, &k))
      continue;
    rc = append(r, "failed",
                vs_task_failed_fields(e->task_uuid ? e->task_uuid
                                                   : t->task_uuid,
                                      e->code, e->message, e->parameter,
                                      "webhook"), err);
    if(!rc) {
      remember(s, t->task_uuid, &k);
      ++*fresh;
    }
  }
  pthread_mutex_unlock(&s->hooks_lock);
  return rc;
}

static enum MHD_Result ok(vs__req *r)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if(!resp)
    return MHD_NO;
  r->phase = 2;
  return vs__send(r, MHD_HTTP_OK, resp);
}

/* On a commit thread, the connection suspended: recording waits on the
 * disk (the manifest's fdatasync) and, for a bucket target, on the bucket
 * (HEAD). The outcome waits in r for answer(). */
static void record_work(vs__req *r)
{
  hook_target t;
  vs_task_response res;
  vs_err err = {0};
  const char *why;
  int rc;
  if(parse_target(r->raw_uri, &t)) {
    r->done_code = VS__S3_INVALID_ARGUMENT;
    snprintf(r->done_msg, sizeof(r->done_msg), "hook path must be "
             "/hooks/<taskUUID>[/s3/<bucket>/<key>]");
    return;
  }
  if(vs_task_response_parse(r->body ? r->body : "", r->body_len, &res,
                            &err)) {
    free_target(&t);
    r->done_code = VS__S3_MALFORMED_JSON;
    snprintf(r->done_msg, sizeof(r->done_msg), "%s", err.msg);
    return;
  }
  if((why = check_items(&res, &t))) {
    r->done_code = VS__S3_MALFORMED_JSON;
    snprintf(r->done_msg, sizeof(r->done_msg), "%s", why);
  }
  else if((rc = record(r, &res, &t, &r->hook_fresh, &err))) {
    vs_log("error", "hook: %s", err.msg);
    r->done_code = rc == VS_ERR_NOSPACE ? VS__S3_STORAGE : VS__S3_INTERNAL;
  }
  vs_task_response_free(&res);
  free_target(&t);
}

/* Resumed after record_work: the answer. */
static enum MHD_Result answer(vs__req *r)
{
  r->phase = 2;
  if(r->done_code == VS__S3_INVALID_ARGUMENT ||
     r->done_code == VS__S3_MALFORMED_JSON)
    return refuse(r, r->done_code, r->done_msg);
  if(r->done_code) {
    r->rejected = 1;
    return vs__s3_error(r, r->done_code, NULL);
  }
  atomic_fetch_add(r->hook_fresh ? &r->srv->m.hooks_ok
                                 : &r->srv->m.hooks_duplicate, 1);
  return ok(r);
}

static enum MHD_Result first(vs__req *r)
{
  const char *cl = vs__header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  hook_target t;
  if(strcmp(r->method, "POST"))
    return refuse(r, VS__S3_METHOD, "hooks take POST");
  if(vs__authenticate(r, r->payload_sha256)) {
    atomic_fetch_add(&r->srv->m.hooks_rejected, 1);
    return MHD_YES;
  }
  if(parse_target(r->raw_uri, &t))
    return refuse(r, VS__S3_INVALID_ARGUMENT, "hook path must be "
                  "/hooks/<taskUUID>[/s3/<bucket>/<key>]");
  free_target(&t);
  if(cl && strtoull(cl, NULL, 10) > HOOK_MAX_BODY)
    return refuse(r, VS__S3_TOO_LARGE, "hook bodies are at most 1 MiB");
  r->phase = 1;
  return MHD_YES;
}

/* One piece of the body: kept while within the limit, then drained. */
static enum MHD_Result body_piece(vs__req *r, const char *data, size_t n)
{
  char *p;
  r->bytes_in += n;
  if(r->bytes_in > HOOK_MAX_BODY) {
    free(r->body);
    r->body = NULL;
    r->body_len = HOOK_MAX_BODY + 1;
    if(r->bytes_in - HOOK_MAX_BODY <= HOOK_DRAIN)
      return MHD_YES;
    atomic_fetch_add(&r->srv->m.hooks_rejected, 1);
    r->rejected = 1;
    vs_log("warn", "hook request %s: chunked body over 1 MiB; connection "
           "closed after %llu bytes", r->id,
           (unsigned long long)r->bytes_in);
    return MHD_NO;
  }
  p = realloc(r->body, r->body_len + n + 1);
  if(!p)
    return MHD_NO;
  memcpy(p + r->body_len, data, n);
  r->body = p;
  r->body_len += n;
  r->body[r->body_len] = 0;
  return MHD_YES;
}

/* The body is held whole (at most 1 MiB), so it is hashed once here rather
 * than piece by piece: no digest state outlives a request that is cut off. */
static int body_matches(vs__req *r, char *msg, size_t cap)
{
  unsigned char md[32];
  unsigned len;
  char hex[65];
  if(!r->payload_sha256[0])
    return 1; /* presigned or UNSIGNED-PAYLOAD: nothing was signed */
  if(!EVP_Digest(r->body ? r->body : "", r->body_len, md, &len,
                 EVP_sha256(), NULL)) {
    snprintf(msg, cap, "the body could not be hashed");
    return 0;
  }
  vs_hex(md, 32, hex);
  snprintf(msg, cap, "x-amz-content-sha256 is %s but the body received "
           "hashes to %s", r->payload_sha256, hex);
  return !strcmp(hex, r->payload_sha256);
}

enum MHD_Result vs__hook(vs__req *r, const char *data, size_t *size)
{
  char msg[200];
  if(r->phase == 0)
    return first(r);
  if(r->phase == 3)
    return answer(r);
  if(r->phase == 2) {
    *size = 0;
    return MHD_YES;
  }
  if(*size) {
    size_t n = *size;
    *size = 0;
    return body_piece(r, data, n);
  }
  if(r->body_len > HOOK_MAX_BODY)
    return refuse(r, VS__S3_TOO_LARGE, "hook bodies are at most 1 MiB");
  if(!body_matches(r, msg, sizeof(msg)))
    return refuse(r, VS__S3_SHA256_MISMATCH, msg);
  r->phase = 3;
  if(vs__commit_submit(r, record_work))
    return refuse(r, VS__S3_UNAVAILABLE, NULL); /* stopping */
  return MHD_YES;
}
