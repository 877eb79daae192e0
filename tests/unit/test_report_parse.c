/* report: lines the fold skips (and says why), lines it must decode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_report_lines.h"
#include "util/clock.h"

#define GRACE (2LL * 3600 * 1000)

static vs_report *fresh(void)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  return r;
}

static void expect_skipped(const char *line, const char *why)
{
  vs_report *r = fresh();
  vs_report_stats st;
  rowset s;
  assert_int_equal(vs_report_add_line(r, line, strlen(line), "seg:7", NULL),
                   0);
  assert_int_equal(vs_report_finish(r, 0, GRACE, NULL), 0);
  vs_report_get_stats(r, &st);
  assert_int_equal(st.lines, 1);
  assert_int_equal(st.malformed, 1);
  if(!strstr(st.first_problem, why) || strncmp(st.first_problem, "seg:7", 5))
    fail_msg("'%s': got '%s', want '%s'", line, st.first_problem, why);
  s = collect(r, NULL);
  assert_int_equal(s.n, 0);
  free(s.v);
  vs_report_free(r);
}

static void test_malformed_lines(void **state)
{
  char l[LINE_MAX_BYTES];
  (void)state;
  expect_skipped("", "not a JSON object");
  expect_skipped("garbage", "not a JSON object");
  expect_skipped("[1,2]", "not a JSON object");
  expect_skipped("{\"v\":1,\"event\":\"result\"", "not a JSON object");
  expect_skipped("{\"v\":1,\"event\":\"result\",}", "not a JSON object");
  expect_skipped("{\"v\":1,\"event\":\"res\\x\"}", "not a JSON object");
  expect_skipped("{\"v\":1} trailing", "text after the JSON object");
  expect_skipped("{\"v\":2,\"event\":\"result\"}", "\"v\" is not 1");
  expect_skipped("{\"event\":\"result\"}", "\"v\" is not 1");
  expect_skipped("{\"v\":1,\"event\":7}", "\"event\" is not a string");
  snprintf(l, sizeof(l), "%s", res_line("yesterday", 1, 0, "0.1", "poll"));
  expect_skipped(l, "\"time\" is not an RFC 3339 time");
  snprintf(l, sizeof(l), "%s", res_line("2026-02-30T00:00:00.000Z", 1, 0,
                                        "0.1", "poll"));
  expect_skipped(l, "\"time\" is not an RFC 3339 time");
  snprintf(l, sizeof(l), "%s", res_line(at(0, 0), 1, 0, "0.1", "poll"));
  memcpy(strstr(l, "taskUUID\":\"") + 11, "zz", 2);
  expect_skipped(l, "taskUUID is not a UUID");
  snprintf(l, sizeof(l), "%s", res_line(at(0, 0), 1, 0, "0.1", "poll"));
  memcpy(strstr(l, "videoUUID\":\"") + 12, "-", 1);
  expect_skipped(l, "videoUUID is not a UUID");
  expect_skipped("{\"v\":1,\"event\":\"failed\",\"time\":\"2026-11-24\"}",
                 "taskUUID is missing");
  snprintf(l, sizeof(l), "%s", sto_line(at(0, 0), 1, 0, 50));
  memcpy(strstr(l, "\"bytes\":50"), "\"bytes\":-5", 10);
  expect_skipped(l, "bytes is not a non-negative integer");
  snprintf(l, sizeof(l), "%s", ver_line(at(0, 0), 1, 0, NULL));
  memcpy(strstr(l, "\"ok\":true"), "\"ok\":null", 9);
  expect_skipped(l, "ok is not a boolean");
  /* nesting deeper than any event has */
  {
    char deep[600] = "{\"v\":1,\"x\":";
    int i;
    for(i = 0; i < 100; i++)
      strcat(deep, "[");
    for(i = 0; i < 100; i++)
      strcat(deep, "]");
    strcat(deep, "}");
    expect_skipped(deep, "not a JSON object");
  }
}

/* Kinds of event the fold does not know are counted, not errors; fields it
 * does not know are ignored wherever they are. */
static void test_unknown_and_extra(void **state)
{
  vs_report *r = fresh();
  vs_report_stats st;
  rowset s;
  const char *odd =
    "{\"v\":1,\"event\":\"rotated\",\"time\":\"2026-11-24T10:00:00.000Z\"}";
  char l[LINE_MAX_BYTES];
  (void)state;
  assert_int_equal(feed(r, odd), 0);
  /* an extra nested field, fields in another order, spaces */
  snprintf(l, sizeof(l),
           " { \"event\" : \"result\" , \"extra\" : {\"a\":[1,{\"b\":null}]},"
           " \"taskUUID\":\"%s\", \"v\" : 1, \"time\":\"2026-11-24T12:00:00"
           "+02:00\", \"videoUUID\":\"%s\", \"cost\": 0.5 } ",
           tid(1), vid(1, 0));
  assert_int_equal(feed(r, l), 0);
  assert_int_equal(vs_report_finish(r, 0, GRACE, NULL), 0);
  vs_report_get_stats(r, &st);
  assert_int_equal(st.unknown, 1);
  assert_int_equal(st.malformed, 0);
  assert_int_equal(st.results, 1);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].cost, 5000000000LL);
  assert_int_equal(s.v[0].time_ms, 1795514400000LL); /* 10:00Z */
  free(s.v);
  vs_report_free(r);
}

/* Escapes in prompts and keys come out as the text they stand for. */
static void test_escapes_decoded(void **state)
{
  vs_report *r = fresh();
  rowset s;
  int64_t now;
  (void)state;
  assert_int_equal(
    feed(r, sub_line(at(0, 0), 1, 1, "0.1",
                     "a \\\"quoted\\\", comma\\nline \\u00e9 \\ud83c\\udfac "
                     "\\/\\\\\\t\\ud800")),
    0);
  assert_int_equal(vs_time_parse_rfc3339(at(0, 0), &now), 0);
  assert_int_equal(vs_report_finish(r, now, GRACE, NULL), 0);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.v[0].prompt, "a \"quoted\", comma\nline \xc3\xa9 "
                                     "\xf0\x9f\x8e\xac /\\\t\xef\xbf\xbd");
  free(s.v);
  vs_report_free(r);
}

static void test_torn_counted(void **state)
{
  vs_report *r = fresh();
  vs_report_stats st;
  (void)state;
  vs_report_add_torn(r, "seg-a.jsonl", 4096, 33);
  assert_int_equal(vs_report_finish(r, 0, GRACE, NULL), 0);
  vs_report_get_stats(r, &st);
  assert_int_equal(st.torn, 1);
  assert_string_equal(st.first_problem,
                      "seg-a.jsonl: torn line of 33 bytes at byte 4096");
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_malformed_lines),
    cmocka_unit_test(test_unknown_and_extra),
    cmocka_unit_test(test_escapes_decoded),
    cmocka_unit_test(test_torn_counted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
