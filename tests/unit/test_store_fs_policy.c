/* store_fs: what a second PUT to a key does under each policy, and version
 * ids that sort in commit order whatever the clock does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

typedef struct fx {
  char dir[256];
  char path[1024];
  vs_store *s;
  int64_t clock[8]; /* readings handed out in turn, the last one repeats */
  int tick, nclock;
} fx;

static int64_t fake_now(void *ctx)
{
  fx *f = ctx;
  int i = f->tick < f->nclock ? f->tick++ : f->nclock - 1;
  return f->clock[i];
}

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  if(!f)
    return -1;
  f->clock[0] = 1795522500123LL; /* 2026-11-24T12:15:00.123Z */
  f->nclock = 1;
  *state = f;
  return st_open_tmp("storepol", f->dir, sizeof(f->dir), fake_now, f, &f->s);
}

static int teardown(void **state)
{
  fx *f = *state;
  st_close_tmp(f->s, f->dir);
  free(f);
  return 0;
}

static const char *at(fx *f, const char *rel)
{
  snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, rel);
  return f->path;
}

static void put_ok(fx *f, const char *key, const char *body,
                   vs_on_existing p, vs_object_info *info)
{
  vs_err err = {0};
  int rc = st_put(f->s, "bkt", key, body, strlen(body), p, 0, info, &err);
  if(rc)
    fail_msg("put %s: %s", key, err.msg);
}

static void expect_body(fx *f, const char *key, const char *vid,
                        const char *body)
{
  vs_object_info info;
  size_t len = 0;
  int rc;
  char *got = st_get(f->s, "bkt", key, vid, &len, &info, &rc);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(len, strlen(body));
  assert_memory_equal(got, body, len);
  free(got);
}

static void test_version_keeps_all(void **state)
{
  fx *f = *state;
  static const char *const bodies[] = {"first", "second!", "third..."};
  vs_object_info info[3], cur;
  vs_err err = {0};
  char **ids;
  size_t n, i;
  /* Same millisecond three times: ids still strictly increase. */
  for(i = 0; i < 3; i++)
    put_ok(f, "clip", bodies[i], VS_ON_EXISTING_VERSION, &info[i]);
  assert_true(strncmp(info[0].version_id, "20261124T121500123Z-", 20) == 0);
  assert_true(strncmp(info[1].version_id, "20261124T121500124Z-", 20) == 0);
  assert_true(strncmp(info[2].version_id, "20261124T121500125Z-", 20) == 0);
  assert_int_equal(info[2].mtime_ms, 1795522500123LL); /* the clock's */
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "clip", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 3);
  for(i = 0; i < 3; i++) {
    assert_string_equal(ids[i], info[i].version_id);
    expect_body(f, "clip", ids[i], bodies[i]);
  }
  st_free_ids(ids, n);
  assert_int_equal(vs_store_stat(f->s, "bkt", "clip", NULL, &cur, &err),
                   VS_OK);
  assert_string_equal(cur.version_id, info[2].version_id);
  expect_body(f, "clip", NULL, "third...");
}

static void test_clock_backwards(void **state)
{
  fx *f = *state;
  vs_object_info a, b, c;
  f->clock[0] = 1795522500123LL;
  f->clock[1] = 1795522400000LL; /* 100 s back */
  f->clock[2] = 1795522600000LL;
  f->nclock = 3;
  put_ok(f, "k", "a", VS_ON_EXISTING_VERSION, &a);
  put_ok(f, "k", "b", VS_ON_EXISTING_VERSION, &b);
  put_ok(f, "k", "c", VS_ON_EXISTING_VERSION, &c);
  assert_true(strcmp(a.version_id, b.version_id) < 0);
  assert_true(strncmp(b.version_id, "20261124T121500124Z-", 20) == 0);
  assert_true(strncmp(c.version_id, "20261124T121640000Z-", 20) == 0);
  assert_int_equal(b.mtime_ms, 1795522400000LL);
}

static void test_list_empty(void **state)
{
  fx *f = *state;
  vs_object_info info;
  vs_err err = {0};
  char **ids = (char **)&err;
  size_t n = 9;
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "none", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 0);
  assert_null(ids);
  put_ok(f, "x/y", "y", VS_ON_EXISTING_VERSION, &info);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "x", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 0);
  /* "x/../y" is a key of its own (issue 11), not "y" */
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "x/../y", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 0);
}

static void test_reject(void **state)
{
  fx *f = *state;
  vs_object_info info, first;
  vs_err err = {0};
  char **ids;
  size_t n;
  put_ok(f, "once", "original", VS_ON_EXISTING_REJECT, &first);
  assert_int_equal(st_put(f->s, "bkt", "once", "intruder", 8,
                          VS_ON_EXISTING_REJECT, 0, &info, &err),
                   VS_ERR_EXISTS);
  assert_non_null(strstr(err.msg, first.version_id));
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
  /* Only the first version's two files and @current. */
  assert_int_equal(vst_count_files(at(f, "buckets/bkt/once")), 3);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "once", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 1);
  st_free_ids(ids, n);
  expect_body(f, "once", NULL, "original");
}

static void test_if_none_match(void **state)
{
  fx *f = *state;
  static const vs_on_existing pols[] = {VS_ON_EXISTING_VERSION,
                                        VS_ON_EXISTING_OVERWRITE};
  vs_object_info info;
  vs_err err = {0};
  size_t i;
  /* Absent key: If-None-Match passes. */
  assert_int_equal(st_put(f->s, "bkt", "inm", "one", 3,
                          VS_ON_EXISTING_VERSION, 1, &info, &err), VS_OK);
  for(i = 0; i < 2; i++) {
    assert_int_equal(st_put(f->s, "bkt", "inm", "two", 3, pols[i], 1, &info,
                            &err), VS_ERR_EXISTS);
    assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
    assert_int_equal(vst_count_files(at(f, "buckets/bkt/inm")), 3);
  }
  expect_body(f, "inm", NULL, "one");
}

static void test_overwrite(void **state)
{
  fx *f = *state;
  vs_object_info a, b, cur;
  vs_err err = {0};
  char **ids;
  size_t n;
  int fd = -1;
  char buf[8];
  put_ok(f, "ow", "old body", VS_ON_EXISTING_OVERWRITE, &a);
  /* A reader that opened the old version keeps reading it. */
  assert_int_equal(vs_store_open(f->s, "bkt", "ow", NULL, &fd, &cur, &err),
                   VS_OK);
  put_ok(f, "ow", "new", VS_ON_EXISTING_OVERWRITE, &b);
  assert_true(strcmp(a.version_id, b.version_id) < 0);
  assert_int_equal(read(fd, buf, sizeof(buf)), 8);
  assert_memory_equal(buf, "old body", 8);
  close(fd);
  expect_body(f, "ow", NULL, "new");
  assert_int_equal(vs_store_stat(f->s, "bkt", "ow", a.version_id, &cur, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(vs_store_fs_list_versions(f->s, "bkt", "ow", &ids, &n,
                                             &err), VS_OK);
  assert_int_equal(n, 1);
  assert_string_equal(ids[0], b.version_id);
  st_free_ids(ids, n);
  assert_int_equal(vst_count_files(at(f, "buckets/bkt/ow")), 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_version_keeps_all, setup, teardown),
    cmocka_unit_test_setup_teardown(test_clock_backwards, setup, teardown),
    cmocka_unit_test_setup_teardown(test_list_empty, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
    cmocka_unit_test_setup_teardown(test_if_none_match, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
