/* Listing the filesystem store's keys in S3's order.
 *
 * A key "a/b" lives in the directory a/b (store_fs.c), so a directory is
 * both a key (when it holds @current) and the parent of longer keys. A
 * plain depth-first walk in name order gets S3's order wrong: S3 compares
 * whole keys byte by byte, and '!' (0x21) and '.' (0x2e) sort before '/'
 * (0x2f), so "a!" and "a.b" come between "a" and "a/b". The walk therefore
 * gives every child c of a directory two names: "c", the key itself, and
 * "c/", everything below it. Sorting those names bytewise is S3's order:
 * every key below c starts with "c/", and no other name of the directory
 * is a prefix of "c/" (names hold no '/'), so the first byte where another
 * name differs from "c/" orders the whole subtree.
 *
 * Memory is bounded whatever the bucket holds: each directory level keeps
 * at most BATCH of its names, the smallest not yet taken (a max-heap
 * during one readdir pass); when they run out and the pass left names
 * out, the directory is read again after the last one taken. A bound
 * ("after", or a common prefix to skip) and a prefix filter the names
 * during the pass, so neither costs memory or a descent into a directory
 * that cannot hold a wanted key.
 *
 * Names are compared decoded (store_fs_key.c): a segment is any bytes but
 * '/', the empty one included ("" and "/" sort first, as "a/" and "a//b"
 * do after "a"), and a segment too long for one file name, stored as a
 * chain of "@>" pieces, is read whole while its level is read: a piece's
 * bytes alone would not order it among its siblings.
 *
 * Every level keeps its directory open, and what is below it is reached
 * relative to it (openat, readlinkat, fstatat): a walk of short names,
 * not of the whole path for every key. A directory whose link count says
 * it has no subdirectory (2 on ext4, xfs and tmpfs) is not entered. */
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

#include "util/log.h"
#include "store_fs_int.h"
#include "vsink/store.h"

#define BATCH 1024
#define META_READ_MAX (1 << 20)
#define CURRENT_TRIES 4

typedef struct level {
  char *dir;      /* the directory, for messages */
  int fd;         /* open on it; -1 when it is gone */
  size_t plen;    /* the key prefix it holds: the first plen bytes of key */
  char **names;   /* "c" or "c/", ascending from pos once read */
  size_t n, pos, cap;
  int read;       /* read at least once */
  int more;       /* the last pass left names out */
  char *lo;       /* the last name taken: the next pass starts after it */
} level;

typedef struct fs_list {
  vs_store_list base; /* first: the listing's ops */
  vs_store *s;
  char bucket[64];
  int all_versions;
  char *filter;   /* level 0's names start with it (the prefix's tail) */
  size_t filter_len;
  char *bound;    /* only keys after it ... */
  size_t bound_len;
  int bound_all;  /* ... and after every key it prefixes */
  level *lv;
  size_t depth, cap;
  char key[VS_KEY_MAX + NAME_MAX + 3];
} fs_list;

/* ---- names -------------------------------------------------------------- */

/* Whether key[0..plen) followed by name can lead to a key past the bound:
 * 1 for a key above it, or a directory whose keys may be. */
static int admit(const fs_list *l, size_t plen, const char *name,
                 size_t nlen, int dir)
{
  const unsigned char *b = (const unsigned char *)l->bound;
  size_t i, xlen = plen + nlen;
  if(!b)
    return 1;
  for(i = 0; i < xlen && i < l->bound_len; i++) {
    unsigned char c = i < plen ? (unsigned char)l->key[i]
                               : (unsigned char)name[i - plen];
    if(c != b[i])
      return c > b[i];
  }
  if(xlen < l->bound_len) /* a prefix of the bound: only below it */
    return dir;
  if(xlen == l->bound_len)
    return l->bound_all ? 0 : dir;
  return !l->bound_all; /* extends the bound */
}

/* ---- one directory level --------------------------------------------------- */

static void heap_down(char **h, size_t n, size_t i)
{
  for(;;) {
    size_t c = 2 * i + 1, big = i;
    if(c < n && strcmp(h[c], h[big]) > 0)
      big = c;
    if(c + 1 < n && strcmp(h[c + 1], h[big]) > 0)
      big = c + 1;
    if(big == i)
      return;
    char *t = h[i];
    h[i] = h[big];
    h[big] = t;
    i = big;
  }
}

