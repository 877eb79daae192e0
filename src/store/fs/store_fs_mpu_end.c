/* How multipart uploads end in the filesystem store: abort (also what
 * follows a recorded Complete, and expiry), the listing of those in
 * progress, and the clean-up at open of what a crash left: folders of
 * aborts half removed, folders of creates that never finished, and part
 * files no part record names (uploads of parts cut short, parts replaced
 * before the old file went). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/log.h"
#include "store_fs_int.h"
#include "store_fs_mpu.h"
#include "vsink/store.h"

#define GONE ".gone-"

int vs__mpu_remove_tree(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if(!d)
    return 0;
  while((e = readdir(d)))
    if(strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
       !unlinkat(dirfd(d), e->d_name, 0))
      n++;
  closedir(d);
  if(rmdir(dir))
    vs_log("warn", "cannot remove %s: %s", dir, strerror(errno));
  return n;
}

/* One rename makes the upload gone (a part commit waiting for the lock
 * then finds nothing); its files go after, and a crash meanwhile leaves
 * only a .gone- folder for the next open. */
static int abort_dir(const char *updir, const char *id, const char *bucket,
                     const char *key, vs_err *err)
{
  char gone[PATH_MAX], bdir[PATH_MAX];
  vs_mpu *m = malloc(sizeof(*m));
  int lock = -1, rc;
  if(!m)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  vs_dirname(updir, bdir, sizeof(bdir));
  rc = vs__fs_path(gone, sizeof(gone), err, "%s/" GONE "%s", bdir, id);
  if(!rc)
    rc = vs__mpu_lock(updir, id, bucket, key, m, &lock, err);
  free(m);
  if(rc)
    return rc;
  if(rename(updir, gone))
    rc = errno == ENOENT ? vs_fail(err, VS_ERR_NOTFOUND, "no such upload")
                         : vs_fail_errno(err, errno, "rename %s", updir);
  if(!rc)
    rc = vs_fsync_dir(bdir, err);
  close(lock);
  if(!rc)
    vs__mpu_remove_tree(gone);
  return rc;
}

int vs__fs_mpu_abort(vs_store *base, const char *bucket, const char *key,
                       const char *upload_id, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 1, err);
  char updir[PATH_MAX];
  int rc;
  if(!s)
    return VS_ERR_INVALID;
  rc = vs__mpu_dir(s, bucket, upload_id, updir, sizeof(updir), err);
  if(!rc)
    rc = abort_dir(updir, upload_id, bucket, key ? key : "", err);
  return rc;
}

/* ---- list --------------------------------------------------------------- */

static int cmp_mpu(const void *a, const void *b)
{
  const vs_mpu *x = a, *y = b;
  int c = strcmp(x->key, y->key); /* compares bytes as unsigned char */
  if(c)
    return c;
  if(x->created_ms != y->created_ms)
    return x->created_ms < y->created_ms ? -1 : 1;
  return strcmp(x->upload_id, y->upload_id);
}

int vs__fs_mpu_list(vs_store *base, const char *bucket, vs_mpu **list,
                      size_t *n, vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 0, err);
  char bdir[PATH_MAX];
  struct dirent *e;
  size_t cap = 0;
  DIR *d;
  int rc;
  *list = NULL;
  *n = 0;
  if(!s)
    return VS_ERR_INVALID;
  rc = vs_store_check_bucket(bucket, err);
  if(!rc)
    rc = vs__fs_path(bdir, sizeof(bdir), err, "%s/%s", s->multipart, bucket);
  if(rc)
    return rc;
  if(!(d = opendir(bdir)))
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open %s", bdir);
  while(!rc && (e = readdir(d))) {
    if(!vs__mpu_id_valid(e->d_name))
      continue;
    if(*n == cap) {
      vs_mpu *g = realloc(*list, (cap ? cap * 2 : 8) * sizeof(*g));
      if(!g) {
        rc = vs_fail(err, VS_ERR_NOMEM, "out of memory listing uploads");
        break;
      }
      *list = g;
      cap = cap ? cap * 2 : 8;
    }
    /* one being created, or aborted, meanwhile is not listed */
    if(!vs__fs_mpu_get(base, bucket, NULL, e->d_name, *list + *n, NULL))
      (*n)++;
  }
  closedir(d);
  if(rc) {
    free(*list);
    *list = NULL;
    *n = 0;
  } else if(*n) {
    qsort(*list, *n, sizeof(**list), cmp_mpu);
  } else {
    free(*list);
    *list = NULL;
  }
  return rc;
}

/* ---- expiry ------------------------------------------------------------- */

static int64_t id_ms(const char *id)
{
  char ms[13];
  memcpy(ms, id, 12);
  ms[12] = 0;
  return (int64_t)strtoull(ms, NULL, 16);
}

