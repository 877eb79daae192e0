/* POST /v1: the API's one endpoint. Also GET /video/<videoUUID>.<ext> (the
 * videoURL of a result) and GET /healthz. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "fakeapi.h"
#include "util/buf.h"
#include "util/json.h"

#define MAX_BODY (64L * 1024 * 1024)

typedef struct req {
  vs_buf body;
  int too_big;
  int64_t t0;
} req;

typedef struct answer {
  int status;
  cJSON *data, *errors;
  int answered;           /* items that are not request errors */
  int tasks;
  const char *retry_after;
} answer;

static enum MHD_Result send_text(struct MHD_Connection *c, int status,
                                 const char *type, const char *text,
                                 const char *retry_after)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(
    strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result rc;
  if(!r)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  if(retry_after)
    MHD_add_response_header(r, "Retry-After", retry_after);
  rc = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return rc;
}

static void log_request(const char *method, const char *url, int status,
                        const answer *a, int64_t t0)
{
  cJSON *f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "method", method);
  cJSON_AddStringToObject(f, "path", url);
  cJSON_AddNumberToObject(f, "status", status);
  if(a) {
    cJSON_AddNumberToObject(f, "tasks", a->tasks);
    cJSON_AddNumberToObject(f, "data", cJSON_GetArraySize(a->data));
    cJSON_AddNumberToObject(f, "errors", cJSON_GetArraySize(a->errors));
  }
  cJSON_AddNumberToObject(f, "ms", (double)(fa_mono_ms() - t0));
  fa_log_event("request", f);
  cJSON_Delete(f);
}

/* One error for the whole request (auth, faults, malformed body). */
static void request_error(answer *a, int status, const char *code,
                          const char *param, const char *task_type,
                          const char *msg)
{
  a->status = status;
  fa_error_add(a->errors, code, param, NULL, task_type, NULL, NULL, "%s",
               msg);
}

static int authorized(fa_server *srv, struct MHD_Connection *c)
{
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                              "Authorization");
  size_t klen = strlen(srv->opts->api_key);
  return h && !strncmp(h, "Bearer ", 7) && strlen(h + 7) == klen &&
         !CRYPTO_memcmp(h + 7, srv->opts->api_key, klen);
}

static void lower36(const char *s, char out[37])
{
  size_t i;
  for(i = 0; i < 36 && s[i]; i++)
    out[i] = (char)tolower((unsigned char)s[i]);
  out[i] = 0;
}

static void get_response(fa_server *srv, const cJSON *task, answer *a)
{
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(task, "taskUUID");
  const fa_task *t = NULL;
  char key[37];
  if(!cJSON_IsString(u) || strlen(u->valuestring) != 36) {
    fa_error_add(a->errors, "invalidTaskUUID", "taskUUID", "string",
                 "getResponse", cJSON_IsString(u) ? u->valuestring : NULL,
                 NULL, "Invalid value for taskUUID parameter. It must be "
                 "the UUID of a submitted task.");
    return;
  }
  lower36(u->valuestring, key);
  pthread_mutex_lock(&srv->mu);
  t = fa_task_find(srv, key);
  if(t) {
    fa_task_report(srv, t, a->data, a->errors);
    a->answered++;
  }
  pthread_mutex_unlock(&srv->mu);
  if(!t)
    fa_error_add(a->errors, "unknownTaskUUID", "taskUUID", "string",
                 "getResponse", u->valuestring, NULL, "No task with "
                 "taskUUID %s was submitted with this API key.",
                 u->valuestring);
}

static void conflict(answer *a, const char *uuid)
{
  fa_error_add(a->errors, "conflictTaskUUID", "taskUUID", "string",
               "videoInference", uuid, NULL, "A task with taskUUID %s "
               "already exists.", uuid);
}

static void video_inference(fa_server *srv, const cJSON *task, answer *a)
{
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(task, "taskUUID");
  fa_spec spec;
  int known = 0, rc = 0;
  char key[37];
  if(cJSON_IsString(u) && strlen(u->valuestring) == 36) {
    lower36(u->valuestring, key);
    pthread_mutex_lock(&srv->mu);
    known = fa_task_find(srv, key) != NULL;
    pthread_mutex_unlock(&srv->mu);
  }
  if(known) {
    conflict(a, u->valuestring);
    return;
  }
  if(fa_validate(task, a->errors, &spec))
    return;
  pthread_mutex_lock(&srv->mu);
  known = fa_task_find(srv, spec.uuid) != NULL; /* a racing request */
  if(!known)
    rc = fa_task_accept(srv, &spec);
  pthread_mutex_unlock(&srv->mu);
  if(known)
    conflict(a, u->valuestring);
  else if(rc)
    fa_error_add(a->errors, "internalServerError", NULL, NULL,
                 "videoInference", u->valuestring, NULL, "Out of memory.");
  else {
    cJSON *ack = cJSON_CreateObject();
    cJSON_AddStringToObject(ack, "taskType", "videoInference");
    cJSON_AddStringToObject(ack, "taskUUID", u->valuestring);
    cJSON_AddItemToArray(a->data, ack);
    a->answered++;
  }
}

