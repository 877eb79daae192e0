/* store_fs past an upload's first 8 MiB: its bytes go O_DIRECT from aligned
 * buffers on a writer thread (store_fs_direct.c), the unaligned tail
 * buffered, and a filesystem that refuses O_DIRECT keeps the buffered path
 * (tmpfs in /dev/shm did before Linux 6.6; newer ones accept it). Whatever the path, the object read back is the bytes
 * written, with their SHA-256; an upload abandoned half-way leaves nothing
 * (and, under valgrind, no leak or thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

static unsigned char *pattern(size_t n)
{
  unsigned char *p = malloc(n);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  size_t i;
  for(i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (unsigned char)(x >> 24);
  }
  return p;
}

/* begin, write in pieces of `piece` (odd, so no write is aligned), commit */
static int put_pieces(vs_store *s, const char *key, const unsigned char *d,
                      size_t len, size_t piece, vs_object_info *info)
{
  vs_upload *u = NULL;
  vs_commit c = {0};
  vs_err err = {0};
  char sha[65];
  size_t off = 0;
  int rc = vs_store_begin(s, "videos", key, &u, &err);
  while(!rc && off < len) {
    size_t n = len - off < piece ? len - off : piece;
    rc = vs_store_write(s, u, d + off, n, &err);
    off += n;
  }
  if(rc) {
    vs_store_abort(s, u);
    return rc;
  }
  st_sha256(d, len, sha);
  c.bytes = len;
  c.sha256 = sha;
  c.content_type = "video/mp4";
  c.policy = VS_ON_EXISTING_VERSION;
  return vs_store_commit(s, u, &c, info, &err);
}

static void round_trips(const char *base)
{
  static const size_t sizes[] = {(8u << 20) - 1, 8u << 20, (8u << 20) + 1,
                                 (21u << 20) + 123, 19u << 20};
  static const size_t pieces[] = {65537, 4096, 1, 131071, 1u << 20};
  char dir[256], key[32], sha[65];
  vs_store *s = NULL;
  unsigned char *d = pattern((21u << 20) + 123), *back;
  size_t i, len;
  int rc;
  vs_err err = {0};
  snprintf(dir, sizeof(dir), "%s/vsink-direct-XXXXXX", base);
  assert_non_null(mkdtemp(dir));
  assert_int_equal(st_open_dir(dir, 0, NULL, &s, &err), VS_OK);
  for(i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
    vs_object_info info, got;
    /* a piece of 1 byte only around the start of the direct part */
    size_t piece = pieces[i] == 1 ? 4093 : pieces[i];
    snprintf(key, sizeof(key), "clip%zu.mp4", i);
    assert_int_equal(put_pieces(s, key, d, sizes[i], piece, &info), VS_OK);
    st_sha256(d, sizes[i], sha);
    assert_string_equal(info.sha256, sha);
    back = (unsigned char *)st_get(s, "videos", key, "", &len, &got, &rc);
    assert_int_equal(rc, VS_OK);
    assert_int_equal(len, sizes[i]);
    assert_memory_equal(back, d, len);
    free(back);
  }
  free(d);
  st_close_tmp(s, dir);
}

static void test_disk(void **state)
{
  const char *t = getenv("TMPDIR");
  (void)state;
  round_trips(t ? t : "/tmp");
}

static void test_tmpfs(void **state)
{
  struct stat st;
  (void)state;
  if(stat("/dev/shm", &st) || !S_ISDIR(st.st_mode))
    skip();
  round_trips("/dev/shm");
}

static void test_abort_half_way(void **state)
{
  char dir[256];
  vs_store *s = NULL;
  vs_upload *u = NULL;
  vs_err err = {0};
  unsigned char *d = pattern(12u << 20);
  (void)state;
  assert_int_equal(st_open_tmp("direct", dir, sizeof(dir), NULL, NULL, &s),
                   0);
  assert_int_equal(vs_store_begin(s, "videos", "gone.mp4", &u, &err), VS_OK);
  assert_int_equal(vs_store_write(s, u, d, (12u << 20) - 5, &err), VS_OK);
  vs_store_abort(s, u);
  snprintf((char *)d, 300, "%s/.tmp", dir);
  assert_int_equal(vst_count_files((char *)d), 0);
  free(d);
  st_close_tmp(s, dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_disk),
    cmocka_unit_test(test_tmpfs),
    cmocka_unit_test(test_abort_half_way),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
