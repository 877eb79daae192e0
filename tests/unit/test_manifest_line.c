/* manifest: the exact shape of a line, exact numbers, and refused input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include "util/json.h"
#include "vsink/manifest.h"

#define T0 1767225600123LL /* 2026-01-01T00:00:00.123Z */

static int64_t fixed_clock(void *ctx)
{
  return *(int64_t *)ctx;
}

typedef struct got {
  char lines[8][512];
  int n;
} got;

static int keep(void *ctx, const char *line, size_t len)
{
  got *g = ctx;
  assert_true(g->n < 8 && len < 512);
  memcpy(g->lines[g->n], line, len);
  g->lines[g->n++][len] = 0;
  return 0;
}

static vs_manifest *open_at(const char *dir, const char *node, int64_t *now)
{
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.dir = dir, .node = node, .now = fixed_clock,
                        .now_ctx = now};
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  return m;
}

static void test_exact_line(void **state)
{
  static const char in[] =
    "{\"taskUUID\":\"0b8ef5e3-0c4e-4b0e-8a8e-5f3b0f0f0f0f\","
    "\"seed\":18446744073709551615,\"cost\":0.0668,"
    "\"nested\":{\"a\":[1,2.5e3,true,null,false]},"
    "\"s\":\"\\u00e9\\n\\\"q\\\\\"}";
  char dir[256];
  int64_t now = T0;
  vs_err err = {0};
  got g = {0};
  cJSON *f = vs_json_parse(in, strlen(in)), *g2 = cJSON_CreateObject();
  vs_manifest *m;
  (void)state;
  assert_non_null(f);
  assert_int_equal(vst_tmpdir("mline", dir, sizeof(dir)), 0);
  m = open_at(dir, "node one/2", &now);
  assert_string_equal(vs_manifest_node(m), "node one/2");
  assert_int_equal(vs_manifest_append(m, "result", f, &err), VS_OK);
  now += 1001;
  cJSON_AddNumberToObject(g2, "third", 0.1);
  cJSON_AddNumberToObject(g2, "int", 3);
  cJSON_AddStringToObject(g2, "bad", "a\xff" "b");
  cJSON_AddRawToObject(g2, "raw", "{\"x\": [1, 2]}");
  assert_int_equal(vs_manifest_append(m, "stored", g2, &err), VS_OK);
  assert_int_equal(vs_manifest_append(m, "failed", NULL, &err), VS_OK);
  vs_manifest_close(m);
  assert_int_equal(vs_manifest_scan(dir, keep, NULL, &g, &err), VS_OK);
  assert_int_equal(g.n, 3);
  assert_string_equal(g.lines[0],
    "{\"v\":1,\"event\":\"result\",\"time\":\"2026-01-01T00:00:00.123Z\","
    "\"node\":\"node one/2\","
    "\"taskUUID\":\"0b8ef5e3-0c4e-4b0e-8a8e-5f3b0f0f0f0f\","
    "\"seed\":18446744073709551615,\"cost\":0.0668,"
    "\"nested\":{\"a\":[1,2.5e3,true,null,false]},"
    "\"s\":\"\xc3\xa9\\u000a\\\"q\\\\\"}");
  assert_string_equal(g.lines[1],
    "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-01-01T00:00:01.124Z\","
    "\"node\":\"node one/2\",\"third\":0.1,\"int\":3,\"bad\":\"a\\ufffdb\","
    "\"raw\":{\"x\": [1, 2]}}");
  assert_string_equal(g.lines[2],
    "{\"v\":1,\"event\":\"failed\",\"time\":\"2026-01-01T00:00:01.124Z\","
    "\"node\":\"node one/2\"}");
  /* The node is sanitised in the file name only. */
  vs_manifest_segment *segs;
  size_t n;
  assert_int_equal(vs_manifest_list(dir, &segs, &n, &err), VS_OK);
  assert_int_equal(n, 1);
  assert_non_null(strstr(segs[0].path, "/20260101T000000123Z-node_one_2-"));
  assert_true(segs[0].gz);
  assert_int_equal(vs_manifest_segment_start(&segs[0]), T0);
  vs_manifest_list_free(segs, n);
  cJSON_Delete(f);
  cJSON_Delete(g2);
  vst_rmrf(dir);
}

static void expect_refused(vs_manifest *m, const char *event, cJSON *f,
                           int code, const char *needle)
{
  vs_err err = {0};
  assert_int_equal(vs_manifest_append(m, event, f, &err), code);
  assert_int_equal(err.code, code);
  if(!strstr(err.msg, needle))
    fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
  cJSON_Delete(f);
}

