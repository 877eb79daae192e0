#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

void vs_dirname(const char *path, char *out, size_t cap)
{
  const char *slash = strrchr(path, '/');
  size_t n;
  if(!slash) {
    snprintf(out, cap, ".");
    return;
  }
  n = slash == path ? 1 : (size_t)(slash - path);
  if(n >= cap)
    n = cap - 1;
  memcpy(out, path, n);
  out[n] = 0;
}

int vs_fsync_dir(const char *path, vs_err *err)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0)
    return vs_fail_errno(err, errno, "open directory %s", path);
  if(fsync(fd) && errno != EINVAL) {
    int e = errno;
    close(fd);
    return vs_fail_errno(err, e, "fsync directory %s", path);
  }
  close(fd);
  return VS_OK;
}

/* Creates the missing tail of path only: the common case (parents exist)
 * costs one mkdir. */
int vs_mkdirs(const char *path, mode_t mode, vs_err *err)
{
  char parent[PATH_MAX];
  struct stat st;
  int rc;
  if(!*path || strlen(path) >= sizeof(parent))
    return vs_fail(err, VS_ERR_INVALID, "bad directory path");
  if(mkdir(path, mode) == 0) {
    vs_dirname(path, parent, sizeof(parent));
    return vs_fsync_dir(parent, err);
  }
  if(errno == EEXIST) {
    if(!stat(path, &st) && S_ISDIR(st.st_mode))
      return VS_OK;
    return vs_fail(err, VS_ERR_EXISTS, "%s exists and is not a directory",
                   path);
  }
  if(errno != ENOENT)
    return vs_fail_errno(err, errno, "mkdir %s", path);
  vs_dirname(path, parent, sizeof(parent));
  if(!strcmp(parent, path))
    return vs_fail_errno(err, ENOENT, "mkdir %s", path);
  rc = vs_mkdirs(parent, mode, err);
  if(rc)
    return rc;
  if(mkdir(path, mode) && errno != EEXIST)
    return vs_fail_errno(err, errno, "mkdir %s", path);
  return vs_fsync_dir(parent, err);
}

int vs_write_all(int fd, const void *p, size_t n, vs_err *err)
{
  const char *c = p;
  while(n) {
    ssize_t w = write(fd, c, n);
    if(w < 0) {
      if(errno == EINTR)
        continue;
      return vs_fail_errno(err, errno, "write");
    }
    c += w;
    n -= (size_t)w;
  }
  return VS_OK;
}

int vs_read_file(const char *path, size_t max, char **out, size_t *len,
                 vs_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  size_t got = 0;
  if(fd < 0)
    return vs_fail_errno(err, errno, "open %s", path);
  if(fstat(fd, &st) || (size_t)st.st_size > max) {
    close(fd);
    return vs_fail(err, VS_ERR_TOOLARGE, "%s is larger than %zu bytes", path,
                   max);
  }
  buf = malloc((size_t)st.st_size + 1);
  if(!buf) {
    close(fd);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory reading %s", path);
  }
  while(got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if(r < 0 && errno == EINTR)
      continue;
    if(r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = 0;
  *out = buf;
  if(len)
    *len = got;
  return VS_OK;
}

int vs_random(void *buf, size_t n, vs_err *err)
{
  char *p = buf;
  while(n) {
    ssize_t r = getrandom(p, n, 0);
    if(r < 0) {
      if(errno == EINTR)
        continue;
      return vs_fail_errno(err, errno, "getrandom");
    }
    p += r;
    n -= (size_t)r;
  }
  return VS_OK;
}
