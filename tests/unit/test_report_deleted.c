/* report: `deleted` and `purged` events (DeleteObject(s) markers and
 * purges under --allow-purge) as the sink writes them (src/server/
 * delete.c), folded into the deleted and purged statuses: which output
 * each one touches, what outranks what, a PUT or a marker's purge bringing
 * the key back, a PUT and a DELETE in one millisecond, plain S3 use, every
 * output format, and a manifest without deletes reporting as before. */
#define _GNU_SOURCE
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

/* A delete marker "m<t>-<n>" on out/<taskUUID t>.mp4, as delete.c writes
 * it (no taskUUID, no bytes). */
static const char *del_line(const char *time, int t, int n)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"deleted\",\"time\":\"%s\",\"node\":\"s\","
           "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"versionId\":\"m%d-%d\","
           "\"deleteMarker\":true,\"remote\":\"127.0.0.1\"}",
           time, tid(t), t, n);
  return b;
}

/* The purge of version v<t>-<k> (bytes) or of marker m<t>-<k>. */
static const char *purge_line(const char *time, int t, int k, int marker)
{
  static char b[LINE_MAX_BYTES];
  if(marker)
    snprintf(b, sizeof(b),
             "{\"v\":1,\"event\":\"purged\",\"time\":\"%s\",\"node\":\"s\","
             "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"versionId\":"
             "\"m%d-%d\",\"deleteMarker\":true,\"remote\":\"127.0.0.1\"}",
             time, tid(t), t, k);
  else
    snprintf(b, sizeof(b),
             "{\"v\":1,\"event\":\"purged\",\"time\":\"%s\",\"node\":\"s\","
             "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"versionId\":"
             "\"v%d-%d\",\"bytes\":100,\"sha256\":\"%064x\",\"remote\":"
             "\"127.0.0.1\"}",
             time, tid(t), t, k, t * 16 + k);
  return b;
}

/* Lines outlive the helpers' static buffers here (a ring far larger than
 * any one test's lines). */
static char store_lines[256][LINE_MAX_BYTES];
static int nstore;

static const char *keep(const char *s)
{
  char *o = store_lines[nstore++ & 255];
  snprintf(o, LINE_MAX_BYTES, "%s", s);
  return o;
}

/* A complete one-output task t: submitted, stored, paid. */
static void complete(const char **l, size_t *n, int t)
{
  l[(*n)++] = keep(sub_line(at(0, 0), t, 1, "0.0668", "p"));
  l[(*n)++] = keep(sto_line(at(1, t), t, 0, 100));
  l[(*n)++] = keep(res_line(at(2, t), t, 0, "0.0668", "poll"));
}

/* The lines of the main scenario; reverse: fed backwards. */
static size_t scenario(const char **l)
{
  size_t n = 0;
  int t;
  for(t = 1; t <= 8; t++)
    complete(l, &n, t);
  l[n++] = keep(del_line(at(30, 0), 1, 0));        /* 1 deleted */
  l[n++] = keep(purge_line(at(30, 0), 2, 0, 0));   /* 2 purged */
  l[n++] = keep(del_line(at(30, 0), 3, 0));        /* 3 deleted, then */
  l[n++] = keep(del_line(at(31, 0), 3, 1));        /*   twice: the first */
  l[n++] = keep(del_line(at(30, 0), 4, 0));        /* 4 deleted, then the */
  l[n++] = keep(purge_line(at(40, 0), 4, 0, 1));   /*   marker purged */
  l[n++] = keep(ver_line(at(20, 0), 5, 0, "checksum-mismatch"));
  l[n++] = keep(del_line(at(30, 0), 5, 0));        /* 5 bad, then deleted */
  l[n++] = keep(ver_line(at(50, 0), 6, 0, "missing-object"));
  l[n++] = keep(purge_line(at(40, 0), 6, 0, 0));   /* 6 purged, verified */
  l[n++] = keep(del_line(at(30, 0), 7, 0));        /* 7 deleted, then */
  l[n++] = keep(purge_line(at(40, 0), 7, 0, 0));   /*   its version purged */
  /* 8 stays complete; a marker on a key nothing stored, a purge of a
   * version never recorded: plain S3 use, no rows */
  l[n++] = "{\"v\":1,\"event\":\"deleted\",\"time\":\"2026-11-24T10:30:00.000Z\","
           "\"bucket\":\"b\",\"key\":\"photos/cat.jpg\",\"versionId\":\"x1\","
           "\"deleteMarker\":true,\"remote\":\"10.0.0.1\"}";
  l[n++] = "{\"v\":1,\"event\":\"purged\",\"time\":\"2026-11-24T10:31:00.000Z\","
           "\"bucket\":\"b\",\"key\":\"photos/dog.jpg\",\"versionId\":\"x2\","
           "\"bytes\":3,\"sha256\":\"" 
           "0000000000000000000000000000000000000000000000000000000000000003"
           "\",\"remote\":\"10.0.0.1\"}";
  return n;
}