static void test_refused(void **state)
{
  char dir[256];
  int64_t now = T0;
  vs_manifest *m;
  cJSON *f;
  char *big;
  (void)state;
  assert_int_equal(vst_tmpdir("mrefuse", dir, sizeof(dir)), 0);
  m = open_at(dir, "n", &now);
  expect_refused(m, "", NULL, VS_ERR_INVALID, "1 to 64");
  expect_refused(m, NULL, NULL, VS_ERR_INVALID, "1 to 64");
  expect_refused(m, "Stored", NULL, VS_ERR_INVALID, "\"Stored\"");
  expect_refused(m, "a\"b", NULL, VS_ERR_INVALID, "only a-z");
  f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "time", "x");
  expect_refused(m, "stored", f, VS_ERR_INVALID, "\"time\" is reserved");
  f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "node", "x");
  expect_refused(m, "stored", f, VS_ERR_INVALID, "\"node\" is reserved");
  expect_refused(m, "stored", cJSON_CreateArray(), VS_ERR_INVALID,
                 "must be an object");
  f = cJSON_CreateObject();
  cJSON_AddNumberToObject(f, "cost", NAN);
  expect_refused(m, "stored", f, VS_ERR_INVALID, "\"cost\"");
  f = cJSON_CreateObject();
  cJSON_AddRawToObject(f, "task", "{\"a\":\n1}");
  expect_refused(m, "stored", f, VS_ERR_INVALID, "one line of JSON");
  f = cJSON_CreateObject();
  cJSON_AddRawToObject(f, "task", "{\"a\":");
  expect_refused(m, "stored", f, VS_ERR_INVALID, "\"task\"");
  big = malloc(2u << 20);
  memset(big, 'x', (2u << 20) - 1);
  big[(2u << 20) - 1] = 0;
  f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "prompt", big);
  free(big);
  expect_refused(m, "submitted", f, VS_ERR_TOOLARGE, "limit");
  now = -5;
  expect_refused(m, "stored", NULL, VS_ERR_INVALID, "clock out of range");
  vs_manifest_close(m);
  /* Nothing refused left a line, nor even a segment. */
  assert_int_equal(vst_count_files(dir), 0);
  vst_rmrf(dir);
}

static void test_line_time(void **state)
{
  int64_t ms = 0;
  static const char canon[] =
    "{\"v\":1,\"event\":\"st\\\"x\",\"time\":\"2026-01-01T00:00:00.123Z\"}";
  static const char offset[] =
    "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-01-01T02:00:00+02:00\"}";
  static const char other[] = "{\"time\":\"2026-01-01T00:00:01Z\",\"v\":1}";
  (void)state;
  assert_int_equal(vs_manifest_line_time(canon, strlen(canon), &ms), 0);
  assert_int_equal(ms, T0);
  assert_int_equal(vs_manifest_line_time(offset, strlen(offset), &ms), 0);
  assert_int_equal(ms, T0 - 123);
  assert_int_equal(vs_manifest_line_time(other, strlen(other), &ms), 0);
  assert_int_equal(ms, T0 - 123 + 1000);
  assert_int_equal(vs_manifest_line_time("{\"v\":1}", 7, &ms), -1);
  assert_int_equal(vs_manifest_line_time("not json", 8, &ms), -1);
  assert_int_equal(vs_manifest_line_time(
    "{\"v\":1,\"event\":\"x\",\"time\":\"2026-02-30T00:00:00.000Z\"}", 52, &ms),
    -1);
  assert_int_equal(vs_manifest_line_time(
    "{\"v\":1,\"event\":\"x\",\"time\":\"2026-01-01T00:00:00.000Z", 50, &ms),
    -1);
}

static void test_segment_start(void **state)
{
  vs_manifest_segment a = {"/d/20240229T235959999Z-n-1-00aa00aa.jsonl.gz", 1};
  vs_manifest_segment b = {"/d/other.jsonl", 0};
  vs_manifest_segment c = {"/d/20240230T000000000Z-n-1-00aa00aa.jsonl", 0};
  (void)state;
  assert_int_equal(vs_manifest_segment_start(&a), 1709251199999LL);
  assert_true(vs_manifest_segment_start(&b) == INT64_MIN);
  assert_true(vs_manifest_segment_start(&c) == INT64_MIN);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exact_line),
    cmocka_unit_test(test_refused),
    cmocka_unit_test(test_line_time),
    cmocka_unit_test(test_segment_start),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
