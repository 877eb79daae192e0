/* report: every status, from hand-built manifest lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_report_lines.h"
#include "util/clock.h"

#define GRACE (2LL * 3600 * 1000)

static int64_t ms(const char *t)
{
  int64_t v = 0;
  assert_int_equal(vs_time_parse_rfc3339(t, &v), 0);
  return v;
}

/* now is 13:00; the grace is 2 h, so what happened before 11:00 is late. */
static vs_report *build(void)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  const char *stray =
    "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-11-24T10:30:00.000Z\","
    "\"node\":\"sink-0\",\"bucket\":\"b\",\"key\":\"stray.mp4\","
    "\"versionId\":\"s1\",\"bytes\":7,\"sha256\":\"" /* no taskUUID */
    "0000000000000000000000000000000000000000000000000000000000000007\","
    "\"contentType\":\"video/mp4\",\"etag\":\"x\",\"remote\":\"10.0.0.9\"}";
  int t;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  /* 1 complete */
  assert_int_equal(feed(r, sub_line(at(0, 0), 1, 1, "0.0668", "one")), 0);
  assert_int_equal(feed(r, sto_line(at(4, 0), 1, 0, 1000)), 0);
  assert_int_equal(feed(r, res_line(at(5, 0), 1, 0, "0.0668", "poll")), 0);
  /* 2 waiting: submitted at 12:10, nothing yet */
  assert_int_equal(feed(r, sub_line(at(130, 0), 2, 1, "0.0668", "two")), 0);
  /* 3 paid at 10:10, no upload by 12:10: missing */
  assert_int_equal(feed(r, sub_line(at(0, 0), 3, 1, "0.0668", "three")), 0);
  assert_int_equal(feed(r, res_line(at(10, 0), 3, 0, "0.0668", "webhook")), 0);
  /* 4 paid at 11:40: its upload may still come */
  assert_int_equal(feed(r, sub_line(at(0, 0), 4, 1, "0.0668", "four")), 0);
  assert_int_equal(feed(r, res_line(at(100, 0), 4, 0, "0.0668", "poll")), 0);
  /* 5 never answered */
  assert_int_equal(feed(r, sub_line(at(0, 0), 5, 1, "0.0668", "five")), 0);
  /* 6 uploaded, no result */
  assert_int_equal(feed(r, sub_line(at(0, 0), 6, 1, "0.0668", "six")), 0);
  assert_int_equal(feed(r, sto_line(at(10, 0), 6, 0, 600)), 0);
  /* 7 an upload and a result for a task no one submitted */
  assert_int_equal(feed(r, sto_line(at(20, 0), 7, 0, 700)), 0);
  assert_int_equal(feed(r, res_line(at(21, 0), 7, 0, "0.0100", "poll")), 0);
  /* 8 refused by the API */
  assert_int_equal(feed(r, sub_line(at(0, 0), 8, 1, "0.0668", "eight")), 0);
  assert_int_equal(feed(r, fail_line(at(0, 1), 8, "invalidWidth",
                                     "width must be one of ...")), 0);
  /* 9, 10, 11: complete, then verified */
  for(t = 9; t <= 11; t++) {
    assert_int_equal(feed(r, sub_line(at(0, 0), t, 1, "0.0668", "v")), 0);
    assert_int_equal(feed(r, sto_line(at(3, 0), t, 0, 900)), 0);
    assert_int_equal(feed(r, res_line(at(4, 0), t, 0, "0.0668", "poll")), 0);
  }
  assert_int_equal(feed(r, ver_line(at(60, 0), 9, 0, "checksum-mismatch")), 0);
  assert_int_equal(feed(r, ver_line(at(60, 0), 10, 0, "missing-object")), 0);
  /* 11: bad once, proven intact later (fed first: order must not matter) */
  assert_int_equal(feed(r, ver_line(at(90, 0), 11, 0, NULL)), 0);
  assert_int_equal(feed(r, ver_line(at(60, 0), 11, 0, "checksum-mismatch")), 0);
  assert_int_equal(feed(r, stray), 0);
  assert_int_equal(vs_report_finish(r, ms("2026-11-24T13:00:00Z"), GRACE,
                                    NULL), 0);
  return r;
}

static const vs_report_row *one(const rowset *s, int t)
{
  const vs_report_row *row[4];
  assert_int_equal(rows_of(s, t, row, 4), 1);
  return row[0];
}

