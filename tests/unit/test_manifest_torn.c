/* manifest: torn last lines, truncated and corrupt gzip, and what a crash
 * during compression leaves (both files, a .tmp): each line read once. */
#define _GNU_SOURCE
#include <fcntl.h>
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
#include "util/fs.h"
#include "vsink/manifest.h"

#define L1 "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-01-01T00:00:00.000Z\",\"k\":1}"
#define L2 "{\"v\":1,\"event\":\"stored\",\"time\":\"2026-01-01T00:00:01.000Z\",\"k\":2}"
#define PART "{\"v\":1,\"event\":\"sto"

typedef struct rec {
  int lines;
  size_t bytes;      /* of lines, newlines included */
  char first[128];
  int torn;
  char torn_file[512];
  uint64_t torn_off;
  size_t torn_len;
} rec;

static int on_line(void *ctx, const char *line, size_t len)
{
  rec *r = ctx;
  if(!r->lines++)
    snprintf(r->first, sizeof(r->first), "%.*s", (int)len, line);
  r->bytes += len + 1;
  return 0;
}

static void on_torn(void *ctx, const char *seg, uint64_t off, size_t len)
{
  rec *r = ctx;
  r->torn++;
  snprintf(r->torn_file, sizeof(r->torn_file), "%s", seg);
  r->torn_off = off;
  r->torn_len = len;
}

static void put_file(const char *path, const void *p, size_t n)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, p, n), (ssize_t)n);
  close(fd);
}

static void put_gz(const char *path, const char *text)
{
  gzFile g = gzopen(path, "wb");
  assert_non_null(g);
  assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), strlen(text));
  gzclose(g);
}

static void test_plain_torn(void **state)
{
  static const char text[] = L1 "\n\n" L2 "\n" PART;
  char dir[256], path[512];
  rec r = {0};
  vs_err err = {0};
  vs_manifest_segment s;
  (void)state;
  assert_int_equal(vst_tmpdir("mtorn", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/20260101T000000000Z-n-1-0000000a.jsonl",
           dir);
  put_file(path, text, strlen(text));
  s.path = path;
  s.gz = 0;
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_OK);
  assert_int_equal(r.lines, 2); /* the blank line is no event */
  assert_string_equal(r.first, L1);
  assert_int_equal(r.torn, 1);
  assert_string_equal(r.torn_file, path);
  assert_int_equal(r.torn_off, strlen(L1) + 2 + strlen(L2) + 1);
  assert_int_equal(r.torn_len, strlen(PART));
  /* The same through the merge. */
  memset(&r, 0, sizeof(r));
  assert_int_equal(vs_manifest_scan(dir, on_line, on_torn, &r, &err), VS_OK);
  assert_int_equal(r.lines, 2);
  assert_int_equal(r.torn, 1);
  assert_int_equal(r.torn_off, strlen(L1) + 2 + strlen(L2) + 1);
  vst_rmrf(dir);
}

/* A line far longer than the read buffer, then a torn one as long. */
static void test_long_lines(void **state)
{
  char dir[256], path[512];
  size_t n = 3u << 20, i;
  char *text = malloc(2 * n + 2);
  rec r = {0};
  vs_err err = {0};
  vs_manifest_segment s = {path, 0};
  (void)state;
  assert_int_equal(vst_tmpdir("mlong", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/x.jsonl", dir);
  for(i = 0; i < 2 * n + 1; i++)
    text[i] = 'a' + (char)(i % 26);
  text[n] = '\n';
  put_file(path, text, 2 * n + 1);
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_OK);
  assert_int_equal(r.lines, 1);
  assert_int_equal(r.bytes, n + 1);
  assert_int_equal(r.torn, 1);
  assert_int_equal(r.torn_off, n + 1);
  assert_int_equal(r.torn_len, n);
  free(text);
  vst_rmrf(dir);
}

static void test_gz_truncated(void **state)
{
  char dir[256], path[512], *text, *gz;
  size_t tlen = 0, glen, i;
  rec r = {0};
  vs_err err = {0};
  vs_manifest_segment s = {path, 1};
  (void)state;
  assert_int_equal(vst_tmpdir("mgztorn", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/20260101T000000000Z-n-1-0000000b.jsonl.gz",
           dir);
  text = malloc(200000 * 48);
  for(i = 0; i < 200000; i++) /* enough to span many inflate rounds */
    tlen += (size_t)sprintf(text + tlen, "{\"i\":%zu,\"pad\":\"%zx\"}\n", i,
                            i * 2654435761u);
  put_gz(path, text);
  assert_int_equal(vs_read_file(path, 1u << 30, &gz, &glen, NULL), 0);
  /* Cut the stream in the middle: what comes out is a prefix of the text,
   * in whole lines, then one torn report where the stream stops. */
  put_file(path, gz, glen / 2);
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_OK);
  assert_true(r.lines > 1000 && r.lines < 200000);
  assert_int_equal(r.torn, 1);
  assert_int_equal(r.torn_off, r.bytes);
  assert_true(r.torn_off + r.torn_len < tlen);
  assert_int_equal(text[r.torn_off - 1], '\n');
  assert_null(memchr(text + r.torn_off, '\n', r.torn_len));
  /* Cut inside the header: torn at 0, nothing read. */
  memset(&r, 0, sizeof(r));
  put_file(path, gz, 5);
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_OK);
  assert_int_equal(r.lines, 0);
  assert_int_equal(r.torn, 1);
  assert_int_equal(r.torn_off, 0);
  /* Whole: every line, no torn report. */
  memset(&r, 0, sizeof(r));
  put_file(path, gz, glen);
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_OK);
  assert_int_equal(r.lines, 200000);
  assert_int_equal(r.bytes, tlen);
  assert_int_equal(r.torn, 0);
  /* Corrupt in the middle: an error naming the segment, not a torn line. */
  gz[glen / 2] ^= 0x55;
  gz[glen / 2 + 1] ^= 0xaa;
  put_file(path, gz, glen);
  memset(&r, 0, sizeof(r));
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_ERR_IO);
  assert_non_null(strstr(err.msg, "corrupt gzip data"));
  assert_non_null(strstr(err.msg, path));
  free(gz);
  free(text);
  vst_rmrf(dir);
}

