/* report: grouping by day, model, resolution, status and prefix; totals;
 * status filters and time windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_report_lines.h"
#include "util/clock.h"
#include "util/dec.h"

#define GRACE (2LL * 3600 * 1000)

static int64_t ms(const char *t)
{
  int64_t v = 0;
  assert_int_equal(vs_time_parse_rfc3339(t, &v), 0);
  return v;
}

/* s with every `from` replaced by `to`, in a static buffer. */
static const char *repl(const char *s, const char *from, const char *to)
{
  static char b[2][LINE_MAX_BYTES];
  static int i;
  char *o = b[i++ & 1], *w = o;
  const char *p;
  size_t fl = strlen(from), tl = strlen(to);
  while((p = strstr(s, from))) {
    memcpy(w, s, (size_t)(p - s));
    w += p - s;
    memcpy(w, to, tl);
    w += tl;
    s = p + fl;
  }
  strcpy(w, s);
  return o;
}

static const char *day2(const char *line)
{
  return repl(line, "2026-11-24T", "2026-11-25T");
}

/* Day 1: tasks 1-3 at 720p, complete (0.0668 each, 5 s, 100 bytes).
 * Day 2: task 4 at 864x480 of another model, 2 outputs, one complete
 *        (0.0310), one missing; task 5 failed. */
static vs_report *build(int detail)
{
  vs_report_opts o = {detail, 1};
  vs_report *r;
  int t;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  for(t = 1; t <= 3; t++) {
    assert_int_equal(feed(r, sub_line(at(0, 0), t, 1, "0.0668", "p")), 0);
    assert_int_equal(feed(r, res_line(at(1, 0), t, 0, "0.0668", "poll")), 0);
    assert_int_equal(feed(r, sto_line(at(1, 0), t, 0, 100)), 0);
  }
  assert_int_equal(
    feed(r, day2(repl(repl(sub_line(at(0, 0), 4, 2, "0.0620", "q"),
                           "\"resolution\":\"720p\"",
                           "\"width\":864,\"height\":480"),
                      "bytedance:2@2", "other:1@1"))),
    0);
  assert_int_equal(feed(r, day2(res_line(at(1, 0), 4, 0, "0.0310", "poll"))),
                   0);
  assert_int_equal(feed(r, day2(sto_line(at(1, 0), 4, 0, 1000))), 0);
  assert_int_equal(feed(r, day2(sub_line(at(0, 0), 5, 1, "0.0668", "f"))), 0);
  assert_int_equal(feed(r, day2(fail_line(at(0, 1), 5, "x", "y"))), 0);
  assert_int_equal(vs_report_finish(r, ms("2026-11-26T00:00:00Z"), GRACE,
                                    NULL), 0);
  return r;
}

static void dec_is(vs_dec d, const char *want)
{
  char out[VS_DEC_STRLEN];
  vs_dec_format(d, 4, out);
  assert_string_equal(out, want);
}

static void test_by_day(void **state)
{
  vs_report *r = build(0);
  vs_report_group *g, total;
  size_t n;
  (void)state;
  assert_int_equal(vs_report_groups(r, NULL, VS_REPORT_BY_DAY, &g, &n,
                                    &total, NULL), 0);
  assert_int_equal(n, 2);
  assert_string_equal(g[0].name, "2026-11-24");
  assert_int_equal(g[0].outputs, 3);
  dec_is(g[0].actual, "0.2004");
  dec_is(g[0].estimated, "0.2004");
  dec_is(g[0].seconds, "15.0000");
  assert_int_equal(g[0].bytes, 300);
  assert_int_equal(g[0].problems, 0);
  assert_string_equal(g[1].name, "2026-11-25");
  assert_int_equal(g[1].outputs, 3);
  dec_is(g[1].actual, "0.0310");
  dec_is(g[1].estimated, "0.1288");
  assert_int_equal(g[1].bytes, 1000);
  assert_int_equal(g[1].problems, 2);
  assert_string_equal(total.name, "TOTAL");
  assert_int_equal(total.outputs, 6);
  dec_is(total.actual, "0.2314");
  dec_is(total.estimated, "0.3292");
  assert_int_equal(total.bytes, 1300);
  assert_int_equal(total.problems, 2);
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  vs_report_free(r);
}

