/* runware: polling getResponse. The exact schedule on an injected clock
 * (initial delay, 0.5 s growing x1.5 up to 10 s, stop at the timeout),
 * results de-duplicated by videoUUID across polls that repeat the whole
 * state, a failed task reported once, several tasks per request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "test_runware_world.h"
#include "vsink/task.h"

#define A "0b6f4c2e-8d1a-4f3b-9c5d-7e8f9a0b1c2d"
#define B "1c7a5d3f-9e2b-4a4c-8d6e-8f9a0b1c2d3e"

typedef struct seen {
  int results[200];
  int failed[200];
  char last_video[200][40];
  char costs[200][32];
  int64_t seeds[200];
  int rounds;
  size_t done_last;
} seen;

static int on_result(void *ctx, size_t i, const vs_task_item *it)
{
  seen *s = ctx;
  s->results[i]++;
  snprintf(s->last_video[i], sizeof(s->last_video[i]), "%s", it->video_uuid);
  if(it->has_cost)
    vs_dec_format(it->cost, 0, s->costs[i]);
  s->seeds[i] = it->seed;
  return 0;
}

static int on_failed(void *ctx, size_t i, const vs_task_api_error *e)
{
  seen *s = ctx;
  assert_string_equal(e->code, "timeoutProvider");
  s->failed[i]++;
  return 0;
}

static void on_progress(void *ctx, size_t done, size_t total, int64_t ms)
{
  seen *s = ctx;
  (void)total;
  (void)ms;
  assert_true(done >= s->done_last);
  s->done_last = done;
  s->rounds++;
}

/* A: processing for 3 polls, then result 1 (repeated ever after), from
 * poll 5 also result 2. B: processing, then an error item ever after. */
static const char *story(world *w, const char *body, long *status)
{
  static char out[4096];
  int poll = w->sent; /* 1-based */
  cJSON *req = cJSON_Parse(body), *t;
  size_t n = 0;
  *status = 200;
  n += snprintf(out, sizeof(out), "{\"data\":[");
  cJSON_ArrayForEach(t, req) {
    const char *u = cJSON_GetObjectItem(t, "taskUUID")->valuestring;
    assert_string_equal(cJSON_GetObjectItem(t, "taskType")->valuestring,
                        "getResponse");
    if(!strcmp(u, A) && poll >= 4)
      n += snprintf(out + n, sizeof(out) - n, "{\"taskUUID\":\"" A "\","
                    "\"status\":\"success\",\"videoUUID\":\"v1\","
                    "\"seed\":9223372036854775807,\"cost\":0.07},");
    if(!strcmp(u, A) && poll >= 5)
      n += snprintf(out + n, sizeof(out) - n, "{\"taskUUID\":\"" A "\","
                    "\"status\":\"success\",\"videoUUID\":\"v2\","
                    "\"seed\":5,\"cost\":0.0700000001},");
    if(!strcmp(u, A) && poll < 5)
      n += snprintf(out + n, sizeof(out) - n, "{\"taskUUID\":\"" A "\","
                    "\"status\":\"processing\"},");
  }
  if(out[n - 1] == ',')
    n--;
  n += snprintf(out + n, sizeof(out) - n, "]");
  cJSON_ArrayForEach(t, req) {
    const char *u = cJSON_GetObjectItem(t, "taskUUID")->valuestring;
    if(!strcmp(u, B) && poll >= 2)
      n += snprintf(out + n, sizeof(out) - n, ",\"errors\":[{\"code\":"
                    "\"timeoutProvider\",\"message\":\"too slow\","
                    "\"taskUUID\":\"" B "\",\"status\":\"error\"}]");
  }
  snprintf(out + n, sizeof(out) - n, "}");
  cJSON_Delete(req);
  return out;
}

static vs_rw_client *client(world *w)
{
  vs_rw_opts o;
  vs_rw_client *c;
  vs_err err = {0};
  w_opts(w, &o);
  assert_int_equal(vs_rw_client_new(&c, &o, &err), VS_OK);
  return c;
}

static void test_schedule_and_dedupe(void **state)
{
  world w = {.now = 50000, .answer = story};
  vs_rw_client *c = client(&w);
  vs_rw_wait_opts o;
  vs_rw_wait_task t[2] = {{A, 2, 0, 0}, {B, 1, 0, 0}};
  seen s = {0};
  vs_rw_wait_cb cb = {on_result, on_failed, on_progress, &s};
  vs_err err = {0};
  (void)state;
  vs_rw_wait_defaults(&o);
  assert_int_equal(vs_rw_wait(c, &o, t, 2, &cb, &err), VS_OK);
  assert_int_equal(t[0].state, VS_RW_DONE);
  assert_int_equal(t[0].got, 2);
  assert_int_equal(t[1].state, VS_RW_FAILED);
  assert_int_equal(s.results[0], 2); /* v1 seen in 2 polls, recorded once */
  assert_int_equal(s.failed[1], 1);  /* the error repeated, reported once */
  assert_string_equal(s.last_video[0], "v2");
  assert_string_equal(s.costs[0], "0.0700000001");
  assert_int_equal(s.seeds[0], 5);
  /* polls 1..5; B leaves the batch after poll 2 */
  assert_int_equal(w.sent, 5);
  assert_non_null(strstr(w.bodies[1], B));
  assert_null(strstr(w.bodies[2], B));
  assert_int_equal(w.n_sleeps, 5);
  assert_int_equal(w.sleeps[0], 1000);
  assert_int_equal(w.sleeps[1], 500);
  assert_int_equal(w.sleeps[2], 750);
  assert_int_equal(w.sleeps[3], 1125);
  assert_int_equal(w.sleeps[4], 1687);
  assert_int_equal(w.sent_at[0], 51000);
  assert_int_equal(s.rounds, 5);
  assert_int_equal(s.done_last, 2);
  vs_rw_client_free(c);
  w_free(&w);
}

