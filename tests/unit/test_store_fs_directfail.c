/* store_fs's direct writes on filesystems that fail them (issue 9), each
 * mounted for the test:
 *  - ramfs refuses O_DIRECT: the bytes go through the page cache, intact,
 *    and each upload asks for the flag once (the fcntl calls are counted
 *    with ptrace on a child that does the uploads);
 *  - a 4 MiB tmpfs fills up under the direct writes: that write fails with
 *    ENOSPC, and the upload leaves nothing;
 *  - ext4 whose journal's device has no room left: the direct writes go
 *    through, the flush every SYNC_WINDOW fails, and the commit fails with
 *    that error and publishes nothing;
 *  - XFS on 16 KiB sectors takes the flag but refuses the write (EINVAL):
 *    the upload falls back to the page cache, bytes intact, asked once.
 * Mounting takes root (and the last two losetup, mkfs.ext4 or mkfs.xfs,
 * and a recent kernel): without them a test skips and says why. */
#define _GNU_SOURCE /* O_DIRECT, fallocate */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "helpers.h"
#include "test_store_common.h"
#include "test_store_direct.h"

#define MIB (1u << 20)

static void fill(char *p, size_t n, unsigned seed)
{
  size_t i;
  for(i = 0; i < n; i++)
    p[i] = (char)(i * 131 + (i >> 12) + seed);
}

/* A case that cannot run here skips (cmocka) and makes the program exit
 * 77, which ctest shows as skipped: never a silent pass. */
static int skipped;
#define skip_case() \
  do { \
    skipped = 1; \
    skip(); \
  } while(0)

/* A fresh folder with fstype mounted on it; 0, or errno after printing
 * why not. */
static int mount_fs(char *dir, const char *fstype, const char *opts)
{
  if(!mkdtemp(dir)) {
    int e = errno;
    fprintf(stderr, "skip: mkdtemp %s: %s\n", dir, strerror(e));
    dir[0] = 0;
    return e;
  }
  if(mount(fstype, dir, fstype, 0, opts)) {
    int e = errno;
    fprintf(stderr, "skip: cannot mount %s on %s: %s (root needed)\n",
            fstype, dir, strerror(e));
    rmdir(dir);
    dir[0] = 0;
    return e;
  }
  return 0;
}

static void unmount_fs(const char *dir)
{
  if(umount2(dir, 0))
    umount2(dir, MNT_DETACH);
  rmdir(dir);
}

/* What a test mounted, taken down by its teardown even when it fails. */
static char mounted[32];

static int unmount_mounted(void **state)
{
  (void)state;
  if(mounted[0])
    unmount_fs(mounted);
  mounted[0] = 0;
  return 0;
}

/* ---- ramfs: O_DIRECT refused ------------------------------------------- */

#define RAMFS_MIBS 12

/* What the pump hands the store: a 4096-byte head, aligned MiBs from
 * aligned memory, a 777-byte tail; the object's bytes are fill(seed). */
static int put_pumped(vs_store *s, const char *key, unsigned seed)
{
  const size_t total = 4096 + (size_t)RAMFS_MIBS * MIB + 777;
  char *data = malloc(total), *buf = NULL, sha[65];
  vs_upload *u = NULL;
  vs_commit c = {0};
  vs_err err = {0};
  size_t off = 0;
  int rc = !data || posix_memalign((void **)&buf, 4096, MIB);
  if(!rc) {
    fill(data, total, seed);
    rc = vs_store_begin(s, "videos", key, &u, &err);
  }
  if(!rc)
    rc = vs_store_write(s, u, data, 4096, &err);
  for(off = 4096; !rc && off + MIB <= total; off += MIB) {
    memcpy(buf, data + off, MIB);
    rc = vs_store_write(s, u, buf, MIB, &err);
    if(!rc && (part_flags() & O_DIRECT)) /* never on a refusing fs */
      rc = -1;
  }
  if(!rc)
    rc = vs_store_write(s, u, data + off, total - off, &err);
  if(!rc) {
    st_sha256(data, total, sha);
    c.bytes = total;
    c.sha256 = sha;
    c.policy = VS_ON_EXISTING_VERSION;
    rc = vs_store_commit(s, u, &c, NULL, &err);
  } else if(u)
    vs_store_abort(s, u);
  free(buf);
  free(data);
  return rc;
}

