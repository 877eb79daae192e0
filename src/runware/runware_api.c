/* Submitting tasks and polling getResponse: what the API's answers mean for
 * each task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "vsink/runware.h"
#include "vsink/task.h"

/* ---- submit ------------------------------------------------------------------- */
static const char *task_uuid_of(const cJSON *task)
{
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(task, "taskUUID");
  return cJSON_IsString(u) ? u->valuestring : NULL;
}

static void set_ack(vs_rw_ack *a, int state, const char *code,
                    const char *message, const char *parameter)
{
  a->state = state;
  snprintf(a->code, sizeof(a->code), "%s", code ? code : "");
  snprintf(a->message, sizeof(a->message), "%s", message ? message : "");
  snprintf(a->parameter, sizeof(a->parameter), "%s",
           parameter ? parameter : "");
}

static vs_rw_ack *ack_for(const cJSON *tasks, vs_rw_ack *acks, size_t n,
                          const char *uuid)
{
  size_t i;
  if(!uuid)
    return NULL;
  for(i = 0; i < n; i++) {
    const char *u = task_uuid_of(cJSON_GetArrayItem(tasks, (int)i));
    if(u && !strcasecmp(u, uuid))
      return &acks[i];
  }
  return NULL;
}

static void apply_answer(const cJSON *tasks, vs_rw_ack *acks, size_t n,
                         const vs_task_response *r)
{
  const vs_task_api_error *general = NULL;
  size_t i;
  for(i = 0; i < r->n_items; i++) {
    vs_rw_ack *a = ack_for(tasks, acks, n, r->items[i].task_uuid);
    if(a && a->state == VS_RW_PENDING)
      set_ack(a, VS_RW_ACCEPTED, NULL, NULL, NULL);
  }
  for(i = 0; i < r->n_errors; i++) {
    const vs_task_api_error *e = &r->errors[i];
    vs_rw_ack *a = ack_for(tasks, acks, n, e->task_uuid);
    if(!a) {
      if(!general)
        general = e;
      continue;
    }
    if(a->state != VS_RW_PENDING)
      continue;
    if(e->code && !strcmp(e->code, "conflictTaskUUID")) {
      /* accepted by an earlier attempt whose answer was lost */
      set_ack(a, VS_RW_ACCEPTED, NULL, NULL, NULL);
      a->conflict = 1;
    }
    else
      set_ack(a, VS_RW_REFUSED, e->code, e->message, e->parameter);
  }
  for(i = 0; general && i < n; i++)
    if(acks[i].state == VS_RW_PENDING)
      set_ack(&acks[i], VS_RW_REFUSED, general->code, general->message,
              general->parameter);
}

static void settle_rest(vs_rw_ack *acks, size_t n, long status)
{
  char msg[96];
  size_t i;
  for(i = 0; i < n; i++) {
    if(acks[i].state != VS_RW_PENDING)
      continue;
    if(status >= 200 && status < 300)
      set_ack(&acks[i], VS_RW_UNKNOWN, "noAnswer", "the API's answer does "
              "not mention this task", NULL);
    else {
      snprintf(msg, sizeof(msg), "the API answered HTTP %ld", status);
      set_ack(&acks[i], VS_RW_REFUSED, "httpStatus", msg, NULL);
    }
  }
}

int vs_rw_submit(vs_rw_client *c, const cJSON *tasks, vs_rw_ack *acks,
                 vs_err *err)
{
  size_t i, n = (size_t)cJSON_GetArraySize(tasks);
  char *body = cJSON_PrintUnformatted(tasks);
  vs_rw_http h;
  vs_task_response r;
  vs_err perr = {0};
  int rc, attempts = 0;
  memset(acks, 0, n * sizeof(*acks));
  if(!body)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  vs_rw_http_init(&h);
  rc = vs_rw_post(c, body, strlen(body), &h, &attempts, err);
  free(body);
  for(i = 0; i < n; i++) {
    acks[i].attempts = attempts;
    acks[i].status = h.status;
  }
  if(rc) {
    for(i = 0; i < n; i++)
      set_ack(&acks[i], VS_RW_UNKNOWN, h.status ? "httpStatus"
              : "transportError", err ? err->msg : "no answer", NULL);
    vs_rw_http_free(&h);
    return rc;
  }
  if(!vs_task_response_parse(h.body.data ? h.body.data : "", h.body.len, &r,
                             &perr)) {
    apply_answer(tasks, acks, n, &r);
    vs_task_response_free(&r);
  }
  settle_rest(acks, n, h.status);
  vs_rw_http_free(&h);
  return VS_OK;
}

/* ---- wait ---------------------------------------------------------------------- */
void vs_rw_wait_defaults(vs_rw_wait_opts *o)
{
  o->initial_ms = 1000;
  o->first_ms = 500;
  o->max_ms = 10000;
  o->timeout_ms = 3600000;
  o->batch = 50;
}

typedef struct seen {
  char **videos;
  int n;
} seen;

typedef struct wait_ctx {
  vs_rw_client *c;
  vs_rw_wait_task *t;
  seen *s;
  size_t n;
  const vs_rw_wait_cb *cb;
} wait_ctx;

/* 1 when the videoUUID is new for the task (and now remembered). */
static int first_sight(seen *s, const char *video, int *nomem)
{
  char **p;
  int i;
  for(i = 0; i < s->n; i++)
    if(!strcmp(s->videos[i], video))
      return 0;
  p = realloc(s->videos, (size_t)(s->n + 1) * sizeof(*p));
  if(!p || !(p[s->n] = strdup(video))) {
    if(p)
      s->videos = p;
    *nomem = 1;
    return 0;
  }
  s->videos = p;
  s->n++;
  return 1;
}

