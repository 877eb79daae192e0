/* store (fs): the names of key segments on disk (store_fs_key.c, issue 11)
 * -- the exact names of every form, the names of the previous layout read
 * unchanged, decode refusing what encode never makes, and keys of every
 * form stored, listed in S3's order and read back through the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"
#include "../../src/store/fs/store_fs_int.h"
#include "vsink/store.h"

static const char *enc(const char *key)
{
  static char out[VS__KEY_PATH_MAX];
  size_t n = vs__fs_key_encode(key, strlen(key), out, sizeof(out));
  assert_true(n != (size_t)-1);
  assert_int_equal(n, strlen(out));
  return out;
}

static void test_forms(void **state)
{
  static const struct {
    const char *key, *path;
  } rows[] = {
    /* the previous layout's names, unchanged */
    {"a", "a"}, {"a/b/c", "a/b/c"}, {"@x", "@@x"}, {"a/@current", "a/@@current"},
    {".hidden", ".hidden"}, {"...", "..."}, {"%41/%", "%41/%"},
    {"@@y", "@@@y"}, {"caf\xc3\xa9", "caf\xc3\xa9"},
    /* what it refused */
    {"a/", "a/@="}, {"a//b", "a/@=/b"}, {"/a", "@=/a"}, {"/", "@=/@="},
    {".", "@=."}, {"..", "@=.."}, {"a/../b", "a/@=../b"}, {"./x", "@=./x"},
    {"a\tb\n", "a\tb\n"}, {"@=", "@@="}, {"@>", "@@>"}, {"@", "@@"},
  };
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char back[VS_KEY_MAX + 1];
    if(strcmp(enc(rows[i].key), rows[i].path))
      fail_msg("row %zu: '%s' encodes as '%s'", i, rows[i].key,
               enc(rows[i].key));
    assert_int_equal(vs__fs_key_decode(rows[i].path, back, sizeof(back)),
                     strlen(rows[i].key));
    assert_string_equal(back, rows[i].key);
  }
}

static void test_long_segments(void **state)
{
  char seg[1025], path[VS__KEY_PATH_MAX], back[1025];
  size_t n;
  (void)state;
  memset(seg, 's', sizeof(seg) - 1);
  for(n = 250; n <= 1024; n++) {
    size_t i;
    const char *p, *c;
    seg[n] = 0;
    seg[0] = n % 2 ? '@' : 's';
    assert_true(vs__fs_key_encode(seg, n, path, sizeof(path)) !=
                (size_t)-1);
    for(p = path; *p; p = *c ? c + 1 : c) { /* every name fits */
      c = p + strcspn(p, "/");
      assert_true(c - p <= VS__NAME_MAX && c > p);
    }
    assert_int_equal(vs__fs_key_decode(path, back, sizeof(back)), n);
    assert_memory_equal(back, seg, n);
    for(i = 0; i < n; i++)
      if(seg[i] != 's' && i)
        fail();
    seg[n] = 's';
  }
  /* 256 bytes: one piece of 253, then the rest */
  memset(seg, 's', 256);
  seg[256] = 0;
  assert_int_equal(strncmp(enc(seg), "@>sss", 5), 0);
  assert_string_equal(enc(seg) + 255, "/sss");
}

static void test_not_ours(void **state)
{
  static const char *const bad[] = {
    "", "@current", "@20261124T121500123Z-a1b2c3", "@20261124T121500123Z-"
    "a1b2c3.json", "@=x", "@>short", "@>short/x", "a/.", "a/..", "a//b",
    "@x", "x/@"};
  char back[VS_KEY_MAX + 1], piece[300];
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if(vs__fs_key_decode(bad[i], back, sizeof(back)) != (size_t)-1)
      fail_msg("'%s' decoded as '%s'", bad[i], back);
  /* a piece that was not needed: "@>" + 253 bytes then one byte, which
   * enc stores as one name of 254 */
  memcpy(piece, "@>", 2);
  memset(piece + 2, 'p', 253);
  strcpy(piece + 255, "/q");
  assert_int_equal(vs__fs_key_decode(piece, back, sizeof(back)), (size_t)-1);
  piece[255] = 0; /* a piece must continue */
  assert_int_equal(vs__fs_key_decode(piece, back, sizeof(back)), (size_t)-1);
}

