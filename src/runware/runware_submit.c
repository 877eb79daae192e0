/* The submitter: built tasks become API tasks with presigned targets; every
 * step lands in the manifest; one JSON line per task comes out.
 *
 * Order of events for a task: `submitted` is made durable before the task
 * is sent (a crash after sending must not leave a paid task unrecorded),
 * then `failed` if the API refused it, then with --wait `result` per output
 * (source poll) and, for a bucket target, `stored` from a HEAD. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/dec.h"
#include "vsink/manifest.h"
#include "vsink/runware.h"
#include "vsink/s3.h"
#include "vsink/sigv4.h"
#include "vsink/task.h"

#define KEY_MAX 1100
#define HEAD_TRIES 3
#define HEAD_PAUSE_MS 1000

typedef struct sub {
  cJSON *task;          /* as sent: taskUUID, uploadEndpoint, webhookURL */
  char uuid[37];
  char key[KEY_MAX];
  int line, part, nparts;
  vs_dec estimate;
  int expected;         /* numberResults */
  vs_rw_ack ack;
  int wstate;           /* a vs_rw_wait_state, with --wait */
  int got;
  vs_dec cost;
  int has_cost;
  int missing;          /* the HEAD after the results found nothing */
  char fcode[64], fmsg[320], fparam[64]; /* failure seen by polling */
} sub;

typedef struct run {
  const vs_submit_cfg *cfg;
  sub *s;
  size_t n;
  const char *kid, *secret; /* the sink's signing key */
  int64_t now_s;
  atomic_size_t next, sent;
  pthread_mutex_t rate_mu;
  int64_t rate_next_us;
  vs_rw_client *poller;
  int64_t t0_ms;
} run;

/* ---- expanding jobs into tasks -------------------------------------------- */
static int int_of(const cJSON *task, const char *name, int64_t dflt)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(task, name);
  return cJSON_IsNumber(v) ? v->valueint : (int)dflt;
}

/* Part k of a split task gets seed + k, as the API gives result k, wrapping
 * within 0..2^63-1. */
static int shift_seed(cJSON *task, int k)
{
  cJSON *s = cJSON_GetObjectItemCaseSensitive(task, "seed");
  const char *txt = s ? vs_task_num_text(s) : NULL;
  char out[24];
  int64_t v;
  if(!txt || !k)
    return VS_OK;
  v = strtoll(txt, NULL, 10);
  v = v > INT64_MAX - k ? v - INT64_MAX - 1 + k : v + k;
  snprintf(out, sizeof(out), "%" PRId64, v);
  return cJSON_ReplaceItemInObjectCaseSensitive(task, "seed",
                                                cJSON_CreateRaw(out))
         ? VS_OK : VS_ERR_NOMEM;
}

static int split(run *r, cJSON *task, int line, int nres, size_t *at)
{
  int k;
  if(r->cfg->msg)
    fprintf(r->cfg->msg, "vsink submit: %s%.0d%sasks for %d results; a "
            "bucket keeps one object per key, so it is sent as %d tasks of "
            "one result each, each with its own key%s\n",
            line ? "jobs line " : "the task ", line, line ? " " : "", nres,
            nres, cJSON_GetObjectItemCaseSensitive(task, "seed")
            ? " (part k gets seed + k)" : "");
  for(k = 0; k < nres; k++) {
    sub *s = &r->s[(*at)++];
    s->task = cJSON_Duplicate(task, 1);
    s->line = line;
    s->part = k + 1;
    s->nparts = nres;
    if(!s->task || !cJSON_ReplaceItemInObjectCaseSensitive(
                     s->task, "numberResults", cJSON_CreateNumber(1)) ||
       shift_seed(s->task, k))
      return VS_ERR_NOMEM;
  }
  cJSON_Delete(task);
  return VS_OK;
}

