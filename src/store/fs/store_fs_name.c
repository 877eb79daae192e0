/* The filesystem store's names: where a key's versions live, the
 * temporaries, version ids (sorting in commit order), and the versions a
 * key directory holds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/enc.h"
#include "util/fs.h"
#include "store_fs_int.h"
#include "vsink/store.h"

int vs__fs_path(char *out, size_t cap, vs_err *err, const char *fmt, ...)
{
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(out, cap, fmt, ap);
  va_end(ap);
  if(n < 0 || (size_t)n >= cap)
    return vs_fail(err, VS_ERR_TOOLARGE,
                   "path under the data directory would exceed %zu bytes",
                   cap - 1);
  return VS_OK;
}

/* DIR/buckets/<bucket>/<encoded segments> (store_fs_key.c), after checking
 * both names. */
int vs__fs_key_dir(const vs__fs_store *s, const char *bucket, const char *key,
                   char *out, size_t cap, vs_err *err)
{
  /* Room for "/@<vid>.json" after the directory. */
  const size_t tail = 2 + VS__VID_LEN + 5;
  size_t o, n;
  int rc = vs_store_check_bucket(bucket, err);
  if(!rc)
    rc = vs_store_check_key(key, key ? strlen(key) : 0, err);
  if(!rc)
    rc = vs__fs_path(out, cap, err, "%s/%s/", s->buckets, bucket);
  if(rc)
    return rc;
  o = strlen(out);
  n = o + tail < cap ? vs__fs_key_encode(key, strlen(key), out + o,
                                         cap - o - tail)
                     : (size_t)-1;
  if(n == (size_t)-1)
    return vs_fail(err, VS_ERR_TOOLARGE,
                   "path under the data directory would exceed %zu bytes",
                   cap - 1);
  return VS_OK;
}

unsigned vs__fs_stripe(const char *keydir)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for(; *keydir; keydir++)
    h = (h ^ (unsigned char)*keydir) * 16777619u;
  return h % VS__FS_STRIPES;
}

/* A new file DIR/.tmp/<32 hex><suffix>, open for writing. */
int vs__fs_tmp_create(vs__fs_store *s, const char *suffix, char *path,
                      size_t cap, int *fd, vs_err *err)
{
  unsigned char rnd[16];
  char name[33];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_hex(rnd, sizeof(rnd), name);
  rc = vs__fs_path(path, cap, err, "%s/%s%s", s->tmp, name, suffix);
  if(rc)
    return rc;
  *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if(*fd < 0)
    return vs_fail_errno(err, errno, "create %s", path);
  return VS_OK;
}

/* rename() that fails with EEXIST instead of replacing: a version file is
 * never replaced. link()+unlink() where renameat2 flags are unsupported. */
int vs__fs_rename_noreplace(const char *from, const char *to)
{
  if(!renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE))
    return 0;
  if(errno != EINVAL && errno != ENOSYS)
    return -1;
  if(link(from, to))
    return -1;
  unlink(from);
  return 0;
}

/* Version ids: "YYYYMMDDTHHMMSSmmmZ-hhhhhh", sorting in commit order. */
int vs__fs_vid_valid(const char *v)
{
  static const char shape[] = "ddddddddTdddddddddZ-hhhhhh";
  size_t i;
  for(i = 0; i < VS__VID_LEN; i++) {
    char c = v[i];
    if(shape[i] == 'd' ? !(c >= '0' && c <= '9')
       : shape[i] == 'h' ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
       : c != shape[i])
      return 0;
  }
  return v[VS__VID_LEN] == 0;
}

int64_t vs__fs_vid_ms(const char *v)
{
  char amz[17];
  int64_t secs;
  memcpy(amz, v, 15);
  amz[15] = 'Z';
  amz[16] = 0;
  if(vs_time_parse_amz(amz, &secs))
    return -1;
  return secs * 1000 + (v[15] - '0') * 100 + (v[16] - '0') * 10 +
         (v[17] - '0');
}

int vs__fs_vid_make(int64_t ms, char out[VS__VID_LEN + 1], vs_err *err)
{
  unsigned char rnd[3];
  char amz[17], hex[7], buf[48];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_hex(rnd, sizeof(rnd), hex);
  vs_time_amz(ms / 1000, amz);
  snprintf(buf, sizeof(buf), "%.15s%03dZ-%s", amz, (int)(ms % 1000), hex);
  if(!vs__fs_vid_valid(buf))
    return vs_fail(err, VS_ERR_INVALID, "clock reading %" PRId64
                   " ms is outside years 1970-9999", ms);
  memcpy(out, buf, VS__VID_LEN + 1);
  return VS_OK;
}

/* The current version of a key; *has = 0 when it has none. */
int vs__fs_read_current(const char *keydir, char vid[VS__VID_LEN + 1],
                        int *has, vs_err *err)
{
  char link[PATH_MAX], target[VS__VID_LEN + 3];
  ssize_t n;
  int rc = vs__fs_path(link, sizeof(link), err, "%s/@current", keydir);
  if(rc)
    return rc;
  *has = 0;
  n = readlink(link, target, sizeof(target) - 1);
  if(n < 0) {
    if(errno == ENOENT || errno == ENOTDIR)
      return VS_OK;
    return vs_fail_errno(err, errno, "readlink %s", link);
  }
  target[n] = 0;
  if(target[0] != '@' || !vs__fs_vid_valid(target + 1))
    return vs_fail(err, VS_ERR_IO, "%s does not point to a version", link);
  memcpy(vid, target + 1, VS__VID_LEN + 1);
  *has = 1;
  return VS_OK;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect_versions(DIR *d, char ***ids, size_t *n, vs_err *err)
{
  struct dirent *e;
  size_t cap = 0;
  while((e = readdir(d))) {
    char **grown;
    if(e->d_name[0] != '@' || !vs__fs_vid_valid(e->d_name + 1))
      continue; /* @<vid>.json, @current, escaped key segments */
    if(*n == cap) {
      cap = cap ? cap * 2 : 8;
      grown = realloc(*ids, cap * sizeof(**ids));
      if(!grown)
        return vs_fail(err, VS_ERR_NOMEM, "out of memory listing versions");
      *ids = grown;
    }
    if(!((*ids)[*n] = strdup(e->d_name + 1)))
      return vs_fail(err, VS_ERR_NOMEM, "out of memory listing versions");
    (*n)++;
  }
  return VS_OK;
}

int vs_store_fs_list_versions(vs_store *base, const char *bucket,
                              const char *key, char ***ids, size_t *n,
                              vs_err *err)
{
  char keydir[PATH_MAX];
  int rc;
  *ids = NULL;
  *n = 0;
  if(!base || base->ops != &vs__fs_ops)
    return vs_fail(err, VS_ERR_INVALID, "not a filesystem store");
  rc = vs__fs_key_dir((vs__fs_store *)base, bucket, key, keydir,
                      sizeof(keydir), err);
  if(rc)
    return rc;
  return vs__fs_list_sorted(keydir, ids, n, err);
}

int vs__fs_list_sorted(const char *keydir, char ***ids, size_t *n,
                       vs_err *err)
{
  DIR *d;
  int rc;
  *ids = NULL;
  *n = 0;
  d = opendir(keydir);
  if(!d)
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open directory %s",
                                           keydir);
  rc = collect_versions(d, ids, n, err);
  closedir(d);
  if(rc) {
    while(*n)
      free((*ids)[--*n]);
    free(*ids);
    *ids = NULL;
    return rc;
  }
  if(*n)
    qsort(*ids, *n, sizeof(**ids), cmp_str);
  return VS_OK;
}
