/* manifest: the scan merges segments by event time, stably, with lines
 * that have no readable time first. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "util/json.h"
#include "vsink/manifest.h"

#define T0 1767225600000LL

static int64_t fixed_clock(void *ctx)
{
  return *(int64_t *)ctx;
}

typedef struct w {
  vs_manifest *m;
  int64_t now;
} w;

static void open_w(w *x, const char *dir, const char *node, uint64_t max)
{
  vs_err err = {0};
  vs_manifest_opts o = {.dir = dir, .node = node, .max_bytes = max,
                        .now = fixed_clock, .now_ctx = &x->now};
  assert_int_equal(vs_manifest_open(&x->m, &o, &err), VS_OK);
}

static void put(w *x, int64_t at, const char *tag)
{
  vs_err err = {0};
  cJSON *f = cJSON_CreateObject();
  x->now = at;
  cJSON_AddStringToObject(f, "tag", tag);
  assert_int_equal(vs_manifest_append(x->m, "stored", f, &err), VS_OK);
  cJSON_Delete(f);
}

typedef struct order {
  char tags[64][16];
  int n;
} order;

static int record(void *ctx, const char *line, size_t len)
{
  order *o = ctx;
  cJSON *j = vs_json_parse(line, len);
  const cJSON *t = cJSON_GetObjectItem(j, "tag");
  assert_true(cJSON_IsString(t) && o->n < 64);
  snprintf(o->tags[o->n++], 16, "%s", t->valuestring);
  cJSON_Delete(j);
  return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
  char path[512];
  int fd;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static void test_time_order(void **state)
{
  static const char *const want[] = {
    "notime", "a1", "b1", "a2", "x", "b2", "a3", "b3", "tieB", "tieA",
    "late-a", "days-b"};
  char dir[256];
  w a, b;
  order o = {0};
  vs_err err = {0};
  size_t i;
  (void)state;
  assert_int_equal(vst_tmpdir("mmerge", dir, sizeof(dir)), 0);
  open_w(&a, dir, "a", 200); /* ~110-byte lines: one segment per line */
  open_w(&b, dir, "b", 0);
  put(&a, T0 + 1000, "a1");
  put(&b, T0 + 2000, "b1");
  put(&a, T0 + 3000, "a2");
  put(&b, T0 + 5000, "b2");
  put(&a, T0 + 6000, "a3");
  put(&b, T0 + 7000, "b3");
  /* Equal times keep segment name order: b's one segment is named after
   * 2000, a's segment holding tieA after 9000, so tieB comes first. */
  put(&a, T0 + 9000, "tieA");
  put(&b, T0 + 9000, "tieB");
  put(&a, T0 + 10000, "late-a");
  put(&b, T0 + 3LL * 86400 * 1000, "days-b");
  vs_manifest_close(a.m);
  vs_manifest_close(b.m);
  /* A segment from some other tool: no time in its name, one line with no
   * time at all and one written in another time format. */
  write_file(dir, "imported.jsonl",
             "{\"event\":\"stored\",\"tag\":\"notime\"}\n"
             "{\"time\":\"2026-01-01T01:00:04+01:00\",\"tag\":\"x\"}\n");
  assert_int_equal(vs_manifest_scan(dir, record, NULL, &o, &err), VS_OK);
  assert_int_equal(o.n, (int)(sizeof(want) / sizeof(want[0])));
  for(i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    if(strcmp(o.tags[i], want[i]))
      fail_msg("position %zu: %s, expected %s", i, o.tags[i], want[i]);
  vst_rmrf(dir);
}

/* Stability within one time: lines keep segment name order, then file
 * order, whatever order the segments were written in. */
static void test_stable_ties(void **state)
{
  char dir[256];
  order o = {0};
  vs_err err = {0};
  static const char t[] = "\"time\":\"2026-01-01T00:00:00.000Z\"";
  char line[256], text[1024];
  (void)state;
  assert_int_equal(vst_tmpdir("mties", dir, sizeof(dir)), 0);
  snprintf(line, sizeof(line), "{\"v\":1,\"event\":\"e\",%s,\"tag\":", t);
  snprintf(text, sizeof(text), "%s\"z1\"}\n%s\"z2\"}\n", line, line);
  write_file(dir, "20260101T000000000Z-z-1-00000002.jsonl", text);
  snprintf(text, sizeof(text), "%s\"y1\"}\n%s\"y2\"}\n", line, line);
  write_file(dir, "20260101T000000000Z-y-1-00000001.jsonl", text);
  assert_int_equal(vs_manifest_scan(dir, record, NULL, &o, &err), VS_OK);
  assert_int_equal(o.n, 4);
  assert_string_equal(o.tags[0], "y1");
  assert_string_equal(o.tags[1], "y2");
  assert_string_equal(o.tags[2], "z1");
  assert_string_equal(o.tags[3], "z2");
  vst_rmrf(dir);
}

