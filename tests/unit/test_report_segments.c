/* report: a manifest directory of several writers' segments, plain and
 * gzip, one with a torn last line, read on one thread and on several. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <zlib.h>

#include "helpers.h"
#include "test_report_lines.h"
#include "util/clock.h"

#define GRACE (2LL * 3600 * 1000)

typedef struct seg {
  FILE *plain;
  gzFile gz;
} seg;

static seg open_seg(const char *dir, const char *name)
{
  char path[512];
  seg s = {NULL, NULL};
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if(strstr(name, ".gz"))
    s.gz = gzopen(path, "wb");
  else
    s.plain = fopen(path, "w");
  assert_true(s.gz || s.plain);
  return s;
}

static void put_line(seg *s, const char *line)
{
  if(s->gz) {
    assert_true(gzputs(s->gz, line) > 0);
    assert_true(gzputs(s->gz, "\n") > 0);
  }
  else
    assert_true(fprintf(s->plain, "%s\n", line) > 0);
}

static void close_seg(seg *s)
{
  if(s->gz)
    assert_int_equal(gzclose(s->gz), Z_OK);
  else
    assert_int_equal(fclose(s->plain), 0);
}

/* The submitter writes plain; sink-0 was rotated and gzipped; sink-1's
 * segment ends in a line a crash cut short. Tasks 1..40; results and
 * uploads split between the sinks. */
static void write_manifest(const char *dir)
{
  seg cli = open_seg(dir, "20261124T100000000Z-cli-11-0000aaaa.jsonl");
  seg s0 = open_seg(dir, "20261124T100000000Z-sink-0-12-0000bbbb.jsonl.gz");
  seg s1 = open_seg(dir, "20261124T100000000Z-sink-1-13-0000cccc.jsonl");
  int t;
  for(t = 1; t <= 40; t++) {
    seg *a = t % 2 ? &s0 : &s1, *b = t % 2 ? &s1 : &s0;
    put_line(&cli, sub_line(at(t, 0), t, 1, "0.0668", "p, \\\"q\\\""));
    if(t == 40)
      continue; /* never answered */
    put_line(a, sto_line(at(t + 1, 0), t, 0, 100 + t));
    if(t != 39)
      put_line(b, res_line(at(t + 1, 5), t, 0, "0.0668", "webhook"));
  }
  put_line(&s0, res_line(at(5, 30), 4, 0, "0.0668", "poll")); /* again */
  fputs("{\"v\":1,\"event\":\"result\",\"time\":\"2026-11-24T10:5", s1.plain);
  close_seg(&cli);
  close_seg(&s0);
  close_seg(&s1);
}

static char *report_csv(const char *dir, int jobs, vs_report_stats *st)
{
  vs_report_opts o = {1, jobs};
  vs_report *r;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  int64_t now;
  assert_int_equal(vs_time_parse_rfc3339("2026-11-24T20:00:00Z", &now), 0);
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(vs_report_load(r, dir, NULL), 0);
  assert_int_equal(vs_report_finish(r, now, GRACE, NULL), 0);
  assert_int_equal(vs_report_write(r, NULL, 0, VS_REPORT_CSV, f, NULL, NULL),
                   0);
  fclose(f);
  vs_report_get_stats(r, st);
  vs_report_free(r);
  return out;
}

static size_t count(const char *s, const char *what)
{
  size_t n = 0;
  while((s = strstr(s, what))) {
    n++;
    s++;
  }
  return n;
}

static void test_writers_gzip_torn(void **state)
{
  char dir[256];
  char *one, *two;
  vs_report_stats st1, st2;
  (void)state;
  assert_int_equal(vst_tmpdir("report-seg", dir, sizeof(dir)), 0);
  write_manifest(dir);
  one = report_csv(dir, 1, &st1);
  two = report_csv(dir, 2, &st2);
  assert_string_equal(one, two);
  assert_int_equal(st1.segments, 3);
  assert_int_equal(st1.torn, 1);
  assert_non_null(strstr(st1.first_problem, "sink-1-13-0000cccc.jsonl"));
  assert_int_equal(st1.lines, 40 + 39 + 38 + 1);
  assert_int_equal(st1.duplicates, 1);
  assert_int_equal(st2.torn, 1);
  assert_int_equal(st2.lines, st1.lines);
  assert_int_equal(count(one, ",complete,"), 38);
  assert_int_equal(count(one, ",missing-result,"), 1);
  assert_int_equal(count(one, ",missing-upload,"), 1);
  assert_int_equal(count(one, "\r\n"), 41);
  /* the prompt's comma and quotes survive, quoted the RFC 4180 way */
  assert_non_null(strstr(one, ",\"p, \"\"q\"\"\","));
  free(one);
  free(two);
  vst_rmrf(dir);
}

static void test_missing_dir(void **state)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_not_equal(vs_report_load(r, "/nonexistent/vsink-manifest", &err),
                       0);
  assert_non_null(strstr(err.msg, "/nonexistent/vsink-manifest"));
  vs_report_free(r);
}

/* A gzip segment that is corrupt, not merely short, fails the load: a
 * report silently missing a segment would be wrong. */
static void test_corrupt_gzip(void **state)
{
  char dir[256], path[512];
  vs_report_opts o = {1, 2};
  vs_report *r;
  vs_err err = {0};
  FILE *f;
  vs_report_stats st;
  int rc;
  (void)state;
  assert_int_equal(vst_tmpdir("report-gz", dir, sizeof(dir)), 0);
  {
    seg s = open_seg(dir, "20261124T100000000Z-a-1-00000001.jsonl.gz");
    int t;
    for(t = 1; t <= 50; t++)
      put_line(&s, sub_line(at(t, 0), t, 1, "0.1", "p"));
    close_seg(&s);
  }
  snprintf(path, sizeof(path), "%s/20261124T100000000Z-a-1-00000001.jsonl.gz",
           dir);
  /* flip bytes inside the deflate data */
  f = fopen(path, "r+");
  assert_non_null(f);
  assert_int_equal(fseek(f, 40, SEEK_SET), 0);
  assert_int_equal(fwrite("\xff\x00\xff\x00", 1, 4, f), 4);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  rc = vs_report_load(r, dir, &err);
  vs_report_get_stats(r, &st);
  assert_int_equal(rc, VS_ERR_IO);
  assert_non_null(strstr(err.msg, "corrupt gzip data"));
  assert_non_null(strstr(err.msg, path));
  vs_report_free(r);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_writers_gzip_torn),
    cmocka_unit_test(test_missing_dir),
    cmocka_unit_test(test_corrupt_gzip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