static void test_by_other_keys(void **state)
{
  vs_report *r = build(1);
  vs_report_group *g, total;
  size_t n;
  (void)state;
  assert_int_equal(vs_report_groups(r, NULL, VS_REPORT_BY_RESOLUTION, &g, &n,
                                    &total, NULL), 0);
  assert_int_equal(n, 2);
  assert_string_equal(g[0].name, "720p");
  assert_int_equal(g[0].outputs, 4);
  assert_string_equal(g[1].name, "864x480");
  assert_int_equal(g[1].outputs, 2);
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  assert_int_equal(vs_report_groups(r, NULL, VS_REPORT_BY_MODEL, &g, &n,
                                    &total, NULL), 0);
  assert_int_equal(n, 2);
  assert_string_equal(g[0].name, "bytedance:2@2");
  assert_string_equal(g[1].name, "other:1@1");
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  assert_int_equal(vs_report_groups(r, NULL, VS_REPORT_BY_STATUS, &g, &n,
                                    &total, NULL), 0);
  assert_int_equal(n, 3);
  assert_string_equal(g[0].name, "complete");
  assert_int_equal(g[0].outputs, 4);
  assert_string_equal(g[1].name, "failed");
  assert_string_equal(g[2].name, "missing-upload");
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  assert_int_equal(vs_report_groups(r, NULL, VS_REPORT_BY_PREFIX, &g, &n,
                                    &total, NULL), 0);
  assert_int_equal(n, 2);
  assert_string_equal(g[0].name, "(none)");
  assert_int_equal(g[0].outputs, 2);
  assert_string_equal(g[1].name, "out/");
  assert_int_equal(g[1].outputs, 4);
  assert_int_equal(g[1].bytes, 1300);
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  vs_report_free(r);
}

static void test_status_filter(void **state)
{
  vs_report *r = build(1);
  vs_report_filter f;
  rowset s;
  size_t i;
  (void)state;
  vs_report_filter_init(&f);
  f.status_mask = 1u << VS_REPORT_FAILED | 1u << VS_REPORT_MISSING_UPLOAD;
  s = collect(r, &f);
  assert_int_equal(s.n, 2);
  for(i = 0; i < s.n; i++)
    assert_true(s.v[i].status == VS_REPORT_FAILED ||
                s.v[i].status == VS_REPORT_MISSING_UPLOAD);
  free(s.v);
  f.status_mask = 1u << VS_REPORT_WAITING;
  s = collect(r, &f);
  assert_int_equal(s.n, 0);
  free(s.v);
  vs_report_free(r);
}

/* since <= time < until, on the row's submission time. */
static void test_time_window(void **state)
{
  vs_report *r = build(1);
  vs_report_filter f;
  vs_report_group *g, total;
  size_t n;
  rowset s;
  (void)state;
  vs_report_filter_init(&f);
  f.since_ms = ms("2026-11-25");
  s = collect(r, &f);
  assert_int_equal(s.n, 3);
  free(s.v);
  f.since_ms = INT64_MIN;
  f.until_ms = ms("2026-11-25");
  s = collect(r, &f);
  assert_int_equal(s.n, 3);
  assert_string_equal(s.v[0].task_uuid, tid(1));
  free(s.v);
  /* exactly the submission time is in; a millisecond later is out */
  f.since_ms = ms(at(0, 0));
  f.until_ms = f.since_ms + 1;
  s = collect(r, &f);
  assert_int_equal(s.n, 3);
  free(s.v);
  f.since_ms++;
  f.until_ms++;
  s = collect(r, &f);
  assert_int_equal(s.n, 0);
  free(s.v);
  /* groups honour the window too */
  vs_report_filter_init(&f);
  f.since_ms = ms("2026-11-25");
  assert_int_equal(vs_report_groups(r, &f, VS_REPORT_BY_DAY, &g, &n, &total,
                                    NULL), 0);
  assert_int_equal(n, 1);
  assert_int_equal(total.outputs, 3);
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  vs_report_free(r);
}

/* The summary counts the rows written and their problems: what decides
 * the command's exit status. */
static void test_summary_counts_problems(void **state)
{
  vs_report *r = build(1);
  vs_report_filter f;
  vs_report_summary sum;
  FILE *null = fopen("/dev/null", "w");
  (void)state;
  assert_non_null(null);
  assert_int_equal(vs_report_write(r, NULL, 0, VS_REPORT_JSONL, null, &sum,
                                   NULL), 0);
  assert_int_equal(sum.rows, 6);
  assert_int_equal(sum.problems, 2);
  vs_report_filter_init(&f);
  f.status_mask = 1u << VS_REPORT_COMPLETE;
  assert_int_equal(vs_report_write(r, &f, VS_REPORT_BY_DAY, VS_REPORT_CSV,
                                   null, &sum, NULL), 0);
  assert_int_equal(sum.rows, 4);
  assert_int_equal(sum.problems, 0);
  fclose(null);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_by_day),
    cmocka_unit_test(test_by_other_keys),
    cmocka_unit_test(test_status_filter),
    cmocka_unit_test(test_time_window),
    cmocka_unit_test(test_summary_counts_problems),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
