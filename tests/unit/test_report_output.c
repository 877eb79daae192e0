/* report: CSV, JSONL and the table, byte for byte where it matters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_report_lines.h"
#include "util/clock.h"

#define GRACE (2LL * 3600 * 1000)

static vs_report *build(const char *prompt1, const char *prompt2)
{
  vs_report_opts o = {1, 1};
  vs_report *r;
  int64_t now;
  assert_int_equal(vs_report_new(&r, &o, NULL), 0);
  assert_int_equal(feed(r, sub_line(at(0, 0), 1, 1, "0.0668", prompt1)), 0);
  assert_int_equal(feed(r, res_line(at(1, 0), 1, 0, "0.0668", "poll")), 0);
  assert_int_equal(feed(r, sto_line(at(1, 0), 1, 0, 123456)), 0);
  assert_int_equal(feed(r, sub_line(at(2, 0), 2, 1, "0.0100", prompt2)), 0);
  assert_int_equal(vs_time_parse_rfc3339("2026-11-24T23:00:00Z", &now), 0);
  assert_int_equal(vs_report_finish(r, now, GRACE, NULL), 0);
  return r;
}

static char *render(const vs_report *r, int by, int format,
                    vs_report_summary *sum)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  assert_int_equal(vs_report_write(r, NULL, by, format, f, sum, NULL), 0);
  fclose(f);
  return out;
}

static void test_csv(void **state)
{
  vs_report *r = build("say \\\"hi\\\", then\\r\\nleave", "plain");
  vs_report_summary sum;
  char *csv = render(r, 0, VS_REPORT_CSV, &sum);
  char want[1024];
  (void)state;
  assert_int_equal(sum.rows, 2);
  assert_int_equal(sum.problems, 1);
  static const char header[] =
    "task_uuid,video_uuid,status,submitted,prompt,model,width,height,"
    "resolution,duration,format,quality,seed_requested,seed,number_results,"
    "estimated_cost,actual_cost,bucket,key,version_id,bytes,sha256,stored,"
    "verified,verify_problem,error_code,error_message\r\n";
  assert_int_equal(strncmp(csv, header, strlen(header)), 0);
  snprintf(want, sizeof(want),
           "%s,%s,complete,2026-11-24T10:00:00.000Z,"
           "\"say \"\"hi\"\", then\r\nleave\",bytedance:2@2,,,720p,5,MP4,95,"
           "1001,5010,1,0.0668,0.0668,b,out/%s.mp4,v1-0,123456,"
           "%064x,2026-11-24T10:01:00.000Z,,,,\r\n",
           tid(1), vid(1, 0), tid(1), 16);
  assert_non_null(strstr(csv, want));
  snprintf(want, sizeof(want),
           "%s,,missing-upload,2026-11-24T10:02:00.000Z,plain,bytedance:2@2"
           ",,,720p,5,MP4,95,1002,,1,0.0100,,,,,,,,,,,\r\n", tid(2));
  assert_non_null(strstr(csv, want));
  free(csv);
  vs_report_free(r);
}

static void test_jsonl(void **state)
{
  vs_report *r = build("tab\\there \\u00e9", "p");
  char *j = render(r, 0, VS_REPORT_JSONL, NULL);
  char want[1024];
  (void)state;
  snprintf(want, sizeof(want),
           "{\"task_uuid\":\"%s\",\"video_uuid\":\"%s\",\"status\":"
           "\"complete\",\"submitted\":\"2026-11-24T10:00:00.000Z\","
           "\"prompt\":\"tab\\u0009here \xc3\xa9\",\"model\":\"bytedance:2@2\","
           "\"width\":null,\"height\":null,\"resolution\":\"720p\","
           "\"duration\":5,\"format\":\"MP4\",\"quality\":95,"
           "\"seed_requested\":1001,\"seed\":5010,\"number_results\":1,"
           "\"estimated_cost\":\"0.0668\",\"actual_cost\":\"0.0668\","
           "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"version_id\":\"v1-0\","
           "\"bytes\":123456,\"sha256\":\"%064x\",\"stored\":"
           "\"2026-11-24T10:01:00.000Z\",\"verified\":null,"
           "\"verify_problem\":null,\"error_code\":null,"
           "\"error_message\":null}\n",
           tid(1), vid(1, 0), tid(1), 16);
  if(!strstr(j, want))
    fail_msg("got %s\nwant %s", j, want);
  free(j);
  vs_report_free(r);
}

static size_t cols(const char *s, size_t n)
{
  size_t i, c = 0;
  for(i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xc0) != 0x80;
  return c;
}

/* Prompts as wide as the PROMPT header: every line but the totals is as
 * wide as the header, whatever the cells hold. */