static void test_statuses(void **state)
{
  vs_report *r = build();
  rowset s = collect(r, NULL);
  const vs_report_row *w;
  size_t i;
  int stray = 0;
  (void)state;
  assert_int_equal(s.n, 12);
  w = one(&s, 1);
  assert_int_equal(w->status, VS_REPORT_COMPLETE);
  assert_string_equal(w->video_uuid, vid(1, 0));
  assert_int_equal(w->bytes, 1000);
  assert_string_equal(w->key, "out/00000001-1111-4111-8111-000000000001.mp4");
  assert_string_equal(w->bucket, "b");
  assert_string_equal(w->version_id, "v1-0");
  assert_true(w->has_cost && w->cost == 668000000);
  assert_true(w->has_estimate && w->estimate == 668000000);
  assert_int_equal(w->seed, 5010);
  assert_int_equal(w->seed_requested, 1001);
  assert_string_equal(w->prompt, "one");
  assert_string_equal(w->size, "720p");
  assert_int_equal(w->quality, 95);
  assert_string_equal(w->format, "MP4");
  assert_int_equal(w->verified_ms, -1);
  assert_int_equal(one(&s, 2)->status, VS_REPORT_WAITING);
  assert_int_equal(one(&s, 3)->status, VS_REPORT_MISSING_UPLOAD);
  assert_true(one(&s, 3)->has_cost);
  assert_int_equal(one(&s, 4)->status, VS_REPORT_WAITING);
  assert_int_equal(one(&s, 5)->status, VS_REPORT_MISSING_UPLOAD);
  assert_false(one(&s, 5)->has_cost);
  assert_int_equal(one(&s, 6)->status, VS_REPORT_MISSING_RESULT);
  assert_int_equal(one(&s, 6)->bytes, 600);
  w = one(&s, 7);
  assert_int_equal(w->status, VS_REPORT_UNEXPECTED_UPLOAD);
  assert_int_equal(w->submitted_ms, -1);
  assert_true(w->has_cost && w->cost == 100000000);
  w = one(&s, 8);
  assert_int_equal(w->status, VS_REPORT_FAILED);
  assert_string_equal(w->error_code, "invalidWidth");
  assert_string_equal(w->error_message, "width must be one of ...");
  w = one(&s, 9);
  assert_int_equal(w->status, VS_REPORT_CHECKSUM_MISMATCH);
  assert_string_equal(w->verify_problem, "checksum-mismatch");
  assert_int_equal(w->verified_ms, ms(at(60, 0)));
  assert_int_equal(one(&s, 10)->status, VS_REPORT_MISSING_OBJECT);
  w = one(&s, 11);
  assert_int_equal(w->status, VS_REPORT_COMPLETE);
  assert_int_equal(w->verified_ms, ms(at(90, 0)));
  assert_null(w->verify_problem);
  for(i = 0; i < s.n; i++)
    if(!s.v[i].task_uuid[0]) {
      stray++;
      assert_int_equal(s.v[i].status, VS_REPORT_UNEXPECTED_UPLOAD);
      assert_string_equal(s.v[i].key, "stray.mp4");
      assert_int_equal(s.v[i].bytes, 7);
    }
  assert_int_equal(stray, 1);
  free(s.v);
  vs_report_free(r);
}

/* The grace decides waiting against missing, measured to --now. */
static void test_grace_edges(void **state)
{
  const char *lines[2];
  char a[LINE_MAX_BYTES], b[LINE_MAX_BYTES];
  vs_report *r;
  rowset s;
  (void)state;
  snprintf(a, sizeof(a), "%s", sub_line(at(0, 0), 1, 1, "0.0668", "x"));
  snprintf(b, sizeof(b), "%s", res_line(at(10, 0), 1, 0, "0.0668", "poll"));
  lines[0] = a;
  lines[1] = b;
  /* one millisecond before the deadline: waiting */
  r = fold(lines, 2, ms(at(10, 0)) + GRACE - 1, GRACE);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].status, VS_REPORT_WAITING);
  free(s.v);
  vs_report_free(r);
  /* at the deadline: missing */
  r = fold(lines, 2, ms(at(10, 0)) + GRACE, GRACE);
  s = collect(r, NULL);
  assert_int_equal(s.v[0].status, VS_REPORT_MISSING_UPLOAD);
  free(s.v);
  vs_report_free(r);
  /* no grace at all */
  r = fold(lines, 2, ms(at(10, 0)), 0);
  s = collect(r, NULL);
  assert_int_equal(s.v[0].status, VS_REPORT_MISSING_UPLOAD);
  free(s.v);
  vs_report_free(r);
}

