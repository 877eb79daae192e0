/* Delivery: a fixed pool of workers takes results as they fall due, PUTs
 * the file to uploadEndpoint (streamed from a read callback), marks the
 * result done, then POSTs the webhook with retries. Shutdown abandons
 * transfers under way through the progress callback and wakes sleepers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "fakeapi.h"
#include "util/enc.h"

static void abs_time(int64_t mono_ms, struct timespec *ts)
{
  ts->tv_sec = mono_ms / 1000;
  ts->tv_nsec = (mono_ms % 1000) * 1000000;
}

int fa_sleep_ms(fa_server *srv, long ms)
{
  struct timespec ts;
  int stop;
  abs_time(fa_mono_ms() + ms, &ts);
  pthread_mutex_lock(&srv->mu);
  while(!(stop = atomic_load(&srv->stop)) &&
        pthread_cond_timedwait(&srv->stop_cv, &srv->mu, &ts) != ETIMEDOUT)
    ;
  pthread_mutex_unlock(&srv->mu);
  return stop;
}

/* The URL without its query: logs never carry a presigned signature. */
static void url_for_log(const char *url, char *out, size_t cap)
{
  size_t n = strcspn(url, "?");
  snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), url);
}

static int xfer_cb(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                   curl_off_t d)
{
  fa_server *srv = ud;
  (void)a, (void)b, (void)c, (void)d;
  return atomic_load(&srv->stop);
}

static size_t discard_cb(char *p, size_t sz, size_t n, void *ud)
{
  (void)p, (void)ud;
  return sz * n;
}

static CURL *easy_for(fa_server *srv, const char *url)
{
  CURL *e = curl_easy_init();
  if(!e)
    return NULL;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* the URL exactly as given */
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xfer_cb);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, srv);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "vsink-fakeapi/1");
  return e;
}

static int retryable(CURLcode cc, long status)
{
  return cc != CURLE_OK || status == 408 || status == 429 || status >= 500;
}

/* ---- upload ----------------------------------------------------------- */

typedef struct upload {
  fa_server *srv;
  fa_content c;
  uint64_t off, limit;
  EVP_MD_CTX *md;
  int cut;         /* we closed the connection on purpose */
} upload;

static size_t read_cb(char *buf, size_t sz, size_t nm, void *ud)
{
  upload *u = ud;
  size_t n = sz * nm;
  if(u->off >= u->limit) {
    if(u->limit == u->c.size)
      return 0;
    u->cut = 1; /* --truncate-upload: drop the connection halfway */
    return CURL_READFUNC_ABORT;
  }
  if(u->off > 0 && u->srv->opts->slow_upload_ms &&
     fa_sleep_ms(u->srv, u->srv->opts->slow_upload_ms))
    return CURL_READFUNC_ABORT;
  if(n > u->limit - u->off)
    n = (size_t)(u->limit - u->off);
  fa_content_fill(&u->c, u->off, (uint8_t *)buf, n);
  EVP_DigestUpdate(u->md, buf, n);
  u->off += n;
  return n;
}

static const char *mime_of(const char *format)
{
  return !strcmp(format, "WEBM") ? "Content-Type: video/webm"
         : !strcmp(format, "MOV") ? "Content-Type: video/quicktime"
                                  : "Content-Type: video/mp4";
}

static void log_upload(const fa_task *t, int i, int attempt, long status,
                       CURLcode cc, const upload *u, const char *sha,
                       int64_t ms)
{
  cJSON *f = cJSON_CreateObject();
  char url[512];
  url_for_log(t->upload, url, sizeof(url));
  cJSON_AddStringToObject(f, "taskUUID", t->uuid);
  cJSON_AddNumberToObject(f, "index", i);
  cJSON_AddStringToObject(f, "url", url);
  cJSON_AddNumberToObject(f, "attempt", attempt);
  cJSON_AddNumberToObject(f, "status", status);
  cJSON_AddNumberToObject(f, "size", (double)u->c.size);
  cJSON_AddNumberToObject(f, "sent", (double)u->off);
  if(sha)
    cJSON_AddStringToObject(f, "sha256", sha);
  if(u->cut)
    cJSON_AddStringToObject(f, "fault", "truncated");
  else if(cc != CURLE_OK)
    cJSON_AddStringToObject(f, "error", curl_easy_strerror(cc));
  cJSON_AddNumberToObject(f, "ms", (double)ms);
  fa_log_event("upload", f);
  cJSON_Delete(f);
}