/* The child: two uploads into a store on dir; its exit status says how
 * they went. */
static void child_uploads(const char *dir)
{
  vs_store *s = NULL;
  vs_err err = {0};
  int rc;
  if(ptrace(PTRACE_TRACEME, 0, NULL, NULL) || raise(SIGSTOP))
    _exit(10);
  rc = st_open_dir(dir, 0, NULL, &s, &err) ? 11
       : put_pumped(s, "one.mp4", 1) ? 12
       : put_pumped(s, "two.mp4", 2) ? 13 : 0;
  vs_store_close(s);
  _exit(rc);
}

static int is_direct_setfl(const struct __ptrace_syscall_info *si)
{
  return si->op == PTRACE_SYSCALL_INFO_ENTRY &&
         si->entry.nr == SYS_fcntl && si->entry.args[1] == F_SETFL &&
         (si->entry.args[2] & O_DIRECT);
}

/* Runs child_uploads(dir) under ptrace: its exit status, and in *asks its
 * fcntl(F_SETFL) calls that turn O_DIRECT on. */
static int traced_uploads(const char *dir, int *asks)
{
  int status;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if(!pid)
    child_uploads(dir);
  *asks = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSTOPPED(status));
  assert_int_equal(ptrace(PTRACE_SETOPTIONS, pid, NULL,
                          (void *)(long)(PTRACE_O_TRACESYSGOOD |
                                         PTRACE_O_EXITKILL)), 0);
  assert_int_equal(ptrace(PTRACE_SYSCALL, pid, NULL, NULL), 0);
  while(waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
    int sig = 0;
    if(WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      struct __ptrace_syscall_info si;
      memset(&si, 0, sizeof(si));
      if(ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(si), &si) > 0 &&
         is_direct_setfl(&si))
        ++*asks;
    } else
      sig = WSTOPSIG(status);
    if(ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig))
      break;
  }
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void check_object(vs_store *s, const char *key, unsigned seed)
{
  const size_t total = 4096 + (size_t)RAMFS_MIBS * MIB + 777;
  char *want = malloc(total), *back;
  vs_object_info info;
  size_t len = 0;
  int rc;
  assert_non_null(want);
  fill(want, total, seed);
  back = st_get(s, "videos", key, NULL, &len, &info, &rc);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(len, total);
  assert_memory_equal(back, want, total);
  free(back);
  free(want);
}

static void test_refused(void **state)
{
  char *dir = mounted, tmp[64];
  vs_store *s = NULL;
  vs_err err = {0};
  int asks = -1;
  (void)state;
  snprintf(dir, sizeof(mounted), "./ramfs-test.XXXXXX");
  if(mount_fs(dir, "ramfs", NULL))
    skip_case();
  if(fs_takes_direct(dir)) {
    fprintf(stderr, "skip: ramfs takes O_DIRECT on this kernel\n");
    skip_case();
  }
  assert_int_equal(traced_uploads(dir, &asks), 0);
  /* once per upload, however many aligned MiBs it wrote */
  assert_int_equal(asks, 2);
  assert_int_equal(st_open_dir(dir, 0, NULL, &s, &err), VS_OK);
  check_object(s, "one.mp4", 1);
  check_object(s, "two.mp4", 2);
  snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
  assert_int_equal(vst_count_files(tmp), 0);
  vs_store_close(s);
}

/* ---- a small tmpfs: ENOSPC in a direct write ---------------------------- */

static void assert_nothing_left(vs_store *s, const char *dir, const char *key)
{
  char tmp[64];
  vs_object_info info;
  vs_err err = {0};
  snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
  assert_int_equal(vst_count_files(tmp), 0);
  assert_int_equal(vs_store_stat(s, "videos", key, NULL, &info, &err),
                   VS_ERR_NOTFOUND);
}

