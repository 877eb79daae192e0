/* The HTML writer on hand-built manifests: user text escaped everywhere it
 * lands, exact totals, problems first, the row cap with its note while the
 * totals still count every row, presigned previews for one version, and
 * precise refusals of bad preview options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_report_lines.h"

#define NOW_MS 1795543200000LL /* 2026-11-24T18:00:00Z */

static vs_report *fold_lines(const char *const *lines, size_t n)
{
  vs_report_opts o = {1, 1};
  vs_report *r = NULL;
  vs_err err = {0};
  size_t i;
  assert_int_equal(vs_report_new(&r, &o, &err), 0);
  for(i = 0; i < n; i++)
    assert_int_equal(vs_report_add_line(r, lines[i], strlen(lines[i]), "t",
                                        &err), 0);
  assert_int_equal(vs_report_finish(r, NOW_MS, VS_REPORT_GRACE_MS, &err), 0);
  return r;
}

/* The whole page in memory (open_memstream), NUL-terminated. */
static char *render(vs_report *r, const vs_report_html_opts *o,
                    vs_report_summary *sum, int expect_rc)
{
  char *text = NULL;
  size_t len = 0;
  vs_err err = {0};
  FILE *f = open_memstream(&text, &len);
  int rc;
  assert_non_null(f);
  rc = vs_report_html(r, NULL, o, f, sum, &err);
  fclose(f);
  if(rc != expect_rc)
    fail_msg("vs_report_html: %d (%s), expected %d", rc, err.msg, expect_rc);
  return text;
}

static int count(const char *hay, const char *needle)
{
  int n = 0;
  for(; (hay = strstr(hay, needle)); hay++)
    n++;
  return n;
}

/* A stored object of task t under a key of our choosing. */
static const char *obj_line(const char *time, int t, const char *key,
                            int bytes)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"stored\",\"time\":\"%s\",\"node\":\"s\","
           "\"bucket\":\"b\",\"key\":\"%s\",\"versionId\":\"v%d\","
           "\"bytes\":%d,\"sha256\":\"%064x\",\"taskUUID\":\"%s\"}",
           time, key, t, bytes, t, tid(t));
  return b;
}

static char *lines_copy[64];
static size_t nlines;

static void add(const char *l)
{
  lines_copy[nlines++] = strdup(l);
}

static void free_lines(void)
{
  while(nlines)
    free(lines_copy[--nlines]);
}

static void test_escaping_and_totals(void **state)
{
  vs_report_summary sum = {0};
  vs_report *r;
  char *html;
  (void)state;
  add(sub_line(at(0, 0), 1, 1, "0.0315", "<script>alert(1)</script> & \\\""
               "x\\\" 'y'"));
  add(res_line(at(1, 0), 1, 0, "0.0315", "webhook"));
  add(obj_line(at(1, 1), 1, "<b>k</b>", 10));
  add(sub_line(at(2, 0), 2, 1, "0.0315", "plain"));
  add(res_line(at(3, 0), 2, 0, "0.0315", "webhook"));
  add(sub_line(at(4, 0), 3, 1, "0.0315", "never came")); /* old: missing */
  r = fold_lines((const char *const *)lines_copy, nlines);
  html = render(r, NULL, &sum, 0);
  assert_null(strstr(html, "<script>alert"));
  assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
                               "&quot;x&quot; &#39;y&#39;"));
  assert_null(strstr(html, "<b>k</b>"));
  assert_non_null(strstr(html, "&lt;b&gt;k&lt;/b&gt;"));
  assert_int_equal(count(html, "<script"), 1); /* only the page's own */
  assert_non_null(strstr(html, "id=\"sum-spend\"><div class=\"k\">Spend"
                               "</div><div class=\"v\">$0.063</div>"));
  assert_non_null(strstr(html, "estimated $0.0945"));
  assert_int_equal(sum.rows, 3);
  assert_int_equal(sum.problems, 2);
  /* problems first: both missing uploads before the complete row */
  assert_true(strstr(html, "data-status=\"missing-upload\"") <
              strstr(html, "<tr data-status=\"complete\""));
  assert_null(strstr(html, "<video"));
  assert_null(strstr(html, "id=\"capped\""));
  free(html);
  vs_report_free(r);
  free_lines();
}

