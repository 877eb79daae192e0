/* The local filesystem store.
 *
 *   DIR/.lock                 flock()ed while open: one process per data dir
 *   DIR/.tmp/<random>.part    uploads in progress (and the metadata and
 *                             symlink temporaries of a commit); a crash leaves
 *                             them behind, the next open removes them
 *   DIR/.intent/<vid>-<hash>  one per commit whose version is not yet
 *                             recorded by the caller (store_intent.c)
 *   DIR/buckets/<bucket>/<seg>/.../<seg>/     one directory per key
 *        @<vid>               the bytes of a version, never modified
 *        @<vid>.json          its metadata
 *        @current -> @<vid>   the current version, swapped by rename
 *   DIR/.multipart/<bucket>/<uploadId>/      multipart uploads in progress
 *                             (store_fs_mpu.c)
 *
 * A key's segments are escaped (store_fs_key.c): one starting with '@' gets
 * one more '@' in front, and the other names starting with '@' that are no
 * file of ours are "@=" (empty, "." and "..") and "@>" (a piece of a
 * segment over 255 bytes), so keys "a", "a/b", "a/", "a/@current" never
 * collide with each other or with our files. Everything
 * lands in .tmp first (same filesystem) and is renamed into place after an
 * fsync, so a reader never sees half a file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "store_fs_int.h"
#include "store_fs_mpu.h"
#include "store_intent.h"
#include "vsink/store.h"

#define LOOKUP_TRIES 4

static int is_hex(const char *s, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
         (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return s[n] == 0;
}

static void lower_copy(char *out, const char *in)
{
  for(; *in; in++, out++)
    *out = (char)(*in >= 'A' && *in <= 'F' ? *in + 32 : *in);
  *out = 0;
}

/* vs_commit.headers: "name:value\n" lines, names lower-case tokens,
 * values without control bytes but tab, and room to keep them. */
int vs__fs_headers_ok(const char *h)
{
  const unsigned char *p = (const unsigned char *)h;
  if(strlen(h) >= VS_OBJ_HEADERS_MAX)
    return 0;
  while(*p) {
    const unsigned char *name = p;
    for(; *p && *p != ':'; p++)
      if(*p <= 0x20 || *p >= 0x7f || (*p >= 'A' && *p <= 'Z'))
        return 0;
    if(*p != ':' || p == name)
      return 0;
    for(p++; *p && *p != '\n'; p++)
      if((*p < 0x20 && *p != '\t') || *p == 0x7f)
        return 0;
    if(*p++ != '\n')
      return 0;
  }
  return 1;
}