static void test_full(void **state)
{
  char *dir = mounted, *buf = NULL, small[1000];
  vs_store *s = NULL;
  vs_upload *u = NULL;
  vs_err err = {0};
  vs_object_info info;
  int i, rc = 0, direct_ok = 0;
  (void)state;
  snprintf(dir, sizeof(mounted), "./fulltmpfs-test.XXXXXX");
  if(mount_fs(dir, "tmpfs", "size=4m"))
    skip_case();
  if(!fs_takes_direct(dir)) { /* tmpfs before Linux 6.6 */
    fprintf(stderr, "skip: tmpfs takes no O_DIRECT on this kernel\n");
    skip_case();
  }
  assert_int_equal(posix_memalign((void **)&buf, 4096, MIB), 0);
  fill(buf, MIB, 3);
  assert_int_equal(st_open_dir(dir, 0, NULL, &s, &err), VS_OK);
  assert_int_equal(vs_store_begin(s, "videos", "big.mp4", &u, &err), VS_OK);
  for(i = 0; i < 8 && !rc; i++) {
    rc = vs_store_write(s, u, buf, MIB, &err);
    if(!rc && (part_flags() & O_DIRECT))
      direct_ok++;
  }
  /* the disk filled while O_DIRECT was on, and the error says so */
  assert_true(direct_ok >= 1);
  assert_true(part_flags() & O_DIRECT);
  assert_int_equal(rc, VS_ERR_NOSPACE);
  assert_int_equal(err.sys_errno, ENOSPC);
  assert_non_null(strstr(err.msg, "write "));
  assert_non_null(strstr(err.msg, ".part"));
  vs_store_abort(s, u);
  assert_nothing_left(s, dir, "big.mp4");
  /* and the store goes on */
  fill(small, sizeof(small), 4);
  assert_int_equal(st_put(s, "videos", "small.mp4", small, sizeof(small),
                          VS_ON_EXISTING_VERSION, 0, &info, &err), VS_OK);
  vs_store_close(s);
  free(buf);
}

/* ---- ext4 whose journal cannot be written: fdatasync fails -------------- */

/* ext4 on a loop device, its journal on another, both backed by files on
 * a tmpfs of its own. Breaking the journal punches its backing file and
 * fills the tmpfs: the data device's backing is all allocated, so direct
 * writes still go through, but the next journal commit (the flush of an
 * fdatasync) fails with EIO. */
struct jfs {
  char dir[32];  /* the tmpfs */
  char mnt[48];  /* the ext4 */
  char jdev[32], ddev[32];
};