/* Two gzip members back to back are one stream (as gzip -d reads them). */
static void test_gz_members(void **state)
{
  char dir[256], path[512], *a, *b;
  size_t alen, blen;
  rec r = {0};
  vs_err err = {0};
  vs_manifest_segment s = {path, 1};
  (void)state;
  assert_int_equal(vst_tmpdir("mgzm", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/a.jsonl.gz", dir);
  put_gz(path, L1 "\n");
  assert_int_equal(vs_read_file(path, 1u << 30, &a, &alen, NULL), 0);
  put_gz(path, L2 "\n");
  assert_int_equal(vs_read_file(path, 1u << 30, &b, &blen, NULL), 0);
  a = realloc(a, alen + blen);
  memcpy(a + alen, b, blen);
  put_file(path, a, alen + blen);
  assert_int_equal(vs_manifest_read_segment(&s, on_line, on_torn, &r, &err),
                   VS_OK);
  assert_int_equal(r.lines, 2);
  assert_int_equal(r.torn, 0);
  free(a);
  free(b);
  vst_rmrf(dir);
}

/* A crash after the .gz's rename but before the plain one's unlink leaves
 * both; one mid-compression leaves a .gz.tmp. Each line is read once. */
static void test_crash_in_compression(void **state)
{
  char dir[256], path[512];
  rec r = {0};
  vs_err err = {0};
  vs_manifest_segment *segs;
  size_t n;
  (void)state;
  assert_int_equal(vst_tmpdir("mboth", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/20260101T000000000Z-n-1-0000000c.jsonl",
           dir);
  put_file(path, L1 "\n" L2 "\n", strlen(L1 "\n" L2 "\n"));
  strcat(path, ".gz");
  put_gz(path, L1 "\n" L2 "\n");
  snprintf(path, sizeof(path),
           "%s/20260101T000000000Z-n-1-0000000d.jsonl.gz.tmp", dir);
  put_file(path, "\x1f\x8b garbage", 10);
  snprintf(path, sizeof(path), "%s/20260101T000000000Z-n-1-0000000d.jsonl",
           dir);
  put_file(path, L2 "\n", strlen(L2 "\n"));
  assert_int_equal(vs_manifest_list(dir, &segs, &n, &err), VS_OK);
  assert_int_equal(n, 2);
  assert_true(segs[0].gz);
  assert_non_null(strstr(segs[0].path, "0000000c.jsonl.gz"));
  assert_false(segs[1].gz);
  assert_non_null(strstr(segs[1].path, "0000000d.jsonl"));
  vs_manifest_list_free(segs, n);
  assert_int_equal(vs_manifest_scan(dir, on_line, on_torn, &r, &err), VS_OK);
  assert_int_equal(r.lines, 3);
  assert_int_equal(r.torn, 0);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain_torn),
    cmocka_unit_test(test_long_lines),
    cmocka_unit_test(test_gz_truncated),
    cmocka_unit_test(test_gz_members),
    cmocka_unit_test(test_crash_in_compression),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