/* One PUT. Returns the curl code; *status the HTTP status (0 if none). */
static CURLcode put_once(fa_server *srv, const fa_task *t, upload *u,
                         long *status)
{
  struct curl_slist *h = NULL;
  CURL *e = easy_for(srv, t->upload);
  CURLcode cc;
  *status = 0;
  if(!e)
    return CURLE_OUT_OF_MEMORY;
  h = curl_slist_append(h, mime_of(t->format));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->c.size);
  curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(e, CURLOPT_READDATA, u);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  cc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(e);
  curl_slist_free_all(h);
  return cc;
}

/* PUTs result i, retrying transport errors, 408, 429 and 5xx. Returns 0
 * when delivered (or deliberately dropped or cut), else -1 with why. */
static int do_upload(fa_server *srv, fa_task *t, int i, char sha[65],
                     char *why, size_t cap)
{
  const fa_opts *o = srv->opts;
  upload u = {srv};
  int attempt;
  long status = 0, backoff = 200;
  sha[0] = 0;
  if(!t->upload)
    return 0;
  fa_content_init(&u.c, t->uuid, i, o->size, t->format);
  if(o->drop_upload) {
    fa_content_sha256(&u.c, sha);
    log_upload(t, i, 0, 0, CURLE_OK, &u, sha, 0);
    return 0;
  }
  u.md = EVP_MD_CTX_new();
  for(attempt = 1; attempt <= o->upload_attempts; attempt++) {
    int64_t t0 = fa_mono_ms();
    uint8_t md[32];
    CURLcode cc;
    u.off = 0;
    u.cut = 0;
    u.limit = o->truncate_upload ? o->size / 2 : o->size;
    EVP_DigestInit_ex(u.md, EVP_sha256(), NULL);
    cc = put_once(srv, t, &u, &status);
    EVP_DigestFinal_ex(u.md, md, NULL);
    if(cc == CURLE_OK && status / 100 == 2)
      vs_hex(md, sizeof(md), sha);
    log_upload(t, i, attempt, status, cc, &u, sha[0] ? sha : NULL,
               fa_mono_ms() - t0);
    if(sha[0] || u.cut)
      break;
    snprintf(why, cap, "upload to uploadEndpoint failed: %s",
             cc != CURLE_OK ? curl_easy_strerror(cc) : "HTTP status");
    if(cc == CURLE_OK)
      snprintf(why, cap, "upload to uploadEndpoint failed: HTTP %ld", status);
    if(!retryable(cc, status) || atomic_load(&srv->stop) ||
       attempt == o->upload_attempts || fa_sleep_ms(srv, backoff))
      break;
    backoff *= 2;
  }
  EVP_MD_CTX_free(u.md);
  return sha[0] || u.cut ? 0 : -1;
}

/* ---- webhook ---------------------------------------------------------- */

static int post_once(fa_server *srv, const char *url, const char *body,
                     long *status, CURLcode *cc)
{
  struct curl_slist *h = NULL;
  CURL *e = easy_for(srv, url);
  *status = 0;
  if(!e)
    return -1;
  h = curl_slist_append(h, "Content-Type: application/json");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
  *cc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(e);
  curl_slist_free_all(h);
  return *cc == CURLE_OK && *status / 100 == 2 ? 0 : -1;
}

static int send_hook(fa_server *srv, const fa_task *t, int i, cJSON *body,
                     int copy)
{
  const fa_opts *o = srv->opts;
  char *text = cJSON_PrintUnformatted(body), url[512];
  long backoff = o->webhook_backoff_ms, status;
  int attempt, rc = -1;
  url_for_log(t->webhook, url, sizeof(url));
  for(attempt = 1; text && attempt <= o->webhook_attempts; attempt++) {
    CURLcode cc = CURLE_OK;
    cJSON *f = cJSON_CreateObject();
    rc = post_once(srv, t->webhook, text, &status, &cc);
    cJSON_AddStringToObject(f, "taskUUID", t->uuid);
    cJSON_AddNumberToObject(f, "index", i);
    cJSON_AddStringToObject(f, "url", url);
    cJSON_AddNumberToObject(f, "attempt", attempt);
    cJSON_AddNumberToObject(f, "copy", copy);
    cJSON_AddNumberToObject(f, "status", status);
    if(cc != CURLE_OK)
      cJSON_AddStringToObject(f, "error", curl_easy_strerror(cc));
    fa_log_event("webhook", f);
    cJSON_Delete(f);
    if(!rc || atomic_load(&srv->stop) || attempt == o->webhook_attempts ||
       fa_sleep_ms(srv, backoff))
      break;
    backoff *= 2;
  }
  free(text);
  return rc;
}