static void put(vs_store *s, const char *key)
{
  vs_object_info info;
  vs_err err = {0};
  if(st_put(s, "bkt", key, key, strlen(key), VS_ON_EXISTING_VERSION, 0,
            &info, &err))
    fail_msg("put '%.40s': %s", key, err.msg);
}

static void get_is(vs_store *s, const char *key, const char *want)
{
  vs_object_info info;
  size_t len = 0;
  int rc;
  char *body = st_get(s, "bkt", key, NULL, &len, &info, &rc);
  if(rc)
    fail_msg("get '%.40s': rc %d", key, rc);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(body, want, len);
  free(body);
}

static int cmp_bytes(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keys of every form, put, listed in byte order, read back. */
static void test_store_round_trip(void **state)
{
  st_fx *f = *state;
  static char long1[1025], long2[600], long3[1025];
  static const char *keys[] = {
    "a", "a/", "a//b", "a/b", "a!", "a/../b", "..", ".", "/", "//", "/a",
    "@", "@x", "@=", "@>", "a/@current", "x\ty", "\x01", "photos/",
    long1, long2, long3, "a/.", "a/./", "\xc3\xa9/", "z"};
  const size_t n = sizeof(keys) / sizeof(keys[0]);
  const char *sorted[sizeof(keys) / sizeof(keys[0])];
  vs_list_opts o = {"bkt", NULL, NULL, 0};
  vs_store_list *l;
  vs_list_item it;
  size_t i, got = 0;
  int end;
  vs_err err = {0};
  memset(long1, 'l', 1024);
  memset(long2, 'm', 599);
  long2[0] = '@';
  memset(long3, '/', 1024);
  memcpy(long3 + 100, "@xyz", 4);
  for(i = 0; i < n; i++) {
    put(f->s, keys[i]);
    sorted[i] = keys[i];
  }
  qsort(sorted, n, sizeof(*sorted), cmp_bytes);
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  for(;;) {
    assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
    if(end)
      break;
    assert_true(got < n);
    if(strcmp(it.key, sorted[got]))
      fail_msg("listed '%.40s' at %zu, want '%.40s'", it.key, got,
               sorted[got]);
    got++;
  }
  vs_store_list_close(l);
  assert_int_equal(got, n);
  for(i = 0; i < n; i++)
    get_is(f->s, keys[i], keys[i]);
}

/* A folder written by the previous layout, made by hand: "@x%25/@@y" was
 * stored as @@x%25/@@@y. */
static void test_old_layout(void **state)
{
  st_fx *f = *state;
  char from[4096], to[4096];
  vs_list_opts o = {"bkt", NULL, NULL, 0};
  vs_store_list *l;
  vs_list_item it;
  int end;
  vs_err err = {0};
  put(f->s, "seed");
  snprintf(to, sizeof(to), "%s/buckets/bkt/@@x%%25", f->dir);
  assert_int_equal(mkdir(to, 0755), 0);
  snprintf(from, sizeof(from), "%s/buckets/bkt/seed", f->dir);
  strcat(to, "/@@@y");
  assert_int_equal(rename(from, to), 0);
  get_is(f->s, "@x%25/@@y", "seed");
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_false(end);
  assert_string_equal(it.key, "@x%25/@@y");
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_true(end);
  vs_store_list_close(l);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_forms),
    cmocka_unit_test(test_long_segments),
    cmocka_unit_test(test_not_ours),
    ST_TEST(test_store_round_trip),
    ST_TEST(test_old_layout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