static void test_table_aligned_with_totals(void **state)
{
  vs_report *r = build("\xc3\xa9t\xc3\xa9 ab", "ab\\ncd!");
  char *t = render(r, 0, VS_REPORT_TABLE, NULL), *line, *save = NULL;
  size_t width = 0, n = 0;
  const char *last = NULL;
  (void)state;
  for(line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    n++;
    if(n == 1) {
      assert_int_equal(strncmp(line, "STATUS", 6), 0);
      width = cols(line, strlen(line));
    }
    else if(line[0] != '-' && strncmp(line, "TOTAL", 5))
      assert_int_equal(cols(line, strlen(line)), width);
    assert_true(line[strlen(line) - 1] != ' ');
    last = line;
  }
  assert_int_equal(n, 5); /* header, 2 rows, rule, totals */
  assert_non_null(strstr(last, "2 outputs"));
  assert_non_null(strstr(last, "0.0768"));
  assert_non_null(strstr(last, "0.0668"));
  assert_non_null(strstr(last, "123456"));
  assert_non_null(strstr(last, "1 problems"));
  free(t);
  vs_report_free(r);
}

static void test_grouped_formats(void **state)
{
  vs_report *r = build("a", "b");
  char *csv = render(r, VS_REPORT_BY_STATUS, VS_REPORT_CSV, NULL);
  char *j = render(r, VS_REPORT_BY_DAY, VS_REPORT_JSONL, NULL);
  char *t = render(r, VS_REPORT_BY_RESOLUTION, VS_REPORT_TABLE, NULL);
  (void)state;
  assert_string_equal(csv,
    "status,outputs,seconds,estimated_cost,actual_cost,bytes,problems\r\n"
    "complete,1,5,0.0668,0.0668,123456,0\r\n"
    "missing-upload,1,5,0.0100,0.0000,0,1\r\n"
    "TOTAL,2,10,0.0768,0.0668,123456,1\r\n");
  assert_string_equal(j,
    "{\"day\":\"2026-11-24\",\"outputs\":2,\"seconds\":10,"
    "\"estimated_cost\":\"0.0768\",\"actual_cost\":\"0.0668\","
    "\"bytes\":123456,\"problems\":1}\n"
    "{\"day\":null,\"total\":true,\"outputs\":2,\"seconds\":10,"
    "\"estimated_cost\":\"0.0768\",\"actual_cost\":\"0.0668\","
    "\"bytes\":123456,\"problems\":1}\n");
  assert_string_equal(t,
    "resolution  outputs  seconds  estimated_cost  actual_cost   bytes  "
    "problems\n"
    "720p              2       10          0.0768       0.0668  123456  "
    "       1\n"
    "-------------------------------------------------------------------"
    "--------\n"
    "TOTAL             2       10          0.0768       0.0668  123456  "
    "       1\n");
  free(csv);
  free(j);
  free(t);
  vs_report_free(r);
}

static void test_bad_format(void **state)
{
  vs_report *r = build("a", "b");
  vs_err err = {0};
  int f;
  (void)state;
  assert_int_equal(vs_report_write(r, NULL, 0, VS_REPORT_HTML, stdout, NULL,
                                   &err), VS_ERR_INVALID);
  assert_string_equal(err.msg, "report format must be table, csv or jsonl");
  assert_int_equal(vs_report_format_parse("csv", &f), 0);
  assert_int_equal(f, VS_REPORT_CSV);
  assert_int_equal(vs_report_format_parse("xml", &f), -1);
  assert_int_equal(vs_report_by_parse("week", &f), -1);
  assert_int_equal(vs_report_by_parse("prefix", &f), 0);
  assert_int_equal(f, VS_REPORT_BY_PREFIX);
  vs_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_csv),
    cmocka_unit_test(test_jsonl),
    cmocka_unit_test(test_table_aligned_with_totals),
    cmocka_unit_test(test_grouped_formats),
    cmocka_unit_test(test_bad_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