static void webhook(fa_server *srv, const fa_task *t, int i, cJSON *item,
                    const char *key)
{
  cJSON *body = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(body, key);
  cJSON_AddItemToArray(arr, item);
  if(t->webhook && !srv->opts->drop_webhook &&
     !send_hook(srv, t, i, body, 1) && srv->opts->duplicate_webhook)
    send_hook(srv, t, i, body, 2);
  else if(t->webhook && srv->opts->drop_webhook) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "taskUUID", t->uuid);
    cJSON_AddNumberToObject(f, "index", i);
    cJSON_AddStringToObject(f, "fault", "dropped");
    fa_log_event("webhook", f);
    cJSON_Delete(f);
  }
  cJSON_Delete(body);
}

/* ---- the pool --------------------------------------------------------- */

/* Ends the task in an error (once); 1 if this call did it. */
static int fail_task(fa_server *srv, fa_task *t, const char *code,
                     const char *msg)
{
  int first;
  pthread_mutex_lock(&srv->mu);
  first = !t->err_code[0];
  if(first) {
    snprintf(t->err_code, sizeof(t->err_code), "%s", code);
    snprintf(t->err_msg, sizeof(t->err_msg), "%s", msg);
  }
  pthread_mutex_unlock(&srv->mu);
  return first;
}

static void run_job(fa_server *srv, fa_job *j)
{
  fa_task *t = j->task;
  int i = j->index, failed;
  char sha[65], why[160];
  cJSON *item;
  pthread_mutex_lock(&srv->mu);
  failed = t->err_code[0] != 0;
  pthread_mutex_unlock(&srv->mu);
  if(failed)
    return;
  if(t->fail) {
    if(fail_task(srv, t, "timeoutProvider", "The provider did not produce "
                 "the video (fault injected by --fail-task)."))
      webhook(srv, t, i, fa_task_error_item(t), "errors");
    return;
  }
  if(do_upload(srv, t, i, sha, why, sizeof(why))) {
    if(!atomic_load(&srv->stop) && fail_task(srv, t, "uploadFailed", why))
      webhook(srv, t, i, fa_task_error_item(t), "errors");
    return;
  }
  pthread_mutex_lock(&srv->mu);
  t->res[i].state = FA_SUCCESS;
  memcpy(t->res[i].sha256, sha, sizeof(sha));
  item = fa_result_item(srv, t, i);
  pthread_mutex_unlock(&srv->mu);
  webhook(srv, t, i, item, "data");
}

static fa_job *next_job(fa_server *srv)
{
  fa_job *j = NULL;
  struct timespec ts;
  pthread_mutex_lock(&srv->mu);
  while(!atomic_load(&srv->stop)) {
    if(srv->head && srv->head->due_ms <= fa_mono_ms()) {
      j = srv->head;
      srv->head = j->next;
      if(!srv->head)
        srv->tail = NULL;
      break;
    }
    if(srv->head) {
      abs_time(srv->head->due_ms, &ts);
      pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
    }
    else
      pthread_cond_wait(&srv->cv, &srv->mu);
  }
  pthread_mutex_unlock(&srv->mu);
  return j;
}

static void *worker(void *arg)
{
  fa_server *srv = arg;
  fa_job *j;
  while((j = next_job(srv))) {
    run_job(srv, j);
    free(j);
  }
  return NULL;
}

int fa_pool_start(fa_server *srv, vs_err *err)
{
  int i, rc;
  srv->threads = calloc((size_t)srv->opts->workers, sizeof(pthread_t));
  if(!srv->threads)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; i < srv->opts->workers; i++) {
    rc = pthread_create(&srv->threads[i], NULL, worker, srv);
    if(rc) {
      fa_pool_stop(srv);
      return vs_fail_errno(err, rc, "pthread_create");
    }
    srv->nthreads++;
  }
  return 0;
}

void fa_pool_stop(fa_server *srv)
{
  int i;
  pthread_mutex_lock(&srv->mu);
  atomic_store(&srv->stop, 1);
  pthread_cond_broadcast(&srv->cv);
  pthread_cond_broadcast(&srv->stop_cv);
  pthread_mutex_unlock(&srv->mu);
  for(i = 0; i < srv->nthreads; i++)
    pthread_join(srv->threads[i], NULL);
  free(srv->threads);
  srv->threads = NULL;
  srv->nthreads = 0;
}
