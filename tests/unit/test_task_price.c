/* task: the price table and exact estimates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "util/dec.h"
#include "util/json.h"
#include "vsink/task.h"

#define UUID "aac49721-1964-481a-ae78-8a4e29b91402"

/* The estimate of a task built from options, as decimal text. */
static const char *estimate(vs_task_opts o, char out[VS_DEC_STRLEN])
{
  vs_task_errors errs;
  cJSON *task;
  vs_dec usd;
  if(!o.prompt)
    o.prompt = "a cat";
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_OK);
  assert_int_equal(vs_task_estimate(task, &usd), VS_OK);
  cJSON_Delete(task);
  vs_dec_format(usd, 2, out);
  return out;
}

static void test_table(void **state)
{
  vs_dec usd;
  char s[VS_DEC_STRLEN];
  (void)state;
  assert_int_equal(vs_price_per_second("480p", &usd), VS_OK);
  vs_dec_format(usd, 0, s);
  assert_string_equal(s, "0.0062");
  assert_int_equal(vs_price_per_second("720p", &usd), VS_OK);
  vs_dec_format(usd, 0, s);
  assert_string_equal(s, "0.014");
  assert_int_equal(vs_price_per_second("1080p", &usd), VS_OK);
  vs_dec_format(usd, 0, s);
  assert_string_equal(s, "0.0314");
  assert_int_equal(vs_price_per_second("4k", &usd), VS_ERR_INVALID);
  assert_int_equal(vs_price_per_second(NULL, &usd), VS_ERR_INVALID);
}

static void test_estimates(void **state)
{
  char s[VS_DEC_STRLEN];
  (void)state;
  /* the default duration is 5 s */
  assert_string_equal(estimate((vs_task_opts){.resolution = "720p"}, s),
                      "0.07");
  assert_string_equal(
    estimate((vs_task_opts){.resolution = "720p", .duration = "5"}, s),
    "0.07");
  assert_string_equal(estimate((vs_task_opts){.resolution = "480p",
                                              .duration = "7.3",
                                              .results = "3"},
                               s),
                      "0.13578");
  assert_string_equal(estimate((vs_task_opts){.resolution = "1080p",
                                              .duration = "12",
                                              .results = "4"},
                               s),
                      "1.5072");
  assert_string_equal(
    estimate((vs_task_opts){.resolution = "480p", .duration = "1.2"}, s),
    "0.00744");
  /* width x height priced by its class in the dimension table */
  assert_string_equal(estimate((vs_task_opts){.width = "1088",
                                              .height = "1920",
                                              .duration = "10"},
                               s),
                      "0.314");
  assert_string_equal(
    estimate((vs_task_opts){.width = "960", .height = "416"}, s), "0.031");
  assert_string_equal(
    estimate((vs_task_opts){.width = "960", .height = "960"}, s), "0.07");
  /* a frame image with a resolution is that class */
  assert_string_equal(estimate((vs_task_opts){.frame_image = UUID,
                                              .resolution = "480p"},
                               s),
                      "0.031");
}

/* A frame image alone: the output follows the image, so the estimate
 * assumes 1080p and says so. */
static void test_assumed_class(void **state)
{
  vs_task_opts o = {.prompt = "a cat", .frame_image = UUID, .results = "2"};
  vs_task_errors errs;
  cJSON *task;
  vs_dec usd;
  const char *cls, *note;
  int assumed;
  char s[VS_DEC_STRLEN];
  (void)state;
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_OK);
  assert_int_equal(vs_task_price_class(task, &cls, &assumed), VS_OK);
  assert_string_equal(cls, "1080p");
  assert_int_equal(assumed, 1);
  assert_int_equal(vs_task_estimate(task, &usd), VS_OK);
  vs_dec_format(usd, 2, s);
  assert_string_equal(s, "0.314");
  assert_int_equal(vs_task_estimate_one(task, &usd), VS_OK);
  vs_dec_format(usd, 2, s);
  assert_string_equal(s, "0.157");
  note = vs_task_estimate_note(task);
  assert_non_null(note);
  assert_non_null(strstr(note, "1080p"));
  assert_non_null(strstr(note, "upper bound"));
  cJSON_Delete(task);
  o.resolution = "720p";
  assert_int_equal(vs_task_build(&o, &task, &errs), VS_OK);
  assert_null(vs_task_estimate_note(task));
  assert_int_equal(vs_task_price_class(task, &cls, &assumed), VS_OK);
  assert_int_equal(assumed, 0);
  cJSON_Delete(task);
}

/* Tasks read back from JSON text (the fake API, the manifest) estimate the
 * same, whether parsed with their number text or by plain cJSON. */
static void test_from_json(void **state)
{
  static const char txt[] =
    "{\"taskType\":\"videoInference\",\"resolution\":\"480p\","
    "\"duration\":7.3,\"numberResults\":3}";
  cJSON *a = vs_json_parse(txt, strlen(txt)), *b = cJSON_Parse(txt);
  vs_dec x, y;
  (void)state;
  assert_int_equal(vs_task_estimate(a, &x), VS_OK);
  assert_int_equal(vs_task_estimate(b, &y), VS_OK);
  assert_true(x == y);
  assert_true(x == 1357800000); /* 0.13578 in 10^-10 USD */
  cJSON_Delete(a);
  cJSON_Delete(b);
}

static void test_unpriceable(void **state)
{
  static const char *const bad[] = {
    "{\"duration\":5}",
    "{\"resolution\":\"4k\"}",
    "{\"width\":1920,\"height\":1080}",
    "{\"width\":864}",
    "{\"resolution\":\"720p\",\"duration\":1.25}",
    "{\"resolution\":\"720p\",\"duration\":13}",
    "{\"resolution\":\"720p\",\"numberResults\":5}",
    "{\"resolution\":\"720p\",\"numberResults\":1.5}",
  };
  size_t i;
  vs_dec usd;
  (void)state;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cJSON *t = vs_json_parse(bad[i], strlen(bad[i]));
    if(vs_task_estimate(t, &usd) != VS_ERR_INVALID)
      fail_msg("%s was priced", bad[i]);
    cJSON_Delete(t);
  }
}

/* 10,000 results of 0.0315 each cost 315 exactly, costs read from API
 * bodies; a double accumulator does not get there. */
static void test_sum_exact(void **state)
{
  static const char body[] =
    "{\"data\":[{\"taskUUID\":\"" UUID "\",\"status\":\"success\","
    "\"cost\":0.0315}]}";
  vs_dec sum = 0;
  double fsum = 0;
  char s[VS_DEC_STRLEN];
  int i;
  (void)state;
  for(i = 0; i < 10000; i++) {
    vs_task_response r;
    vs_err err;
    assert_int_equal(vs_task_response_parse(body, strlen(body), &r, &err),
                     VS_OK);
    assert_int_equal(vs_dec_add(sum, r.items[0].cost, &sum), 0);
    vs_task_response_free(&r);
    fsum += 0.0315;
  }
  vs_dec_format(sum, 2, s);
  assert_string_equal(s, "315.00");
  print_message("exact sum %s; a double sums to %.17g\n", s, fsum);
  assert_true(fsum != 315.0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table),
    cmocka_unit_test(test_estimates),
    cmocka_unit_test(test_assumed_class),
    cmocka_unit_test(test_from_json),
    cmocka_unit_test(test_unpriceable),
    cmocka_unit_test(test_sum_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
