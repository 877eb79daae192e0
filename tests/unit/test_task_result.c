/* task: parsing the API's answers ({"data"}, {"errors"}, both), with exact
 * seeds and costs and a precise error for anything malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/dec.h"
#include "vsink/task.h"

#define U1 "aac49721-1964-481a-ae78-8a4e29b91402"
#define U2 "0b7e2f4c-6a51-4d2e-9f3a-1c2b3d4e5f60"

static int parse(const char *body, vs_task_response *r, vs_err *err)
{
  return vs_task_response_parse(body, strlen(body), r, err);
}

static void cost_is(vs_dec c, const char *want)
{
  char s[VS_DEC_STRLEN];
  vs_dec_format(c, 0, s);
  assert_string_equal(s, want);
}

static void test_data(void **state)
{
  vs_task_response r;
  vs_err err;
  const vs_task_item *it;
  (void)state;
  assert_int_equal(
    parse("{\"data\":[{\"taskType\":\"videoInference\",\"taskUUID\":\"" U1
          "\"},{\"taskType\":\"videoInference\",\"taskUUID\":\"" U2 "\","
          "\"status\":\"success\",\"videoUUID\":\"" U1 "\","
          "\"videoURL\":\"https://im.example/v.mp4\",\"seed\":"
          "9223372036854775807,\"cost\":0.0668,\"NSFWContent\":false,"
          "\"somethingNew\":[1,{\"x\":2}]},{\"taskUUID\":\"" U1 "\","
          "\"status\":\"processing\",\"videoURL\":null}]}",
          &r, &err),
    VS_OK);
  assert_int_equal(r.n_items, 3);
  assert_int_equal(r.n_errors, 0);
  it = &r.items[0];
  assert_string_equal(it->task_type, "videoInference");
  assert_string_equal(it->task_uuid, U1);
  assert_int_equal(it->status, VS_TASK_STATUS_NONE);
  assert_false(it->has_seed || it->has_cost || it->has_nsfw);
  assert_null(it->video_url);
  it = &r.items[1];
  assert_int_equal(it->status, VS_TASK_STATUS_SUCCESS);
  assert_string_equal(it->video_uuid, U1);
  assert_string_equal(it->video_url, "https://im.example/v.mp4");
  assert_true(it->has_seed);
  assert_true(it->seed == INT64_MAX);
  assert_true(it->has_cost);
  cost_is(it->cost, "0.0668");
  assert_true(it->has_nsfw);
  assert_false(it->nsfw);
  it = &r.items[2];
  assert_int_equal(it->status, VS_TASK_STATUS_PROCESSING);
  assert_null(it->video_url);
  vs_task_response_free(&r);
  assert_int_equal(r.n_items, 0);
}

static void test_errors(void **state)
{
  vs_task_response r;
  vs_err err;
  const vs_task_api_error *e;
  (void)state;
  assert_int_equal(
    parse("{\"errors\":[{\"code\":\"invalidOutputFormat\",\"message\":"
          "\"Invalid value for outputFormat\",\"parameter\":\"outputFormat\","
          "\"type\":\"string\",\"taskType\":\"videoInference\",\"taskUUID\":"
          "\"" U1 "\",\"documentation\":\"https://docs.example/x\","
          "\"allowedValues\":[\"MP4\",\"WEBM\",\"MOV\"],\"status\":\"error\"},"
          "{\"code\":\"conflictTaskUUID\",\"taskUUID\":\"" U2 "\"}]}",
          &r, &err),
    VS_OK);
  assert_int_equal(r.n_items, 0);
  assert_int_equal(r.n_errors, 2);
  e = &r.errors[0];
  assert_string_equal(e->code, "invalidOutputFormat");
  assert_string_equal(e->message, "Invalid value for outputFormat");
  assert_string_equal(e->parameter, "outputFormat");
  assert_string_equal(e->type, "string");
  assert_string_equal(e->task_type, "videoInference");
  assert_string_equal(e->task_uuid, U1);
  assert_string_equal(e->documentation, "https://docs.example/x");
  assert_string_equal(e->allowed_values, "[\"MP4\",\"WEBM\",\"MOV\"]");
  assert_int_equal(e->status, VS_TASK_STATUS_ERROR);
  e = &r.errors[1];
  assert_string_equal(e->code, "conflictTaskUUID");
  assert_null(e->message);
  assert_null(e->allowed_values);
  assert_int_equal(e->status, VS_TASK_STATUS_NONE);
  vs_task_response_free(&r);
}

/* A batch: one task accepted, one refused, in one body. */
static void test_both(void **state)
{
  vs_task_response r;
  vs_err err;
  (void)state;
  assert_int_equal(parse("{\"data\":[{\"taskType\":\"videoInference\","
                         "\"taskUUID\":\"" U1 "\"}],\"errors\":[{\"code\":"
                         "\"invalidDuration\",\"parameter\":\"duration\","
                         "\"taskUUID\":\"" U2 "\",\"allowedValues\":{\"min\":"
                         "1.2,\"max\":12}}]}",
                         &r, &err),
                   VS_OK);
  assert_int_equal(r.n_items, 1);
  assert_int_equal(r.n_errors, 1);
  assert_string_equal(r.items[0].task_uuid, U1);
  assert_string_equal(r.errors[0].task_uuid, U2);
  assert_string_equal(r.errors[0].allowed_values, "{\"min\":1.2,\"max\":12}");
  vs_task_response_free(&r);
  /* empty arrays are answers too */
  assert_int_equal(parse("{\"data\":[],\"errors\":null}", &r, &err), VS_OK);
  assert_int_equal(r.n_items + r.n_errors, 0);
  vs_task_response_free(&r);
}