static int expand(run *r, vs_submit_job *jobs, size_t n, vs_err *err)
{
  size_t i, total = 0, at = 0;
  int s3 = r->cfg->target.kind == VS_TARGET_S3, rc = VS_OK;
  for(i = 0; i < n; i++)
    total += s3 ? (size_t)int_of(jobs[i].task, "numberResults", 1) : 1;
  if(!(r->s = calloc(total ? total : 1, sizeof(sub))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  r->n = total;
  for(i = 0; i < n; i++) {
    int nres = int_of(jobs[i].task, "numberResults", 1);
    cJSON *t = jobs[i].task;
    jobs[i].task = NULL;
    if(rc)
      cJSON_Delete(t);
    else if(s3 && nres > 1)
      rc = split(r, t, jobs[i].line, nres, &at);
    else {
      r->s[at].task = t;
      r->s[at++].line = jobs[i].line;
    }
  }
  return rc ? vs_fail(err, rc, "out of memory") : VS_OK;
}

/* ---- URLs ------------------------------------------------------------------ */
static int upload_url(run *r, const sub *s, char **url, vs_err *err)
{
  const vs_submit_cfg *c = r->cfg;
  char path[KEY_MAX + 80];
  if(c->target.kind == VS_TARGET_S3) {
    vs_s3_target t = {c->target.endpoint, c->s3_region, c->s3_key_id,
                      c->s3_secret};
    return vs_s3_presign_put(&t, c->target.bucket, s->key, r->now_s,
                             c->url_ttl_s, url, err);
  }
  vs_sigv4_creds cr = {r->kid, r->secret, c->sink_region ? c->sink_region
                                                          : "us-east-1", "s3"};
  snprintf(path, sizeof(path), "/%s/%s", c->target.bucket, s->key);
  vs_presign_req q = {"PUT", c->target.endpoint, path, NULL, r->now_s,
                      c->url_ttl_s};
  return vs_sigv4_presign(&cr, &q, url, err);
}

static int webhook_url(run *r, const sub *s, char **url, vs_err *err)
{
  const vs_submit_cfg *c = r->cfg;
  char path[KEY_MAX + 200];
  vs_sigv4_creds cr = {r->kid, r->secret, c->sink_region ? c->sink_region
                                                         : "us-east-1", "s3"};
  if(c->target.kind == VS_TARGET_S3)
    snprintf(path, sizeof(path), "/hooks/%s/s3/%s/%s", s->uuid,
             c->target.bucket, s->key);
  else
    snprintf(path, sizeof(path), "/hooks/%s", s->uuid);
  vs_presign_req q = {"POST", c->webhook_base, path, NULL, r->now_s,
                      c->url_ttl_s};
  return vs_sigv4_presign(&cr, &q, url, err);
}

static int add_url(cJSON *task, const char *name, char *url)
{
  int ok = cJSON_AddStringToObject(task, name, url) != NULL;
  free(url);
  return ok ? VS_OK : VS_ERR_NOMEM;
}

static int prepare(run *r, sub *s, vs_err *err)
{
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(s->task, "outputFormat");
  char *url = NULL;
  int rc;
  if((rc = vs_task_new_uuid(s->uuid, err)) ||
     (rc = vs_task_set_uuid(s->task, s->uuid)) ||
     (rc = vs_task_object_key(r->cfg->target.prefix, r->now_s, s->uuid,
                              cJSON_IsString(f) ? f->valuestring : "MP4",
                              s->key, sizeof(s->key), err)))
    return rc == VS_ERR_NOMEM ? vs_fail(err, rc, "out of memory") : rc;
  s->expected = int_of(s->task, "numberResults", 1);
  if(vs_task_estimate(s->task, &s->estimate))
    return vs_fail(err, VS_ERR_INVALID, "task %s: no estimate", s->uuid);
  if(r->cfg->webhook_base &&
     ((rc = webhook_url(r, s, &url, err)) ||
      (rc = add_url(s->task, "webhookURL", url))))
    return rc;
  if((rc = upload_url(r, s, &url, err)) ||
     (rc = add_url(s->task, "uploadEndpoint", url)))
    return rc;
  return VS_OK;
}

/* ---- manifest events -------------------------------------------------------- */
static int append(run *r, const char *event, cJSON *f, vs_err *err)
{
  int rc = f ? vs_manifest_append(r->cfg->manifest, event, f, err)
             : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  cJSON_Delete(f);
  return rc;
}

static cJSON *target_json(run *r, const sub *s)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "kind", r->cfg->target.kind == VS_TARGET_S3
                                       ? "s3" : "sink");
  cJSON_AddStringToObject(t, "bucket", r->cfg->target.bucket);
  cJSON_AddStringToObject(t, "key", s->key);
  cJSON_AddStringToObject(t, "endpoint", r->cfg->target.endpoint);
  return t;
}