static void heap_up(char **h, size_t i)
{
  while(i && strcmp(h[(i - 1) / 2], h[i]) < 0) {
    char *t = h[i];
    h[i] = h[(i - 1) / 2];
    h[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

/* Keeps name if it is among the BATCH smallest seen in this pass. */
static int consider(fs_list *l, level *L, int top, const char *name,
                    size_t nlen, vs_err *err)
{
  int dir = nlen && name[nlen - 1] == '/';
  char *copy;
  if(L->lo && strcmp(name, L->lo) <= 0)
    return VS_OK;
  if(top && l->filter && strncmp(name, l->filter, l->filter_len))
    return VS_OK;
  if(L->plen + nlen > VS_KEY_MAX) /* no key that long can exist */
    return VS_OK;
  if(!admit(l, L->plen, name, nlen, dir))
    return VS_OK;
  if(L->n == BATCH) {
    L->more = 1;
    if(strcmp(name, L->names[0]) >= 0)
      return VS_OK;
  }
  if(!(copy = strdup(name)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
  if(L->n == BATCH) {
    free(L->names[0]);
    L->names[0] = copy;
    heap_down(L->names, L->n, 0);
    return VS_OK;
  }
  if(L->n == L->cap) {
    size_t cap = L->cap ? L->cap * 2 : 16;
    char **grown = realloc(L->names, cap * sizeof(*grown));
    if(!grown) {
      free(copy);
      return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
    }
    L->names = grown;
    L->cap = cap;
  }
  L->names[L->n++] = copy;
  heap_up(L->names, L->n - 1);
  return VS_OK;
}

static int cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void drop_names(level *L)
{
  while(L->n > L->pos)
    free(L->names[--L->n]);
  L->n = L->pos = 0;
}

/* A segment of the level: its names "seg" (the key) and "seg/" (below). */
static int add_segment(fs_list *l, level *L, int top, char *seg,
                       size_t n, vs_err *err)
{
  int rc = consider(l, L, top, seg, n, err);
  seg[n] = '/';
  seg[n + 1] = 0;
  if(!rc)
    rc = consider(l, L, top, seg, n + 1, err);
  seg[n] = 0;
  return rc;
}

/* The segments whose first n bytes are in seg, stored under the piece
 * directory rel (relative to the level's): read whole, each checked to be
 * stored where the encoding puts it. */
static int read_pieces(fs_list *l, level *L, int top, char *rel,
                       char *seg, size_t n, vs_err *err)
{
  char again[VS__SEG_PATH_MAX + 1];
  size_t rlen = strlen(rel);
  struct dirent *e;
  DIR *d;
  int rc = VS_OK, fd;
  if(L->plen + n > VS_KEY_MAX)
    return VS_OK; /* no key that long */
  fd = openat(L->fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if(fd < 0 || !(d = fdopendir(fd))) {
    if(fd >= 0)
      close(fd);
    return VS_OK; /* gone since, or not ours */
  }
  while(!rc && (e = readdir(d))) {
    const char *p;
    size_t pn;
    int kind = vs__fs_name_decode(e->d_name, &p, &pn);
    if(kind == VS__NAME_NONE || L->plen + n + pn > VS_KEY_MAX ||
       (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) ||
       rlen + 1 + strlen(e->d_name) > VS__SEG_PATH_MAX)
      continue;
    memcpy(seg + n, p, pn);
    seg[n + pn] = 0;
    rel[rlen] = '/';
    strcpy(rel + rlen + 1, e->d_name);
    if(kind == VS__NAME_PIECE)
      rc = read_pieces(l, L, top, rel, seg, n + pn, err);
    else if(vs__fs_seg_encode(seg, n + pn, again, sizeof(again)) !=
              (size_t)-1 && !strcmp(again, rel))
      rc = add_segment(l, L, top, seg, n + pn, err);
    rel[rlen] = 0;
  }
  closedir(d);
  return rc;
}

/* One readdir pass: the next BATCH names after L->lo, sorted. */
static int read_level(fs_list *l, level *L, int top, vs_err *err)
{
  char seg[VS_KEY_MAX + 2], rel[VS__SEG_PATH_MAX + 1];
  struct dirent *e;
  DIR *d;
  int rc = VS_OK;
  int fd;
  drop_names(L);
  L->more = 0;
  L->read = 1;
  if(L->fd < 0)
    return VS_OK;
  /* a descriptor of its own for each pass: closedir closes it */
  fd = openat(L->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0 || !(d = fdopendir(fd))) {
    rc = vs_fail_errno(err, errno, "open directory %s", L->dir);
    if(fd >= 0)
      close(fd);
    return rc;
  }
  while(!rc && (e = readdir(d))) {
    const char *p;
    size_t n;
    int kind = vs__fs_name_decode(e->d_name, &p, &n);
    if(kind == VS__NAME_NONE ||
       (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
      continue;
    memcpy(seg, p, n);
    seg[n] = 0;
    if(kind == VS__NAME_WHOLE)
      rc = add_segment(l, L, top, seg, n, err);
    else {
      strcpy(rel, e->d_name);
      rc = read_pieces(l, L, top, rel, seg, n, err);
    }
  }
  closedir(d);
  if(rc)
    return rc;
  if(L->n)
    qsort(L->names, L->n, sizeof(*L->names), cmp_name);
  return VS_OK;
}

static void free_level(level *L)
{
  drop_names(L);
  free(L->names);
  free(L->dir);
  free(L->lo);
  if(L->fd >= 0)
    close(L->fd);
}

/* Enters dir (open on fd, or -1), which holds the keys starting with
 * key[0..plen). */
static int push(fs_list *l, char *dir, int fd, size_t plen,
                vs_err *err)
{
  if(l->depth == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    level *grown = realloc(l->lv, cap * sizeof(*grown));
    if(!grown) {
      free(dir);
      if(fd >= 0)
        close(fd);
      return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
    }
    l->lv = grown;
    l->cap = cap;
  }
  memset(&l->lv[l->depth], 0, sizeof(level));
  l->lv[l->depth].dir = dir;
  l->lv[l->depth].fd = fd;
  l->lv[l->depth].plen = plen;
  l->depth++;
  return VS_OK;
}

static void pop(fs_list *l)
{
  free_level(&l->lv[--l->depth]);
}

/* The stored form of a name ("c" or "c/") of a level, relative to it:
 * enc(c) (store_fs_key.c), then tail. out holds VS__SEG_PATH_MAX + 1
 * bytes and the tail. */
static void stored_name(const char *name, const char *tail, char *out)
{
  size_t n = vs__fs_seg_encode(name, strcspn(name, "/"), out,
                               VS__SEG_PATH_MAX + 1);
  strcpy(out + n, tail);
}

/* parent/<segment as stored>, from a name "seg/". */
static char *child_dir(const char *parent, const char *name, vs_err *err)
{
  char stored[VS__SEG_PATH_MAX + 1];
  size_t plen = strlen(parent), n;
  char *out;
  stored_name(name, "", stored);
  n = strlen(stored);
  if(plen + 2 + n >= PATH_MAX) {
    vs_fail(err, VS_ERR_TOOLARGE, "directory path too long under %s",
            parent);
    return NULL;
  }
  if(!(out = malloc(plen + 2 + n))) {
    vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
    return NULL;
  }
  memcpy(out, parent, plen);
  out[plen] = '/';
  memcpy(out + plen + 1, stored, n + 1);
  return out;
}

/* ---- the iterator --------------------------------------------------------- */

/* The current version's metadata, read relative to the level's directory:
 * 1 found, 0 no current version, -1 unreadable. A commit may replace the
 * version between readlinkat and openat: then @current is read again. */
static int read_current(const level *L, const char *name, vs_list_item *item)
{
  char path[VS__SEG_PATH_MAX + 48], target[64], *text;
  struct stat st;
  ssize_t n;
  int tries, fd, rc = -1;
  for(tries = 0; tries < CURRENT_TRIES; tries++) {
    stored_name(name, "/@current", path);
    n = readlinkat(L->fd, path, target, sizeof(target) - 1);
    if(n < 0)
      return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    target[n] = 0;
    if(target[0] != '@' || strchr(target, '/'))
      return -1;
    stored_name(name, "/", path);
    strcat(strcat(path, target), ".json");
    fd = openat(L->fd, path, O_RDONLY | O_CLOEXEC);
    if(fd < 0 && errno == ENOENT)
      continue;
    if(fd < 0)
      return -1;
    if(fstat(fd, &st) || st.st_size > META_READ_MAX ||
       !(text = malloc((size_t)st.st_size + 1))) {
      close(fd);
      return -1;
    }
    n = read(fd, text, (size_t)st.st_size);
    close(fd);
    if(n == st.st_size)
      rc = vs__store_fs_meta_parse(text, (size_t)n, target + 1,
                                   &item->info) ? -1 : 1;
    free(text);
    return rc;
  }
  return -1;
}

/* A key directory found by the walk: *found when it holds a listable key.
 * Names that are no valid key (made by hand) are passed over. */
static int take_key(fs_list *l, const level *L, const char *name,
                    size_t len, vs_list_item *item, int *found, vs_err *err)
{
  vs_err e2 = {0};
  int rc;
  *found = 0;
  memset(item, 0, sizeof(*item));
  memcpy(item->key, l->key, len);
  item->key[len] = 0;
  item->key_len = len;
  if(vs_store_check_key(item->key, len, &e2))
    return VS_OK;
  rc = read_current(L, name, item);
  if(rc > 0 && item->info.delete_marker && !l->all_versions)
    return VS_OK; /* deleted (store_fs_delete.c): not an object to list */
  if(rc > 0) {
    item->has_current = 1;
    *found = 1;
    return VS_OK;
  }
  memset(&item->info, 0, sizeof(item->info));
  if(rc < 0) {
    vs_log("warn", "listing %s: passing over %s: its current version "
           "cannot be read", l->bucket, item->key);
    return VS_OK;
  }
  if(l->all_versions) {
    char **ids = NULL;
    size_t n = 0;
    rc = vs_store_fs_list_versions(l->s, l->bucket, item->key, &ids, &n,
                                   &e2);
    *found = !rc && n > 0;
    while(n)
      free(ids[--n]);
    free(ids);
    if(rc == VS_ERR_NOMEM)
      return vs_fail(err, rc, "%s", e2.msg);
  }
  return VS_OK;
}

/* Enters the directory of a name "c/" when it may hold keys. */
static int descend(fs_list *l, const level *L, const char *name,
                   size_t plen, vs_err *err)
{
  char stored[VS__SEG_PATH_MAX + 1], *dir;
  struct stat st;
  int fd;
  stored_name(name, "", stored);
  if(fstatat(L->fd, stored, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode)
     || st.st_nlink == 2) /* gone, not ours, or no subdirectory */
    return VS_OK;
  fd = openat(L->fd, stored, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0)
    return errno == ENOENT ? VS_OK
                           : vs_fail_errno(err, errno, "open %s/%s", L->dir,
                                           stored);
  if(!(dir = child_dir(L->dir, name, err))) {
    close(fd);
    return err->code;
  }
  return push(l, dir, fd, plen, err);
}

/* A level wholly inside the common prefix being skipped. */
static int level_skipped(const fs_list *l, const level *L)
{
  return l->bound_all && L->plen >= l->bound_len &&
         !memcmp(l->key, l->bound, l->bound_len);
}

static int fs_list_next(fs_list *l, vs_list_item *item, int *end,
                       vs_err *err)
{
  int rc, found;
  *end = 0;
  while(l->depth) {
    level *L = &l->lv[l->depth - 1];
    char *name;
    size_t nlen;
    if(level_skipped(l, L)) {
      pop(l);
      continue;
    }
    if(L->pos == L->n) {
      if(L->read && !L->more) {
        pop(l);
        continue;
      }
      if((rc = read_level(l, L, l->depth == 1, err)))
        return rc;
      if(!L->n)
        pop(l);
      continue;
    }
    name = L->names[L->pos];
    L->names[L->pos++] = NULL;
    free(L->lo);
    L->lo = name;
    nlen = strlen(name);
    if(!admit(l, L->plen, name, nlen, nlen && name[nlen - 1] == '/'))
      continue; /* the bound moved since the pass */
    memcpy(l->key + L->plen, name, nlen);
    if(nlen && name[nlen - 1] == '/') {
      if((rc = descend(l, L, name, L->plen + nlen, err)))
        return rc;
      continue;
    }
    if((rc = take_key(l, L, name, L->plen + nlen, item, &found, err)))
      return rc;
    if(found)
      return VS_OK;
  }
  *end = 1;
  return VS_OK;
}

static int fs_list_skip(fs_list *l, const char *prefix, vs_err *err)
{
  char *b = strdup(prefix);
  if(!b)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
  free(l->bound);
  l->bound = b;
  l->bound_len = strlen(b);
  l->bound_all = 1;
  return VS_OK;
}

static void fs_list_close(fs_list *l)
{
  if(!l)
    return;
  while(l->depth)
    pop(l);
  free(l->lv);
  free(l->filter);
  free(l->bound);
  free(l);
}

/* The directory of the prefix's whole segments ("a/b/" of "a/b/c"), or
 * *none when no stored key can start with the prefix. */
static int prefix_dir(const char *buckets, const char *bucket,
                      const char *prefix, size_t whole, char **out,
                      int *none, vs_err *err)
{
  size_t o, cap = strlen(buckets) + strlen(bucket) + VS__KEY_PATH_MAX + 4;
  *none = 0;
  if(!(*out = malloc(cap)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
  o = (size_t)snprintf(*out, cap, "%s/%s", buckets, bucket);
  if(whole) {
    (*out)[o++] = '/';
    if(vs__fs_key_encode(prefix, whole - 1, *out + o, cap - o) ==
       (size_t)-1) {
      free(*out);
      *out = NULL;
      *none = 1;
    }
  }
  return VS_OK;
}

static int list_setup(fs_list *l, const char *buckets,
                      const vs_list_opts *o, vs_err *err)
{
  const char *prefix = o->prefix ? o->prefix : "";
  const char *slash = strrchr(prefix, '/');
  size_t whole = slash ? (size_t)(slash - prefix) + 1 : 0;
  char *dir = NULL;
  int none, rc, fd;
  if(strlen(prefix) > VS_KEY_MAX)
    return VS_OK; /* no key matches: nothing to walk */
  if(prefix[whole] && !(l->filter = strdup(prefix + whole)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
  l->filter_len = strlen(prefix + whole);
  if(o->after && *o->after) {
    if(!(l->bound = strdup(o->after)))
      return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
    l->bound_len = strlen(o->after);
  }
  rc = prefix_dir(buckets, l->bucket, prefix, whole, &dir, &none, err);
  if(rc || none)
    return rc;
  memcpy(l->key, prefix, whole);
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0 && errno != ENOENT && errno != ENOTDIR) {
    rc = vs_fail_errno(err, errno, "open directory %s", dir);
    free(dir);
    return rc;
  }
  return push(l, dir, fd, whole, err);
}

static int next_op(vs_store_list *l, vs_list_item *item, int *end,
                   vs_err *err)
{
  return fs_list_next((fs_list *)l, item, end, err);
}

static int skip_op(vs_store_list *l, const char *prefix, vs_err *err)
{
  return fs_list_skip((fs_list *)l, prefix, err);
}

static void close_op(vs_store_list *l)
{
  fs_list_close((fs_list *)l);
}

static const vs_store_list_ops fs_list_ops = {next_op, skip_op, close_op};

int vs__fs_list_open(vs_store *s, const vs_list_opts *o, vs_store_list **out,
                     vs_err *err)
{
  const char *buckets = vs__store_fs_buckets(s);
  fs_list *l;
  int rc;
  *out = NULL;
  if(!buckets)
    return vs_fail(err, VS_ERR_INVALID, "this store cannot list its keys");
  if((rc = vs_store_check_bucket(o->bucket, err)))
    return rc;
  if(!(l = calloc(1, sizeof(*l))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory listing");
  l->base.ops = &fs_list_ops;
  l->s = s;
  snprintf(l->bucket, sizeof(l->bucket), "%s", o->bucket);
  l->all_versions = o->all_versions;
  if((rc = list_setup(l, buckets, o, err))) {
    fs_list_close(l);
    return rc;
  }
  *out = &l->base;
  return VS_OK;
}
