/* Accepted tasks, their results, and how a poll or a webhook shows them.
 * Tasks live until the process ends (a poll may come at any time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakeapi.h"
#include "util/uuid.h"
#include "util/fs.h"

int64_t fa_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned bucket_of(const char *uuid)
{
  unsigned h = 2166136261u; /* FNV-1a */
  for(; *uuid; uuid++)
    h = (h ^ (unsigned char)*uuid) * 16777619u;
  return h % FA_BUCKETS;
}

fa_task *fa_task_find(fa_server *srv, const char *uuid)
{
  fa_task *t;
  for(t = srv->buckets[bucket_of(uuid)]; t; t = t->next)
    if(!strcmp(t->uuid, uuid))
      return t;
  return NULL;
}

static int fill_results(fa_task *t, const fa_spec *spec)
{
  int i;
  for(i = 0; i < t->n; i++) {
    unsigned char rnd[16];
    uint32_t r32;
    if(vs_random(rnd, sizeof(rnd), NULL) || vs_random(&r32, 4, NULL))
      return -1;
    vs_uuid_format(rnd, t->res[i].video_uuid);
    /* each result its own seed: the one asked + index (kept within
     * 0..2^63-1), or a random 32-bit one as the page says */
    t->res[i].seed = spec->has_seed
                       ? ((uint64_t)spec->seed + (uint64_t)i) & INT64_MAX
                       : r32;
  }
  return 0;
}

static void enqueue(fa_server *srv, fa_task *t, int index, int64_t due)
{
  fa_job *j = calloc(1, sizeof(*j)), **pp;
  if(!j)
    return;
  j->task = t;
  j->index = index;
  j->due_ms = due;
  /* keep the queue sorted by due time; new jobs are nearly always last */
  if(!srv->head || srv->tail->due_ms <= due) {
    if(srv->tail)
      srv->tail->next = j;
    else
      srv->head = j;
    srv->tail = j;
    return;
  }
  for(pp = &srv->head; *pp && (*pp)->due_ms <= due; pp = &(*pp)->next)
    ;
  j->next = *pp;
  *pp = j;
}

int fa_fault_take(fa_fault *f)
{
  if(f->count == 0)
    return 0;
  if(f->count < 0)
    return 1;
  return atomic_fetch_add(&f->used, 1) < f->count;
}

int fa_task_accept(fa_server *srv, const fa_spec *spec)
{
  fa_task *t = calloc(1, sizeof(*t));
  int64_t now = fa_mono_ms();
  unsigned b;
  int i;
  if(!t)
    return -1;
  memcpy(t->uuid, spec->uuid, sizeof(t->uuid));
  memcpy(t->format, spec->format, sizeof(t->format));
  t->n = spec->n;
  t->include_cost = spec->include_cost;
  t->cost = spec->cost;
  t->upload = spec->upload ? strdup(spec->upload) : NULL;
  t->webhook = spec->webhook ? strdup(spec->webhook) : NULL;
  if((spec->upload && !t->upload) || (spec->webhook && !t->webhook) ||
     fill_results(t, spec)) {
    free(t->upload);
    free(t->webhook);
    free(t);
    return -1;
  }
  t->fail = fa_fault_take(&srv->opts->fail_task);
  b = bucket_of(t->uuid);
  t->next = srv->buckets[b];
  srv->buckets[b] = t;
  /* a failing task fails once, as a whole, after the first delay */
  for(i = 0; i < (t->fail ? 1 : t->n); i++)
    enqueue(srv, t, i, now + (int64_t)(i + 1) * srv->opts->delay_ms);
  pthread_cond_signal(&srv->cv);
  return 0;
}

static const char *ext_of(const char *format)
{
  return !strcmp(format, "WEBM") ? "webm" : !strcmp(format, "MOV") ? "mov"
                                                                   : "mp4";
}

cJSON *fa_result_item(fa_server *srv, const fa_task *t, int i)
{
  cJSON *o = cJSON_CreateObject();
  char num[32], url[200];
  snprintf(url, sizeof(url), "%s/video/%s.%s", srv->base_url,
           t->res[i].video_uuid, ext_of(t->format));
  cJSON_AddStringToObject(o, "taskType", "videoInference");
  cJSON_AddStringToObject(o, "taskUUID", t->uuid);
  cJSON_AddStringToObject(o, "status", "success");
  cJSON_AddStringToObject(o, "videoUUID", t->res[i].video_uuid);
  cJSON_AddStringToObject(o, "videoURL", url);
  /* raw text: a seed above 2^53 must not pass through a double */
  snprintf(num, sizeof(num), "%llu", (unsigned long long)t->res[i].seed);
  cJSON_AddRawToObject(o, "seed", num);
  if(t->include_cost) {
    char cost[VS_DEC_STRLEN];
    vs_dec_format(t->cost, 0, cost);
    cJSON_AddRawToObject(o, "cost", cost);
  }
  cJSON_AddFalseToObject(o, "NSFWContent");
  return o;
}

cJSON *fa_task_error_item(const fa_task *t)
{
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "code", t->err_code);
  cJSON_AddStringToObject(e, "message", t->err_msg);
  cJSON_AddStringToObject(e, "taskType", "videoInference");
  cJSON_AddStringToObject(e, "taskUUID", t->uuid);
  cJSON_AddStringToObject(e, "status", "error");
  cJSON_AddStringToObject(e, "documentation",
                          "https://runware.ai/docs/en/video-inference/"
                          "api-reference");
  return e;
}

void fa_task_report(fa_server *srv, const fa_task *t, cJSON *data,
                    cJSON *errors)
{
  int i, pending = 0;
  if(t->err_code[0]) {
    cJSON_AddItemToArray(errors, fa_task_error_item(t));
    return;
  }
  for(i = 0; i < t->n; i++) {
    if(t->res[i].state == FA_SUCCESS)
      cJSON_AddItemToArray(data, fa_result_item(srv, t, i));
    else
      pending = 1;
  }
  if(pending) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "taskType", "videoInference");
    cJSON_AddStringToObject(o, "taskUUID", t->uuid);
    cJSON_AddStringToObject(o, "status", "processing");
    cJSON_AddItemToArray(data, o);
  }
}

void fa_tasks_free(fa_server *srv)
{
  size_t b;
  fa_job *j;
  for(b = 0; b < FA_BUCKETS; b++) {
    fa_task *t = srv->buckets[b];
    while(t) {
      fa_task *next = t->next;
      free(t->upload);
      free(t->webhook);
      free(t);
      t = next;
    }
    srv->buckets[b] = NULL;
  }
  while((j = srv->head)) {
    srv->head = j->next;
    free(j);
  }
  srv->tail = NULL;
}