static int check_commit(const vs_upload *u, const vs_commit *c, vs_err *err)
{
  const char *p;
  if(!c)
    return vs_fail(err, VS_ERR_INVALID, "commit without details");
  if(u->part_number)
    return vs_fail(err, VS_ERR_INVALID, "a part is committed by "
                   "vs_store_part_commit");
  if(!c->sha256 || !is_hex(c->sha256, 64))
    return vs_fail(err, VS_ERR_INVALID, "sha256 must be 64 hex digits");
  if(c->md5 && *c->md5 && !is_hex(c->md5, 32))
    return vs_fail(err, VS_ERR_INVALID, "md5 must be 32 hex digits");
  if(c->content_type) {
    if(strlen(c->content_type) >= sizeof(((vs_object_info *)0)->content_type))
      return vs_fail(err, VS_ERR_INVALID,
                     "content type is longer than 255 bytes");
    for(p = c->content_type; *p; p++)
      if(((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
        return vs_fail(err, VS_ERR_INVALID,
                       "content type has a control byte");
  }
  if(c->headers && !vs__fs_headers_ok(c->headers))
    return vs_fail(err, VS_ERR_INVALID, "malformed or oversized headers");
  if((unsigned)c->policy > VS_ON_EXISTING_OVERWRITE)
    return vs_fail(err, VS_ERR_INVALID, "unknown on-existing policy %d",
                   (int)c->policy);
  if(c->bytes != u->written)
    return vs_fail(err, VS_ERR_INVALID,
                   "commit says %" PRIu64 " bytes but %" PRIu64
                   " were written", c->bytes, u->written);
  return VS_OK;
}

static void fill_info(vs_object_info *info, const vs_commit *c, int64_t now)
{
  memset(info, 0, sizeof(*info));
  info->bytes = c->bytes;
  lower_copy(info->sha256, c->sha256);
  if(c->md5 && *c->md5)
    lower_copy(info->md5, c->md5);
  snprintf(info->etag, sizeof(info->etag), "%s",
           info->md5[0] ? info->md5 : info->sha256);
  snprintf(info->content_type, sizeof(info->content_type), "%s",
           c->content_type ? c->content_type : "application/octet-stream");
  info->mtime_ms = now;
  if(c->checksum_alg && c->checksum) {
    snprintf(info->checksum_alg, sizeof(info->checksum_alg), "%s",
             c->checksum_alg);
    snprintf(info->checksum, sizeof(info->checksum), "%s", c->checksum);
  }
  if(c->headers)
    snprintf(info->headers, sizeof(info->headers), "%s", c->headers);
  info->delete_marker = !!c->delete_marker;
}

void vs__fs_remove_version(const char *keydir, const char *vid)
{
  char p[PATH_MAX];
  if(!vs__fs_path(p, sizeof(p), NULL, "%s/@%s", keydir, vid))
    unlink(p);
  if(!vs__fs_path(p, sizeof(p), NULL, "%s/@%s.json", keydir, vid))
    unlink(p);
}

static void drop_intent(vs_upload *u, const char *vid)
{
  vs_err e = {0};
  if(vs__intent_drop(u->s->intent, u->bucket, u->key, vid, &e))
    vs_log("warn", "%s", e.msg);
}

/* The intent for vid, durable, and the metadata in a temporary file. The
 * metadata's fsync usually commits the filesystem journal with the intent
 * in it, which leaves the intent directory's fsync little to do. */
static int prepare_version(vs_upload *u, const vs_object_info *info,
                           const char *replaces, char *tmp, size_t cap,
                           vs_err *err)
{
  int rc = vs__intent_add(u->s->intent, u->bucket, u->key, info->version_id,
                          replaces, err);
  if(rc)
    return rc;
  rc = vs__fs_meta_write_tmp(u->s, info, u->meta_extra, tmp, cap, err);
  if(!rc) {
    rc = vs__intent_sync(u->s->intent, err);
    if(rc)
      unlink(tmp);
  }
  if(rc)
    drop_intent(u, info->version_id);
  return rc;
}

/* Moves metadata then bytes into the key directory under a version id
 * greater than the current one, after a durable intent names it (and the
 * version it replaces once settled, if any). Either both land or neither
 * does (nor the intent). */
static int place_version(vs_upload *u, vs_object_info *info, const char *cur,
                         const char *replaces, vs_err *err)
{
  char tmp[PATH_MAX], meta[PATH_MAX], data[PATH_MAX];
  int64_t t = info->mtime_ms < 0 ? 0 : info->mtime_ms;
  int tries, rc;
  if(cur && vs__fs_vid_ms(cur) >= t)
    t = vs__fs_vid_ms(cur) + 1; /* the clock went back, or two commits
                                 * share a ms */
  for(tries = 0; tries < 8; tries++, t++) {
    rc = vs__fs_vid_make(t, info->version_id, err);
    if(!rc)
      rc = vs__fs_path(meta, sizeof(meta), err, "%s/@%s.json", u->keydir,
                       info->version_id);
    if(!rc)
      rc = vs__fs_path(data, sizeof(data), err, "%s/@%s", u->keydir,
                       info->version_id);
    if(!rc)
      rc = prepare_version(u, info, replaces, tmp, sizeof(tmp), err);
    if(rc == VS_ERR_EXISTS)
      continue; /* another key's intent has this name: take the next id */
    if(rc)
      return rc;
    if(vs__fs_rename_noreplace(tmp, meta)) {
      int e = errno;
      unlink(tmp);
      drop_intent(u, info->version_id);
      if(e == EEXIST)
        continue; /* a leftover of a crashed commit holds this id */
      return vs_fail_errno(err, e, "rename %s to %s", tmp, meta);
    }
    if(!vs__fs_rename_noreplace(u->part, data))
      return VS_OK;
    rc = errno;
    unlink(meta);
    drop_intent(u, info->version_id);
    if(rc != EEXIST)
      return vs_fail_errno(err, rc, "rename %s to %s", u->part, data);
  }
  return vs_fail(err, VS_ERR_IO, "no free version id in %s after %d tries",
                 u->keydir, tries);
}

/* Points @current at vid: a new symlink under a temporary name, renamed
 * over the old one, so readers see the old or the new, never neither. */
static int swap_current(vs__fs_store *s, const char *keydir, const char *vid,
                        vs_err *err)
{
  unsigned char rnd[16];
  char name[33], tmp[PATH_MAX], cur[PATH_MAX], target[VS__VID_LEN + 2];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_hex(rnd, sizeof(rnd), name);
  snprintf(target, sizeof(target), "@%s", vid);
  rc = vs__fs_path(tmp, sizeof(tmp), err, "%s/%s.link", s->tmp, name);
  if(!rc)
    rc = vs__fs_path(cur, sizeof(cur), err, "%s/@current", keydir);
  if(rc)
    return rc;
  if(symlink(target, tmp))
    return vs_fail_errno(err, errno, "symlink %s", tmp);
  if(rename(tmp, cur)) {
    rc = vs_fail_errno(err, errno, "rename %s to %s", tmp, cur);
    unlink(tmp);
  }
  return rc;
}

/* Undoes a commit that failed after placing vid: @current back to what it
 * was (prev, or none), then vid's files gone, then its intent. Best effort:
 * the error that brought us here is the one reported (and an intent left
 * behind is settled at the next start). */
static void unpublish(vs_upload *u, const char *vid, const char *prev,
                      int swapped)
{
  char curlink[PATH_MAX];
  if(swapped && prev)
    swap_current(u->s, u->keydir, prev, NULL);
  else if(swapped &&
          !vs__fs_path(curlink, sizeof(curlink), NULL, "%s/@current",
                       u->keydir))
    unlink(curlink);
  vs__fs_remove_version(u->keydir, vid);
  if(!vs_fsync_dir(u->keydir, NULL))
    drop_intent(u, vid);
}

/* PutObject If-Match, under the key's lock: the current version's ETag. */
static int if_match_check(const char *keydir, const char *cur,
                          const vs_commit *c, vs_err *err)
{
  vs_object_info *ci;
  int rc;
  if(!c->if_match)
    return VS_OK;
  if(!cur)
    return vs_fail(err, VS_ERR_NOTFOUND, "If-Match: the key holds no object");
  if(!strcmp(c->if_match, "*"))
    return VS_OK;
  if(!(ci = malloc(sizeof(*ci))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = vs__fs_read_meta(keydir, cur, ci, err);
  if(!rc && strcmp(ci->etag, c->if_match))
    rc = vs_fail(err, VS_ERR_EXISTS, "If-Match: the current ETag is \"%s\"",
                 ci->etag);
  free(ci);
  return rc;
}

/* Whether the key holds an object for the preconditions: a current delete
 * marker (store_fs_delete.c) means it holds none, as in S3. */
static int holds_object(const char *keydir, const char *cur, int has_cur,
                        const vs_commit *c)
{
  vs_object_info *ci;
  int marker;
  if(!has_cur || !(c->if_none_match || c->if_match ||
                   c->policy == VS_ON_EXISTING_REJECT))
    return has_cur;
  if(!(ci = malloc(sizeof(*ci))))
    return 1;
  marker = !vs__fs_read_meta(keydir, cur, ci, NULL) && ci->delete_marker;
  free(ci);
  return !marker;
}

/* Called with the key's stripe locked. */
static int publish(vs_upload *u, const vs_commit *c, vs_object_info *info,
                   vs_err *err)
{
  vs__fs_store *s = u->s;
  char cur[VS__VID_LEN + 1];
  int has_cur, swapped = 0, replace_now, defer, live;
  int rc = vs__fs_read_current(u->keydir, cur, &has_cur, err);
  if(rc)
    return rc;
  replace_now = has_cur && c->policy == VS_ON_EXISTING_OVERWRITE;
  defer = replace_now && c->defer_overwrite;
  live = holds_object(u->keydir, cur, has_cur, c);
  if(live && (c->if_none_match || c->policy == VS_ON_EXISTING_REJECT))
    return vs_fail(err, VS_ERR_EXISTS,
                   "the key already holds an object (version %s)", cur);
  rc = if_match_check(u->keydir, live ? cur : NULL, c, err);
  if(rc)
    return rc;
  rc = vs_mkdirs(u->keydir, 0755, err);
  if(rc)
    return rc;
  fill_info(info, c, vs_now_ms(s->now, s->now_ctx));
  if(u->etag) { /* multipart: not the md5 of the bytes */
    snprintf(info->etag, sizeof(info->etag), "%s", u->etag);
    info->parts_count = u->parts_count;
  }
  rc = place_version(u, info, has_cur ? cur : NULL, defer ? cur : NULL,
                     err);
  if(rc)
    return rc;
  /* The version is durable before @current may point at it. */
  rc = vs_fsync_dir(u->keydir, err);
  if(!rc)
    rc = swap_current(s, u->keydir, info->version_id, err);
  if(!rc) {
    swapped = 1;
    rc = vs_fsync_dir(u->keydir, err);
  }
  if(rc) {
    unpublish(u, info->version_id, has_cur ? cur : NULL, swapped);
    return rc;
  }
  if(replace_now && !defer) {
    vs_err e2 = {0};
    vs__fs_remove_version(u->keydir, cur);
    /* The new object is committed; a lost unlink only leaves an orphan. */
    if(vs_fsync_dir(u->keydir, &e2))
      vs_log("warn", "overwrite of %s: %s", u->keydir, e2.msg);
  }
  return VS_OK;
}

static int fs_begin(vs_store *base, const char *bucket, const char *key,
                    vs_upload **out, vs_err *err)
{
  vs__fs_store *s = (vs__fs_store *)base;
  char keydir[PATH_MAX], part[PATH_MAX];
  vs_upload *u;
  int rc, fd = -1;
  if(s->read_only)
    return vs_fail(err, VS_ERR_INVALID, "data directory %s is open "
                   "read-only", s->dir);
  rc = vs__fs_key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  if(!rc)
    rc = vs__fs_tmp_create(s, ".part", part, sizeof(part), &fd, err);
  if(rc)
    return rc;
  if(!(u = vs__fs_upload_new(s, bucket, key, keydir, part, NULL))) {
    close(fd);
    unlink(part);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory starting an upload");
  }
  u->fd = fd;
  *out = u;
  return VS_OK;
}

vs_upload *vs__fs_upload_new(vs__fs_store *s, const char *bucket,
                             const char *key, const char *keydir,
                             const char *part, const char *updir)
{
  const char *in[4] = {part, keydir, updir, key};
  size_t len[4], total = 0, i;
  vs_upload *u;
  char *p;
  for(i = 0; i < 4; i++)
    total += (len[i] = in[i] ? strlen(in[i]) : 0) + 1;
  if(!(u = calloc(1, sizeof(*u) + total)))
    return NULL;
  u->s = s;
  u->fd = -1;
  snprintf(u->bucket, sizeof(u->bucket), "%s", bucket ? bucket : "");
  p = u->names;
  for(i = 0; i < 4; i++) {
    if(len[i])
      memcpy(p, in[i], len[i]);
    p[len[i]] = 0;
    if(i == 0)
      u->part = p;
    else if(i == 1)
      u->keydir = p;
    else if(i == 2)
      u->updir = p;
    else
      u->key = p;
    p += len[i] + 1;
  }
  return u;
}

static int fs_commit(vs_upload *u, const vs_commit *c, vs_object_info *info,
                     vs_err *err)
{
  pthread_mutex_t *m = &u->s->stripe[vs__fs_stripe(u->keydir)];
  vs_object_info scratch;
  int rc = check_commit(u, c, err);
  if(!info)
    info = &scratch;
  if(!rc && u->wb_errno)
    rc = vs_fail_errno(err, u->wb_errno, "write-back of %s", u->part);
  if(!rc && fsync(u->fd))
    rc = vs_fail_errno(err, errno, "fsync %s", u->part);
  if(close(u->fd) && !rc)
    rc = vs_fail_errno(err, errno, "close %s", u->part);
  u->fd = -1;
  if(!rc) {
    pthread_mutex_lock(m);
    rc = publish(u, c, info, err);
    pthread_mutex_unlock(m);
  }
  if(rc)
    unlink(u->part); /* ENOENT once it was renamed: publish cleaned up */
  free(u);
  return rc;
}

static void fs_abort(vs_upload *u)
{
  if(!u)
    return;
  if(u->fd >= 0)
    close(u->fd);
  unlink(u->part);
  free(u);
}


static int open_data(const char *keydir, const vs_object_info *info, int *fd,
                     vs_err *err)
{
  char path[PATH_MAX];
  struct stat st;
  int rc = vs__fs_path(path, sizeof(path), err, "%s/@%s", keydir,
                       info->version_id);
  if(rc)
    return rc;
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if(*fd < 0)
    return vs_fail_errno(err, errno, "open %s", path);
  if(fstat(*fd, &st) || (uint64_t)st.st_size != info->bytes) {
    close(*fd);
    *fd = -1;
    return vs_fail(err, VS_ERR_IO, "%s does not hold the %" PRIu64
                   " bytes its metadata records", path, info->bytes);
  }
  return VS_OK;
}

/* stat and open: no lock, so a reader never waits for a commit's fsyncs.
 * An overwrite may delete the version between readlink and open; then the
 * new @current is read again. */
static int lookup(vs__fs_store *s, const char *bucket, const char *key,
                  const char *version, int *fd, vs_object_info *info,
                  vs_err *err)
{
  char keydir[PATH_MAX], vid[VS__VID_LEN + 1], prev[VS__VID_LEN + 1] = "";
  int explicit = version && *version, tries, has, rc;
  rc = vs__fs_key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  if(rc)
    return rc;
  if(explicit && !vs__fs_vid_valid(version))
    return vs_fail(err, VS_ERR_NOTFOUND,
                   "no such version (not a version id of this store)");
  for(tries = 0; tries < LOOKUP_TRIES; tries++) {
    if(explicit)
      memcpy(vid, version, VS__VID_LEN + 1);
    else {
      rc = vs__fs_read_current(keydir, vid, &has, err);
      if(rc)
        return rc;
      if(!has)
        return vs_fail(err, VS_ERR_NOTFOUND, "no object %s/%s", bucket, key);
      if(!strcmp(prev, vid)) /* not a race: the store is damaged */
        return vs_fail(err, VS_ERR_IO, "%s/@current names version %s, "
                       "which is missing", keydir, vid);
      memcpy(prev, vid, sizeof(prev));
    }
    rc = vs__fs_read_meta(keydir, vid, info, err);
    if(!rc && fd)
      rc = open_data(keydir, info, fd, err);
    if(rc != VS_ERR_NOTFOUND || explicit)
      return rc;
  }
  return vs_fail(err, VS_ERR_IO, "%s/%s changed %d times while being read",
                 bucket, key, tries);
}

static int fs_stat(vs_store *s, const char *bucket, const char *key,
                   const char *version, vs_object_info *info, vs_err *err)
{
  return lookup((vs__fs_store *)s, bucket, key, version, NULL, info, err);
}

static int fs_open(vs_store *s, const char *bucket, const char *key,
                   const char *version, int *fd, vs_object_info *info,
                   vs_err *err)
{
  vs_object_info scratch;
  *fd = -1;
  return lookup((vs__fs_store *)s, bucket, key, version, fd,
                info ? info : &scratch, err);
}

static void free_ids(char **ids, size_t n)
{
  while(n)
    free(ids[--n]);
  free(ids);
}

/* Called with the key's stripe locked: what @current should name once vid
 * is gone (the newest other version), "" for nothing. */
static int successor(const char *keydir, const char *vid, char *out,
                     vs_err *err)
{
  char **ids = NULL;
  size_t n = 0, i;
  int rc = vs__fs_list_sorted(keydir, &ids, &n, err);
  out[0] = 0;
  for(i = n; !rc && i-- > 0;)
    if(strcmp(ids[i], vid)) {
      memcpy(out, ids[i], VS__VID_LEN + 1);
      break;
    }
  free_ids(ids, n);
  return rc;
}

/* Called with the key's stripe locked, before vid goes: a version that
 * replaced vid now replaces what vid replaced, so settling it still
 * leaves one version (a chain old <- vid <- next where vid went
 * unrecorded otherwise kept old beside next). */
static int pass_on_replaced(vs__fs_store *s, const char *bucket,
                            const char *key, const char *vid, vs_err *err)
{
  char old[VS__VID_LEN + 1] = "";
  vs_err e2 = {0};
  int rc = vs__intent_replaces(s->intent, bucket, key, vid, old, &e2);
  if(rc == VS_ERR_NOTFOUND || (!rc && !old[0]))
    return VS_OK; /* settled, or replaced nothing */
  if(rc) {
    *err = e2;
    return rc;
  }
  return vs__intent_pass_on(s->intent, bucket, key, vid, old, err);
}

static int fs_remove(vs_store *base, const char *bucket, const char *key,
                     const char *vid, vs_err *err)
{
  vs__fs_store *s = (vs__fs_store *)base;
  char keydir[PATH_MAX], cur[VS__VID_LEN + 1], next[VS__VID_LEN + 1];
  char p[PATH_MAX];
  struct stat st;
  int has, rc = vs__fs_key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  unsigned stripe;
  if(!rc && s->read_only)
    rc = vs_fail(err, VS_ERR_INVALID, "data directory %s is open read-only",
                 s->dir);
  if(rc)
    return rc;
  if(!vs__fs_vid_valid(vid) ||
     vs__fs_path(p, sizeof(p), err, "%s/@%s", keydir, vid) || lstat(p, &st))
    return vs_fail(err, VS_ERR_NOTFOUND, "no version %s of %s/%s", vid,
                   bucket, key);
  stripe = vs__fs_stripe(keydir);
  pthread_mutex_lock(&s->stripe[stripe]);
  rc = pass_on_replaced(s, bucket, key, vid, err);
  if(!rc)
    rc = vs__fs_read_current(keydir, cur, &has, err);
  if(!rc && has && !strcmp(cur, vid)) {
    rc = successor(keydir, vid, next, err);
    if(!rc && next[0])
      rc = swap_current(s, keydir, next, err);
    else if(!rc && !vs__fs_path(p, sizeof(p), err, "%s/@current", keydir) &&
            unlink(p))
      rc = vs_fail_errno(err, errno, "unlink %s", p);
  }
  if(!rc) {
    vs__fs_remove_version(keydir, vid);
    rc = vs_fsync_dir(keydir, err);
  }
  if(!rc)
    rc = vs__intent_drop(s->intent, bucket, key, vid, err);
  pthread_mutex_unlock(&s->stripe[stripe]);
  return rc;
}

/* A deferred overwrite, once its replacement vid is recorded: the
 * replaced version goes, unless it is current again (only a removal of
 * the replacement makes it so) or another intent took it over (a crash
 * between vs__intent_pass_on and the intent's drop in fs_remove). */
static int drop_replaced(vs__fs_store *s, const char *bucket, const char *key,
                         const char *vid, const char *old, vs_err *err)
{
  char keydir[PATH_MAX], cur[VS__VID_LEN + 1];
  unsigned stripe;
  int has, claimed = 0;
  int rc = vs__fs_key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  if(!rc && !vs__fs_vid_valid(old))
    rc = vs_fail(err, VS_ERR_IO, "intent for %s/%s names a bad version "
                 "'%s'", bucket, key, old);
  if(rc)
    return rc;
  stripe = vs__fs_stripe(keydir);
  pthread_mutex_lock(&s->stripe[stripe]);
  rc = vs__fs_read_current(keydir, cur, &has, err);
  if(!rc && !(has && !strcmp(cur, old)))
    rc = vs__intent_claimed(s->intent, bucket, key, old, vid, &claimed, err);
  if(!rc && !(has && !strcmp(cur, old)) && !claimed) {
    vs__fs_remove_version(keydir, old);
    rc = vs_fsync_dir(keydir, err);
  }
  pthread_mutex_unlock(&s->stripe[stripe]);
  return rc;
}

static int fs_settle(vs_store *base, const char *bucket, const char *key,
                     const char *vid, vs_err *err)
{
  vs__fs_store *s = (vs__fs_store *)base;
  char old[VS__VID_LEN + 1] = "";
  int rc;
  if(s->read_only)
    return vs_fail(err, VS_ERR_INVALID, "data directory %s is open "
                   "read-only", s->dir);
  rc = vs__intent_replaces(s->intent, bucket, key, vid, old, err);
  if(rc == VS_ERR_NOTFOUND)
    return VS_OK; /* settled already */
  if(!rc && old[0])
    rc = drop_replaced(s, bucket, key, vid, old, err);
  if(!rc)
    rc = vs__intent_drop(s->intent, bucket, key, vid, err);
  return rc;
}

static int fs_intents(vs_store *base, vs_store_intent **list, size_t *n,
                      vs_err *err)
{
  return vs__intent_list(((vs__fs_store *)base)->intent, list, n, err);
}

static int fs_oldest_intent(vs_store *base, int64_t *made_ms, vs_err *err)
{
  vs_store_intent *l;
  size_t n, i;
  int rc = fs_intents(base, &l, &n, err);
  *made_ms = INT64_MAX;
  for(i = 0; !rc && i < n; i++)
    if(l[i].mtime_ms < *made_ms)
      *made_ms = l[i].mtime_ms;
  free(l);
  return rc;
}

const vs_store_ops vs__fs_ops = {
  .begin = fs_begin,
  .write = vs__fs_write,
  .commit = fs_commit,
  .abort = fs_abort,
  .stat = fs_stat,
  .open = fs_open,
  .remove = fs_remove,
  .close = vs__fs_close,
  .settle = fs_settle,
  .intents = fs_intents,
  .oldest_intent = fs_oldest_intent,
  .list_open = vs__fs_list_open,
  .versions = vs_store_fs_list_versions,
  .mpu = &vs__fs_mpu_ops,
  .copy = vs__fs_copy,
};

int vs_store_is_fs(const vs_store *s)
{
  return s && s->ops == &vs__fs_ops;
}

/* store_fs_list.c walks the key directories under this one. */
const char *vs__store_fs_buckets(const vs_store *base)
{
  return base && base->ops == &vs__fs_ops
           ? ((const vs__fs_store *)base)->buckets
           : NULL;
}

/* store_fs_copy.c: the upload's bytes become a hard link of a stored
 * version (never modified, so nothing is copied and no byte written); the
 * commit then places it as a version of the upload's key like any other,
 * through the same intent. The link takes the empty part's name in .tmp,
 * so a crash before the commit leaves only what the next start cleans. */
int vs__store_fs_upload_link(vs_upload *u, const char *bucket,
                             const char *key, const char *vid,
                             uint64_t bytes, vs_err *err)
{
  char dir[PATH_MAX], src[PATH_MAX];
  struct stat st;
  int fd, rc;
  if(u->written)
    return vs_fail(err, VS_ERR_INVALID, "the upload has bytes already");
  if(!vid || !vs__fs_vid_valid(vid))
    return vs_fail(err, VS_ERR_NOTFOUND, "no such version");
  rc = vs__fs_key_dir(u->s, bucket, key, dir, sizeof(dir), err);
  if(!rc)
    rc = vs__fs_path(src, sizeof(src), err, "%s/@%s", dir, vid);
  if(rc)
    return rc;
  if(unlink(u->part))
    return vs_fail_errno(err, errno, "unlink %s", u->part);
  if(link(src, u->part))
    return vs_fail_errno(err, errno, "link %s to %s", src, u->part);
  fd = open(u->part, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    return vs_fail_errno(err, errno, "open %s", u->part);
  if(fstat(fd, &st) || (uint64_t)st.st_size != bytes) {
    close(fd);
    return vs_fail(err, VS_ERR_IO, "%s is not the %" PRIu64 " bytes its "
                   "metadata says", src, bytes);
  }
  close(u->fd);
  u->fd = fd;
  u->written = u->wb_started = bytes;
  return VS_OK;
}
