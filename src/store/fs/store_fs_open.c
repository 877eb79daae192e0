/* Opening and closing the filesystem store: the data directory's lock,
 * and the clean-up of what a crash left behind. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "store_fs_int.h"
#include "store_intent.h"
#include "vsink/store.h"

void vs__fs_close(vs_store *base)
{
  vs__fs_store *s = (vs__fs_store *)base;
  int i;
  for(i = 0; i < VS__FS_STRIPES; i++)
    pthread_mutex_destroy(&s->stripe[i]);
  if(s->lock_fd >= 0)
    close(s->lock_fd); /* releases the flock */
  free(s->dir);
  free(s->tmp);
  free(s->buckets);
  free(s->intent);
  free(s->multipart);
  free(s);
}

static int take_lock(vs__fs_store *s, vs_err *err)
{
  char path[PATH_MAX], pid[24] = "";
  ssize_t n;
  int rc = vs__fs_path(path, sizeof(path), err, "%s/.lock", s->dir);
  if(rc)
    return rc;
  s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if(s->lock_fd < 0)
    return vs_fail_errno(err, errno, "open %s", path);
  if(flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
    if(errno != EWOULDBLOCK)
      return vs_fail_errno(err, errno, "flock %s", path);
    n = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
    pid[n > 0 ? strcspn(pid, "\n") : 0] = 0;
    return vs_fail(err, VS_ERR_BUSY,
                   "data directory %s is in use by another store (%s, "
                   "pid %s)", s->dir, path, *pid ? pid : "unknown");
  }
  /* Who holds it, for the message above; the lock itself is the flock. */
  n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  if(ftruncate(s->lock_fd, 0) || pwrite(s->lock_fd, pid, (size_t)n, 0) != n)
    return vs_fail_errno(err, errno, "write %s", path);
  return VS_OK;
}

/* Everything in .tmp is a leftover: this process holds the lock and has
 * not begun anything yet. */
static int clean_tmp(vs__fs_store *s, int *cleaned, vs_err *err)
{
  DIR *d = opendir(s->tmp);
  struct dirent *e;
  int n = 0, rc = VS_OK;
  if(!d)
    return vs_fail_errno(err, errno, "open directory %s", s->tmp);
  while((e = readdir(d))) {
    if(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if(unlinkat(dirfd(d), e->d_name, 0)) {
      rc = vs_fail_errno(err, errno, "remove %s/%s", s->tmp, e->d_name);
      break;
    }
    n++;
  }
  closedir(d);
  if(cleaned)
    *cleaned = n;
  return rc;
}

/* Metadata that landed without its data (a crash between the two renames
 * of a commit) goes; its intent stays for the caller's reconciliation. A
 * version may also lack its data because a later version's settle removed
 * it after replacing it, with its own settle (the removal of what it
 * replaced) still to come: only the caller knows whether it was recorded,
 * and dropping its intent here left that replaced version behind. */
static int drop_lone_meta(vs__fs_store *s, int *cleaned, vs_err *err)
{
  vs_store_intent *l;
  char keydir[PATH_MAX], p[PATH_MAX];
  struct stat st;
  size_t n, i;
  int rc = vs__intent_list(s->intent, &l, &n, err);
  for(i = 0; !rc && i < n; i++) {
    if(vs__fs_key_dir(s, l[i].bucket, l[i].key, keydir, sizeof(keydir),
                      NULL) ||
       vs__fs_path(p, sizeof(p), NULL, "%s/@%s", keydir, l[i].version_id))
      continue; /* not a key this store could have made: left alone */
    if(!lstat(p, &st) || errno != ENOENT)
      continue;
    if(vs__fs_path(p, sizeof(p), NULL, "%s/@%s.json", keydir,
                   l[i].version_id) || unlink(p))
      continue;
    rc = vs_fsync_dir(keydir, err);
    if(!rc && cleaned)
      (*cleaned)++;
  }
  free(l);
  return rc;
}

/* A read-only store takes the directory as it is: it must be there. */
static int check_readable(vs__fs_store *s, vs_err *err)
{
  struct stat st;
  if(stat(s->dir, &st))
    return vs_fail_errno(err, errno, "data directory %s", s->dir);
  if(!S_ISDIR(st.st_mode))
    return vs_fail(err, VS_ERR_INVALID, "data directory %s is not a "
                   "directory", s->dir);
  return VS_OK;
}

static int fs_setup(vs__fs_store *s, const vs_store_fs_opts *o, int *cleaned,
                    vs_err *err)
{
  int rc;
  if(asprintf(&s->tmp, "%s/.tmp", o->dir) < 0 ||
     asprintf(&s->buckets, "%s/buckets", o->dir) < 0 ||
     asprintf(&s->intent, "%s/.intent", o->dir) < 0 ||
     asprintf(&s->multipart, "%s/.multipart", o->dir) < 0) {
    s->tmp = s->buckets = s->intent = s->multipart = NULL;
    return vs_fail(err, VS_ERR_NOMEM, "out of memory opening %s", o->dir);
  }
  if(o->read_only)
    return check_readable(s, err);
  rc = vs_mkdirs(s->dir, 0755, err);
  if(!rc)
    rc = take_lock(s, err);
  if(!rc)
    rc = vs_mkdirs(s->tmp, 0755, err);
  if(!rc)
    rc = vs_mkdirs(s->buckets, 0755, err);
  if(!rc)
    rc = vs_mkdirs(s->intent, 0755, err);
  if(!rc)
    rc = clean_tmp(s, cleaned, err);
  if(!rc)
    rc = drop_lone_meta(s, cleaned, err);
  if(!rc)
    rc = vs__fs_mpu_clean(s, cleaned, err);
  return rc;
}

int vs_store_fs_open(vs_store **out, const vs_store_fs_opts *o, int *cleaned,
                     vs_err *err)
{
  vs__fs_store *s;
  int i, rc;
  if(cleaned)
    *cleaned = 0;
  if(!o || !o->dir || !*o->dir)
    return vs_fail(err, VS_ERR_INVALID, "no data directory given");
  s = calloc(1, sizeof(*s));
  if(!s || !(s->dir = strdup(o->dir))) {
    free(s);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory opening %s", o->dir);
  }
  s->base.ops = &vs__fs_ops;
  s->lock_fd = -1;
  s->read_only = o->read_only;
  s->now = o->now;
  s->now_ctx = o->now_ctx;
  for(i = 0; i < VS__FS_STRIPES; i++)
    pthread_mutex_init(&s->stripe[i], NULL);
  rc = fs_setup(s, o, cleaned, err);
  if(rc) {
    vs__fs_close(&s->base);
    return rc;
  }
  *out = &s->base;
  return VS_OK;
}