static vs_report *build(int detail, int reverse, const char **extra,
                        size_t nextra)
{
  const char *l[128], *tmp;
  vs_report_opts o = {detail, 1};
  vs_report *r;
  size_t n = scenario(l), i;
  for(i = 0; i < nextra; i++)
    l[n++] = extra[i];
  for(i = 0; reverse && i < n / 2; i++) {
    tmp = l[i];
    l[i] = l[n - 1 - i];
    l[n - 1 - i] = tmp;
  }
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  for(i = 0; i < n; i++)
    assert_int_equal(feed(r, l[i]), 0);
  assert_int_equal(vs_report_finish(r, ms("2026-11-24T23:00:00Z"), GRACE,
                                    NULL), 0);
  return r;
}

static const vs_report_row *one(const rowset *s, int t)
{
  const vs_report_row *row[4];
  assert_int_equal(rows_of(s, t, row, 4), 1);
  return row[0];
}

static void check_scenario(vs_report *r, int detail)
{
  rowset s = collect(r, NULL);
  const vs_report_row *w;
  vs_report_stats st;
  assert_int_equal(s.n, 8); /* plain S3 use adds no row */
  w = one(&s, 1);
  assert_int_equal(w->status, VS_REPORT_DELETED);
  assert_int_equal(w->deleted_ms, ms(at(30, 0)));
  assert_string_equal(w->delete_marker, "m1-0");
  assert_int_equal(w->purged_ms, -1);
  assert_true(w->has_cost && w->cost == 668000000); /* paid for */
  assert_int_equal(w->bytes, 100);
  if(detail)
    assert_string_equal(w->version_id, "v1-0");
  w = one(&s, 2);
  assert_int_equal(w->status, VS_REPORT_PURGED);
  assert_int_equal(w->purged_ms, ms(at(30, 0)));
  assert_int_equal(w->deleted_ms, -1);
  w = one(&s, 3); /* deleted since the first marker after its version */
  assert_int_equal(w->status, VS_REPORT_DELETED);
  assert_int_equal(w->deleted_ms, ms(at(30, 0)));
  assert_string_equal(w->delete_marker, "m3-0");
  w = one(&s, 4); /* the marker purged: the key reads again */
  assert_int_equal(w->status, VS_REPORT_COMPLETE);
  assert_int_equal(w->deleted_ms, -1);
  w = one(&s, 5); /* the kept version is damaged: that outranks deleted */
  assert_int_equal(w->status, VS_REPORT_CHECKSUM_MISMATCH);
  assert_int_equal(w->deleted_ms, ms(at(30, 0)));
  w = one(&s, 6); /* gone by the operator's hand, not lost */
  assert_int_equal(w->status, VS_REPORT_PURGED);
  assert_string_equal(w->verify_problem, "missing-object");
  w = one(&s, 7); /* deleted, then purged: purged */
  assert_int_equal(w->status, VS_REPORT_PURGED);
  assert_int_equal(w->purged_ms, ms(at(40, 0)));
  assert_int_equal(w->deleted_ms, -1);
  assert_int_equal(one(&s, 8)->status, VS_REPORT_COMPLETE);
  vs_report_get_stats(r, &st);
  assert_int_equal(st.deleted, 7);
  assert_int_equal(st.purged, 5);
  assert_int_equal(st.malformed, 0);
  assert_int_equal(st.unknown, 0);
  assert_true(vs_report_has_deletes(r));
  free(s.v);
}