static vs_rw_wait_task *find(wait_ctx *w, const size_t *idx, size_t m,
                             const char *uuid, size_t *at)
{
  size_t i;
  for(i = 0; uuid && i < m; i++)
    if(!strcasecmp(w->t[idx[i]].task_uuid, uuid)) {
      *at = idx[i];
      return &w->t[idx[i]];
    }
  return NULL;
}

static int take_items(wait_ctx *w, const size_t *idx, size_t m,
                      const vs_task_response *r, vs_err *err)
{
  size_t i, at;
  int rc, nomem = 0;
  for(i = 0; i < r->n_items; i++) {
    const vs_task_item *it = &r->items[i];
    vs_rw_wait_task *t = find(w, idx, m, it->task_uuid, &at);
    if(!t || t->state != VS_RW_WAITING || !it->video_uuid ||
       it->status == VS_TASK_STATUS_PROCESSING ||
       !first_sight(&w->s[at], it->video_uuid, &nomem)) {
      if(nomem)
        return vs_fail(err, VS_ERR_NOMEM, "out of memory");
      continue;
    }
    t->got++;
    if(t->got >= t->expected)
      t->state = VS_RW_DONE;
    if(w->cb->result && (rc = w->cb->result(w->cb->ctx, at, it)))
      return vs_fail(err, rc, "recording a result of task %s failed",
                     t->task_uuid);
  }
  for(i = 0; i < r->n_errors; i++) {
    const vs_task_api_error *e = &r->errors[i];
    vs_rw_wait_task *t = find(w, idx, m, e->task_uuid, &at);
    if(!t || t->state != VS_RW_WAITING)
      continue;
    t->state = VS_RW_FAILED;
    if(w->cb->failed && (rc = w->cb->failed(w->cb->ctx, at, e)))
      return vs_fail(err, rc, "recording the failure of task %s failed",
                     t->task_uuid);
  }
  return VS_OK;
}

static int poll_batch(wait_ctx *w, const size_t *idx, size_t m, vs_err *err)
{
  cJSON *arr = cJSON_CreateArray(), *o;
  vs_task_response r;
  vs_rw_http h;
  vs_err perr = {0};
  char *body;
  size_t i;
  int rc;
  for(i = 0; arr && i < m; i++) {
    if(!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, o) ||
       !cJSON_AddStringToObject(o, "taskType", "getResponse") ||
       !cJSON_AddStringToObject(o, "taskUUID", w->t[idx[i]].task_uuid)) {
      cJSON_Delete(o);
      break;
    }
  }
  body = i == m && arr ? cJSON_PrintUnformatted(arr) : NULL;
  cJSON_Delete(arr);
  if(!body)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  vs_rw_http_init(&h);
  rc = vs_rw_post(w->c, body, strlen(body), &h, NULL, &perr);
  free(body);
  if(!rc && (h.status == 401 || h.status == 403))
    rc = vs_fail(err, VS_ERR_AUTH, "getResponse: the API answered HTTP %ld "
                 "(API key refused)", h.status);
  else if(!rc && !vs_task_response_parse(h.body.data ? h.body.data : "",
                                         h.body.len, &r, &perr)) {
    rc = take_items(w, idx, m, &r, err);
    vs_task_response_free(&r);
  }
  else
    rc = VS_OK; /* a lost poll: the next round asks again */
  vs_rw_http_free(&h);
  return rc;
}

static size_t count_done(const vs_rw_wait_task *t, size_t n)
{
  size_t i, d = 0;
  for(i = 0; i < n; i++)
    d += t[i].state != VS_RW_WAITING;
  return d;
}

static int poll_round(wait_ctx *w, size_t batch, size_t *idx, vs_err *err)
{
  size_t i, m = 0;
  int rc;
  for(i = 0; i < w->n; i++) {
    if(w->t[i].state != VS_RW_WAITING)
      continue;
    idx[m++] = i;
    if(m == batch) {
      if((rc = poll_batch(w, idx, m, err)))
        return rc;
      m = 0;
    }
  }
  return m ? poll_batch(w, idx, m, err) : VS_OK;
}

int vs_rw_wait(vs_rw_client *c, const vs_rw_wait_opts *o,
               vs_rw_wait_task *tasks, size_t n, const vs_rw_wait_cb *cb,
               vs_err *err)
{
  wait_ctx w = {c, tasks, calloc(n ? n : 1, sizeof(seen)), n, cb};
  size_t batch = o->batch ? o->batch : 50, i;
  size_t *idx = malloc((batch < n ? batch : n ? n : 1) * sizeof(size_t));
  int64_t start = vs_rw_now(c), deadline = start + o->timeout_ms;
  int64_t pause = o->first_ms, now;
  int rc = VS_OK;
  if(!w.s || !idx) {
    free(w.s);
    free(idx);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  vs_rw_sleep(c, o->initial_ms < o->timeout_ms ? o->initial_ms
                                                : o->timeout_ms);
  for(;;) {
    if((rc = poll_round(&w, batch, idx, err)))
      break;
    now = vs_rw_now(c);
    if(cb->progress)
      cb->progress(cb->ctx, count_done(tasks, n), n, now - start);
    if(count_done(tasks, n) == n || now >= deadline)
      break;
    vs_rw_sleep(c, pause < deadline - now ? pause : deadline - now);
    pause = pause * 3 / 2 < o->max_ms ? pause * 3 / 2 : o->max_ms;
  }
  for(i = 0; i < n; i++) {
    if(!rc && tasks[i].state == VS_RW_WAITING)
      tasks[i].state = VS_RW_TIMEOUT;
    while(w.s[i].n)
      free(w.s[i].videos[--w.s[i].n]);
    free(w.s[i].videos);
  }
  free(w.s);
  free(idx);
  return rc;
}
