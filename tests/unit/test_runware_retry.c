/* runware: the retry policy. Which statuses are retried, the capped
 * exponential back-off with jitter, Retry-After honoured, and vs_rw_post
 * against a scripted transport on an injected clock: exact pauses, exact
 * request counts, never a retry of 400/401/402/403. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_runware_world.h"

static void test_retryable(void **state)
{
  static const long yes[] = {0, 408, 429, 500, 502, 503, 504, 599};
  static const long no[] = {200, 201, 204, 400, 401, 402, 403, 404, 409,
                            413, 422, 600};
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    assert_true(vs_rw_retryable(yes[i]));
  for(i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    assert_false(vs_rw_retryable(no[i]));
}

static void test_backoff(void **state)
{
  vs_rw_retry p = {0}; /* defaults: base 500, cap 30000 */
  (void)state;
  /* rnd 0: the lower half; rnd huge: d/2 + rnd mod (d/2+1) */
  assert_int_equal(vs_rw_backoff_ms(&p, 1, -1, 0), 250);
  assert_int_equal(vs_rw_backoff_ms(&p, 2, -1, 0), 500);
  assert_int_equal(vs_rw_backoff_ms(&p, 3, -1, 0), 1000);
  assert_int_equal(vs_rw_backoff_ms(&p, 1, -1, 250), 500);
  assert_int_equal(vs_rw_backoff_ms(&p, 1, -1, 251), 250);
  assert_int_equal(vs_rw_backoff_ms(&p, 2, -1, 100), 600);
  /* capped: 500 x 2^6 = 32000 > 30000 */
  assert_int_equal(vs_rw_backoff_ms(&p, 7, -1, 0), 15000);
  assert_int_equal(vs_rw_backoff_ms(&p, 7, -1, 15000), 30000);
  assert_int_equal(vs_rw_backoff_ms(&p, 60, -1, 15000), 30000);
  assert_int_equal(vs_rw_backoff_ms(&p, 1000, -1, UINT64_MAX),
                   15000 + (int64_t)(UINT64_MAX % 15001));
  /* Retry-After: exactly, capped at max_retry_after_ms */
  assert_int_equal(vs_rw_backoff_ms(&p, 1, 3000, 12345), 3000);
  assert_int_equal(vs_rw_backoff_ms(&p, 5, 0, 12345), 0);
  assert_int_equal(vs_rw_backoff_ms(&p, 1, 10000000, 0), 300000);
  p = (vs_rw_retry){3, 100, 1000, 5000};
  assert_int_equal(vs_rw_backoff_ms(&p, 4, -1, 0), 400);
  assert_int_equal(vs_rw_backoff_ms(&p, 5, -1, 0), 500);
  assert_int_equal(vs_rw_backoff_ms(&p, 1, 9000, 0), 5000);
}

static int post(world *w, const w_step *script, int n, vs_rw_retry retry,
                vs_rw_http *h, int *attempts, vs_err *err)
{
  vs_rw_opts o;
  vs_rw_client *c;
  int rc;
  w->script = script;
  w->n_script = n;
  w_opts(w, &o);
  o.retry = retry;
  assert_int_equal(vs_rw_client_new(&c, &o, err), VS_OK);
  vs_rw_http_init(h);
  rc = vs_rw_post(c, "[1]", 3, h, attempts, err);
  vs_rw_client_free(c);
  return rc;
}

static void test_retry_after_honoured(void **state)
{
  static const w_step s[] = {{429, 3000, "{}"}, {429, 1000, "{}"},
                             {200, -1, "{\"data\":[]}"}};
  world w = {.now = 1000, .rnd = 7};
  vs_rw_http h;
  vs_err err = {0};
  int attempts = 0;
  (void)state;
  assert_int_equal(post(&w, s, 3, (vs_rw_retry){0}, &h, &attempts, &err),
                   VS_OK);
  assert_int_equal(h.status, 200);
  assert_string_equal(h.body.data, "{\"data\":[]}");
  assert_int_equal(attempts, 3);
  assert_int_equal(w.n_sleeps, 2);
  assert_int_equal(w.sleeps[0], 3000);
  assert_int_equal(w.sleeps[1], 1000);
  assert_int_equal(w.sent_at[2], 5000);
  /* the same bytes every time: a lost ack is then a conflictTaskUUID */
  assert_string_equal(w.bodies[0], "[1]");
  assert_string_equal(w.bodies[2], "[1]");
  vs_rw_http_free(&h);
  w_free(&w);
}

