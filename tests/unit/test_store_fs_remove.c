/* store_fs: remove() takes a committed version back, and @current falls
 * back to the newest version left (the sink relies on this when it cannot
 * record an object in the manifest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

typedef st_fx fx;

static void put(fx *f, const char *data, vs_object_info *info)
{
  vs_err err = {0};
  assert_int_equal(st_put(f->s, "videos", "k.mp4", data, strlen(data),
                          VS_ON_EXISTING_VERSION, 0, info, &err), VS_OK);
}

static void test_remove_current_falls_back(void **state)
{
  fx *f = *state;
  vs_object_info a, b, cur;
  vs_err err = {0};
  char **ids;
  size_t n, len;
  int rc;
  char *got;
  put(f, "first", &a);
  put(f, "second", &b);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", b.version_id,
                                   &err), VS_OK);
  got = st_get(f->s, "videos", "k.mp4", NULL, &len, &cur, &rc);
  assert_int_equal(rc, VS_OK);
  assert_string_equal(cur.version_id, a.version_id);
  assert_memory_equal(got, "first", 5);
  free(got);
  assert_int_equal(vs_store_fs_list_versions(f->s, "videos", "k.mp4", &ids,
                                             &n, &err), VS_OK);
  assert_int_equal(n, 1);
  st_free_ids(ids, n);
  /* the last one: the key is empty again, and no stray file is left */
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", a.version_id,
                                   &err), VS_OK);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vst_count_files(f->dir) - 1 /* .lock */, 0);
}

static void test_remove_older_keeps_current(void **state)
{
  fx *f = *state;
  vs_object_info a, b, cur;
  vs_err err = {0};
  put(f, "first", &a);
  put(f, "second", &b);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", a.version_id,
                                   &err), VS_OK);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, b.version_id);
  assert_int_equal(vs_store_stat(f->s, "videos", "k.mp4", a.version_id, &cur,
                                 &err), VS_ERR_NOTFOUND);
}

static void test_remove_unknown(void **state)
{
  fx *f = *state;
  vs_object_info a;
  vs_err err = {0};
  put(f, "first", &a);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4",
                                   "20000101T000000000Z-000000", &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_remove(f->s, "videos", "k.mp4", "../x", &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_remove(f->s, "videos", "other.mp4",
                                   a.version_id, &err), VS_ERR_NOTFOUND);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    ST_TEST(test_remove_current_falls_back),
    ST_TEST(test_remove_older_keeps_current),
    ST_TEST(test_remove_unknown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
