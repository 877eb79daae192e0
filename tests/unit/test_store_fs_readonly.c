/* store_fs: a read-only open reads a data directory that a writer holds,
 * without waiting for its lock, touching its temporaries or writing. */
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

static vs_store *open_store(const char *dir, int read_only, int *rc,
                            vs_err *err)
{
  vs_store *s;
  *rc = st_open_dir(dir, read_only, NULL, &s, err);
  return s;
}

/* The writer keeps its lock and its upload in progress; the reader opens
 * beside it, reads the committed object, and leaves the .part alone. */
static void test_reads_beside_writer(void **state)
{
  char dir[256], tmp[512];
  vs_object_info info, got;
  vs_err err = {0};
  vs_upload *u = NULL;
  vs_store *w, *r, *second;
  size_t len = 0;
  char *data;
  int rc;
  (void)state;
  assert_int_equal(vst_tmpdir("storero", dir, sizeof(dir)), 0);
  w = open_store(dir, 0, &rc, &err);
  assert_int_equal(rc, 0);
  assert_int_equal(st_put(w, "bkt", "a/b.mp4", "hello", 5,
                          VS_ON_EXISTING_VERSION, 0, &info, &err), 0);
  assert_int_equal(vs_store_begin(w, "bkt", "busy", &u, &err), 0);
  assert_int_equal(vs_store_write(w, u, "part", 4, &err), 0);
  /* a second writer is refused: the lock is real */
  second = open_store(dir, 0, &rc, &err);
  assert_int_equal(rc, VS_ERR_BUSY);
  assert_null(second);

  r = open_store(dir, 1, &rc, &err);
  assert_int_equal(rc, 0);
  data = st_get(r, "bkt", "a/b.mp4", info.version_id, &len, &got, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(len, 5);
  assert_memory_equal(data, "hello", 5);
  assert_string_equal(got.sha256, info.sha256);
  free(data);
  snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
  assert_int_equal(vst_count_files(tmp), 1); /* the writer's .part */
  vs_store_close(r);
  /* the writer still holds its upload and commits it */
  assert_int_equal(vs_store_write(w, u, "!", 1, &err), 0);
  {
    vs_commit c = {0};
    char sha[65];
    st_sha256("part!", 5, sha);
    c.bytes = 5;
    c.sha256 = sha;
    assert_int_equal(vs_store_commit(w, u, &c, &info, &err), 0);
  }
  vs_store_close(w);
  vst_rmrf(dir);
}

/* begin and remove are refused with a message saying why; nothing is
 * created, not even the directory's .lock or .tmp. */
static void test_refuses_writes(void **state)
{
  char dir[256], path[512];
  vs_object_info info;
  vs_err err = {0};
  vs_upload *u = NULL;
  struct stat st;
  vs_store *r;
  int rc;
  (void)state;
  assert_int_equal(vst_tmpdir("storero2", dir, sizeof(dir)), 0);
  r = open_store(dir, 1, &rc, &err);
  assert_int_equal(rc, 0);
  assert_int_equal(vs_store_begin(r, "bkt", "k", &u, &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "read-only"));
  assert_null(u);
  assert_int_equal(vs_store_remove(r, "bkt", "k", "20261124T121500123Z-a1b2c3",
                                   &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "read-only"));
  assert_int_equal(vs_store_stat(r, "bkt", "k", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  vs_store_close(r);
  snprintf(path, sizeof(path), "%s/.lock", dir);
  assert_int_equal(stat(path, &st), -1);
  snprintf(path, sizeof(path), "%s/.tmp", dir);
  assert_int_equal(stat(path, &st), -1);
  vst_rmrf(dir);
}

static void test_missing_dir(void **state)
{
  char dir[256], path[600];
  vs_err err = {0};
  struct stat st;
  FILE *f;
  int rc;
  (void)state;
  assert_int_equal(vst_tmpdir("storero3", dir, sizeof(dir)), 0);
  snprintf(path, sizeof(path), "%s/nope", dir);
  assert_null(open_store(path, 1, &rc, &err));
  assert_int_equal(rc, VS_ERR_NOTFOUND);
  assert_non_null(strstr(err.msg, "nope"));
  assert_int_equal(stat(path, &st), -1); /* not created */
  f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  assert_null(open_store(path, 1, &rc, &err));
  assert_int_equal(rc, VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "not a directory"));
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reads_beside_writer),
    cmocka_unit_test(test_refuses_writes),
    cmocka_unit_test(test_missing_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