static const char *never(world *w, const char *body, long *status)
{
  (void)w;
  (void)body;
  *status = 200;
  return "{\"data\":[{\"taskUUID\":\"" A "\",\"status\":\"processing\"}]}";
}

static void test_timeout_and_cap(void **state)
{
  world w = {.answer = never};
  vs_rw_client *c = client(&w);
  vs_rw_wait_opts o;
  vs_rw_wait_task t[1] = {{A, 1, 0, 0}};
  seen s = {0};
  vs_rw_wait_cb cb = {on_result, on_failed, NULL, &s};
  vs_err err = {0};
  static const int64_t want[] = {1000, 500, 750, 1125, 1687, 2530, 3795,
                                 5692, 8538, 10000, 10000, 10000};
  int64_t total = 0;
  int i;
  (void)state;
  vs_rw_wait_defaults(&o);
  o.timeout_ms = 60000;
  assert_int_equal(vs_rw_wait(c, &o, t, 1, &cb, &err), VS_OK);
  assert_int_equal(t[0].state, VS_RW_TIMEOUT);
  assert_int_equal(t[0].got, 0);
  for(i = 0; i < 12; i++) {
    assert_int_equal(w.sleeps[i], want[i]);
    total += want[i];
  }
  /* the last pause is cut to end at the deadline, then one last poll */
  assert_int_equal(w.n_sleeps, 13);
  assert_int_equal(w.sleeps[12], 60000 - total);
  assert_int_equal(w.now, 60000);
  assert_int_equal(w.sent, 13);
  vs_rw_client_free(c);
  w_free(&w);
}

/* Every task in the request succeeds at once. */
static const char *all_done(world *w, const char *body, long *status)
{
  static char out[65536];
  cJSON *req = cJSON_Parse(body), *t;
  size_t n = 0;
  (void)w;
  *status = 200;
  n += snprintf(out, sizeof(out), "{\"data\":[");
  cJSON_ArrayForEach(t, req)
    n += snprintf(out + n, sizeof(out) - n, "%s{\"taskUUID\":\"%s\","
                  "\"status\":\"success\",\"videoUUID\":\"v-%s\"}",
                  t == req->child ? "" : ",",
                  cJSON_GetObjectItem(t, "taskUUID")->valuestring,
                  cJSON_GetObjectItem(t, "taskUUID")->valuestring);
  snprintf(out + n, sizeof(out) - n, "]}");
  cJSON_Delete(req);
  return out;
}

static void test_batches(void **state)
{
  world w = {.answer = all_done};
  vs_rw_client *c = client(&w);
  vs_rw_wait_opts o;
  vs_rw_wait_task t[120];
  char ids[120][37];
  seen s = {0};
  vs_rw_wait_cb cb = {on_result, on_failed, NULL, &s};
  vs_err err = {0};
  int i;
  (void)state;
  for(i = 0; i < 120; i++) {
    snprintf(ids[i], 37, "%08x-0000-4000-8000-000000000000", i);
    t[i] = (vs_rw_wait_task){ids[i], 1, 0, 0};
  }
  vs_rw_wait_defaults(&o);
  assert_int_equal(vs_rw_wait(c, &o, t, 120, &cb, &err), VS_OK);
  assert_int_equal(w.sent, 3); /* 50 + 50 + 20 */
  for(i = 0; i < 120; i++) {
    assert_int_equal(t[i].state, VS_RW_DONE);
    assert_int_equal(s.results[i], 1);
  }
  {
    cJSON *b0 = cJSON_Parse(w.bodies[0]), *b2 = cJSON_Parse(w.bodies[2]);
    assert_int_equal(cJSON_GetArraySize(b0), 50);
    assert_int_equal(cJSON_GetArraySize(b2), 20);
    cJSON_Delete(b0);
    cJSON_Delete(b2);
  }
  vs_rw_client_free(c);
  w_free(&w);
}

static const char *refused(world *w, const char *body, long *status)
{
  (void)w;
  (void)body;
  *status = 401;
  return "{\"errors\":[{\"code\":\"invalidApiKey\"}]}";
}

static void test_auth_stops(void **state)
{
  world w = {.answer = refused};
  vs_rw_client *c = client(&w);
  vs_rw_wait_opts o;
  vs_rw_wait_task t[1] = {{A, 1, 0, 0}};
  seen s = {0};
  vs_rw_wait_cb cb = {on_result, on_failed, NULL, &s};
  vs_err err = {0};
  (void)state;
  vs_rw_wait_defaults(&o);
  assert_int_equal(vs_rw_wait(c, &o, t, 1, &cb, &err), VS_ERR_AUTH);
  assert_int_equal(w.sent, 1);
  assert_non_null(strstr(err.msg, "401"));
  vs_rw_client_free(c);
  w_free(&w);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_schedule_and_dedupe),
    cmocka_unit_test(test_timeout_and_cap),
    cmocka_unit_test(test_batches),
    cmocka_unit_test(test_auth_stops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
