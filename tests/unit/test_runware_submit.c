/* runware: what the API's answer to a submission means for each task.
 * conflictTaskUUID (a lost ack, then a retry) is "accepted", never a
 * refusal and never a reason to send again; per-task errors refuse only
 * their task; a request-level error (401) refuses all; retries running out
 * leave the tasks "unknown" (the API may hold them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "test_runware_world.h"

#define A "0b6f4c2e-8d1a-4f3b-9c5d-7e8f9a0b1c2d"
#define B "1c7a5d3f-9e2b-4a4c-8d6e-8f9a0b1c2d3e"
#define C "2d8b6e4a-af3c-4b5d-9e7f-9a0b1c2d3e4f"

static cJSON *tasks3(void)
{
  return cJSON_Parse("[{\"taskType\":\"videoInference\",\"taskUUID\":\"" A
                     "\"},{\"taskType\":\"videoInference\",\"taskUUID\":\""
                     B "\"},{\"taskType\":\"videoInference\",\"taskUUID\":\""
                     C "\"}]");
}

static int submit(world *w, const w_step *s, int n, vs_rw_ack acks[3])
{
  vs_rw_opts o;
  vs_rw_client *c;
  vs_err err = {0};
  cJSON *t = tasks3();
  int rc;
  w->script = s;
  w->n_script = n;
  w_opts(w, &o);
  o.retry.max_attempts = 3;
  assert_int_equal(vs_rw_client_new(&c, &o, &err), VS_OK);
  rc = vs_rw_submit(c, t, acks, &err);
  vs_rw_client_free(c);
  cJSON_Delete(t);
  return rc;
}

static void test_mixed_batch(void **state)
{
  static const w_step s[] = {{200, -1,
    "{\"data\":[{\"taskType\":\"videoInference\",\"taskUUID\":\"" A "\"}],"
    "\"errors\":[{\"code\":\"invalidDuration\",\"message\":\"bad\","
    "\"parameter\":\"duration\",\"taskUUID\":\"" B "\"},"
    "{\"code\":\"conflictTaskUUID\",\"message\":\"exists\","
    "\"parameter\":\"taskUUID\",\"taskUUID\":\"" C "\"}]}"}};
  world w = {0};
  vs_rw_ack a[3];
  (void)state;
  assert_int_equal(submit(&w, s, 1, a), VS_OK);
  assert_int_equal(w.sent, 1);
  assert_int_equal(a[0].state, VS_RW_ACCEPTED);
  assert_int_equal(a[0].conflict, 0);
  assert_int_equal(a[1].state, VS_RW_REFUSED);
  assert_string_equal(a[1].code, "invalidDuration");
  assert_string_equal(a[1].parameter, "duration");
  assert_string_equal(a[1].message, "bad");
  assert_int_equal(a[2].state, VS_RW_ACCEPTED);
  assert_int_equal(a[2].conflict, 1);
  assert_int_equal(a[0].status, 200);
  w_free(&w);
}

/* The fake's --fault-lost-ack: accepted, answered 500; the retry of the
 * same bytes is answered conflictTaskUUID for each task. */
static void test_lost_ack(void **state)
{
  static const w_step s[] = {{500, -1, "{\"errors\":[{\"code\":"
    "\"internalServerError\",\"message\":\"oops\"}]}"},
    {400, -1, "{\"errors\":["
    "{\"code\":\"conflictTaskUUID\",\"taskUUID\":\"" A "\"},"
    "{\"code\":\"conflictTaskUUID\",\"taskUUID\":\"" B "\"},"
    "{\"code\":\"conflictTaskUUID\",\"taskUUID\":\"" C "\"}]}"}};
  world w = {0};
  vs_rw_ack a[3];
  int i;
  (void)state;
  assert_int_equal(submit(&w, s, 2, a), VS_OK);
  assert_int_equal(w.sent, 2);
  assert_string_equal(w.bodies[0], w.bodies[1]);
  for(i = 0; i < 3; i++) {
    assert_int_equal(a[i].state, VS_RW_ACCEPTED);
    assert_int_equal(a[i].conflict, 1);
    assert_int_equal(a[i].attempts, 2);
  }
  w_free(&w);
}

static void test_request_level_error(void **state)
{
  static const w_step s[] = {{401, -1, "{\"errors\":[{\"code\":"
    "\"invalidApiKey\",\"message\":\"Invalid API key.\",\"parameter\":"
    "\"apiKey\",\"taskType\":\"authentication\"}]}"}};
  world w = {0};
  vs_rw_ack a[3];
  int i;
  (void)state;
  assert_int_equal(submit(&w, s, 1, a), VS_OK);
  assert_int_equal(w.sent, 1);
  for(i = 0; i < 3; i++) {
    assert_int_equal(a[i].state, VS_RW_REFUSED);
    assert_string_equal(a[i].code, "invalidApiKey");
    assert_string_equal(a[i].parameter, "apiKey");
    assert_int_equal(a[i].status, 401);
  }
  w_free(&w);
}

static void test_402_per_task(void **state)
{
  static const w_step s[] = {{402, -1, "{\"errors\":["
    "{\"code\":\"insufficientCredits\",\"message\":\"no money\","
    "\"taskUUID\":\"" A "\"},"
    "{\"code\":\"insufficientCredits\",\"message\":\"no money\","
    "\"taskUUID\":\"" B "\"}]}"}, {200, -1, "{}"}};
  world w = {0};
  vs_rw_ack a[3];
  (void)state;
  assert_int_equal(submit(&w, s, 2, a), VS_OK);
  assert_int_equal(w.sent, 1); /* never retried */
  assert_int_equal(a[0].state, VS_RW_REFUSED);
  assert_string_equal(a[0].code, "insufficientCredits");
  assert_int_equal(a[1].state, VS_RW_REFUSED);
  /* not named in a 402: refused with the HTTP status */
  assert_int_equal(a[2].state, VS_RW_REFUSED);
  assert_string_equal(a[2].code, "httpStatus");
  assert_non_null(strstr(a[2].message, "402"));
  w_free(&w);
}

static void test_unknown(void **state)
{
  static const w_step s[] = {{503, -1, NULL}, {0, -1, NULL},
                             {500, -1, "not json"}};
  static const w_step ok[] = {{200, -1, "{\"data\":[{\"taskUUID\":\"" A
                               "\"}]}"}};
  static const w_step junk[] = {{200, -1, "<html>"}};
  world w = {0};
  vs_rw_ack a[3];
  (void)state;
  assert_int_equal(submit(&w, s, 3, a), VS_ERR_NET);
  assert_int_equal(w.sent, 3);
  assert_int_equal(a[0].state, VS_RW_UNKNOWN);
  assert_string_equal(a[0].code, "httpStatus");
  assert_int_equal(a[2].attempts, 3);
  w_free(&w);
  /* a 200 that names only one task: the others are unknown, not refused */
  memset(&w, 0, sizeof(w));
  assert_int_equal(submit(&w, ok, 1, a), VS_OK);
  assert_int_equal(a[0].state, VS_RW_ACCEPTED);
  assert_int_equal(a[1].state, VS_RW_UNKNOWN);
  assert_string_equal(a[1].code, "noAnswer");
  w_free(&w);
  memset(&w, 0, sizeof(w));
  assert_int_equal(submit(&w, junk, 1, a), VS_OK);
  assert_int_equal(a[0].state, VS_RW_UNKNOWN);
  w_free(&w);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mixed_batch),
    cmocka_unit_test(test_lost_ack),
    cmocka_unit_test(test_request_level_error),
    cmocka_unit_test(test_402_per_task),
    cmocka_unit_test(test_unknown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
