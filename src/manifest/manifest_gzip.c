/* Closing a segment as gzip, and closing the segments a writer left
 * behind (a crash, a kill -9): a writer holds an exclusive flock on each of
 * its plain segments from before the segment has its name until it is
 * compressed, so a plain segment nobody holds is closed for good. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "manifest/manifest_int.h"
#include "util/fs.h"
#include "util/log.h"

#define GZ_CHUNK (256u << 10)

static int deflate_fd(int in, int out, const char *path, vs_err *err)
{
  static const size_t n = GZ_CHUNK;
  unsigned char *ibuf = malloc(n), *obuf = malloc(n);
  z_stream z;
  int rc = VS_OK, flush = Z_NO_FLUSH;
  memset(&z, 0, sizeof(z));
  if(!ibuf || !obuf ||
     deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                  Z_DEFAULT_STRATEGY) != Z_OK) {
    free(ibuf);
    free(obuf);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory compressing %s", path);
  }
  while(!rc && flush != Z_FINISH) {
    ssize_t r = read(in, ibuf, n);
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0) {
      rc = vs_fail_errno(err, errno, "read %s", path);
      break;
    }
    flush = r == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = ibuf;
    z.avail_in = (uInt)r;
    do {
      z.next_out = obuf;
      z.avail_out = (uInt)n;
      deflate(&z, flush);
      rc = vs_write_all(out, obuf, n - z.avail_out, err);
    } while(!rc && z.avail_out == 0);
  }
  deflateEnd(&z);
  free(ibuf);
  free(obuf);
  return rc;
}

/* <name>.jsonl -> <name>.jsonl.gz.tmp, fsync, rename to <name>.jsonl.gz,
 * fsync the directory, unlink the plain one. A crash anywhere leaves either
 * the plain segment alone, or both (readers take the .gz), never a partial
 * .gz under the final name. */
int vs__gzip_segment(const char *dir, const char *plain, vs_err *err)
{
  char *tmp = NULL, *gz = NULL;
  int in = -1, out = -1, rc = VS_OK;
  struct stat st;
  if(asprintf(&tmp, "%s.gz.tmp", plain) < 0 ||
     asprintf(&gz, "%s.gz", plain) < 0) {
    free(tmp);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  in = open(plain, O_RDONLY | O_CLOEXEC);
  if(in < 0 || fstat(in, &st))
    rc = vs_fail_errno(err, errno, "open %s", plain);
  else if(st.st_size == 0) { /* every line in it was cut back: nothing */
    if(unlink(plain))
      rc = vs_fail_errno(err, errno, "unlink %s", plain);
    goto done;
  }
  if(!rc) {
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if(out < 0)
      rc = vs_fail_errno(err, errno, "create %s", tmp);
  }
  if(!rc)
    rc = deflate_fd(in, out, plain, err);
  if(!rc && fsync(out))
    rc = vs_fail_errno(err, errno, "fsync %s", tmp);
  if(out >= 0 && close(out) && !rc)
    rc = vs_fail_errno(err, errno, "close %s", tmp);
  if(!rc && rename(tmp, gz))
    rc = vs_fail_errno(err, errno, "rename %s", tmp);
  if(!rc)
    rc = vs_fsync_dir(dir, err);
  if(!rc && unlink(plain))
    rc = vs_fail_errno(err, errno, "unlink %s", plain);
  if(rc && out >= 0)
    unlink(tmp);
done:
  if(in >= 0)
    close(in);
  free(tmp);
  free(gz);
  return rc;
}

/* A plain segment (or a writer's ".NAME.new" not yet named) that no
 * writer holds: compress it (or drop the unnamed one, which never took a
 * line). Returns 1 when it acted, 0 when a writer holds it, -1 on error. */
static int recover_one(const char *dir, const char *name, vs_err *err)
{
  char *path = NULL, *gz = NULL;
  int fd, rc = VS_OK, acted = 0;
  struct stat st;
  if(asprintf(&path, "%s/%s", dir, name) < 0) {
    vs_fail(err, VS_ERR_NOMEM, "out of memory");
    return -1;
  }
  fd = open(path, O_RDONLY | O_CLOEXEC);
  /* Not there (compressed or removed meanwhile), held, or finished by its
   * writer between our open and our lock: nothing to do. */
  if(fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB) && !stat(path, &st)) {
    acted = 1;
    if(name[0] == '.' || st.st_size == 0)
      rc = unlink(path) ? vs_fail_errno(err, errno, "unlink %s", path) : 0;
    else if(asprintf(&gz, "%s.gz", path) < 0)
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    else if(!stat(gz, &st)) /* compressed before the crash, not unlinked */
      rc = unlink(path) ? vs_fail_errno(err, errno, "unlink %s", path) : 0;
    else
      rc = vs__gzip_segment(dir, path, err);
  }
  if(fd >= 0)
    close(fd);
  free(gz);
  free(path);
  return rc ? -1 : acted;
}

static int leftover_name(const char *n)
{
  size_t len = strlen(n);
  if(n[0] == '.')
    return len > 5 && !strcmp(n + len - 4, ".new");
  return len > 6 && !strcmp(n + len - 6, ".jsonl");
}

int vs_manifest_recover(const char *dir, int *closed, vs_err *err)
{
  DIR *dh = opendir(dir);
  struct dirent *d;
  int rc = VS_OK, n = 0;
  if(closed)
    *closed = 0;
  if(!dh)
    return vs_fail_errno(err, errno, "manifest directory %s", dir);
  while((errno = 0, d = readdir(dh))) {
    int k;
    vs_err e1 = {0};
    if(!leftover_name(d->d_name))
      continue;
    k = recover_one(dir, d->d_name, &e1);
    if(k < 0) {
      vs_log("error", "manifest: closing %s/%s: %s", dir, d->d_name, e1.msg);
      if(!rc) {
        rc = e1.code;
        if(err)
          *err = e1;
      }
    } else
      n += k;
  }
  closedir(dh);
  if(closed)
    *closed = n;
  return rc;
}