static void test_statuses(void **state)
{
  vs_report *r;
  int detail, reverse;
  (void)state;
  for(detail = 0; detail < 2; detail++)
    for(reverse = 0; reverse < 2; reverse++) {
      r = build(detail, reverse, NULL, 0);
      check_scenario(r, detail);
      vs_report_free(r);
    }
}

/* Neither status is a problem; every total, costs above all, is what it
 * would be with no delete at all. */
static void test_totals_and_groups(void **state)
{
  const char *l[128];
  vs_report *with = build(1, 0, NULL, 0), *without;
  vs_report_group *g, tw, to;
  size_t n = 0, ng, i;
  int t, seen = 0;
  (void)state;
  for(t = 1; t <= 8; t++)
    complete(l, &n, t);
  without = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  assert_non_null(without);
  assert_false(vs_report_has_deletes(without));
  assert_int_equal(vs_report_groups(with, NULL, VS_REPORT_BY_STATUS, &g, &ng,
                                    &tw, NULL), 0);
  for(i = 0; i < ng; i++) {
    if(!strcmp(g[i].name, "deleted")) {
      assert_int_equal(g[i].outputs, 2);
      assert_int_equal(g[i].deleted, 2);
      assert_int_equal(g[i].problems, 0);
      seen++;
    }
    if(!strcmp(g[i].name, "purged")) {
      assert_int_equal(g[i].outputs, 3);
      assert_int_equal(g[i].purged, 3);
      assert_int_equal(g[i].problems, 0);
      seen++;
    }
  }
  assert_int_equal(seen, 2);
  vs_report_groups_free(g, ng);
  assert_int_equal(vs_report_groups(without, NULL, VS_REPORT_BY_NONE, &g, &ng,
                                    &to, NULL), 0);
  vs_report_groups_free(g, ng);
  assert_int_equal(tw.outputs, to.outputs);
  assert_true(tw.actual == to.actual && tw.estimated == to.estimated);
  assert_int_equal(tw.bytes, to.bytes);
  assert_int_equal(tw.problems, 1); /* task 5's checksum mismatch */
  assert_int_equal(tw.deleted, 2);
  assert_int_equal(tw.purged, 3);
  assert_int_equal(to.deleted + to.purged, 0);
  vs_report_group_free(&tw);
  vs_report_group_free(&to);
  vs_report_free(with);
  vs_report_free(without);
}

/* Store and delete of one key in one millisecond: the sink's version ids
 * (strictly increasing per key) say which came last. */
static const char *fs_line(const char *event, int t, const char *vid)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"%s\",\"time\":\"2026-11-24T10:05:00.000Z\","
           "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"versionId\":\"%s\","
           "%s\"remote\":\"127.0.0.1\"}",
           event, tid(t), vid,
           strcmp(event, "stored") ? "\"deleteMarker\":true," :
           "\"bytes\":5,\"sha256\":\"0000000000000000000000000000000000000000"
           "000000000000000000000007\",");
  return b;
}

static void test_same_millisecond(void **state)
{
  const char *extra[4];
  vs_report *r;
  rowset s;
  (void)state;
  /* task 8's version "v8-0" carries no time; the marker's does, and a PUT
   * (no taskUUID: plain S3) one id later brings the key back */
  extra[0] = keep(fs_line("deleted", 8, "20261124T100500000Z-aaaaaa"));
  extra[1] = keep(fs_line("stored", 8, "20261124T100500001Z-bbbbbb"));
  r = build(1, 1, extra, 2);
  s = collect(r, NULL);
  assert_int_equal(one(&s, 8)->status, VS_REPORT_COMPLETE);
  free(s.v);
  vs_report_free(r);
  /* the same two in the other commit order: deleted */
  extra[0] = keep(fs_line("stored", 8, "20261124T100500000Z-bbbbbb"));
  extra[1] = keep(fs_line("deleted", 8, "20261124T100500001Z-aaaaaa"));
  r = build(1, 0, extra, 2);
  s = collect(r, NULL);
  assert_int_equal(one(&s, 8)->status, VS_REPORT_DELETED);
  assert_string_equal(one(&s, 8)->delete_marker, "20261124T100500001Z-aaaaaa");
  free(s.v);
  vs_report_free(r);
}