static int sh(const char *fmt, ...)
{
  char cmd[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  return system(cmd);
}

/* A file of MiBs zero MiB, every page of it allocated. */
static int zeros(const char *dir, const char *name, int mibs)
{
  char path[96], *z = calloc(1, MIB);
  int fd, rc = 0;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  while(fd >= 0 && z && !rc && mibs--)
    rc = write(fd, z, MIB) != (ssize_t)MIB;
  free(z);
  if(fd < 0)
    return -1;
  return close(fd) || rc ? -1 : 0;
}

/* A loop device on dir/name into dev; 0 or -1. */
static int loop_attach(const char *dir, const char *name, const char *opts,
                       char *dev, size_t cap)
{
  char cmd[200];
  FILE *p;
  int ok;
  snprintf(cmd, sizeof(cmd), "losetup -f --show %s %s/%s 2>&1", opts, dir,
           name);
  if(!(p = popen(cmd, "r")))
    return -1;
  ok = fgets(dev, (int)cap, p) && !strncmp(dev, "/dev/loop", 9);
  if(pclose(p) || !ok) {
    fprintf(stderr, "skip: losetup: %s", ok ? "\n" : dev);
    return -1;
  }
  dev[strcspn(dev, "\n")] = 0;
  return 0;
}

static void jfs_down(struct jfs *j)
{
  if(j->mnt[0] && umount2(j->mnt, 0))
    umount2(j->mnt, MNT_DETACH);
  if(j->ddev[0])
    sh("losetup -d %s", j->ddev);
  if(j->jdev[0])
    sh("losetup -d %s", j->jdev);
  if(j->dir[0])
    unmount_fs(j->dir);
}

/* 0, or -1 after saying why not (the test then skips) */
static int jfs_up(struct jfs *j)
{
  memset(j, 0, sizeof(*j));
  if(sh("command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null")) {
    fprintf(stderr, "skip: mkfs.ext4 or losetup missing\n");
    return -1;
  }
  snprintf(j->dir, sizeof(j->dir), "./jfs-test.XXXXXX");
  if(mount_fs(j->dir, "tmpfs", "size=64m"))
    return -1; /* j->dir emptied */
  snprintf(j->mnt, sizeof(j->mnt), "%s/ext4", j->dir);
  /* nodiscard: a discard would punch the backing files */
  if(zeros(j->dir, "journal.img", 16) || zeros(j->dir, "data.img", 32) ||
     loop_attach(j->dir, "journal.img", "", j->jdev, sizeof(j->jdev)) ||
     loop_attach(j->dir, "data.img", "", j->ddev, sizeof(j->ddev)) ||
     sh("mkfs.ext4 -q -F -E nodiscard -O journal_dev -b 4096 %s "
        ">/dev/null", j->jdev) ||
     sh("mkfs.ext4 -q -F -E nodiscard -b 4096 -J device=%s %s >/dev/null",
        j->jdev, j->ddev) || mkdir(j->mnt, 0755) ||
     /* commit=600: no journal commit but the ones fsync asks for */
     mount(j->ddev, j->mnt, "ext4", 0, "commit=600")) {
    fprintf(stderr, "skip: cannot make ext4 with a journal device (%s)\n",
            strerror(errno));
    return -1; /* the teardown takes down what was made */
  }
  return 0;
}

static void jfs_break_journal(struct jfs *j)
{
  char path[96], *z = calloc(1, 4096);
  int fd;
  assert_non_null(z);
  snprintf(path, sizeof(path), "%s/journal.img", j->dir);
  fd = open(path, O_RDWR);
  assert_true(fd >= 0);
  assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                             0, 16 * MIB), 0);
  close(fd);
  snprintf(path, sizeof(path), "%s/filler", j->dir);
  fd = open(path, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  while(write(fd, z, 4096) == 4096)
    ;
  assert_int_equal(errno, ENOSPC);
  close(fd);
  free(z);
}

static struct jfs fx; /* the test's, for its teardown */

static int jfs_teardown(void **state)
{
  (void)state;
  if(fx.dir[0])
    jfs_down(&fx);
  memset(&fx, 0, sizeof(fx));
  return 0;
}

static void test_flush_fails(void **state)
{
  char *buf = NULL, sha[65], *all, path[80];
  vs_store *s = NULL;
  vs_upload *u = NULL;
  vs_err err = {0};
  vs_commit c = {0};
  vs_object_info info;
  int i, fd;
  (void)state;
  if(jfs_up(&fx))
    skip_case();
  assert_int_equal(posix_memalign((void **)&buf, 4096, MIB), 0);
  all = malloc(8 * MIB);
  assert_non_null(all);
  fill(all, 8 * MIB, 5);
  assert_int_equal(st_open_dir(fx.mnt, 0, NULL, &s, &err), VS_OK);
  assert_int_equal(vs_store_begin(s, "videos", "big.mp4", &u, &err), VS_OK);
  fd = open(fx.mnt, O_RDONLY | O_DIRECTORY);
  assert_int_equal(syncfs(fd), 0); /* all before this is on the disk */
  close(fd);
  jfs_break_journal(&fx);
  /* 8 MiB: store_fs_write.c's SYNC_WINDOW, so the 8th write fdatasyncs;
   * every write goes through, the flush's error is kept for the commit */
  for(i = 0; i < 8; i++) {
    memcpy(buf, all + (size_t)i * MIB, MIB);
    assert_int_equal(vs_store_write(s, u, buf, MIB, &err), VS_OK);
    assert_true(part_flags() & O_DIRECT);
  }
  st_sha256(all, 8 * MIB, sha);
  c.bytes = 8 * MIB;
  c.sha256 = sha;
  c.policy = VS_ON_EXISTING_VERSION;
  assert_int_equal(vs_store_commit(s, u, &c, &info, &err), VS_ERR_IO);
  assert_int_equal(err.sys_errno, EIO);
  assert_non_null(strstr(err.msg, "write-back of "));
  assert_non_null(strstr(err.msg, ".part"));
  /* nothing published (the .part stays: the fs went read-only) */
  assert_int_equal(vs_store_stat(s, "videos", "big.mp4", NULL, &info, &err),
                   VS_ERR_NOTFOUND);
  snprintf(path, sizeof(path), "%s/buckets", fx.mnt);
  assert_int_equal(vst_count_files(path), 0);
  vs_store_close(s);
  free(all);
  free(buf);
}

