/* store_fs listing: keys come in S3's order (bytewise, unsigned), which a
 * per-directory walk gets wrong ("a!" and "a.b" sort between "a" and
 * "a/b"); prefixes, "after" bounds and skipped common prefixes select
 * exactly what S3 would; a directory of more names than one batch holds
 * is read in several passes without losing or repeating a key. Every
 * expected sequence is computed here with strcmp over the keys put. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

/* "\xc3\xa9" is e-acute, "\xe2\x82\xac" the euro sign: bytes above 0x7f
 * sort after every ASCII byte. "@current" and "@x" are stored escaped. */
static const char *const KEYS[] = {
  "a", "a/b", "a!", "a.b", "a b", "a-", "a/b/c", "a/b!", "a/b.c", "ab",
  "a/@current", "@x", "@x/y", "@@z", "b", "b/a/a/a", "b/a!", "\xc3\xa9",
  "\xc3\xa9/x", "\xe2\x82\xac", "z", "z~", "~", "A", "a/b/c/d", "a+b",
  "v/2026/11/24/clip.mp4", "v/2026/11/24/clip.mp4.json", "v/2026/11/3",
};
#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

typedef struct fx {
  char dir[256];
  vs_store *s;
  const char *sorted[NKEYS];
} fx;

static int cmp_key(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void put(vs_store *s, const char *key, const char *data)
{
  vs_object_info info;
  vs_err err = {0};
  assert_int_equal(st_put(s, "videos", key, data, strlen(data),
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
}

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  size_t i;
  if(!f)
    return -1;
  *state = f;
  if(st_open_tmp("storelist", f->dir, sizeof(f->dir), NULL, NULL, &f->s))
    return -1;
  for(i = 0; i < NKEYS; i++) {
    put(f->s, KEYS[i], KEYS[i]);
    f->sorted[i] = KEYS[i];
  }
  qsort(f->sorted, NKEYS, sizeof(f->sorted[0]), cmp_key);
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  st_close_tmp(f->s, f->dir);
  free(f);
  return 0;
}

/* Lists into got (each malloc'd); returns the count. */
static size_t list(vs_store *s, const char *prefix, const char *after,
                   char **got, size_t cap)
{
  vs_list_opts o = {"videos", prefix, after, 0};
  vs_store_list *l;
  vs_list_item it;
  vs_err err = {0};
  size_t n = 0;
  int end = 0;
  assert_int_equal(vs_store_list_open(s, &o, &l, &err), VS_OK);
  for(;;) {
    assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
    if(end)
      break;
    assert_true(n < cap);
    assert_int_equal(strlen(it.key), it.key_len);
    assert_true(it.has_current);
    got[n++] = strdup(it.key);
  }
  vs_store_list_close(l);
  return n;
}

static void free_all(char **got, size_t n)
{
  while(n)
    free(got[--n]);
}

/* What S3 returns: the sorted keys that start with prefix, after after. */
static size_t expected(const fx *f, const char *prefix, const char *after,
                       const char **want)
{
  size_t i, n = 0;
  for(i = 0; i < NKEYS; i++)
    if(!strncmp(f->sorted[i], prefix, strlen(prefix)) &&
       (!after || strcmp(f->sorted[i], after) > 0))
      want[n++] = f->sorted[i];
  return n;
}

static void check(const fx *f, const char *prefix, const char *after)
{
  const char *want[NKEYS];
  char *got[NKEYS + 1];
  size_t i, n = expected(f, prefix, after, want);
  size_t m = list(f->s, prefix, after, got, NKEYS + 1);
  if(m != n)
    fail_msg("prefix '%s' after '%s': %zu keys, expected %zu", prefix,
             after ? after : "", m, n);
  for(i = 0; i < n; i++)
    if(strcmp(got[i], want[i]))
      fail_msg("prefix '%s' after '%s': key %zu is '%s', expected '%s'",
               prefix, after ? after : "", i, got[i], want[i]);
  free_all(got, m);
}

static void all_keys_in_byte_order(void **state)
{
  fx *f = *state;
  char *got[NKEYS + 1];
  size_t n = list(f->s, "", NULL, got, NKEYS + 1), i;
  assert_int_equal(n, NKEYS);
  for(i = 0; i < n; i++)
    assert_string_equal(got[i], f->sorted[i]);
  /* the case the walk must not get wrong, spelled out */
  for(i = 0; i + 3 < n && strcmp(got[i], "a"); i++)
    ;
  assert_string_equal(got[i + 1], "a b");
  assert_string_equal(got[i + 2], "a!");
  assert_string_equal(got[i + 3], "a+b");
  free_all(got, n);
}

static void info_is_the_current_version(void **state)
{
  fx *f = *state;
  vs_list_opts o = {"videos", "a.", NULL, 0};
  vs_store_list *l;
  vs_list_item it;
  vs_object_info cur;
  vs_err err = {0};
  int end;
  put(f->s, "a.b", "second version, longer");
  assert_int_equal(vs_store_stat(f->s, "videos", "a.b", NULL, &cur, &err),
                   VS_OK);
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_false(end);
  assert_string_equal(it.key, "a.b");
  assert_int_equal(it.info.bytes, strlen("second version, longer"));
  assert_string_equal(it.info.version_id, cur.version_id);
  assert_string_equal(it.info.etag, cur.etag);
  assert_int_equal(it.info.mtime_ms, cur.mtime_ms);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_true(end);
  vs_store_list_close(l);
}

static void prefixes_select_and_prune(void **state)
{
  static const char *const prefixes[] = {
    "", "a", "a/", "a/b", "a/b/", "a/b/c", "a/@", "@", "@x", "@x/", "@@",
    "b/a", "\xc3", "\xc3\xa9/", "v/2026/11/", "v/2026/11/2", "zz", "nope/",
    "a//", "a/./", "/", "a/b/c/d/e/",
  };
  fx *f = *state;
  size_t i;
  for(i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    check(f, prefixes[i], NULL);
}

static void after_any_point(void **state)
{
  static const char *const points[] = {
    "", "a/", "a0", "a/b/", "a/b/c/d/e", "@", "b/a/a", "\xc3", "~~",
    "\xff", " ", "a/b\xff",
  };
  fx *f = *state;
  size_t i;
  for(i = 0; i < NKEYS; i++) { /* after every key, with and without prefix */
    check(f, "", f->sorted[i]);
    check(f, "a", f->sorted[i]);
    check(f, "a/b/", f->sorted[i]);
  }
  for(i = 0; i < sizeof(points) / sizeof(points[0]); i++)
    check(f, "", points[i]);
}

/* A delimiter: the caller skips a common prefix after its first key. */
static void skipping_a_common_prefix(void **state)
{
  fx *f = *state;
  vs_list_opts o = {"videos", "", NULL, 0};
  vs_store_list *l;
  vs_list_item it;
  vs_err err = {0};
  const char *want[NKEYS];
  size_t n = 0, w = 0, i;
  int end;
  static char got[NKEYS][VS_KEY_MAX + 1];
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  for(;;) {
    const char *d;
    assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
    if(end)
      break;
    d = strchr(it.key, '/');
    if(d) { /* the common prefix, as S3 reports it */
      it.key[d - it.key + 1] = 0;
      assert_int_equal(vs_store_list_skip(l, it.key, &err), VS_OK);
    }
    snprintf(got[n++], sizeof(got[0]), "%s", it.key);
  }
  vs_store_list_close(l);
  for(i = 0; i < NKEYS; i++) {
    const char *d = strchr(f->sorted[i], '/');
    char cp[64];
    snprintf(cp, sizeof(cp), "%.*s", d ? (int)(d - f->sorted[i] + 1) : 64,
             f->sorted[i]);
    if(w && !strcmp(want[w - 1], cp))
      continue;
    want[w++] = strdup(cp);
  }
  assert_int_equal(n, w);
  for(i = 0; i < n; i++) {
    assert_string_equal(got[i], want[i]);
    free((char *)want[i]);
  }
}

/* More names in one directory than a batch holds (1,024, each key counts
 * twice): several passes, each key once, in order. A prefix and a bound
 * that fall mid-directory too. */
static void a_directory_larger_than_a_batch(void **state)
{
  enum { N = 1300 };
  fx *f = *state;
  static char *got[N + NKEYS];
  char key[32], after[32];
  size_t n, i, base;
  for(i = 0; i < N; i++) {
    snprintf(key, sizeof(key), "big/%05zu", (i * 7919) % N);
    put(f->s, key, "x");
  }
  n = list(f->s, "big/", NULL, got, N + NKEYS);
  assert_int_equal(n, N);
  for(i = 0; i < N; i++) {
    snprintf(key, sizeof(key), "big/%05zu", i);
    assert_string_equal(got[i], key);
  }
  free_all(got, n);
  snprintf(after, sizeof(after), "big/%05d", 1100);
  n = list(f->s, "big/0", after, got, N + NKEYS);
  assert_int_equal(n, N - 1101);
  assert_string_equal(got[0], "big/01101");
  free_all(got, n);
  /* everything: the small keys around the big directory stay in place */
  n = list(f->s, "", NULL, got, N + NKEYS);
  assert_int_equal(n, N + NKEYS);
  for(i = 0, base = 0; i < n; i++)
    if(i && strcmp(got[i - 1], got[i]) >= 0)
      fail_msg("%s listed before %s", got[i - 1], got[i]);
  (void)base;
  free_all(got, n);
}

/* A key directory without @current (a key whose versions remain, as a
 * delete marker will leave it) lists only with all_versions. */
static void keys_without_a_current_version(void **state)
{
  fx *f = *state;
  char path[512];
  vs_list_opts o = {"videos", "ab", NULL, 0};
  vs_store_list *l;
  vs_list_item it;
  vs_err err = {0};
  int end;
  snprintf(path, sizeof(path), "%s/buckets/videos/ab/@current", f->dir);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_true(end);
  vs_store_list_close(l);
  o.all_versions = 1;
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_false(end);
  assert_string_equal(it.key, "ab");
  assert_false(it.has_current);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_true(end);
  vs_store_list_close(l);
}

static void missing_bucket_and_bad_names(void **state)
{
  fx *f = *state;
  vs_list_opts o = {"other", NULL, NULL, 0};
  vs_store_list *l;
  vs_list_item it;
  vs_err err = {0};
  int end;
  char path[512];
  /* a directory made by hand whose name is no valid key is passed over */
  snprintf(path, sizeof(path), "%s/buckets/videos/bad\x01name", f->dir);
  assert_int_equal(mkdir(path, 0755), 0);
  check(f, "", NULL);
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_OK);
  assert_int_equal(vs_store_list_next(l, &it, &end, &err), VS_OK);
  assert_true(end);
  vs_store_list_close(l);
  o.bucket = "Bad_Bucket";
  assert_int_equal(vs_store_list_open(f->s, &o, &l, &err), VS_ERR_INVALID);
}

int main(void)
{
  /* ordering is what is tested here, not durability: on tmpfs the
   * store's fsyncs cost nothing (1,500 puts take a minute on a disk) */
  if(!access("/dev/shm", W_OK))
    setenv("TMPDIR", "/dev/shm", 1);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(all_keys_in_byte_order, setup, teardown),
    cmocka_unit_test_setup_teardown(info_is_the_current_version, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(prefixes_select_and_prune, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(after_any_point, setup, teardown),
    cmocka_unit_test_setup_teardown(skipping_a_common_prefix, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(a_directory_larger_than_a_batch, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(keys_without_a_current_version, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(missing_bucket_and_bad_names, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