/* Deleted, then stored again (a PUT of the same key): the new version is
 * current, so the output reads complete; a stray object no task explains
 * stays unexpected-upload when deleted, its deleted time filled. */
static void test_stored_again_and_strays(void **state)
{
  const char *extra[4];
  vs_report *r;
  rowset s;
  size_t i;
  int strays = 0;
  (void)state;
  extra[0] = keep(del_line(at(30, 0), 8, 0));
  extra[1] = keep(
    "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-11-24T10:45:00.000Z\","
    "\"bucket\":\"b\",\"key\":\"out/00000008-1111-4111-8111-000000000008.mp4\","
    "\"versionId\":\"again\",\"bytes\":5,\"sha256\":\"00000000000000000000000"
    "00000000000000000000000000000000000000007\",\"remote\":\"1.2.3.4\"}");
  extra[2] = keep(
    "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-11-24T10:30:00.000Z\","
    "\"bucket\":\"b\",\"key\":\"stray.mp4\",\"versionId\":\"s1\",\"bytes\":7,"
    "\"sha256\":\"00000000000000000000000000000000000000000000000000000000000"
    "00007\"}");
  extra[3] = keep(
    "{\"v\":1,\"event\":\"deleted\",\"time\":\"2026-11-24T10:40:00.000Z\","
    "\"bucket\":\"b\",\"key\":\"stray.mp4\",\"versionId\":\"s2\","
    "\"deleteMarker\":true}");
  r = build(1, 0, extra, 4);
  s = collect(r, NULL);
  assert_int_equal(one(&s, 8)->status, VS_REPORT_COMPLETE);
  assert_int_equal(one(&s, 8)->deleted_ms, -1);
  for(i = 0; i < s.n; i++)
    if(s.v[i].key && !strcmp(s.v[i].key, "stray.mp4")) {
      assert_int_equal(s.v[i].status, VS_REPORT_UNEXPECTED_UPLOAD);
      assert_int_equal(s.v[i].deleted_ms, ms("2026-11-24T10:40:00Z"));
      strays++;
    }
  assert_int_equal(strays, 1);
  free(s.v);
  vs_report_free(r);
}

/* Deleted, then the task's output stored again (the same key, a new
 * version naming the task): the new stored takes the deleted one's place,
 * one complete row, not a second output waiting for a result; deleted
 * again, it reads deleted. A second version with no delete between stays
 * a row of its own, as before deletes existed. */
static void test_restored_output(void **state)
{
  const char *l[16];
  const vs_report_row *w[4];
  size_t n = 0, base;
  vs_report *r;
  rowset s;
  (void)state;
  complete(l, &n, 10);
  l[n++] = keep(del_line(at(30, 0), 10, 0));
  l[n++] = keep(sto_line(at(45, 0), 10, 1, 100));
  base = n;
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 10, w, 4), 1);
  assert_int_equal(w[0]->status, VS_REPORT_COMPLETE);
  assert_string_equal(w[0]->version_id, "v10-1");
  assert_string_equal(w[0]->video_uuid, vid(10, 0));
  assert_int_equal(w[0]->deleted_ms, -1);
  free(s.v);
  vs_report_free(r);
  l[n++] = keep(del_line(at(50, 0), 10, 1));
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 10, w, 4), 1);
  assert_int_equal(w[0]->status, VS_REPORT_DELETED);
  assert_string_equal(w[0]->version_id, "v10-1");
  assert_string_equal(w[0]->delete_marker, "m10-1");
  free(s.v);
  vs_report_free(r);
  n = base - 2; /* no delete: a second version is a second row */
  l[n++] = keep(sto_line(at(45, 0), 10, 1, 100));
  l[n++] = keep(del_line(at(30, 0), 99, 0)); /* a delete elsewhere */
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 10, w, 4), 2);
  assert_int_equal(w[0]->status, VS_REPORT_COMPLETE);
  assert_int_equal(w[1]->status, VS_REPORT_MISSING_RESULT);
  free(s.v);
  vs_report_free(r);
  n = base - 2; /* purged, then stored again: the new one wins too */
  l[n++] = keep(purge_line(at(30, 0), 10, 0, 0));
  l[n++] = keep(sto_line(at(45, 0), 10, 1, 100));
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 10, w, 4), 1);
  assert_int_equal(w[0]->status, VS_REPORT_COMPLETE);
  assert_string_equal(w[0]->version_id, "v10-1");
  free(s.v);
  vs_report_free(r);
}