static int stop_at_two(void *ctx, const char *line, size_t len)
{
  int *n = ctx;
  (void)line;
  (void)len;
  return ++*n == 2 ? 42 : 0;
}

static void test_stop(void **state)
{
  char dir[256];
  w a;
  int n = 0;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vst_tmpdir("mstop", dir, sizeof(dir)), 0);
  open_w(&a, dir, "a", 0);
  put(&a, T0, "1");
  put(&a, T0 + 1, "2");
  put(&a, T0 + 2, "3");
  vs_manifest_close(a.m);
  assert_int_equal(vs_manifest_scan(dir, stop_at_two, NULL, &n, &err), 42);
  assert_int_equal(n, 2);
  vst_rmrf(dir);
}

/* Far more than the scan's read-ahead holds, a line longer than one of its
 * batches, a torn tail, and a stop in the middle (with the merge thread
 * waiting on a full read-ahead): every line exactly as written, in order. */
typedef struct bulk {
  int n, stop_at, torn;
  size_t big;
  uint64_t torn_off;
} bulk;

static size_t bulk_len(int i)
{
  return i == 5000 ? 300000 : 20 + (size_t)(i * 37 % 400);
}

static int bulk_line(void *ctx, const char *line, size_t len)
{
  bulk *b = ctx;
  size_t k, want = bulk_len(b->n);
  char head[16];
  int h = snprintf(head, sizeof(head), "%07d", b->n);
  assert_int_equal(len, want);
  assert_memory_equal(line, head, (size_t)h);
  for(k = (size_t)h; k < len; k++)
    if(line[k] != 'a' + (char)((b->n + k) % 26))
      fail_msg("line %d byte %zu", b->n, k);
  if(len > b->big)
    b->big = len;
  return ++b->n == b->stop_at ? 7 : 0;
}

static void bulk_torn(void *ctx, const char *seg, uint64_t off, size_t len)
{
  bulk *b = ctx;
  (void)seg;
  assert_int_equal(len, 5);
  b->torn++;
  b->torn_off = off;
}

static void test_read_ahead(void **state)
{
  char dir[256], path[512];
  FILE *f;
  size_t k, total = 0;
  int i;
  bulk b = {0};
  vs_err err = {0};
  (void)state;
  assert_int_equal(vst_tmpdir("mahead", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/bulk.jsonl", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  for(i = 0; i < 40000; i++) {
    size_t n = bulk_len(i);
    fprintf(f, "%07d", i);
    for(k = 7; k < n; k++)
      fputc('a' + (int)((i + k) % 26), f);
    fputc('\n', f);
    total += n + 1;
  }
  fputs("torn!", f);
  fclose(f);
  assert_int_equal(vs_manifest_scan(dir, bulk_line, bulk_torn, &b, &err),
                   VS_OK);
  assert_int_equal(b.n, 40000);
  assert_int_equal(b.big, 300000);
  assert_int_equal(b.torn, 1);
  assert_int_equal(b.torn_off, total);
  memset(&b, 0, sizeof(b));
  b.stop_at = 1000;
  assert_int_equal(vs_manifest_scan(dir, bulk_line, bulk_torn, &b, &err), 7);
  assert_int_equal(b.n, 1000);
  assert_int_equal(b.torn, 0);
  vst_rmrf(dir);
}

static void test_missing_dir(void **state)
{
  vs_err err = {0};
  vs_manifest_segment *segs;
  size_t n;
  int k = 0;
  (void)state;
  assert_int_equal(vs_manifest_scan("/nonexistent/vsink-manifest",
                                    stop_at_two, NULL, &k, &err),
                   VS_ERR_NOTFOUND);
  assert_non_null(strstr(err.msg, "/nonexistent/vsink-manifest"));
  assert_int_equal(vs_manifest_list("/dev/null", &segs, &n, &err), VS_ERR_IO);
  assert_non_null(strstr(err.msg, "Not a directory"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_time_order),
    cmocka_unit_test(test_stable_ties),
    cmocka_unit_test(test_stop),
    cmocka_unit_test(test_read_ahead),
    cmocka_unit_test(test_missing_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