static void test_cap(void **state)
{
  vs_report_html_opts o = {0};
  vs_report_summary sum = {0};
  vs_report *r;
  char *html;
  int t;
  (void)state;
  for(t = 1; t <= 12; t++) { /* 11 complete, the last one missing */
    add(sub_line(at(t, 0), t, 1, "0.0315", "p"));
    add(res_line(at(t, 1), t, 0, "0.0315", "webhook"));
    if(t < 12)
      add(obj_line(at(t, 2), t, "k", 10));
  }
  r = fold_lines((const char *const *)lines_copy, nlines);
  o.max_rows = 5;
  html = render(r, &o, &sum, 0);
  assert_int_equal(count(html, "<tr data-status="), 5);
  assert_non_null(strstr(html, "Showing the first 5 of 12 outputs"));
  /* the one problem row is the newest, and still shown first */
  assert_true(strstr(html, "<tr data-status=\"missing-upload\"") <
              strstr(html, "<tr data-status=\"complete\""));
  assert_non_null(strstr(html, "<div class=\"v\">$0.378</div>")); /* 12 x */
  assert_int_equal(sum.rows, 12);
  assert_int_equal(sum.problems, 1);
  free(html);
  vs_report_free(r);
  free_lines();
}

static void test_previews(void **state)
{
  vs_report_html_opts o = {0};
  vs_report *r;
  char *html, *src, *end;
  (void)state;
  add(sub_line(at(0, 0), 1, 1, "0.07", "p"));
  add(res_line(at(1, 0), 1, 0, "0.07", "webhook"));
  add(obj_line(at(1, 1), 1, "out/a b+c.mp4", 10));
  r = fold_lines((const char *const *)lines_copy, nlines);
  o.preview_endpoint = "http://127.0.0.1:9000";
  o.key_id = "AKIDEXAMPLE";
  o.secret = "secret";
  o.now_ms = NOW_MS;
  html = render(r, &o, NULL, 0);
  src = strstr(html, "<video preload=\"none\" controls src=\"");
  assert_non_null(src);
  src += strlen("<video preload=\"none\" controls src=\"");
  end = strchr(src, '"');
  *end = 0;
  assert_non_null(strstr(src, "http://127.0.0.1:9000/b/out/a%20b%2Bc.mp4?"
                              "versionId="));
  assert_non_null(strstr(src, "&amp;X-Amz-Expires=604800&amp;"));
  assert_non_null(strstr(src, "X-Amz-Date=20261124T180000Z"));
  assert_null(strchr(src, '<'));
  free(html);
  o.expires_s = 604801;
  free(render(r, &o, NULL, VS_ERR_INVALID));
  o.expires_s = 0;
  o.preview_endpoint = "ftp://x";
  free(render(r, &o, NULL, VS_ERR_INVALID));
  o.preview_endpoint = "http://x";
  o.secret = NULL;
  free(render(r, &o, NULL, VS_ERR_INVALID));
  vs_report_free(r);
  free_lines();
}

static void test_empty(void **state)
{
  vs_report_summary sum = {0};
  vs_report *r;
  char *html;
  (void)state;
  r = fold_lines(NULL, 0);
  html = render(r, NULL, &sum, 0);
  assert_non_null(strstr(html, "no spend in this window"));
  assert_non_null(strstr(html, "</html>"));
  assert_int_equal(sum.rows, 0);
  free(html);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_escaping_and_totals),
    cmocka_unit_test(test_cap),
    cmocka_unit_test(test_previews),
    cmocka_unit_test(test_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
