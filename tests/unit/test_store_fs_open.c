/* store_fs: opening a data directory: one process at a time, and what a
 * crash left behind is removed and counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

static vs_store *open_ok(const char *dir, int *cleaned)
{
  vs_store *s;
  vs_err err = {0};
  if(st_open_dir(dir, 0, cleaned, &s, &err))
    fail_msg("open %s: %s", dir, err.msg);
  return s;
}

/* A child process begins uploads and dies without committing: the next
 * open removes its .part files and says how many. */
static void test_crash_leftovers(void **state)
{
  char dir[256], path[512];
  vs_object_info info;
  vs_err err = {0};
  int cleaned = -1, status;
  pid_t pid;
  FILE *fp;
  vs_store *s;
  (void)state;
  assert_int_equal(vst_tmpdir("storecrash", dir, sizeof(dir)), 0);
  pid = fork();
  assert_true(pid >= 0);
  if(pid == 0) {
    vs_upload *u1, *u2;
    s = open_ok(dir, NULL);
    if(st_put(s, "bkt", "kept", "kept", 4, VS_ON_EXISTING_VERSION, 0, &info,
              &err) ||
       vs_store_begin(s, "bkt", "lost1", &u1, &err) ||
       vs_store_write(s, u1, "partial", 7, &err) ||
       vs_store_begin(s, "bkt", "lost2", &u2, &err))
      _exit(1);
    _exit(0); /* no commit, no abort, no close: a crash */
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  snprintf(path, sizeof(path), "%s/.tmp", dir);
  assert_int_equal(vst_count_files(path), 2);
  /* A stray commit temporary counts too. */
  snprintf(path, sizeof(path), "%s/.tmp/0123.json", dir);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fclose(fp);

  s = open_ok(dir, &cleaned);
  assert_int_equal(cleaned, 3);
  snprintf(path, sizeof(path), "%s/.tmp", dir);
  assert_int_equal(vst_count_files(path), 0);
  assert_int_equal(vs_store_stat(s, "bkt", "kept", NULL, &info, &err), VS_OK);
  assert_int_equal(vs_store_stat(s, "bkt", "lost1", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  vs_store_close(s);
  s = open_ok(dir, &cleaned);
  assert_int_equal(cleaned, 0);
  vs_store_close(s);
  vst_rmrf(dir);
}

static void test_busy(void **state)
{
  char dir[256];
  vs_store_fs_opts o = {0};
  vs_store *s1, *s2 = NULL;
  vs_err err = {0};
  int status;
  pid_t pid;
  (void)state;
  assert_int_equal(vst_tmpdir("storebusy", dir, sizeof(dir)), 0);
  s1 = open_ok(dir, NULL);
  o.dir = dir;
  /* Another process... */
  pid = fork();
  assert_true(pid >= 0);
  if(pid == 0) {
    vs_store *s3 = NULL;
    int rc = vs_store_fs_open(&s3, &o, NULL, &err);
    /* the parent's lock lives in its own open file description: freeing
     * the inherited copy here releases nothing, and leaves valgrind no leak */
    vs_store_close(s1);
    _exit(rc == VS_ERR_BUSY && !s3 ? 0 : 1);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* ...and a second open in this one are both refused, naming the holder. */
  assert_int_equal(vs_store_fs_open(&s2, &o, NULL, &err), VS_ERR_BUSY);
  assert_null(s2);
  assert_non_null(strstr(err.msg, "in use"));
  {
    char pid_s[32];
    snprintf(pid_s, sizeof(pid_s), "pid %ld", (long)getpid());
    assert_non_null(strstr(err.msg, pid_s));
  }
  vs_store_close(s1);
  s2 = open_ok(dir, NULL); /* released by close */
  vs_store_close(s2);
  vst_rmrf(dir);
}

static void test_bad_dir(void **state)
{
  char dir[256], file[300];
  vs_store_fs_opts o = {0};
  vs_store *s = NULL;
  vs_err err = {0};
  FILE *fp;
  (void)state;
  assert_int_equal(vs_store_fs_open(&s, &o, NULL, &err), VS_ERR_INVALID);
  assert_int_equal(vs_store_fs_open(&s, NULL, NULL, &err), VS_ERR_INVALID);
  assert_int_equal(vst_tmpdir("storebad", dir, sizeof(dir)), 0);
  snprintf(file, sizeof(file), "%s/plain", dir);
  fp = fopen(file, "w");
  assert_non_null(fp);
  fclose(fp);
  o.dir = file;
  assert_int_equal(vs_store_fs_open(&s, &o, NULL, &err), VS_ERR_EXISTS);
  assert_non_null(strstr(err.msg, "not a directory"));
  assert_null(s);
  /* Created when missing, parents included. */
  snprintf(file, sizeof(file), "%s/new/data", dir);
  s = open_ok(file, NULL);
  vs_store_close(s);
  vs_store_close(NULL);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crash_leftovers),
    cmocka_unit_test(test_busy),
    cmocka_unit_test(test_bad_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
