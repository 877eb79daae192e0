/* manifest: a full disk (a small tmpfs). A write that fails or is short is
 * cut back so no partial line stays; the error is VS_ERR_NOSPACE; once
 * there is room again the same segment goes on. A segment that cannot be
 * compressed for lack of room stays plain and whole. Needs mount(2) (we run
 * as root); skipped with a message otherwise. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "util/fs.h"
#include "util/log.h"
#include "vsink/manifest.h"

#define PAYLOAD 6000 /* > a page: a write can end part-way */

typedef struct fixture {
  char mnt[256];
  char dir[300];
  char filler[300];
} fixture;

/* A 256 KiB tmpfs with a manifest directory and a filler file that leaves
 * only `room` bytes free. */
static int setup_fs(fixture *f, size_t room)
{
  char *junk;
  int fd;
  size_t total = 0;
  if(vst_tmpdir("mnospace", f->mnt, sizeof(f->mnt)))
    return -1;
  if(mount("tmpfs", f->mnt, "tmpfs", 0, "size=256k")) {
    fprintf(stderr, "    skipped: cannot mount a tmpfs on %s (%s); the full-"
            "disk test needs root\n", f->mnt, strerror(errno));
    rmdir(f->mnt);
    return 1;
  }
  snprintf(f->dir, sizeof(f->dir), "%s/manifest", f->mnt);
  snprintf(f->filler, sizeof(f->filler), "%s/filler", f->mnt);
  fd = open(f->filler, O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  junk = calloc(1, 4096);
  while(total + room < 256 * 1024 && write(fd, junk, 4096) == 4096)
    total += 4096;
  free(junk);
  close(fd);
  return 0;
}

static void teardown_fs(fixture *f)
{
  umount2(f->mnt, MNT_DETACH);
  rmdir(f->mnt);
}

static int append_big(vs_manifest *m, int i, vs_err *err)
{
  static char buf[PAYLOAD + 1];
  cJSON *f = cJSON_CreateObject();
  int rc;
  memset(buf, 'a' + i % 26, PAYLOAD);
  cJSON_AddNumberToObject(f, "i", i);
  cJSON_AddStringToObject(f, "payload", buf);
  rc = vs_manifest_append(m, "stored", f, err);
  cJSON_Delete(f);
  return rc;
}

typedef struct rec {
  int lines, torn, bad;
} rec;

static int on_line(void *ctx, const char *line, size_t len)
{
  rec *r = ctx;
  r->lines++;
  r->bad += len < PAYLOAD || line[0] != '{' || line[len - 1] != '}';
  return 0;
}

static void on_torn(void *ctx, const char *s, uint64_t off, size_t len)
{
  (void)s;
  (void)off;
  (void)len;
  ((rec *)ctx)->torn++;
}

/* Appends until the disk is full; returns how many made it. */
static int fill_up(vs_manifest *m)
{
  vs_err err = {0};
  int i, rc = 0;
  for(i = 0; i < 1000 && !(rc = append_big(m, i, &err)); i++)
    ;
  assert_int_equal(rc, VS_ERR_NOSPACE);
  assert_int_equal(err.code, VS_ERR_NOSPACE);
  assert_int_equal(err.sys_errno, ENOSPC);
  if(!strstr(err.msg, "space"))
    fail_msg("unclear message: %s", err.msg);
  /* Full stays full: the next one fails the same way, and cleanly. */
  assert_int_equal(append_big(m, 999, &err), VS_ERR_NOSPACE);
  return i;
}

static void check_dir(const char *dir, int want_lines)
{
  rec r = {0};
  vs_err err = {0};
  assert_int_equal(vs_manifest_scan(dir, on_line, on_torn, &r, &err), VS_OK);
  assert_int_equal(r.lines, want_lines);
  assert_int_equal(r.torn, 0);
  assert_int_equal(r.bad, 0);
}

static void test_full_then_room(void **state)
{
  fixture f;
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.node = "full"};
  int ok, k;
  (void)state;
  k = setup_fs(&f, 100 * 1024);
  if(k == 1)
    skip();
  assert_int_equal(k, 0);
  o.dir = f.dir;
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  ok = fill_up(m);
  assert_true(ok > 3 && ok < 20);
  /* The segment holds exactly the appends that succeeded. */
  check_dir(f.dir, ok);
  assert_int_equal(vst_count_files(f.dir), 1);
  unlink(f.filler);
  assert_int_equal(append_big(m, ok, &err), VS_OK);
  assert_int_equal(vst_count_files(f.dir), 1); /* the same segment */
  vs_manifest_close(m);
  check_dir(f.dir, ok + 1);
  {
    vs_manifest_segment *segs;
    size_t n;
    assert_int_equal(vs_manifest_list(f.dir, &segs, &n, &err), VS_OK);
    assert_int_equal(n, 1);
    assert_true(segs[0].gz);
    vs_manifest_list_free(segs, n);
  }
  teardown_fs(&f);
}

static void test_full_at_close(void **state)
{
  fixture f;
  vs_manifest *m = NULL;
  vs_err err = {0};
  vs_manifest_opts o = {.node = "full"};
  int ok, k;
  (void)state;
  k = setup_fs(&f, 60 * 1024);
  if(k == 1)
    skip();
  assert_int_equal(k, 0);
  o.dir = f.dir;
  assert_int_equal(vs_manifest_open(&m, &o, &err), VS_OK);
  ok = fill_up(m);
  vs_log_set_quiet(1); /* the worker logs that it could not compress */
  vs_manifest_close(m);
  vs_log_set_quiet(0);
  /* No room for the .gz: the plain segment stays, whole; no .tmp. */
  assert_int_equal(vst_count_files(f.dir), 1);
  check_dir(f.dir, ok);
  {
    vs_manifest_segment *segs;
    size_t n;
    assert_int_equal(vs_manifest_list(f.dir, &segs, &n, &err), VS_OK);
    assert_int_equal(n, 1);
    assert_false(segs[0].gz);
    vs_manifest_list_free(segs, n);
  }
  teardown_fs(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full_then_room),
    cmocka_unit_test(test_full_at_close),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