/* numberResults 3: every result PUT to one key; the k-th result goes with
 * the k-th stored version, whatever order the lines came in. */
static void test_several_results_pair_in_time_order(void **state)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  const vs_report_row *row[8];
  rowset s;
  int k;
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, res_line(at(22, 0), 12, 2, "0.0668", "poll")), 0);
  assert_int_equal(feed(r, sto_line(at(21, 30), 12, 2, 302)), 0);
  assert_int_equal(feed(r, res_line(at(20, 0), 12, 0, "0.0668", "poll")), 0);
  assert_int_equal(feed(r, sto_line(at(19, 30), 12, 0, 300)), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 12, 3, "0.2004", "three")), 0);
  assert_int_equal(feed(r, sto_line(at(20, 30), 12, 1, 301)), 0);
  assert_int_equal(feed(r, res_line(at(21, 0), 12, 1, "0.0668", "poll")), 0);
  /* the poll saw it too */
  assert_int_equal(feed(r, res_line(at(23, 0), 12, 1, "0.0668", "webhook")), 0);
  assert_int_equal(vs_report_finish(r, ms(at(30, 0)), GRACE, NULL), 0);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 12, row, 8), 3);
  for(k = 0; k < 3; k++) {
    char ver[16];
    snprintf(ver, sizeof(ver), "v12-%d", k);
    assert_int_equal(row[k]->status, VS_REPORT_COMPLETE);
    assert_string_equal(row[k]->video_uuid, vid(12, k));
    assert_string_equal(row[k]->version_id, ver);
    assert_int_equal(row[k]->bytes, 300 + k);
    assert_int_equal(row[k]->seed, 5000 + 120 + k);
    assert_int_equal(row[k]->estimate, 668000000);
    assert_int_equal(row[k]->number_results, 3);
  }
  free(s.v);
  vs_report_free(r);
}

/* Two results of three arrived; after the grace the third is missing. */
static void test_partial_outputs(void **state)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  const vs_report_row *row[8];
  rowset s;
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 1, 3, "0.3", "p")), 0);
  assert_int_equal(feed(r, res_line(at(1, 0), 1, 0, "0.1", "poll")), 0);
  assert_int_equal(feed(r, sto_line(at(1, 0), 1, 0, 5)), 0);
  assert_int_equal(feed(r, res_line(at(2, 0), 1, 1, "0.1", "poll")), 0);
  assert_int_equal(vs_report_finish(r, ms(at(0, 0)) + GRACE + 3 * 60000,
                                    GRACE, NULL), 0);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 1, row, 8), 3);
  assert_int_equal(row[0]->status, VS_REPORT_COMPLETE);
  assert_int_equal(row[1]->status, VS_REPORT_MISSING_UPLOAD);
  assert_true(row[1]->has_cost);
  assert_int_equal(row[2]->status, VS_REPORT_MISSING_UPLOAD);
  assert_false(row[2]->has_cost);
  assert_string_equal(row[2]->video_uuid, "");
  free(s.v);
  vs_report_free(r);
}

/* A report without detail keeps statuses and money, drops the rest. */
static void test_without_detail(void **state)
{
  vs_report_opts o = {0, 1};
  vs_report *r;
  rowset s;
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 1, 1, "0.0668", "one")), 0);
  assert_int_equal(feed(r, sto_line(at(4, 0), 1, 0, 1000)), 0);
  assert_int_equal(feed(r, res_line(at(5, 0), 1, 0, "0.0668", "poll")), 0);
  assert_int_equal(vs_report_finish(r, ms(at(6, 0)), GRACE, NULL), 0);
  s = collect(r, NULL);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].status, VS_REPORT_COMPLETE);
  assert_int_equal(s.v[0].cost, 668000000);
  assert_int_equal(s.v[0].bytes, 1000);
  assert_string_equal(s.v[0].size, "720p");
  assert_null(s.v[0].prompt);
  assert_null(s.v[0].key);
  free(s.v);
  vs_report_free(r);
}

static void test_finish_once(void **state)
{
  vs_report *r = build();
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_report_finish(r, 0, 0, &err), VS_ERR_INVALID);
  assert_int_equal(feed(r, sub_line(at(0, 0), 99, 1, "1", "late")),
                   VS_ERR_INVALID);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_statuses),
    cmocka_unit_test(test_grace_edges),
    cmocka_unit_test(test_several_results_pair_in_time_order),
    cmocka_unit_test(test_partial_outputs),
    cmocka_unit_test(test_without_detail),
    cmocka_unit_test(test_finish_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
