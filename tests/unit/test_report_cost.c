/* report: money adds up exactly, to the last digit. */
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

/* 10,000 outputs at 0.0315 (a binary float would drift): 315.0000, and
 * each result reported twice still counts once. */
static void test_small_costs_sum_exactly(void **state)
{
  vs_report_opts o = {0, 1};
  vs_report *r;
  vs_report_group *g, total;
  size_t n;
  char out[VS_DEC_STRLEN];
  int t;
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  for(t = 1; t <= 10000; t++) {
    assert_int_equal(feed(r, sub_line(at(0, 0), t, 1, "0.0315", "p")), 0);
    assert_int_equal(feed(r, res_line(at(1, 0), t, 0, "0.0315", "poll")), 0);
    assert_int_equal(feed(r, res_line(at(1, 1), t, 0, "0.0315", "webhook")),
                     0);
    assert_int_equal(feed(r, sto_line(at(1, 2), t, 0, 1)), 0);
  }
  assert_int_equal(vs_report_finish(r, ms(at(2, 0)), GRACE, NULL), 0);
  assert_int_equal(vs_report_groups(r, NULL, VS_REPORT_BY_STATUS, &g, &n,
                                    &total, NULL), 0);
  assert_int_equal(n, 1);
  assert_string_equal(g[0].name, "complete");
  assert_int_equal(total.outputs, 10000);
  vs_dec_format(total.actual, 4, out);
  assert_string_equal(out, "315.0000");
  vs_dec_format(total.estimated, 4, out);
  assert_string_equal(out, "315.0000");
  vs_dec_format(total.seconds, 0, out);
  assert_string_equal(out, "50000");
  assert_int_equal(total.bytes, 10000);
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  vs_report_free(r);
}

/* 0.0100 over three outputs: 0.0033333334 + 0.0033333333 * 2, which adds
 * back to the task's estimate exactly. */
static void test_estimate_split_adds_back(void **state)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  rowset s;
  vs_dec sum = 0;
  char out[VS_DEC_STRLEN];
  size_t i;
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 1, 3, "0.0100", "p")), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 2, 4, "0.0668", "p")), 0);
  assert_int_equal(vs_report_finish(r, ms(at(0, 0)), GRACE, NULL), 0);
  s = collect(r, NULL);
  assert_int_equal(s.n, 7);
  assert_int_equal(s.v[0].estimate, 33333334);
  assert_int_equal(s.v[1].estimate, 33333333);
  assert_int_equal(s.v[2].estimate, 33333333);
  for(i = 0; i < s.n; i++)
    sum += s.v[i].estimate;
  vs_dec_format(sum, 4, out);
  assert_string_equal(out, "0.0768");
  free(s.v);
  vs_report_free(r);
}

/* Costs that are not exact decimals are refused, not rounded. */
static void test_inexact_cost_refused(void **state)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  vs_report_stats st;
  rowset s;
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, res_line(at(0, 0), 1, 0, "0.1.2", "poll")), 0);
  assert_int_equal(feed(r, res_line(at(0, 0), 2, 0, "1e-3", "poll")), 0);
  assert_int_equal(feed(r, res_line(at(0, 0), 3, 0, "0.00000000001",
                                    "poll")), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 4, 1, "abc", "p")), 0);
  assert_int_equal(vs_report_finish(r, ms(at(0, 0)), GRACE, NULL), 0);
  vs_report_get_stats(r, &st);
  assert_int_equal(st.malformed, 4);
  assert_non_null(strstr(st.first_problem, "cost is not an exact decimal"));
  s = collect(r, NULL);
  assert_int_equal(s.n, 0);
  free(s.v);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_small_costs_sum_exactly),
    cmocka_unit_test(test_estimate_split_adds_back),
    cmocka_unit_test(test_inexact_cost_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