static const char *task_type(const cJSON *task)
{
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(task, "taskType");
  return cJSON_IsString(t) ? t->valuestring : NULL;
}

static int count_inference(const cJSON *tasks)
{
  const cJSON *t;
  int n = 0;
  cJSON_ArrayForEach(t, tasks)
    n += task_type(t) && !strcmp(task_type(t), "videoInference");
  return n;
}

static void one_task(fa_server *srv, const cJSON *task, answer *a)
{
  const char *type = task_type(task);
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(task, "taskUUID");
  const char *uuid = cJSON_IsString(u) ? u->valuestring : NULL;
  if(!cJSON_IsObject(task))
    fa_error_add(a->errors, "invalidTask", NULL, "object", "unknown", NULL,
                 NULL, "Each task must be a JSON object.");
  else if(type && !strcmp(type, "getResponse"))
    get_response(srv, task, a);
  else if(type && !strcmp(type, "videoInference"))
    video_inference(srv, task, a);
  else {
    cJSON *allowed = cJSON_CreateArray();
    cJSON_AddItemToArray(allowed, cJSON_CreateString("videoInference"));
    cJSON_AddItemToArray(allowed, cJSON_CreateString("getResponse"));
    fa_error_add(a->errors, type ? "invalidTaskType" : "missingTaskType",
                 "taskType", "string", type ? type : "unknown", uuid,
                 allowed, type ? "Unsupported taskType %s." :
                 "Missing required parameter taskType.", type ? type : "");
  }
}

/* Every videoInference task refused for lack of balance (--fault-402). */
static void no_balance(const cJSON *tasks, answer *a)
{
  const cJSON *t;
  a->status = 402;
  cJSON_ArrayForEach(t, tasks) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(t, "taskUUID");
    if(task_type(t) && !strcmp(task_type(t), "videoInference"))
      fa_error_add(a->errors, "insufficientCredits", NULL, NULL,
                   "videoInference", cJSON_IsString(u) ? u->valuestring : NULL,
                   NULL, "Insufficient credits to run this task (fault "
                   "injected by --fault-402).");
  }
}

static void api_call(fa_server *srv, struct MHD_Connection *c, req *r,
                     answer *a)
{
  fa_opts *o = srv->opts;
  cJSON *tasks;
  const cJSON *t;
  int lost_ack;
  if(!authorized(srv, c)) {
    request_error(a, 401, "invalidApiKey", "apiKey", "authentication",
                  "Invalid API key.");
    return;
  }
  if(fa_fault_take(&o->fault_429)) {
    a->retry_after = "1";
    request_error(a, 429, "rateLimitExceeded", NULL, "unknown",
                  "Too many requests (fault injected by --fault-429).");
    return;
  }
  if(fa_fault_take(&o->fault_500)) {
    request_error(a, 500, "internalServerError", NULL, "unknown",
                  "Internal server error (fault injected by --fault-500).");
    return;
  }
  if(r->too_big) {
    request_error(a, 413, "payloadTooLarge", NULL, "unknown",
                  "The request body is over 64 MiB.");
    return;
  }
  tasks = vs_json_parse(r->body.data ? r->body.data : "", r->body.len);
  if(!tasks || !cJSON_IsArray(tasks) || !cJSON_GetArraySize(tasks)) {
    request_error(a, 400, tasks ? "invalidRequest" : "invalidJSON", NULL,
                  "unknown", tasks ? "The body must be a non-empty JSON "
                  "array of tasks." : "The body is not valid JSON.");
    cJSON_Delete(tasks);
    return;
  }
  a->tasks = cJSON_GetArraySize(tasks);
  if(count_inference(tasks) && fa_fault_take(&o->fault_402)) {
    no_balance(tasks, a);
    cJSON_Delete(tasks);
    return;
  }
  lost_ack = count_inference(tasks) && fa_fault_take(&o->fault_lost_ack);
  cJSON_ArrayForEach(t, tasks)
    one_task(srv, t, a);
  cJSON_Delete(tasks);
  a->status = a->answered ? 200 : 400;
  if(lost_ack) {
    /* the tasks were accepted; the client never learns it */
    cJSON_Delete(a->data);
    cJSON_Delete(a->errors);
    a->data = cJSON_CreateArray();
    a->errors = cJSON_CreateArray();
    request_error(a, 500, "internalServerError", NULL, "unknown",
                  "Internal server error after the tasks were accepted "
                  "(fault injected by --fault-lost-ack).");
  }
}

