/* manifest: rotation by size and by age, and gzip-closed segments. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/manifest.h"

#define T0 1767225600000LL

static int64_t fixed_clock(void *ctx)
{
  return *(int64_t *)ctx;
}

static vs_manifest *open_with(const char *dir, uint64_t max_bytes,
                              int64_t max_age, int64_t *now)
{
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.dir = dir, .node = "rot", .max_bytes = max_bytes,
                        .max_age_ms = max_age, .now = fixed_clock,
                        .now_ctx = now};
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  return m;
}

static void append_i(vs_manifest *m, int i)
{
  vs_err err = {0};
  cJSON *f = cJSON_CreateObject();
  cJSON_AddNumberToObject(f, "i", i);
  cJSON_AddStringToObject(f, "pad", "0123456789012345678901234567890123456789");
  assert_int_equal(vs_manifest_append(m, "stored", f, &err), VS_OK);
  cJSON_Delete(f);
}

typedef struct count {
  int next;       /* the i expected next */
  uint64_t bytes; /* of this segment, newlines included */
} count;

static int check_i(void *ctx, const char *line, size_t len)
{
  count *c = ctx;
  char want[32];
  int n = snprintf(want, sizeof(want), ",\"i\":%d,", c->next++);
  assert_non_null(memmem(line, len, want, (size_t)n));
  c->bytes += len + 1;
  return 0;
}

/* Every file in dir ends .jsonl.gz: no plain segment, no .tmp left. */
static int only_gz(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if(e->d_name[0] == '.')
      continue;
    if(l < 9 || strcmp(e->d_name + l - 9, ".jsonl.gz"))
      fail_msg("unexpected file %s", e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static void test_by_size(void **state)
{
  char dir[256];
  int64_t now = T0;
  vs_manifest_segment *segs;
  size_t n, i;
  vs_err err = {0};
  count all = {0}, one = {0};
  vs_manifest *m;
  int k;
  (void)state;
  assert_int_equal(vst_tmpdir("mrot", dir, sizeof(dir)), 0);
  m = open_with(dir, 1000, 0, &now);
  for(k = 0; k < 60; k++)
    append_i(m, k);
  vs_manifest_close(m);
  assert_int_equal(vs_manifest_list(dir, &segs, &n, &err), VS_OK);
  assert_int_equal(only_gz(dir), (int)n);
  /* ~120-byte lines, at most 1000 bytes a segment: 8 lines each. */
  assert_true(n >= 7 && n <= 9);
  for(i = 0; i < n; i++) {
    one.bytes = 0;
    assert_true(segs[i].gz);
    assert_int_equal(vs_manifest_read_segment(&segs[i], check_i, NULL, &one,
                                              &err), VS_OK);
    assert_true(one.bytes > 0 && one.bytes <= 1000);
    /* Same clock: the names still go up, by a millisecond each. */
    assert_int_equal(vs_manifest_segment_start(&segs[i]), T0 + (int64_t)i);
  }
  assert_int_equal(one.next, 60);
  vs_manifest_list_free(segs, n);
  assert_int_equal(vs_manifest_scan(dir, check_i, NULL, &all, &err), VS_OK);
  assert_int_equal(all.next, 60);
  vst_rmrf(dir);
}

static size_t n_segments(const char *dir)
{
  vs_manifest_segment *segs;
  size_t n;
  vs_err err = {0};
  assert_int_equal(vs_manifest_list(dir, &segs, &n, &err), VS_OK);
  vs_manifest_list_free(segs, n);
  return n;
}

static void test_by_age(void **state)
{
  char dir[256];
  int64_t now = T0;
  vs_err err = {0};
  count all = {0};
  vs_manifest *m;
  (void)state;
  assert_int_equal(vst_tmpdir("mage", dir, sizeof(dir)), 0);
  m = open_with(dir, 0, 1000, &now);
  assert_int_equal(n_segments(dir), 0); /* opened on the first append */
  append_i(m, 0);
  now += 999;
  append_i(m, 1);
  assert_int_equal(n_segments(dir), 1);
  now += 1; /* the first segment is now 1000 ms old */
  append_i(m, 2);
  assert_int_equal(n_segments(dir), 2);
  now += 5000;
  append_i(m, 3);
  append_i(m, 4);
  assert_int_equal(n_segments(dir), 3);
  vs_manifest_close(m);
  assert_int_equal(only_gz(dir), 3);
  assert_int_equal(vs_manifest_scan(dir, check_i, NULL, &all, &err), VS_OK);
  assert_int_equal(all.next, 5);
  vst_rmrf(dir);
}

/* The .gz is a real gzip file (zlib's own reader agrees) holding the lines
 * exactly, and the plain file is gone. */
static void test_gzip_is_gzip(void **state)
{
  char dir[256], buf[4096];
  int64_t now = T0;
  vs_manifest_segment *segs;
  size_t n;
  vs_err err = {0};
  vs_manifest *m;
  gzFile gz;
  int len, k, lines = 0;
  (void)state;
  assert_int_equal(vst_tmpdir("mgz", dir, sizeof(dir)), 0);
  m = open_with(dir, 0, 0, &now);
  for(k = 0; k < 10; k++)
    append_i(m, k);
  vs_manifest_close(m);
  assert_int_equal(vs_manifest_list(dir, &segs, &n, &err), VS_OK);
  assert_int_equal(n, 1);
  assert_true(segs[0].gz);
  gz = gzopen(segs[0].path, "rb");
  assert_non_null(gz);
  len = gzread(gz, buf, sizeof(buf) - 1);
  assert_true(len > 0);
  buf[len] = 0;
  gzclose(gz);
  for(k = 0; k < len; k++)
    lines += buf[k] == '\n';
  assert_int_equal(lines, 10);
  assert_int_equal(strncmp(buf, "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-"
                   "01-01T00:00:00.000Z\",\"node\":\"rot\",\"i\":0,", 76), 0);
  snprintf(buf, sizeof(buf), "%.*s", (int)strlen(segs[0].path) - 3,
           segs[0].path);
  assert_int_equal(access(buf, F_OK), -1);
  assert_int_equal(vst_count_files(dir), 1);
  vs_manifest_list_free(segs, n);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_by_size),
    cmocka_unit_test(test_by_age),
    cmocka_unit_test(test_gzip_is_gzip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