static void test_5xx_and_transport_back_off(void **state)
{
  static const w_step s[] = {{500, -1, "{}"}, {0, -1, NULL},
                             {503, -1, NULL}, {408, -1, NULL},
                             {502, 2000, NULL}, {201, -1, "{}"}};
  world w = {.rnd = 0};
  vs_rw_http h;
  vs_err err = {0};
  int attempts = 0;
  (void)state;
  assert_int_equal(post(&w, s, 6, (vs_rw_retry){0}, &h, &attempts, &err),
                   VS_OK);
  assert_int_equal(attempts, 6);
  assert_int_equal(h.status, 201);
  assert_int_equal(w.n_sleeps, 5);
  /* equal jitter with rnd 0: d/2 of 500, 1000, 2000, 4000; a 502's
   * Retry-After is not a 429/503's and does not count */
  assert_int_equal(w.sleeps[0], 250);
  assert_int_equal(w.sleeps[1], 500);
  assert_int_equal(w.sleeps[2], 1000);
  assert_int_equal(w.sleeps[3], 2000);
  assert_int_equal(w.sleeps[4], 4000);
  vs_rw_http_free(&h);
  w_free(&w);
}

static void test_never_retried(void **state)
{
  static const long final[] = {400, 401, 402, 403, 404, 200};
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
    w_step s[2] = {{final[i], -1, "{\"errors\":[]}"}, {200, -1, "{}"}};
    world w = {0};
    vs_rw_http h;
    vs_err err = {0};
    int attempts = 0;
    assert_int_equal(post(&w, s, 2, (vs_rw_retry){0}, &h, &attempts, &err),
                     VS_OK);
    assert_int_equal(h.status, final[i]);
    assert_int_equal(attempts, 1);
    assert_int_equal(w.sent, 1);
    assert_int_equal(w.n_sleeps, 0);
    vs_rw_http_free(&h);
    w_free(&w);
  }
}

static void test_attempts_run_out(void **state)
{
  static const w_step s[] = {{500, -1, NULL}, {500, -1, NULL},
                             {500, -1, NULL}, {500, -1, NULL}};
  static const w_step t[] = {{0, -1, NULL}, {0, -1, NULL}};
  world w = {.rnd = 1};
  vs_rw_http h;
  vs_err err = {0};
  int attempts = 0;
  (void)state;
  assert_int_equal(post(&w, s, 4, (vs_rw_retry){3, 100, 150, 0}, &h,
                        &attempts, &err), VS_ERR_NET);
  assert_int_equal(attempts, 3);
  assert_int_equal(w.sent, 3);
  assert_int_equal(h.status, 500);
  assert_non_null(strstr(err.msg, "HTTP 500 3 times"));
  /* base 100 then capped at 150: 50+1, 75+1 */
  assert_int_equal(w.n_sleeps, 2);
  assert_int_equal(w.sleeps[0], 51);
  assert_int_equal(w.sleeps[1], 76);
  vs_rw_http_free(&h);
  w_free(&w);

  memset(&w, 0, sizeof(w));
  assert_int_equal(post(&w, t, 2, (vs_rw_retry){2, 0, 0, 0}, &h, &attempts,
                        &err), VS_ERR_NET);
  assert_int_equal(attempts, 2);
  assert_non_null(strstr(err.msg, "could not be reached"));
  assert_non_null(strstr(err.msg, "connection refused"));
  vs_rw_http_free(&h);
  w_free(&w);
}

static void test_key_required(void **state)
{
  world w = {0};
  vs_rw_opts o;
  vs_rw_client *c = (vs_rw_client *)&w;
  vs_err err = {0};
  (void)state;
  w_opts(&w, &o);
  o.api_key = NULL;
  assert_int_equal(vs_rw_client_new(&c, &o, &err), VS_ERR_AUTH);
  assert_null(c);
  assert_non_null(strstr(err.msg, "RUNWARE_API_KEY"));
  o.api_key = "";
  assert_int_equal(vs_rw_client_new(&c, &o, &err), VS_ERR_AUTH);
  o.api_key = "abc\r\nX-Evil: 1";
  assert_int_equal(vs_rw_client_new(&c, &o, &err), VS_ERR_INVALID);
  assert_null(strstr(err.msg, "abc")); /* the key never reaches a message */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_retryable),
    cmocka_unit_test(test_backoff),
    cmocka_unit_test(test_retry_after_honoured),
    cmocka_unit_test(test_5xx_and_transport_back_off),
    cmocka_unit_test(test_never_retried),
    cmocka_unit_test(test_attempts_run_out),
    cmocka_unit_test(test_key_required),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