/* ---- XFS on 16 KiB sectors: the flag taken, the write refused ----------- */

/* A loop device of 16 KiB logical blocks (Linux 6.15 and later) under XFS
 * of 16 KiB blocks (6.12 and later): fcntl turns O_DIRECT on, but a
 * write of aligned MiBs at an offset aligned only to 4096 (after the
 * head) is refused with EINVAL, the other refusal store_fs_write.c falls
 * back from. The backing file is sparse, on a tmpfs of its own. */
static int xfs16k_up(struct jfs *j)
{
  char path[96];
  int fd;
  memset(j, 0, sizeof(*j));
  if(sh("command -v mkfs.xfs >/dev/null && command -v losetup >/dev/null")) {
    fprintf(stderr, "skip: mkfs.xfs or losetup missing\n");
    return -1;
  }
  snprintf(j->dir, sizeof(j->dir), "./xfs16k-test.XXXXXX");
  if(mount_fs(j->dir, "tmpfs", "size=1g"))
    return -1;
  snprintf(j->mnt, sizeof(j->mnt), "%s/xfs", j->dir);
  snprintf(path, sizeof(path), "%s/data.img", j->dir);
  fd = open(path, O_WRONLY | O_CREAT, 0600);
  if(fd < 0 || ftruncate(fd, 768 * (off_t)MIB) || close(fd) ||
     loop_attach(j->dir, "data.img", "--sector-size 16384", j->ddev,
                 sizeof(j->ddev)) ||
     sh("mkfs.xfs -q -f -b size=16384 -s size=16384 %s >/dev/null 2>&1",
        j->ddev) || mkdir(j->mnt, 0755) ||
     mount(j->ddev, j->mnt, "xfs", 0, NULL)) {
    fprintf(stderr, "skip: no XFS on 16 KiB sectors here (%s; Linux 6.15 "
            "or later)\n", strerror(errno));
    return -1;
  }
  return 0;
}

static void test_write_refused(void **state)
{
  vs_store *s = NULL;
  vs_err err = {0};
  char tmp[80];
  int asks = -1;
  (void)state;
  if(xfs16k_up(&fx))
    skip_case();
  assert_int_equal(traced_uploads(fx.mnt, &asks), 0);
  /* the first aligned MiB turns the flag on, its write fails, and the
   * upload goes on through the page cache without asking again */
  assert_int_equal(asks, 2);
  assert_int_equal(st_open_dir(fx.mnt, 0, NULL, &s, &err), VS_OK);
  check_object(s, "one.mp4", 1);
  check_object(s, "two.mp4", 2);
  snprintf(tmp, sizeof(tmp), "%s/.tmp", fx.mnt);
  assert_int_equal(vst_count_files(tmp), 0);
  vs_store_close(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_refused, unmount_mounted),
    cmocka_unit_test_teardown(test_full, unmount_mounted),
    cmocka_unit_test_teardown(test_flush_fails, jfs_teardown),
    cmocka_unit_test_teardown(test_write_refused, jfs_teardown),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  return failed ? failed : skipped ? 77 : 0;
}
