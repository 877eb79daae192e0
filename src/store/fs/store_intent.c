/* The filesystem store's intent journal: see store_intent.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_intent.h"
#include "util/fs.h"
#include "util/log.h"

#define VID_LEN 26
#define NAME_LEN (VID_LEN + 1 + 16)
/* "<pid>:<replaced vid>:<bucket>/<key>" */
#define TARGET_MAX (24 + VID_LEN + 1 + 64 + VS_KEY_MAX)

/* 64-bit FNV-1a of bucket "/" key: with the version id in front, two
 * intents share a name only if two keys got one id in the same ms and
 * collide here too; then the commit just takes the next id. */
static void intent_name(const char *bucket, const char *key, const char *vid,
                        char out[NAME_LEN + 1])
{
  uint64_t h = 14695981039346656037ULL;
  const char *parts[3] = {bucket, "/", key};
  int i;
  for(i = 0; i < 3; i++) {
    const unsigned char *p = (const unsigned char *)parts[i];
    for(; *p; p++)
      h = (h ^ *p) * 1099511628211ULL;
  }
  snprintf(out, NAME_LEN + 1, "%.26s-%016llx", vid, (unsigned long long)h);
}

static int intent_path(const char *idir, const char *bucket, const char *key,
                       const char *vid, char *out, size_t cap, vs_err *err)
{
  char name[NAME_LEN + 1];
  int n;
  if(strlen(vid) != VID_LEN)
    return vs_fail(err, VS_ERR_INVALID, "version id '%s' is not of this "
                   "store", vid);
  intent_name(bucket, key, vid, name);
  n = snprintf(out, cap, "%s/%s", idir, name);
  if(n < 0 || (size_t)n >= cap)
    return vs_fail(err, VS_ERR_TOOLARGE, "intent path is too long");
  return VS_OK;
}

int vs__intent_add(const char *idir, const char *bucket, const char *key,
                   const char *vid, const char *replaces, vs_err *err)
{
  char path[PATH_MAX], target[TARGET_MAX];
  int rc = intent_path(idir, bucket, key, vid, path, sizeof(path), err);
  if(rc)
    return rc;
  snprintf(target, sizeof(target), "%ld:%.26s:%s/%s", (long)getpid(),
           replaces ? replaces : "", bucket, key);
  if(!symlink(target, path))
    return VS_OK;
  if(errno == EEXIST)
    return vs_fail(err, VS_ERR_EXISTS, "intent %s exists", path);
  return vs_fail_errno(err, errno, "create intent %s", path);
}

int vs__intent_sync(const char *idir, vs_err *err)
{
  return vs_fsync_dir(idir, err);
}

int vs__intent_drop(const char *idir, const char *bucket, const char *key,
                    const char *vid, vs_err *err)
{
  char path[PATH_MAX];
  int rc = intent_path(idir, bucket, key, vid, path, sizeof(path), err);
  if(rc)
    return rc;
  if(unlink(path) && errno != ENOENT)
    return vs_fail_errno(err, errno, "remove intent %s", path);
  return VS_OK;
}

/* "<pid>:<replaced>:<bucket>/<key>" into its parts; -1 if malformed. */
static int parse_target(char *target, vs_store_intent *it, char *replaces)
{
  char *c1 = strchr(target, ':'), *c2, *slash, *end;
  long pid;
  c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  slash = c2 ? strchr(c2 + 1, '/') : NULL;
  if(!slash || (c2 - c1 - 1 != 0 && c2 - c1 - 1 != VID_LEN) ||
     (size_t)(slash - c2 - 1) >= sizeof(it->bucket) ||
     strlen(slash + 1) >= sizeof(it->key))
    return -1;
  errno = 0;
  pid = strtol(target, &end, 10);
  if(errno || end != c1 || pid <= 0)
    return -1;
  memset(it, 0, sizeof(*it));
  memcpy(replaces, c1 + 1, (size_t)(c2 - c1 - 1));
  replaces[c2 - c1 - 1] = 0;
  memcpy(it->bucket, c2 + 1, (size_t)(slash - c2 - 1));
  strcpy(it->key, slash + 1);
  it->pid = pid;
  return 0;
}