static int expire_bucket(const char *bdir, const char *bucket,
                         int64_t before_ms, size_t *removed, vs_err *err)
{
  char updir[PATH_MAX];
  struct dirent *e;
  DIR *d = opendir(bdir);
  int rc = VS_OK;
  if(!d)
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open %s", bdir);
  while(!rc && (e = readdir(d))) {
    if(!vs__mpu_id_valid(e->d_name) || id_ms(e->d_name) >= before_ms ||
       vs__fs_path(updir, sizeof(updir), NULL, "%s/%s", bdir, e->d_name))
      continue;
    rc = abort_dir(updir, e->d_name, bucket, NULL, err);
    if(!rc)
      (*removed)++;
    else if(rc == VS_ERR_NOTFOUND)
      rc = VS_OK; /* completed, aborted or half created meanwhile */
  }
  closedir(d);
  return rc;
}

int vs__fs_mpu_expire(vs_store *base, int64_t before_ms, size_t *removed,
                        vs_err *err)
{
  vs__fs_store *s = vs__mpu_store(base, 1, err);
  char bdir[PATH_MAX];
  struct dirent *e;
  size_t scratch;
  DIR *d;
  int rc = VS_OK;
  if(!removed)
    removed = &scratch;
  *removed = 0;
  if(!s)
    return VS_ERR_INVALID;
  if(!(d = opendir(s->multipart)))
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open %s",
                                           s->multipart);
  while(!rc && (e = readdir(d)))
    if(!vs_store_check_bucket(e->d_name, NULL) &&
       !vs__fs_path(bdir, sizeof(bdir), NULL, "%s/%s", s->multipart,
                    e->d_name))
      rc = expire_bucket(bdir, e->d_name, before_ms, removed, err);
  closedir(d);
  return rc;
}

/* ---- clean-up at open --------------------------------------------------- */

static int is_part_file(const char *name)
{
  size_t i;
  for(i = 0; i < 5; i++)
    if(name[i] < '0' || name[i] > '9')
      return 0;
  return name[5] == '.' && strlen(name + 6) == 16 &&
         strspn(name + 6, "0123456789abcdef") == 16;
}

static int named_by_a_part(const char *updir, const char *file)
{
  unsigned number = 0;
  vs__mpu_part r;
  size_t i;
  for(i = 0; i < 5; i++)
    number = number * 10 + (unsigned)(file[i] - '0');
  return number >= 1 && number <= VS_PART_NUMBER_MAX &&
         !vs__mpu_part_read(updir, number, &r, NULL) &&
         !strcmp(r.file, file);
}

/* The part files no record names and the temporaries: nothing else may be
 * writing (we hold the data directory's lock and began nothing yet). */
static void clean_upload(const char *updir, int *cleaned)
{
  struct dirent *e;
  struct stat st;
  char path[PATH_MAX];
  DIR *d;
  if(vs__fs_path(path, sizeof(path), NULL, "%s/upload.json", updir))
    return;
  if(stat(path, &st)) { /* a create that never finished */
    vs__mpu_remove_tree(updir);
    (*cleaned)++;
    return;
  }
  if(!(d = opendir(updir)))
    return;
  while((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    int tmp = len > 4 && !strcmp(e->d_name + len - 4, ".tmp");
    if((tmp || (is_part_file(e->d_name) &&
                !named_by_a_part(updir, e->d_name))) &&
       !unlinkat(dirfd(d), e->d_name, 0))
      (*cleaned)++;
  }
  closedir(d);
}

int vs__fs_mpu_clean(vs__fs_store *s, int *cleaned, vs_err *err)
{
  DIR *top = opendir(s->multipart), *d;
  struct dirent *b, *e;
  char bdir[PATH_MAX], path[PATH_MAX];
  int scratch = 0;
  if(!cleaned)
    cleaned = &scratch;
  if(!top)
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open %s",
                                           s->multipart);
  while((b = readdir(top))) {
    if(vs_store_check_bucket(b->d_name, NULL) ||
       vs__fs_path(bdir, sizeof(bdir), NULL, "%s/%s", s->multipart,
                   b->d_name) ||
       !(d = opendir(bdir)))
      continue;
    while((e = readdir(d))) {
      int gone = !strncmp(e->d_name, GONE, strlen(GONE));
      if((!gone && !vs__mpu_id_valid(e->d_name)) ||
         vs__fs_path(path, sizeof(path), NULL, "%s/%s", bdir, e->d_name))
        continue;
      if(gone) {
        vs__mpu_remove_tree(path);
        (*cleaned)++;
      } else {
        clean_upload(path, cleaned);
      }
    }
    closedir(d);
  }
  closedir(top);
  return VS_OK;
}

const vs_store_mpu_ops vs__fs_mpu_ops = {
    vs__fs_mpu_create, vs__fs_mpu_get,    vs__fs_part_begin,
    vs__fs_part_commit, vs__fs_part_copy, vs__fs_mpu_parts,
    vs__fs_mpu_complete, vs__fs_mpu_abort, vs__fs_mpu_list,
    vs__fs_mpu_expire, vs__fs_part_range};