/* A two-result task whose key is deleted between its two uploads: the
 * second upload is its second output, not a re-upload of the first. */
static void test_delete_between_outputs(void **state)
{
  const char *l[16];
  const vs_report_row *w[4];
  size_t n = 0;
  vs_report *r;
  rowset s;
  (void)state;
  l[n++] = keep(sub_line(at(0, 0), 11, 2, "0.1336", "two"));
  l[n++] = keep(sto_line(at(1, 0), 11, 0, 100));
  l[n++] = keep(del_line(at(1, 30), 11, 0));
  l[n++] = keep(sto_line(at(2, 0), 11, 1, 100));
  l[n++] = keep(res_line(at(2, 1), 11, 0, "0.0668", "poll"));
  l[n++] = keep(res_line(at(2, 2), 11, 1, "0.0668", "poll"));
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 11, w, 4), 2);
  assert_int_equal(w[0]->status, VS_REPORT_COMPLETE); /* the key reads */
  assert_string_equal(w[0]->version_id, "v11-0");
  assert_int_equal(w[1]->status, VS_REPORT_COMPLETE);
  assert_string_equal(w[1]->version_id, "v11-1");
  free(s.v);
  vs_report_free(r);
}

/* Several outputs of one task share its key (one version each): a marker
 * deletes them all; a purge takes only its own version. */
static void test_outputs_sharing_a_key(void **state)
{
  const char *l[16];
  const vs_report_row *w[4];
  size_t n = 0;
  vs_report *r;
  rowset s;
  (void)state;
  l[n++] = keep(sub_line(at(0, 0), 9, 2, "0.1336", "two"));
  l[n++] = keep(sto_line(at(1, 0), 9, 0, 100));
  l[n++] = keep(sto_line(at(1, 5), 9, 1, 100));
  l[n++] = keep(res_line(at(2, 0), 9, 0, "0.0668", "poll"));
  l[n++] = keep(res_line(at(2, 1), 9, 1, "0.0668", "poll"));
  l[n++] = keep(del_line(at(30, 0), 9, 0));
  l[n++] = keep(purge_line(at(31, 0), 9, 1, 0));
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  s = collect(r, NULL);
  assert_int_equal(rows_of(&s, 9, w, 4), 2);
  assert_int_equal(w[0]->status, VS_REPORT_DELETED);
  assert_int_equal(w[1]->status, VS_REPORT_PURGED);
  free(s.v);
  vs_report_free(r);
}

/* A deleted or purged event the fold cannot use is counted as malformed,
 * like any other. */
static void test_malformed(void **state)
{
  const char *l[2] = {
    "{\"v\":1,\"event\":\"deleted\",\"time\":\"2026-11-24T10:30:00.000Z\","
    "\"key\":\"k\",\"versionId\":\"x\",\"deleteMarker\":true}",
    "{\"v\":1,\"event\":\"purged\",\"time\":\"2026-11-24T10:30:00.000Z\","
    "\"bucket\":\"b\",\"key\":\"k\"}"};
  vs_report *r = fold(l, 2, ms("2026-11-24T23:00:00Z"), GRACE);
  vs_report_stats st;
  (void)state;
  vs_report_get_stats(r, &st);
  assert_int_equal(st.malformed, 2);
  assert_false(vs_report_has_deletes(r));
  vs_report_free(r);
}

static char *render(const vs_report *r, int by, int format)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  vs_report_summary sum;
  if(format == VS_REPORT_HTML)
    assert_int_equal(vs_report_html(r, NULL, NULL, f, &sum, NULL), 0);
  else
    assert_int_equal(vs_report_write(r, NULL, by, format, f, &sum, NULL), 0);
  fclose(f);
  assert_int_equal(sum.rows, 8);
  assert_int_equal(sum.problems, 1);
  return out;
}