static enum MHD_Result answer_api(fa_server *srv, struct MHD_Connection *c,
                                  const char *url, req *r)
{
  answer a = {0, cJSON_CreateArray(), cJSON_CreateArray(), 0, 0, NULL};
  cJSON *body = cJSON_CreateObject();
  char *text;
  enum MHD_Result rc;
  api_call(srv, c, r, &a);
  if(cJSON_GetArraySize(a.data))
    cJSON_AddItemReferenceToObject(body, "data", a.data);
  if(cJSON_GetArraySize(a.errors))
    cJSON_AddItemReferenceToObject(body, "errors", a.errors);
  text = cJSON_PrintUnformatted(body);
  rc = send_text(c, a.status, "application/json", text ? text : "{}",
                 a.retry_after);
  log_request("POST", url, a.status, &a, r->t0);
  free(text);
  cJSON_Delete(body);
  cJSON_Delete(a.data);
  cJSON_Delete(a.errors);
  return rc;
}

/* ---- GET /video/<videoUUID>.<ext> ------------------------------------- */

static ssize_t video_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
  const fa_content *ct = cls;
  if(pos >= ct->size)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if(max > ct->size - pos)
    max = (size_t)(ct->size - pos);
  fa_content_fill(ct, pos, (uint8_t *)buf, max);
  return (ssize_t)max;
}

/* The result with this videoUUID, by a scan: downloads are rare. */
static int find_video(fa_server *srv, const char *vid, fa_content *ct)
{
  size_t b;
  int i, found = 0;
  pthread_mutex_lock(&srv->mu);
  for(b = 0; b < FA_BUCKETS && !found; b++) {
    const fa_task *t;
    for(t = srv->buckets[b]; t && !found; t = t->next)
      for(i = 0; i < t->n && !found; i++)
        if(t->res[i].state == FA_SUCCESS &&
           !strncmp(t->res[i].video_uuid, vid, 36)) {
          fa_content_init(ct, t->uuid, i, srv->opts->size, t->format);
          found = 1;
        }
  }
  pthread_mutex_unlock(&srv->mu);
  return found;
}

static enum MHD_Result answer_video(fa_server *srv, struct MHD_Connection *c,
                                    const char *url)
{
  fa_content *ct = malloc(sizeof(*ct));
  struct MHD_Response *r;
  enum MHD_Result rc;
  if(!ct)
    return MHD_NO;
  if(strlen(url) < 7 + 36 || !find_video(srv, url + 7, ct)) {
    free(ct);
    return send_text(c, 404, "text/plain", "no such video\n", NULL);
  }
  r = MHD_create_response_from_callback(ct->size, 32768, video_cb, ct, free);
  if(!r) {
    free(ct);
    return MHD_NO;
  }
  rc = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return rc;
}

/* ---- the access handler ----------------------------------------------- */

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *data,
                               size_t *data_size, void **req_cls)
{
  fa_server *srv = cls;
  req *r = *req_cls;
  (void)version;
  if(!r) {
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 "Content-Length");
    r = calloc(1, sizeof(*r));
    if(!r)
      return MHD_NO;
    r->t0 = fa_mono_ms();
    *req_cls = r;
    if(cl && strtoll(cl, NULL, 10) > MAX_BODY)
      r->too_big = 1;
    return MHD_YES;
  }
  if(*data_size) {
    if(!r->too_big && r->body.len + *data_size <= MAX_BODY)
      vs_buf_add(&r->body, data, *data_size);
    else
      r->too_big = 1;
    *data_size = 0;
    return MHD_YES;
  }
  if(!strcmp(url, "/v1") || !strcmp(url, "/v1/")) {
    if(strcmp(method, "POST")) {
      log_request(method, url, 405, NULL, r->t0);
      return send_text(c, 405, "text/plain", "POST only\n", NULL);
    }
    return answer_api(srv, c, url, r);
  }
  if(!strcmp(method, "GET") && !strncmp(url, "/video/", 7))
    return answer_video(srv, c, url);
  if(!strcmp(method, "GET") && !strcmp(url, "/healthz"))
    return send_text(c, 200, "text/plain", "ok\n", NULL);
  log_request(method, url, 404, NULL, r->t0);
  return send_text(c, 404, "text/plain", "not found\n", NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
  req *r = *req_cls;
  (void)cls, (void)c, (void)toe;
  if(r) {
    vs_buf_free(&r->body);
    free(r);
    *req_cls = NULL;
  }
}

struct MHD_Daemon *fa_http_start(fa_server *srv, int *port, vs_err *err)
{
  struct sockaddr_in sa;
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)*port);
  if(inet_pton(AF_INET, srv->opts->host, &sa.sin_addr) != 1) {
    vs_fail(err, VS_ERR_INVALID, "--listen: %s is not an IPv4 address",
            srv->opts->host);
    return NULL;
  }
  d = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
    0, NULL, NULL, handler, srv,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
    MHD_OPTION_THREAD_POOL_SIZE, 4u,
    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
    MHD_OPTION_CONNECTION_LIMIT, 512u,
    MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
    MHD_OPTION_END);
  if(!d) {
    vs_fail(err, VS_ERR_IO, "cannot listen on %s:%d", srv->opts->host,
            *port);
    return NULL;
  }
  info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  *port = info ? info->port : *port;
  return d;
}