/* One directory entry into *it; -1 when it is not an intent of ours. */
static int parse_entry(int dfd, const char *name, vs_store_intent *it,
                       char *replaces)
{
  char target[TARGET_MAX + 1], check[NAME_LEN + 1];
  struct stat st;
  ssize_t n;
  if(strlen(name) != NAME_LEN || name[VID_LEN] != '-')
    return -1;
  n = readlinkat(dfd, name, target, sizeof(target) - 1);
  if(n < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
    return -1;
  target[n] = 0;
  if(parse_target(target, it, replaces))
    return -1;
  memcpy(it->version_id, name, VID_LEN);
  it->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
                 st.st_mtim.tv_nsec / 1000000;
  intent_name(it->bucket, it->key, it->version_id, check);
  return strcmp(check, name) ? -1 : 0; /* the name must be this target's */
}

int vs__intent_replaces(const char *idir, const char *bucket,
                        const char *key, const char *vid,
                        char replaces[VID_LEN + 1], vs_err *err)
{
  char path[PATH_MAX], target[TARGET_MAX + 1];
  vs_store_intent it;
  ssize_t n;
  int rc = intent_path(idir, bucket, key, vid, path, sizeof(path), err);
  if(rc)
    return rc;
  n = readlink(path, target, sizeof(target) - 1);
  if(n < 0)
    return vs_fail_errno(err, errno, "read intent %s", path);
  target[n] = 0;
  if(parse_target(target, &it, replaces))
    return vs_fail(err, VS_ERR_IO, "intent %s is malformed", path);
  return VS_OK;
}

static int cmp_intent(const void *a, const void *b)
{
  const vs_store_intent *x = a, *y = b;
  int c = strcmp(x->version_id, y->version_id);
  return c ? c : strcmp(x->key, y->key);
}

static int push(vs_store_intent **list, size_t *n, size_t *cap,
                const vs_store_intent *it, vs_err *err)
{
  if(*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    vs_store_intent *g = realloc(*list, nc * sizeof(*g));
    if(!g)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory listing intents");
    *list = g;
    *cap = nc;
  }
  (*list)[(*n)++] = *it;
  return VS_OK;
}

int vs__intent_list(const char *idir, vs_store_intent **list, size_t *n,
                    vs_err *err)
{
  DIR *d = opendir(idir);
  struct dirent *e;
  vs_store_intent it;
  char replaces[VID_LEN + 1];
  size_t cap = 0;
  int rc = VS_OK;
  *list = NULL;
  *n = 0;
  if(!d)
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open directory %s",
                                           idir);
  while(!rc && (e = readdir(d))) {
    if(e->d_name[0] == '.')
      continue;
    if(parse_entry(dirfd(d), e->d_name, &it, replaces))
      vs_log("warn", "%s/%s is not an intent of this store; left alone",
             idir, e->d_name);
    else
      rc = push(list, n, &cap, &it, err);
  }
  closedir(d);
  if(rc) {
    free(*list);
    *list = NULL;
    *n = 0;
    return rc;
  }
  if(*n > 1)
    qsort(*list, *n, sizeof(**list), cmp_intent);
  return VS_OK;
}

/* Calls fn for each intent of bucket/key in idir, with its entry name and
 * the version it replaces, until fn returns non-zero (returned). */
typedef int (*intent_fn)(void *ctx, int dfd, const char *name,
                         const vs_store_intent *it, const char *replaces);

static int each_of_key(const char *idir, const char *bucket, const char *key,
                       intent_fn fn, void *ctx, vs_err *err)
{
  DIR *d = opendir(idir);
  struct dirent *e;
  vs_store_intent it;
  char replaces[VID_LEN + 1];
  int rc = 0;
  if(!d)
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open directory %s",
                                           idir);
  while(!rc && (e = readdir(d)))
    if(e->d_name[0] != '.' &&
       !parse_entry(dirfd(d), e->d_name, &it, replaces) &&
       !strcmp(it.bucket, bucket) && !strcmp(it.key, key))
      rc = fn(ctx, dirfd(d), e->d_name, &it, replaces);
  closedir(d);
  return rc;
}

typedef struct pass_on {
  const char *from, *to;
  unsigned moved;
  vs_err *err;
} pass_on;

/* Rewrites one intent to replace p->to, keeping its pid and its time (the
 * next start's reconciliation picks manifest segments by that time). */
static int pass_one(void *ctx, int dfd, const char *name,
                    const vs_store_intent *it, const char *replaces)
{
  pass_on *p = ctx;
  char target[TARGET_MAX], tmp[NAME_LEN + 8];
  struct timespec t[2];
  struct stat st;
  if(strcmp(replaces, p->from))
    return 0;
  if(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
    return vs_fail_errno(p->err, errno, "stat intent %s", name);
  snprintf(target, sizeof(target), "%ld:%s:%s/%s", it->pid, p->to,
           it->bucket, it->key);
  snprintf(tmp, sizeof(tmp), ".pass-%s", name);
  unlinkat(dfd, tmp, 0);
  if(symlinkat(target, dfd, tmp))
    return vs_fail_errno(p->err, errno, "create intent %s", tmp);
  t[0] = st.st_atim;
  t[1] = st.st_mtim;
  if(utimensat(dfd, tmp, t, AT_SYMLINK_NOFOLLOW) ||
     renameat(dfd, tmp, dfd, name)) {
    int e = errno;
    unlinkat(dfd, tmp, 0);
    return vs_fail_errno(p->err, e, "rewrite intent %s", name);
  }
  p->moved++;
  return 0;
}

int vs__intent_pass_on(const char *idir, const char *bucket, const char *key,
                       const char *from, const char *to, vs_err *err)
{
  pass_on p = {from, to, 0, err};
  int rc = each_of_key(idir, bucket, key, pass_one, &p, err);
  if(!rc && p.moved)
    rc = vs_fsync_dir(idir, err);
  return rc;
}

typedef struct claim {
  const char *vid, *except;
  int *claimed;
} claim;

static int claims_one(void *ctx, int dfd, const char *name,
                      const vs_store_intent *it, const char *replaces)
{
  claim *c = ctx;
  (void)dfd;
  (void)name;
  *c->claimed = !strcmp(replaces, c->vid) &&
                strcmp(it->version_id, c->except);
  return *c->claimed ? -1 : 0; /* found: stop */
}

int vs__intent_claimed(const char *idir, const char *bucket, const char *key,
                       const char *vid, const char *except, int *claimed,
                       vs_err *err)
{
  claim c = {vid, except, claimed};
  int rc;
  *claimed = 0;
  rc = each_of_key(idir, bucket, key, claims_one, &c, err);
  return rc < 0 ? VS_OK : rc;
}