/* Seeds and costs come from the number's text, never from its double. */
static void test_exact_numbers(void **state)
{
  static const struct {
    const char *seed, *cost, *want_cost;
  } ok[] = {
    {"0", "0", "0"},
    {"9007199254740993", "0.0315", "0.0315"}, /* 2^53+1: a double says ...992 */
    {"4294967295", "6.68e-2", "0.0668"},
    {"1", "1E1", "10"},
    {"12", "0.06680000000000", "0.0668"},
    {"12", "0.0000000001", "0.0000000001"},
    {"12", "125.5e-3", "0.1255"},
  };
  size_t i;
  char body[512];
  (void)state;
  for(i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    vs_task_response r;
    vs_err err;
    char seed[24];
    snprintf(body, sizeof(body),
             "{\"data\":[{\"taskUUID\":\"" U1 "\",\"seed\":%s,\"cost\":%s}]}",
             ok[i].seed, ok[i].cost);
    if(parse(body, &r, &err))
      fail_msg("%s: %s", body, err.msg);
    snprintf(seed, sizeof(seed), "%lld", (long long)r.items[0].seed);
    assert_string_equal(seed, ok[i].seed);
    cost_is(r.items[0].cost, ok[i].want_cost);
    vs_task_response_free(&r);
  }
}

/* Everything wrong gets refused with a message that points at it, and
 * leaves nothing behind. */
static void test_refused(void **state)
{
  static const struct {
    const char *body, *msg;
  } bad[] = {
    {"", "not valid JSON"},
    {"{", "not valid JSON"},
    {"{\"data\":[]} x", "not valid JSON"},
    {"[{\"taskUUID\":\"" U1 "\"}]", "body: expected an object, got an array"},
    {"{}", "neither data nor errors"},
    {"{\"data\":null}", "neither data nor errors"},
    {"{\"data\":{}}", "data: expected an array, got an object"},
    {"{\"errors\":\"boom\"}", "errors: expected an array, got a string"},
    {"{\"data\":[1]}", "data[0]: expected an object, got a number"},
    {"{\"data\":[{}]}", "data[0]: taskUUID is missing"},
    {"{\"data\":[{\"taskUUID\":7}]}",
     "data[0].taskUUID: expected a string, got a number"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\"},{\"taskUUID\":\"" U2
     "\",\"status\":\"done\"}]}",
     "data[1].status: \"done\" is not processing, success or error"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"status\":true}]}",
     "data[0].status: expected a string, got a boolean"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"seed\":\"42\"}]}",
     "data[0].seed: expected a number, got a string"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"seed\":9223372036854775808}]}",
     "data[0].seed: 9223372036854775808 is not an integer"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"seed\":-1}]}",
     "data[0].seed: -1 is not an integer"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"seed\":1.5}]}",
     "data[0].seed: 1.5 is not an integer"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"seed\":1e3}]}",
     "data[0].seed: 1e3 is not an integer"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"cost\":\"0.0668\"}]}",
     "data[0].cost: expected a number, got a string"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"cost\":-0.5}]}",
     "data[0].cost: -0.5 is not a non-negative decimal"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"cost\":0.00000000001}]}",
     "data[0].cost: 0.00000000001 is not a non-negative decimal"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"cost\":1e300}]}",
     "data[0].cost: 1e300 is not"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"NSFWContent\":\"no\"}]}",
     "data[0].NSFWContent: expected a boolean, got a string"},
    {"{\"data\":[{\"taskUUID\":\"" U1 "\",\"videoURL\":[]}]}",
     "data[0].videoURL: expected a string, got an array"},
    {"{\"errors\":[{\"code\":5}]}",
     "errors[0].code: expected a string, got a number"},
    {"{\"errors\":[[]]}", "errors[0]: expected an object, got an array"},
    {"{\"data\":[],\"errors\":[{\"message\":{}}]}",
     "errors[0].message: expected a string, got an object"},
  };
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    vs_task_response r;
    vs_err err = {0};
    int rc = parse(bad[i].body, &r, &err);
    if(rc != VS_ERR_INVALID || !strstr(err.msg, bad[i].msg))
      fail_msg("%s: rc %d, \"%s\", want \"%s\"", bad[i].body, rc, err.msg,
               bad[i].msg);
    assert_int_equal(r.n_items + r.n_errors, 0);
    assert_null(r.items);
    vs_task_response_free(&r); /* harmless on an emptied response */
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_data),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_both),
    cmocka_unit_test(test_exact_numbers),
    cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
