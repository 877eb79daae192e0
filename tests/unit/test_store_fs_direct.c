/* store_fs: an upload's aligned MiBs are written with O_DIRECT, anything
 * else through the page cache, and the object is the same bytes either way
 * (store_fs_write.c). The flag is read from /proc/self/fdinfo of the
 * upload's .part file while it is being written. */
#define _GNU_SOURCE /* O_DIRECT */
#include <dirent.h>
#include <fcntl.h>
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
#include "test_store_direct.h"

#define MIB (1u << 20)

/* An upload as the pump hands it over: an unaligned head (the first MiB
 * written inline), aligned MiBs from aligned memory, an unaligned tail;
 * then a piece of aligned size from unaligned memory. */
static void put_mixed(const char *dir)
{
  const size_t head = 1000, mibs = 70, tail = 777;
  size_t total = head + (4096 - head) + mibs * MIB + tail + 65536, off = 0;
  vs_store *s = NULL;
  vs_upload *u = NULL;
  vs_err err = {0};
  vs_commit c = {0};
  vs_object_info info;
  char sha[65], *data, *buf = NULL, *back;
  size_t i, len = 0;
  int rc, direct = fs_takes_direct(dir);
  assert_int_equal(st_open_dir(dir, 0, NULL, &s, &err), VS_OK);
  data = malloc(total);
  assert_non_null(data);
  for(i = 0; i < total; i++)
    data[i] = (char)(i * 131 + (i >> 12));
  assert_int_equal(posix_memalign((void **)&buf, 4096, MIB), 0);
  assert_int_equal(vs_store_begin(s, "videos", "clip.mp4", &u, &err), VS_OK);
  /* the head, then up to the first aligned offset: the page cache */
  assert_int_equal(vs_store_write(s, u, data, head, &err), VS_OK);
  assert_int_equal(vs_store_write(s, u, data + head, 4096 - head, &err), 0);
  off = 4096;
  assert_false(part_flags() & O_DIRECT);
  for(i = 0; i < mibs; i++, off += MIB) { /* past SYNC_WINDOW (64 MiB) */
    memcpy(buf, data + off, MIB);
    assert_int_equal(vs_store_write(s, u, buf, MIB, &err), VS_OK);
    if(direct)
      assert_true(part_flags() & O_DIRECT);
  }
  assert_int_equal(vs_store_write(s, u, data + off, tail, &err), VS_OK);
  off += tail;
  assert_false(part_flags() & O_DIRECT);
  /* aligned size, unaligned memory and offset: the page cache */
  assert_int_equal(vs_store_write(s, u, data + off, 65536, &err), VS_OK);
  off += 65536;
  assert_false(part_flags() & O_DIRECT);
  assert_int_equal(off, total);
  st_sha256(data, total, sha);
  c.bytes = total;
  c.sha256 = sha;
  c.policy = VS_ON_EXISTING_VERSION;
  rc = vs_store_commit(s, u, &c, &info, &err);
  assert_int_equal(rc, VS_OK);
  back = st_get(s, "videos", "clip.mp4", NULL, &len, &info, &rc);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(len, total);
  assert_memory_equal(back, data, total);
  if(!direct)
    fprintf(stderr, "note: %s takes no O_DIRECT: the page cache only\n",
            dir);
  free(back);
  free(buf);
  free(data);
  vs_store_close(s);
}

/* On the disk the tests run on (the build folder), where O_DIRECT is
 * expected: the flag is checked, not only the bytes. */
static void test_disk(void **state)
{
  char dir[] = "./direct-test.XXXXXX";
  (void)state;
  assert_non_null(mkdtemp(dir));
  put_mixed(dir);
  vst_rmrf(dir);
}

/* tmpfs: whether it takes O_DIRECT or not, the same object. */
static void test_tmpfs(void **state)
{
  char dir[] = "/dev/shm/vsink-direct.XXXXXX";
  (void)state;
  if(!mkdtemp(dir))
    skip();
  put_mixed(dir);
  vst_rmrf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_disk),
    cmocka_unit_test(test_tmpfs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