static char *render_plain(const vs_report *r, int format)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  assert_int_equal(vs_report_write(r, NULL, VS_REPORT_BY_NONE, format, f,
                                   NULL, NULL), 0);
  fclose(f);
  return out;
}

static void test_formats(void **state)
{
  vs_report *r = build(1, 0, NULL, 0);
  char *o, want[1024];
  (void)state;
  o = render(r, VS_REPORT_BY_NONE, VS_REPORT_CSV);
  assert_non_null(strstr(o, ",error_code,error_message,deleted,delete_marker,"
                            "purged\r\n"));
  snprintf(want, sizeof(want), "%s,%s,deleted,", tid(1), vid(1, 0));
  assert_non_null(strstr(o, want));
  assert_non_null(strstr(o, ",,2026-11-24T10:30:00.000Z,m1-0,\r\n"));
  assert_non_null(strstr(o, ",,,,2026-11-24T10:30:00.000Z\r\n")); /* 2 */
  free(o);
  o = render(r, VS_REPORT_BY_NONE, VS_REPORT_JSONL);
  assert_non_null(strstr(o, "\"status\":\"deleted\""));
  assert_non_null(strstr(o, "\"deleted\":\"2026-11-24T10:30:00.000Z\","
                            "\"delete_marker\":\"m1-0\",\"purged\":null}"));
  assert_non_null(strstr(o, "\"status\":\"purged\""));
  assert_non_null(strstr(o, "\"deleted\":null,\"delete_marker\":null,"
                            "\"purged\":\"2026-11-24T10:30:00.000Z\"}"));
  free(o);
  o = render(r, VS_REPORT_BY_NONE, VS_REPORT_TABLE);
  assert_non_null(strstr(o, "deleted "));
  assert_non_null(strstr(o, "1 problems, 2 deleted, 3 purged"));
  free(o);
  o = render(r, VS_REPORT_BY_STATUS, VS_REPORT_CSV);
  assert_non_null(strstr(o, "status,outputs,seconds,estimated_cost,"
                            "actual_cost,bytes,problems,deleted,purged\r\n"));
  assert_non_null(strstr(o, "deleted,2,10,0.1336,0.1336,200,0,2,0\r\n"));
  assert_non_null(strstr(o, "purged,3,15,0.2004,0.2004,300,0,0,3\r\n"));
  free(o);
  o = render(r, VS_REPORT_BY_NONE, VS_REPORT_HTML);
  assert_non_null(strstr(o, "<span class=\"badge b-del\">deleted</span>"));
  assert_non_null(strstr(o, "<span class=\"badge b-del\">purged</span>"));
  assert_non_null(strstr(o, "marker m1-0"));
  assert_non_null(strstr(o, "id=\"sum-deleted\""));
  assert_non_null(strstr(o, ".b-del{"));
  free(o);
  vs_report_free(r);
}

/* A manifest from before deletes: no new column, no new card. */
static void test_without_deletes_as_before(void **state)
{
  const char *l[32];
  size_t n = 0;
  vs_report *r;
  char *o;
  int t;
  (void)state;
  for(t = 1; t <= 3; t++)
    complete(l, &n, t);
  r = fold(l, n, ms("2026-11-24T23:00:00Z"), GRACE);
  o = render_plain(r, VS_REPORT_CSV);
  assert_non_null(strstr(o, ",error_code,error_message\r\n"));
  assert_null(strstr(o, "deleted"));
  free(o);
  o = render_plain(r, VS_REPORT_JSONL);
  assert_null(strstr(o, "deleted"));
  assert_non_null(strstr(o, "\"error_message\":null}\n"));
  free(o);
  o = render_plain(r, VS_REPORT_TABLE);
  assert_null(strstr(o, "deleted"));
  free(o);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_statuses),
    cmocka_unit_test(test_totals_and_groups),
    cmocka_unit_test(test_same_millisecond),
    cmocka_unit_test(test_stored_again_and_strays),
    cmocka_unit_test(test_restored_output),
    cmocka_unit_test(test_delete_between_outputs),
    cmocka_unit_test(test_outputs_sharing_a_key),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_formats),
    cmocka_unit_test(test_without_deletes_as_before),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