static void strip_url(cJSON *task, const char *name)
{
  cJSON *u = cJSON_GetObjectItemCaseSensitive(task, name);
  char *plain;
  if(!cJSON_IsString(u) || !(plain = vs_url_strip_signature(u->valuestring)))
    return;
  cJSON_ReplaceItemInObjectCaseSensitive(task, name, cJSON_CreateString(plain));
  free(plain);
}

static int append_submitted(run *r, const sub *s, vs_err *err)
{
  cJSON *f = cJSON_CreateObject(), *task = cJSON_Duplicate(s->task, 1);
  char est[VS_DEC_STRLEN];
  vs_dec_format(s->estimate, 2, est);
  if(task) {
    strip_url(task, "uploadEndpoint");
    strip_url(task, "webhookURL");
  }
  if(!f || !task || !cJSON_AddStringToObject(f, "taskUUID", s->uuid) ||
     !cJSON_AddItemToObject(f, "task", task)) {
    if(!cJSON_GetObjectItemCaseSensitive(f, "task"))
      cJSON_Delete(task);
    cJSON_Delete(f);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  cJSON_AddStringToObject(f, "estimate", est);
  cJSON_AddItemToObject(f, "target", target_json(r, s));
  return append(r, "submitted", f, err);
}

static int append_failed(run *r, const sub *s, const char *code,
                         const char *msg, const char *param,
                         const char *source, vs_err *err)
{
  return append(r, "failed",
                vs_task_failed_fields(s->uuid, code, msg, param, source), err);
}

/* ---- sending ------------------------------------------------------------------- */
static void rate_wait(run *r, vs_rw_client *c)
{
  int64_t now_us, slot;
  if(r->cfg->rate_milli <= 0)
    return;
  pthread_mutex_lock(&r->rate_mu);
  now_us = vs_rw_now(c) * 1000;
  slot = now_us > r->rate_next_us ? now_us : r->rate_next_us;
  r->rate_next_us = slot + 1000000000LL / r->cfg->rate_milli;
  pthread_mutex_unlock(&r->rate_mu);
  vs_rw_sleep(c, (slot - now_us) / 1000);
}

static void refuse(sub *s, const char *code, const char *msg)
{
  s->ack.state = VS_RW_REFUSED;
  snprintf(s->ack.code, sizeof(s->ack.code), "%s", code);
  snprintf(s->ack.message, sizeof(s->ack.message), "%s", msg);
}

static void send_one(run *r, vs_rw_client *c, sub *s)
{
  cJSON *arr;
  vs_err err = {0};
  rate_wait(r, c);
  if(append_submitted(r, s, &err)) {
    refuse(s, "manifestError", err.msg); /* unrecorded: never sent */
    return;
  }
  if(!(arr = cJSON_CreateArray()) ||
     !cJSON_AddItemReferenceToArray(arr, s->task)) {
    cJSON_Delete(arr);
    refuse(s, "outOfMemory", "out of memory");
    return;
  }
  vs_rw_submit(c, arr, &s->ack, &err);
  cJSON_Delete(arr);
  if(s->ack.state == VS_RW_REFUSED &&
     append_failed(r, s, s->ack.code, s->ack.message, s->ack.parameter,
                   "submit", &err) && r->cfg->msg)
    fprintf(r->cfg->msg, "vsink submit: task %s: recording its refusal "
            "failed: %s\n", s->uuid, err.msg);
}

static void *worker(void *arg)
{
  run *r = arg;
  vs_rw_client *c;
  vs_err err = {0};
  size_t i;
  if(vs_rw_client_new(&c, &r->cfg->api, &err))
    c = NULL;
  for(;;) {
    if((i = atomic_fetch_add(&r->next, 1)) >= r->n)
      break;
    if(c)
      send_one(r, c, &r->s[i]);
    else
      refuse(&r->s[i], "clientError", err.msg);
    atomic_fetch_add(&r->sent, 1);
  }
  vs_rw_client_free(c);
  return NULL;
}

static void progress_line(run *r, const char *what, size_t done, size_t total)
{
  int64_t ms = vs_rw_now(r->poller) - r->t0_ms;
  fprintf(r->cfg->msg, "\rvsink submit: %s %zu/%zu, %" PRId64 ".%" PRId64
          " s   ", what, done, total, ms / 1000, ms % 1000 / 100);
  fflush(r->cfg->msg);
}

static int send_all(run *r, vs_err *err)
{
  int nw = r->cfg->concurrency > 0 ? r->cfg->concurrency : 1, i, started;
  pthread_t *th;
  if((size_t)nw > r->n)
    nw = r->n ? (int)r->n : 1;
  if(!(th = calloc((size_t)nw, sizeof(*th))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(started = 0; started < nw; started++)
    if(pthread_create(&th[started], NULL, worker, r))
      break;
  if(!started) {
    free(th);
    return vs_fail(err, VS_ERR_NOMEM, "could not start a sending thread");
  }
  while(r->cfg->progress && r->cfg->msg && atomic_load(&r->sent) < r->n) {
    progress_line(r, "sent", atomic_load(&r->sent), r->n);
    nanosleep(&(struct timespec){0, 200000000L}, NULL);
  }
  for(i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  if(r->cfg->progress && r->cfg->msg) {
    progress_line(r, "sent", r->n, r->n);
    fputc('\n', r->cfg->msg);
  }
  free(th);
  return VS_OK;
}

/* ---- waiting --------------------------------------------------------------------- */
/* HEAD the object, a few times while it is not there yet. */
static int head(run *r, const sub *s, vs_object_info *info, vs_err *err)
{
  const vs_submit_cfg *c = r->cfg;
  int s3 = c->target.kind == VS_TARGET_S3, rc = VS_OK, i;
  vs_s3_target t = {c->target.endpoint,
                    s3 ? c->s3_region : c->sink_region,
                    s3 ? c->s3_key_id : r->kid,
                    s3 ? c->s3_secret : r->secret};
  for(i = 0; i < HEAD_TRIES; i++) {
    if(i)
      vs_rw_sleep(r->poller, HEAD_PAUSE_MS * i);
    rc = vs_s3_head(&t, c->target.bucket, s->key, info, err);
    if(rc != VS_ERR_NOTFOUND)
      break;
  }
  return rc;
}

static int record_stored(run *r, sub *s)
{
  vs_object_info info;
  vs_err err = {0};
  cJSON *f;
  int rc = head(r, s, &info, &err);
  if(rc) {
    s->missing = 1;
    if(r->cfg->msg)
      fprintf(r->cfg->msg, "vsink submit: task %s: the object %s%s/%s is %s:"
              " %s\n", s->uuid, r->cfg->target.kind == VS_TARGET_S3 ? "s3://"
              : "", r->cfg->target.bucket, s->key, rc == VS_ERR_NOTFOUND ?
              "missing (the API reported a result, no bytes arrived)" :
              "unreadable", err.msg);
    return VS_OK;
  }
  if(r->cfg->target.kind != VS_TARGET_S3)
    return VS_OK; /* the sink wrote `stored` itself, with the SHA-256 */
  f = vs_store_event_fields(r->cfg->target.bucket, s->key, &info, s->uuid,
                            "head");
  return append(r, "stored", f, &err);
}

typedef struct wait_map {
  run *r;
  size_t *idx; /* wait task -> sub */
} wait_map;

static int on_result(void *ctx, size_t i, const vs_task_item *it)
{
  wait_map *w = ctx;
  sub *s = &w->r->s[w->idx[i]];
  vs_err err = {0};
  int rc;
  if(it->has_cost) {
    if(vs_dec_add(s->has_cost ? s->cost : 0, it->cost, &s->cost))
      return VS_ERR_INVALID;
    s->has_cost = 1;
  }
  s->got++;
  if((rc = append(w->r, "result", vs_task_result_fields(it, "poll"), &err)))
    return rc;
  /* a bucket task has one result; a sink task is checked once complete */
  return s->got >= s->expected ? record_stored(w->r, s) : VS_OK;
}

static int on_failed(void *ctx, size_t i, const vs_task_api_error *e)
{
  wait_map *w = ctx;
  sub *s = &w->r->s[w->idx[i]];
  vs_err err = {0};
  snprintf(s->fcode, sizeof(s->fcode), "%s", e->code ? e->code : "unknown");
  snprintf(s->fmsg, sizeof(s->fmsg), "%s", e->message ? e->message : "");
  snprintf(s->fparam, sizeof(s->fparam), "%s",
           e->parameter ? e->parameter : "");
  return append_failed(w->r, s, s->fcode, s->fmsg, s->fparam, "poll", &err);
}

static void on_progress(void *ctx, size_t done, size_t total, int64_t ms)
{
  wait_map *w = ctx;
  (void)ms;
  if(w->r->cfg->progress && w->r->cfg->msg)
    progress_line(w->r, "done", done, total);
}

static int wait_all(run *r, vs_err *err)
{
  vs_rw_wait_task *t = calloc(r->n ? r->n : 1, sizeof(*t));
  wait_map w = {r, calloc(r->n ? r->n : 1, sizeof(size_t))};
  vs_rw_wait_cb cb = {on_result, on_failed, on_progress, &w};
  size_t i, m = 0;
  int rc;
  if(!t || !w.idx) {
    free(t);
    free(w.idx);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  for(i = 0; i < r->n; i++) {
    if(r->s[i].ack.state != VS_RW_ACCEPTED &&
       r->s[i].ack.state != VS_RW_UNKNOWN)
      continue;
    t[m] = (vs_rw_wait_task){r->s[i].uuid, r->s[i].expected, 0, 0};
    w.idx[m++] = i;
  }
  rc = vs_rw_wait(r->poller, &r->cfg->wait_opts, t, m, &cb, err);
  for(i = 0; i < m; i++)
    r->s[w.idx[i]].wstate = t[i].state;
  if(r->cfg->progress && r->cfg->msg && m)
    fputc('\n', r->cfg->msg);
  free(t);
  free(w.idx);
  return rc;
}

/* ---- output ------------------------------------------------------------------------- */
static const char *status_of(const run *r, const sub *s)
{
  if(s->ack.state == VS_RW_REFUSED)
    return "failed";
  if(!r->cfg->wait)
    return s->ack.state == VS_RW_ACCEPTED ? "accepted" : "unknown";
  switch(s->wstate) {
  case VS_RW_DONE: return s->missing ? "missing" : "complete";
  case VS_RW_FAILED: return "failed";
  case VS_RW_TIMEOUT: return "timeout";
  default: return "unknown";
  }
}

static void count(vs_submit_stats *st, const sub *s, const char *status)
{
  st->accepted += s->ack.state == VS_RW_ACCEPTED;
  st->refused += s->ack.state == VS_RW_REFUSED;
  st->unknown += s->ack.state == VS_RW_UNKNOWN;
  st->complete += !strcmp(status, "complete");
  st->failed += !strcmp(status, "failed");
  st->missing += !strcmp(status, "missing");
  st->timeout += !strcmp(status, "timeout");
}

static void print_line(run *r, const sub *s, vs_submit_stats *st)
{
  const char *status = status_of(r, s);
  cJSON *o = cJSON_CreateObject(), *e;
  char est[VS_DEC_STRLEN], cost[VS_DEC_STRLEN];
  char *text;
  count(st, s, status);
  vs_dec_format(s->estimate, 2, est);
  cJSON_AddStringToObject(o, "taskUUID", s->uuid);
  if(s->line)
    cJSON_AddNumberToObject(o, "job", s->line);
  if(s->nparts > 1) {
    cJSON_AddNumberToObject(o, "part", s->part);
    cJSON_AddNumberToObject(o, "parts", s->nparts);
  }
  cJSON_AddItemToObject(o, "target", target_json(r, s));
  cJSON_AddStringToObject(o, "estimate", est);
  cJSON_AddStringToObject(o, "status", status);
  if(s->ack.conflict)
    cJSON_AddBoolToObject(o, "conflict", 1);
  if(r->cfg->wait && s->ack.state != VS_RW_REFUSED)
    cJSON_AddNumberToObject(o, "results", s->got);
  if(s->has_cost) {
    vs_dec_format(s->cost, 2, cost);
    cJSON_AddStringToObject(o, "cost", cost);
  }
  if(!strcmp(status, "failed") || !strcmp(status, "unknown")) {
    int polled = s->fcode[0] != 0;
    e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", polled ? s->fcode : s->ack.code);
    cJSON_AddStringToObject(e, "message", polled ? s->fmsg : s->ack.message);
    if(*(polled ? s->fparam : s->ack.parameter))
      cJSON_AddStringToObject(e, "parameter", polled ? s->fparam
                                                     : s->ack.parameter);
  }
  if((text = cJSON_PrintUnformatted(o))) {
    fprintf(r->cfg->out, "%s\n", text);
    free(text);
  }
  cJSON_Delete(o);
}

/* ---- the run -------------------------------------------------------------------------- */
static int dry_run(run *r, vs_err *err)
{
  cJSON *arr = cJSON_CreateArray();
  char *text;
  size_t i;
  for(i = 0; arr && i < r->n; i++)
    if(!cJSON_AddItemReferenceToArray(arr, r->s[i].task))
      break;
  text = arr && i == r->n ? cJSON_PrintUnformatted(arr) : NULL;
  cJSON_Delete(arr);
  if(!text)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  fprintf(r->cfg->out, "%s\n", text);
  free(text);
  return VS_OK;
}

static int check_cfg(const vs_submit_cfg *c, vs_err *err)
{
  if(c->url_ttl_s < 1 || c->url_ttl_s > VS_SIGV4_MAX_EXPIRES)
    return vs_fail(err, VS_ERR_INVALID, "URL lifetime must be 1..604800 s");
  if(c->target.kind == VS_TARGET_S3 &&
     (!c->target.endpoint[0] || !c->s3_key_id || !c->s3_secret))
    return vs_fail(err, VS_ERR_INVALID, "a bucket target needs an endpoint "
                   "and keys");
  if((c->target.kind == VS_TARGET_SINK || c->webhook_base) && !c->sink_keys)
    return vs_fail(err, VS_ERR_INVALID, "the sink's keys are needed to sign "
                   "its URLs");
  if(!c->dry_run && !c->manifest)
    return vs_fail(err, VS_ERR_INVALID, "no manifest to record in");
  return VS_OK;
}

static int run_it(run *r, vs_submit_stats *st, vs_err *err)
{
  size_t i;
  int rc;
  for(i = 0; i < r->n; i++)
    if((rc = prepare(r, &r->s[i], err)))
      return rc;
  if(r->cfg->dry_run)
    return dry_run(r, err);
  if((rc = vs_rw_client_new(&r->poller, &r->cfg->api, err)))
    return rc;
  r->t0_ms = vs_rw_now(r->poller);
  if((rc = send_all(r, err)))
    return rc;
  rc = r->cfg->wait ? wait_all(r, err) : VS_OK;
  for(i = 0; i < r->n; i++)
    print_line(r, &r->s[i], st);
  fflush(r->cfg->out);
  return rc;
}

int vs_submit_run(const vs_submit_cfg *cfg, vs_submit_job *jobs, size_t n,
                  vs_submit_stats *stats, vs_err *err)
{
  run r;
  size_t i;
  int rc;
  memset(stats, 0, sizeof(*stats));
  memset(&r, 0, sizeof(r));
  r.cfg = cfg;
  r.now_s = cfg->now_s ? cfg->now_s : (int64_t)time(NULL);
  pthread_mutex_init(&r.rate_mu, NULL);
  if(!(rc = check_cfg(cfg, err)) && cfg->sink_keys)
    vs_keyring_first(cfg->sink_keys, &r.kid, &r.secret);
  if(!rc)
    rc = expand(&r, jobs, n, err);
  else
    for(i = 0; i < n; i++) {
      cJSON_Delete(jobs[i].task);
      jobs[i].task = NULL;
    }
  stats->tasks = r.n;
  if(!rc)
    rc = run_it(&r, stats, err);
  for(i = 0; i < r.n; i++)
    cJSON_Delete(r.s[i].task);
  free(r.s);
  vs_rw_client_free(r.poller);
  pthread_mutex_destroy(&r.rate_mu);
  return rc;
}
