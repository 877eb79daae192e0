/* store_fs: a full filesystem (a 1 MiB tmpfs) gives VS_ERR_NOSPACE and
 * leaves no temporary and no final file behind, whether the disk fills
 * while writing or while committing. Needs mount(2): skipped, saying so,
 * where it is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"

typedef struct fx {
  char dir[256];
  char path[512];
  int mounted;
  vs_store *s;
} fx;

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  vs_err err = {0};
  if(!f || vst_tmpdir("storefull", f->dir, sizeof(f->dir)))
    return -1;
  *state = f;
  if(mount("tmpfs", f->dir, "tmpfs", 0, "size=1m")) {
    fprintf(stderr, "# cannot mount a 1 MiB tmpfs on %s (%s): the full-disk "
            "tests are skipped\n", f->dir, strerror(errno));
    return 0;
  }
  f->mounted = 1;
  if(st_open_dir(f->dir, 0, NULL, &f->s, &err)) {
    fprintf(stderr, "open: %s\n", err.msg);
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  vs_store_close(f->s);
  if(f->mounted && umount(f->dir))
    fprintf(stderr, "umount %s: %s\n", f->dir, strerror(errno));
  vst_rmrf(f->dir);
  free(f);
  return 0;
}

static const char *at(fx *f, const char *rel)
{
  snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, rel);
  return f->path;
}

static uint64_t free_bytes(fx *f)
{
  struct statvfs v;
  assert_int_equal(statvfs(f->dir, &v), 0);
  return (uint64_t)v.f_bavail * v.f_frsize;
}

static void assert_clean(fx *f, uint64_t free_before)
{
  vs_object_info info;
  vs_err err = {0};
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
  assert_int_equal(vst_count_files(at(f, "buckets")), 0);
  assert_int_equal(vs_store_stat(f->s, "bkt", "big", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  assert_int_equal(free_bytes(f), free_before); /* every block came back */
}

static void test_full_while_writing(void **state)
{
  fx *f = *state;
  static char piece[65536];
  vs_upload *u;
  vs_object_info info;
  vs_err err = {0};
  uint64_t before;
  size_t sent = 0;
  int rc = VS_OK;
  if(!f->mounted)
    skip();
  before = free_bytes(f);
  memset(piece, 'v', sizeof(piece));
  assert_int_equal(vs_store_begin(f->s, "bkt", "big", &u, &err), VS_OK);
  while(sent < 2u << 20 && !rc) {
    rc = vs_store_write(f->s, u, piece, sizeof(piece), &err);
    if(!rc)
      sent += sizeof(piece);
  }
  assert_int_equal(rc, VS_ERR_NOSPACE);
  assert_int_equal(err.sys_errno, ENOSPC);
  assert_non_null(strstr(err.msg, ".part"));
  assert_true(sent < 1u << 20);
  vs_store_abort(f->s, u);
  assert_clean(f, before);
  /* The space is usable again. */
  assert_int_equal(st_put(f->s, "bkt", "small", piece, 1000,
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
}

/* The bytes fit, the metadata does not: commit fails and removes both. */
static void test_full_while_committing(void **state)
{
  fx *f = *state;
  vs_upload *u;
  vs_object_info info;
  vs_commit c = {0};
  vs_err err = {0};
  uint64_t before, left;
  char *body;
  if(!f->mounted)
    skip();
  before = free_bytes(f);
  body = calloc(1, before);
  assert_int_equal(vs_store_begin(f->s, "bkt", "big", &u, &err), VS_OK);
  /* Every block but a partial last one: nothing left for the metadata. */
  assert_int_equal(vs_store_write(f->s, u, body, before - 100, &err), VS_OK);
  free(body);
  left = free_bytes(f);
  assert_int_equal(left, 0);
  c.bytes = before - 100;
  c.sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  assert_int_equal(vs_store_commit(f->s, u, &c, &info, &err), VS_ERR_NOSPACE);
  assert_non_null(strstr(err.msg, "No space"));
  assert_clean(f, before);
}

/* A version in place already: a failed second commit leaves it untouched. */
static void test_full_keeps_current(void **state)
{
  fx *f = *state;
  static char piece[65536];
  vs_object_info first, info;
  vs_err err = {0};
  if(!f->mounted)
    skip();
  memset(piece, 'v', sizeof(piece));
  assert_int_equal(st_put(f->s, "bkt", "k", "first", 5,
                          VS_ON_EXISTING_OVERWRITE, 0, &first, &err), VS_OK);
  {
    vs_upload *u;
    int rc = VS_OK, i;
    assert_int_equal(vs_store_begin(f->s, "bkt", "k", &u, &err), VS_OK);
    for(i = 0; i < 32 && !rc; i++)
      rc = vs_store_write(f->s, u, piece, sizeof(piece), &err);
    assert_int_equal(rc, VS_ERR_NOSPACE);
    vs_store_abort(f->s, u);
  }
  assert_int_equal(vs_store_stat(f->s, "bkt", "k", NULL, &info, &err), VS_OK);
  assert_string_equal(info.version_id, first.version_id);
  assert_int_equal(vst_count_files(at(f, "buckets/bkt/k")), 3);
  assert_int_equal(vst_count_files(at(f, ".tmp")), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_full_while_writing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_full_while_committing, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_full_keeps_current, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
