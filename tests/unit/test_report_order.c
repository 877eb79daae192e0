/* report: the order lines arrive in, and duplicates, change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_report_lines.h"
#include "util/clock.h"

#define GRACE (2LL * 3600 * 1000)
#define MAXL 256

typedef struct lines {
  char *v[MAXL];
  size_t n;
} lines;

static void push(lines *l, const char *s)
{
  assert_true(l->n < MAXL);
  l->v[l->n++] = strdup(s);
}

/* 20 tasks of one to three outputs in every state, from several writers. */
static void manifest(lines *l)
{
  int t, k;
  for(t = 1; t <= 20; t++) {
    int nres = 1 + t % 3;
    push(l, sub_line(at(t, 0), t, nres, "0.1500", "a prompt, with \\\"quotes\\\""));
    if(t % 5 == 0) {
      push(l, fail_line(at(t, 1), t, "invalidPrompt", "no"));
      continue;
    }
    for(k = 0; k < nres; k++) {
      if(t % 7 != 0)
        push(l, sto_line(at(t + 1, k), t, k, 1000 * t + k));
      if(t % 4 != 0)
        push(l, res_line(at(t + 1, 10 + k), t, k, "0.0500", "poll"));
    }
  }
  push(l, sto_line(at(50, 0), 99, 0, 5)); /* unexpected */
}

static char *csv_of(const lines *l, const size_t *order, size_t n)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  char *out = NULL;
  size_t len = 0, i;
  FILE *f = open_memstream(&out, &len);
  int64_t now;
  assert_int_equal(vs_time_parse_rfc3339("2026-11-24T13:00:00Z", &now), 0);
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  for(i = 0; i < n; i++)
    assert_int_equal(feed(r, l->v[order ? order[i] : i]), 0);
  assert_int_equal(vs_report_finish(r, now, GRACE, NULL), 0);
  assert_int_equal(vs_report_write(r, NULL, VS_REPORT_BY_NONE, VS_REPORT_CSV,
                                   f, NULL, NULL), 0);
  fclose(f);
  vs_report_free(r);
  return out;
}

static void free_lines(lines *l)
{
  size_t i;
  for(i = 0; i < l->n; i++)
    free(l->v[i]);
}

static void test_any_order_same_rows(void **state)
{
  lines l = {{0}, 0};
  size_t order[MAXL], i;
  char *base, *other;
  unsigned seed = 12345;
  int round;
  (void)state;
  manifest(&l);
  base = csv_of(&l, NULL, l.n);
  assert_non_null(strstr(base, "complete"));
  assert_non_null(strstr(base, "missing-upload"));
  assert_non_null(strstr(base, "failed"));
  assert_non_null(strstr(base, "unexpected-upload"));
  for(i = 0; i < l.n; i++)
    order[i] = l.n - 1 - i;
  other = csv_of(&l, order, l.n);
  assert_string_equal(base, other);
  free(other);
  for(round = 0; round < 5; round++) {
    for(i = 0; i < l.n; i++)
      order[i] = i;
    for(i = l.n - 1; i > 0; i--) {
      size_t j, t;
      seed = seed * 1103515245u + 12345u;
      j = (seed >> 8) % (i + 1);
      t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    other = csv_of(&l, order, l.n);
    assert_string_equal(base, other);
    free(other);
  }
  free(base);
  free_lines(&l);
}

/* Every event twice (a writer retried, poll and webhook both reported):
 * the same rows, the duplicates counted. */
static void test_duplicates_count_once(void **state)
{
  lines l = {{0}, 0};
  size_t order[2 * MAXL], i, n;
  char *base, *twice;
  vs_report_opts o = {1, 1};
  vs_report *r;
  vs_report_stats st;
  (void)state;
  manifest(&l);
  n = l.n;
  base = csv_of(&l, NULL, n);
  for(i = 0; i < n; i++) {
    order[2 * i] = i;
    order[2 * i + 1] = n - 1 - i;
  }
  /* csv_of takes order indices < MAXL: feed directly instead */
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  for(i = 0; i < 2 * n; i++)
    assert_int_equal(feed(r, l.v[order[i]]), 0);
  {
    int64_t now;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(vs_time_parse_rfc3339("2026-11-24T13:00:00Z", &now), 0);
    assert_int_equal(vs_report_finish(r, now, GRACE, NULL), 0);
    assert_int_equal(vs_report_write(r, NULL, 0, VS_REPORT_CSV, f, NULL,
                                     NULL), 0);
    fclose(f);
    twice = out;
  }
  assert_string_equal(base, twice);
  vs_report_get_stats(r, &st);
  assert_int_equal(st.lines, 2 * n);
  /* every result and stored line came twice */
  assert_int_equal(st.duplicates, (st.results + st.stored) / 2);
  vs_report_free(r);
  free(base);
  free(twice);
  free_lines(&l);
}

/* A poll result without cost and a webhook with it: the cost is kept
 * whichever came first. */
static void test_duplicate_keeps_cost(void **state)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  rowset s;
  char nocost[LINE_MAX_BYTES], *p;
  int64_t now;
  (void)state;
  snprintf(nocost, sizeof(nocost), "%s",
           res_line(at(1, 0), 1, 0, "0.0668", "poll"));
  p = strstr(nocost, ",\"cost\":\"0.0668\"");
  assert_non_null(p);
  memmove(p, p + 15, strlen(p + 15) + 1);
  assert_int_equal(vs_time_parse_rfc3339(at(5, 0), &now), 0);
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 1, 1, "0.0668", "x")), 0);
  assert_int_equal(feed(r, nocost), 0);
  assert_int_equal(feed(r, res_line(at(2, 0), 1, 0, "0.0668", "webhook")), 0);
  assert_int_equal(feed(r, sto_line(at(1, 0), 1, 0, 10)), 0);
  assert_int_equal(vs_report_finish(r, now, GRACE, NULL), 0);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_true(s.v[0].has_cost);
  assert_int_equal(s.v[0].cost, 668000000);
  free(s.v);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_any_order_same_rows),
    cmocka_unit_test(test_duplicates_count_once),
    cmocka_unit_test(test_duplicate_keeps_cost),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
