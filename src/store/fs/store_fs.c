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
 *
 * A key segment starting with '@' is stored with one more '@' in front, so a
 * name starting with a single '@' is always ours and keys "a", "a/b" and
 * "a/@current" never collide with each other or with our files. Everything
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
#include "store_intent.h"
#include "vsink/store.h"

#define STRIPES 64
#define VID_LEN 26 /* 20261124T121500123Z-a1b2c3 */
#define META_MAX 65536 /* headers: 8 KiB, escaped */
#define LOOKUP_TRIES 4
/* Write-back starts every WB_WINDOW bytes of an upload, so the fsync at
 * commit finds little left to write and the page cache does not fill with
 * dirty video (see write_behind). */
#define WB_WINDOW (8ULL << 20)

typedef struct fs_store {
  vs_store base;
  char *dir;
  char *tmp;     /* DIR/.tmp */
  char *buckets; /* DIR/buckets */
  char *intent;  /* DIR/.intent */
  int lock_fd;
  int read_only;
  vs_now_fn now;
  void *now_ctx;
  /* Commits to one key are serialized (policy check, version id, swap);
   * different keys rarely share a stripe. */
  pthread_mutex_t stripe[STRIPES];
} fs_store;

struct vs_upload {
  fs_store *s;
  int fd;
  uint64_t written;
  uint64_t wb_started; /* bytes handed to write-back so far */
  int wb_errno;        /* a write-back error, reported again at commit */
  char part[PATH_MAX];
  char keydir[PATH_MAX];
  char bucket[64]; /* as checked by key_dir: for the intent */
  char key[VS_KEY_MAX + 1];
};

static const vs_store_ops fs_ops;

static int path_fmt(char *out, size_t cap, vs_err *err, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int path_fmt(char *out, size_t cap, vs_err *err, const char *fmt, ...)
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

/* DIR/buckets/<bucket>/<escaped segments>, after checking both names. */
static int key_dir(const fs_store *s, const char *bucket, const char *key,
                   char *out, size_t cap, vs_err *err)
{
  /* Room for "/@<vid>.json" after the directory. */
  const size_t tail = 2 + VID_LEN + 5;
  const char *p = key;
  size_t o;
  int rc = vs_store_check_bucket(bucket, err);
  if(!rc)
    rc = vs_store_check_key(key, key ? strlen(key) : 0, err);
  if(!rc)
    rc = path_fmt(out, cap, err, "%s/%s", s->buckets, bucket);
  if(rc)
    return rc;
  o = strlen(out);
  while(*p) {
    size_t n = strcspn(p, "/"), esc = p[0] == '@';
    if(n + esc > NAME_MAX)
      return vs_fail(err, VS_ERR_TOOLARGE,
                     "key segment at byte %zu is %zu bytes, the filesystem "
                     "store allows %zu", (size_t)(p - key), n,
                     (size_t)NAME_MAX - esc);
    if(o + 1 + esc + n + tail >= cap)
      return vs_fail(err, VS_ERR_TOOLARGE,
                     "path under the data directory would exceed %zu bytes",
                     cap - 1);
    out[o++] = '/';
    if(esc)
      out[o++] = '@';
    memcpy(out + o, p, n);
    o += n;
    p += n;
    if(*p == '/')
      p++;
  }
  out[o] = 0;
  return VS_OK;
}

static unsigned stripe_of(const char *keydir)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for(; *keydir; keydir++)
    h = (h ^ (unsigned char)*keydir) * 16777619u;
  return h % STRIPES;
}

/* A new file DIR/.tmp/<32 hex><suffix>, open for writing. */
static int tmp_create(fs_store *s, const char *suffix, char *path, size_t cap,
                      int *fd, vs_err *err)
{
  unsigned char rnd[16];
  char name[33];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_hex(rnd, sizeof(rnd), name);
  rc = path_fmt(path, cap, err, "%s/%s%s", s->tmp, name, suffix);
  if(rc)
    return rc;
  *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if(*fd < 0)
    return vs_fail_errno(err, errno, "create %s", path);
  return VS_OK;
}

/* rename() that fails with EEXIST instead of replacing: a version file is
 * never replaced. link()+unlink() where renameat2 flags are unsupported. */
static int rename_noreplace(const char *from, const char *to)
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
static int vid_valid(const char *v)
{
  static const char shape[] = "ddddddddTdddddddddZ-hhhhhh";
  size_t i;
  for(i = 0; i < VID_LEN; i++) {
    char c = v[i];
    if(shape[i] == 'd' ? !(c >= '0' && c <= '9')
       : shape[i] == 'h' ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
       : c != shape[i])
      return 0;
  }
  return v[VID_LEN] == 0;
}

static int64_t vid_ms(const char *v)
{
  char amz[17];
  int64_t secs;
  memcpy(amz, v, 15);
  amz[15] = 'Z';
  amz[16] = 0;
  if(vs_time_parse_amz(amz, &secs))
    return -1;
  return secs * 1000 + (v[15] - '0') * 100 + (v[16] - '0') * 10 + (v[17] - '0');
}

static int vid_make(int64_t ms, char out[VID_LEN + 1], vs_err *err)
{
  unsigned char rnd[3];
  char amz[17], hex[7], buf[48];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_hex(rnd, sizeof(rnd), hex);
  vs_time_amz(ms / 1000, amz);
  snprintf(buf, sizeof(buf), "%.15s%03dZ-%s", amz, (int)(ms % 1000), hex);
  if(!vid_valid(buf))
    return vs_fail(err, VS_ERR_INVALID, "clock reading %" PRId64
                   " ms is outside years 1970-9999", ms);
  memcpy(out, buf, VID_LEN + 1);
  return VS_OK;
}

/* The current version of a key; *has = 0 when it has none. */
static int read_current(const char *keydir, char vid[VID_LEN + 1], int *has,
                        vs_err *err)
{
  char link[PATH_MAX], target[VID_LEN + 3];
  ssize_t n;
  int rc = path_fmt(link, sizeof(link), err, "%s/@current", keydir);
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
  if(target[0] != '@' || !vid_valid(target + 1))
    return vs_fail(err, VS_ERR_IO, "%s does not point to a version", link);
  memcpy(vid, target + 1, VID_LEN + 1);
  *has = 1;
  return VS_OK;
}

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
static int commit_headers_ok(const char *h)
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
  if(c->headers && !commit_headers_ok(c->headers))
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

/* ,"headers":{"name":"value",...} from the "name:value\n" lines */
static void meta_json_headers(vs_buf *b, const char *h)
{
  const char *sep = ",\"headers\":{";
  while(*h) {
    const char *colon = strchr(h, ':'), *nl = strchr(h, '\n');
    if(!colon || !nl || colon > nl)
      break; /* not the form: the commit's check keeps it from here */
    vs_buf_adds(b, sep);
    vs_buf_add_json_str(b, h, (size_t)(colon - h));
    vs_buf_adds(b, ":");
    vs_buf_add_json_str(b, colon + 1, (size_t)(nl - colon - 1));
    sep = ",";
    h = nl + 1;
  }
  if(sep[0] == ',' && sep[1] == 0)
    vs_buf_adds(b, "}");
}

static int meta_json(vs_buf *b, const vs_object_info *i)
{
  vs_buf_addf(b, "{\"bytes\":%" PRIu64 ",\"sha256\":\"%s\",\"md5\":\"%s\","
              "\"etag\":\"%s\",\"contentType\":", i->bytes, i->sha256,
              i->md5, i->etag);
  vs_buf_add_json_str(b, i->content_type, strlen(i->content_type));
  if(i->checksum_alg[0] && i->checksum[0]) {
    vs_buf_adds(b, ",\"checksum\":{");
    vs_buf_add_json_str(b, i->checksum_alg, strlen(i->checksum_alg));
    vs_buf_adds(b, ":");
    vs_buf_add_json_str(b, i->checksum, strlen(i->checksum));
    vs_buf_adds(b, "}");
  }
  meta_json_headers(b, i->headers);
  if(i->delete_marker)
    vs_buf_adds(b, ",\"deleteMarker\":true");
  return vs_buf_addf(b, ",\"mtime\":%" PRId64 ",\"versionId\":\"%s\"}\n",
                     i->mtime_ms, i->version_id);
}

/* The metadata of a version, durable, in a temporary file. */
static int meta_write_tmp(fs_store *s, const vs_object_info *info, char *tmp,
                          size_t cap, vs_err *err)
{
  vs_buf b = VS_BUF_INIT;
  int fd, rc;
  if(meta_json(&b, info)) {
    vs_buf_free(&b);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory writing metadata");
  }
  rc = tmp_create(s, ".json", tmp, cap, &fd, err);
  if(!rc) {
    rc = vs_write_all(fd, b.data, b.len, err);
    if(rc && err)
      vs_fail_errno(err, err->sys_errno, "write %s", tmp);
    if(!rc && fsync(fd))
      rc = vs_fail_errno(err, errno, "fsync %s", tmp);
    if(close(fd) && !rc)
      rc = vs_fail_errno(err, errno, "close %s", tmp);
    if(rc)
      unlink(tmp);
  }
  vs_buf_free(&b);
  return rc;
}

static void remove_version(const char *keydir, const char *vid)
{
  char p[PATH_MAX];
  if(!path_fmt(p, sizeof(p), NULL, "%s/@%s", keydir, vid))
    unlink(p);
  if(!path_fmt(p, sizeof(p), NULL, "%s/@%s.json", keydir, vid))
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
  rc = meta_write_tmp(u->s, info, tmp, cap, err);
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
  if(cur && vid_ms(cur) >= t)
    t = vid_ms(cur) + 1; /* the clock went back or two commits share a ms */
  for(tries = 0; tries < 8; tries++, t++) {
    rc = vid_make(t, info->version_id, err);
    if(!rc)
      rc = path_fmt(meta, sizeof(meta), err, "%s/@%s.json", u->keydir,
                    info->version_id);
    if(!rc)
      rc = path_fmt(data, sizeof(data), err, "%s/@%s", u->keydir,
                    info->version_id);
    if(!rc)
      rc = prepare_version(u, info, replaces, tmp, sizeof(tmp), err);
    if(rc == VS_ERR_EXISTS)
      continue; /* another key's intent has this name: take the next id */
    if(rc)
      return rc;
    if(rename_noreplace(tmp, meta)) {
      int e = errno;
      unlink(tmp);
      drop_intent(u, info->version_id);
      if(e == EEXIST)
        continue; /* a leftover of a crashed commit holds this id */
      return vs_fail_errno(err, e, "rename %s to %s", tmp, meta);
    }
    if(!rename_noreplace(u->part, data))
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
static int swap_current(fs_store *s, const char *keydir, const char *vid,
                        vs_err *err)
{
  unsigned char rnd[16];
  char name[33], tmp[PATH_MAX], cur[PATH_MAX], target[VID_LEN + 2];
  int rc = vs_random(rnd, sizeof(rnd), err);
  if(rc)
    return rc;
  vs_hex(rnd, sizeof(rnd), name);
  snprintf(target, sizeof(target), "@%s", vid);
  rc = path_fmt(tmp, sizeof(tmp), err, "%s/%s.link", s->tmp, name);
  if(!rc)
    rc = path_fmt(cur, sizeof(cur), err, "%s/@current", keydir);
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
          !path_fmt(curlink, sizeof(curlink), NULL, "%s/@current", u->keydir))
    unlink(curlink);
  remove_version(u->keydir, vid);
  if(!vs_fsync_dir(u->keydir, NULL))
    drop_intent(u, vid);
}

static int read_meta(const char *keydir, const char *vid,
                     vs_object_info *info, vs_err *err);

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
  rc = read_meta(keydir, cur, ci, err);
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
  marker = !read_meta(keydir, cur, ci, NULL) && ci->delete_marker;
  free(ci);
  return !marker;
}

/* Called with the key's stripe locked. */
static int publish(vs_upload *u, const vs_commit *c, vs_object_info *info,
                   vs_err *err)
{
  fs_store *s = u->s;
  char cur[VID_LEN + 1];
  int has_cur, swapped = 0, replace_now, defer, live;
  int rc = read_current(u->keydir, cur, &has_cur, err);
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
    remove_version(u->keydir, cur);
    /* The new object is committed; a lost unlink only leaves an orphan. */
    if(vs_fsync_dir(u->keydir, &e2))
      vs_log("warn", "overwrite of %s: %s", u->keydir, e2.msg);
  }
  return VS_OK;
}

static int fs_begin(vs_store *base, const char *bucket, const char *key,
                    vs_upload **out, vs_err *err)
{
  fs_store *s = (fs_store *)base;
  vs_upload *u;
  int rc;
  if(s->read_only)
    return vs_fail(err, VS_ERR_INVALID, "data directory %s is open "
                   "read-only", s->dir);
  u = calloc(1, sizeof(*u));
  if(!u)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory starting an upload");
  u->s = s;
  u->fd = -1;
  rc = key_dir(s, bucket, key, u->keydir, sizeof(u->keydir), err);
  if(!rc) {
    snprintf(u->bucket, sizeof(u->bucket), "%s", bucket);
    snprintf(u->key, sizeof(u->key), "%s", key);
    rc = tmp_create(s, ".part", u->part, sizeof(u->part), &u->fd, err);
  }
  if(rc) {
    free(u);
    return rc;
  }
  *out = u;
  return VS_OK;
}

/* For each full window: start its write-back, wait for the window before
 * it (long under way by now) and drop that one from the page cache. The
 * fsync at commit still makes everything durable; it just has little left.
 * sync_file_range may consume an I/O error that fsync would then not see,
 * so any error is kept and fails the commit. */
static void write_behind(vs_upload *u)
{
  const unsigned wait = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                        SYNC_FILE_RANGE_WAIT_AFTER;
  while(!u->wb_errno && u->written - u->wb_started >= WB_WINDOW) {
    off_t off = (off_t)u->wb_started;
    if(sync_file_range(u->fd, off, WB_WINDOW, SYNC_FILE_RANGE_WRITE))
      u->wb_errno = errno;
    else if(off >= (off_t)WB_WINDOW) {
      if(sync_file_range(u->fd, off - WB_WINDOW, WB_WINDOW, wait))
        u->wb_errno = errno;
      else
        posix_fadvise(u->fd, off - WB_WINDOW, WB_WINDOW,
                      POSIX_FADV_DONTNEED);
    }
    u->wb_started += WB_WINDOW;
  }
}

static int fs_write(vs_upload *u, const void *p, size_t n, vs_err *err)
{
  int rc = vs_write_all(u->fd, p, n, err);
  if(rc) {
    if(err)
      vs_fail_errno(err, err->sys_errno, "write %s", u->part);
    return rc;
  }
  u->written += n;
  write_behind(u);
  return VS_OK;
}

static int fs_commit(vs_upload *u, const vs_commit *c, vs_object_info *info,
                     vs_err *err)
{
  pthread_mutex_t *m = &u->s->stripe[stripe_of(u->keydir)];
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

static int meta_str(cJSON *j, const char *name, char *out, size_t cap,
                    size_t exact)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
  size_t n;
  if(!cJSON_IsString(v))
    return -1;
  n = strlen(v->valuestring);
  if(n >= cap || (exact && n != exact && !(exact == 32 && n == 0)))
    return -1;
  memcpy(out, v->valuestring, n + 1);
  return 0;
}

/* A stored header's name (lower-case token) and value (no control byte
 * but tab): what the sink may send back as a header line. */
static int meta_header_ok(const char *name, const char *value)
{
  const unsigned char *p;
  if(!*name)
    return 0;
  for(p = (const unsigned char *)name; *p; p++)
    if(*p <= 0x20 || *p >= 0x7f || *p == ':' || (*p >= 'A' && *p <= 'Z'))
      return 0;
  for(p = (const unsigned char *)value; *p; p++)
    if((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return 0;
  return 1;
}

static int meta_parse_headers(cJSON *h, char *out, size_t cap)
{
  cJSON *it;
  size_t used = 0;
  out[0] = 0;
  if(!h)
    return 0;
  if(!cJSON_IsObject(h))
    return -1;
  cJSON_ArrayForEach(it, h) {
    int n;
    if(!cJSON_IsString(it) || !it->string ||
       !meta_header_ok(it->string, it->valuestring))
      return -1;
    n = snprintf(out + used, cap - used, "%s:%s\n", it->string,
                 it->valuestring);
    if(n < 0 || (size_t)n >= cap - used)
      return -1;
    used += (size_t)n;
  }
  return 0;
}

static int meta_parse(const char *text, size_t len, const char *vid,
                      vs_object_info *info)
{
  cJSON *j = vs_json_parse(text, len);
  int64_t bytes = 0, mtime = 0;
  int bad = !j;
  memset(info, 0, sizeof(*info));
  bad = bad ||
        vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "bytes"), 0,
                      INT64_MAX, &bytes) ||
        vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "mtime"),
                      INT64_MIN, INT64_MAX, &mtime) ||
        meta_str(j, "sha256", info->sha256, sizeof(info->sha256), 64) ||
        meta_str(j, "md5", info->md5, sizeof(info->md5), 32) ||
        meta_str(j, "etag", info->etag, sizeof(info->etag), 0) ||
        meta_str(j, "contentType", info->content_type,
                 sizeof(info->content_type), 0) ||
        meta_str(j, "versionId", info->version_id, sizeof(info->version_id),
                 0) ||
        strcmp(info->version_id, vid);
  if(!bad) { /* optional: metadata written before checksums has none */
    cJSON *ck = cJSON_GetObjectItemCaseSensitive(j, "checksum");
    if(ck)
      bad = !cJSON_IsObject(ck) || !ck->child || ck->child->next ||
            !ck->child->string ||
            strlen(ck->child->string) >= sizeof(info->checksum_alg) ||
            meta_str(ck, ck->child->string, info->checksum,
                     sizeof(info->checksum), 0);
    if(ck && !bad)
      strcpy(info->checksum_alg, ck->child->string);
  }
  if(!bad) /* optional too: metadata written before headers were kept */
    bad = meta_parse_headers(cJSON_GetObjectItemCaseSensitive(j, "headers"),
                             info->headers, sizeof(info->headers));
  if(!bad) /* optional: only delete markers say so (store_fs_delete.c) */
    info->delete_marker =
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "deleteMarker"));
  cJSON_Delete(j);
  info->bytes = (uint64_t)bytes;
  info->mtime_ms = mtime;
  return bad ? -1 : 0;
}

static int read_meta(const char *keydir, const char *vid,
                     vs_object_info *info, vs_err *err)
{
  char path[PATH_MAX], *text = NULL;
  size_t len;
  int rc = path_fmt(path, sizeof(path), err, "%s/@%s.json", keydir, vid);
  if(rc)
    return rc;
  rc = vs_read_file(path, META_MAX, &text, &len, err);
  if(rc == VS_ERR_NOTFOUND)
    return vs_fail(err, rc, "no version %s", vid);
  if(rc == VS_ERR_TOOLARGE)
    return vs_fail(err, VS_ERR_IO, "metadata %s is too large", path);
  if(rc)
    return rc;
  rc = meta_parse(text, len, vid, info);
  free(text);
  if(rc)
    return vs_fail(err, VS_ERR_IO, "metadata %s is corrupt", path);
  return VS_OK;
}

static int open_data(const char *keydir, const vs_object_info *info, int *fd,
                     vs_err *err)
{
  char path[PATH_MAX];
  struct stat st;
  int rc = path_fmt(path, sizeof(path), err, "%s/@%s", keydir,
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
static int lookup(fs_store *s, const char *bucket, const char *key,
                  const char *version, int *fd, vs_object_info *info,
                  vs_err *err)
{
  char keydir[PATH_MAX], vid[VID_LEN + 1], prev[VID_LEN + 1] = "";
  int explicit = version && *version, tries, has, rc;
  rc = key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  if(rc)
    return rc;
  if(explicit && !vid_valid(version))
    return vs_fail(err, VS_ERR_NOTFOUND,
                   "no such version (not a version id of this store)");
  for(tries = 0; tries < LOOKUP_TRIES; tries++) {
    if(explicit)
      memcpy(vid, version, VID_LEN + 1);
    else {
      rc = read_current(keydir, vid, &has, err);
      if(rc)
        return rc;
      if(!has)
        return vs_fail(err, VS_ERR_NOTFOUND, "no object %s/%s", bucket, key);
      if(!strcmp(prev, vid)) /* not a race: the store is damaged */
        return vs_fail(err, VS_ERR_IO, "%s/@current names version %s, "
                       "which is missing", keydir, vid);
      memcpy(prev, vid, sizeof(prev));
    }
    rc = read_meta(keydir, vid, info, err);
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
  return lookup((fs_store *)s, bucket, key, version, NULL, info, err);
}

static int fs_open(vs_store *s, const char *bucket, const char *key,
                   const char *version, int *fd, vs_object_info *info,
                   vs_err *err)
{
  vs_object_info scratch;
  *fd = -1;
  return lookup((fs_store *)s, bucket, key, version, fd,
                info ? info : &scratch, err);
}

static void fs_close(vs_store *base)
{
  fs_store *s = (fs_store *)base;
  int i;
  for(i = 0; i < STRIPES; i++)
    pthread_mutex_destroy(&s->stripe[i]);
  if(s->lock_fd >= 0)
    close(s->lock_fd); /* releases the flock */
  free(s->dir);
  free(s->tmp);
  free(s->buckets);
  free(s->intent);
  free(s);
}

static int list_sorted(const char *keydir, char ***ids, size_t *n,
                       vs_err *err);
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
  int rc = list_sorted(keydir, &ids, &n, err);
  out[0] = 0;
  for(i = n; !rc && i-- > 0;)
    if(strcmp(ids[i], vid)) {
      memcpy(out, ids[i], VID_LEN + 1);
      break;
    }
  free_ids(ids, n);
  return rc;
}

static int fs_remove(vs_store *base, const char *bucket, const char *key,
                     const char *vid, vs_err *err)
{
  fs_store *s = (fs_store *)base;
  char keydir[PATH_MAX], cur[VID_LEN + 1], next[VID_LEN + 1], p[PATH_MAX];
  struct stat st;
  int has, rc = key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  unsigned stripe;
  if(!rc && s->read_only)
    rc = vs_fail(err, VS_ERR_INVALID, "data directory %s is open read-only",
                 s->dir);
  if(rc)
    return rc;
  if(!vid_valid(vid) ||
     path_fmt(p, sizeof(p), err, "%s/@%s", keydir, vid) || lstat(p, &st))
    return vs_fail(err, VS_ERR_NOTFOUND, "no version %s of %s/%s", vid,
                   bucket, key);
  stripe = stripe_of(keydir);
  pthread_mutex_lock(&s->stripe[stripe]);
  rc = read_current(keydir, cur, &has, err);
  if(!rc && has && !strcmp(cur, vid)) {
    rc = successor(keydir, vid, next, err);
    if(!rc && next[0])
      rc = swap_current(s, keydir, next, err);
    else if(!rc && !path_fmt(p, sizeof(p), err, "%s/@current", keydir) &&
            unlink(p))
      rc = vs_fail_errno(err, errno, "unlink %s", p);
  }
  if(!rc) {
    remove_version(keydir, vid);
    rc = vs_fsync_dir(keydir, err);
  }
  if(!rc)
    rc = vs__intent_drop(s->intent, bucket, key, vid, err);
  pthread_mutex_unlock(&s->stripe[stripe]);
  return rc;
}

/* A deferred overwrite, once its replacement is recorded: the replaced
 * version goes (unless it is current again, which only a removal of the
 * replacement makes it). */
static int drop_replaced(fs_store *s, const char *bucket, const char *key,
                         const char *old, vs_err *err)
{
  char keydir[PATH_MAX], cur[VID_LEN + 1];
  unsigned stripe;
  int has, rc = key_dir(s, bucket, key, keydir, sizeof(keydir), err);
  if(!rc && !vid_valid(old))
    rc = vs_fail(err, VS_ERR_IO, "intent for %s/%s names a bad version "
                 "'%s'", bucket, key, old);
  if(rc)
    return rc;
  stripe = stripe_of(keydir);
  pthread_mutex_lock(&s->stripe[stripe]);
  rc = read_current(keydir, cur, &has, err);
  if(!rc && !(has && !strcmp(cur, old))) {
    remove_version(keydir, old);
    rc = vs_fsync_dir(keydir, err);
  }
  pthread_mutex_unlock(&s->stripe[stripe]);
  return rc;
}

static int fs_settle(vs_store *base, const char *bucket, const char *key,
                     const char *vid, vs_err *err)
{
  fs_store *s = (fs_store *)base;
  char old[VID_LEN + 1] = "";
  int rc;
  if(s->read_only)
    return vs_fail(err, VS_ERR_INVALID, "data directory %s is open "
                   "read-only", s->dir);
  rc = vs__intent_replaces(s->intent, bucket, key, vid, old, err);
  if(rc == VS_ERR_NOTFOUND)
    return VS_OK; /* settled already */
  if(!rc && old[0])
    rc = drop_replaced(s, bucket, key, old, err);
  if(!rc)
    rc = vs__intent_drop(s->intent, bucket, key, vid, err);
  return rc;
}

static int fs_intents(vs_store *base, vs_store_intent **list, size_t *n,
                      vs_err *err)
{
  return vs__intent_list(((fs_store *)base)->intent, list, n, err);
}

static const vs_store_ops fs_ops = {fs_begin,  fs_write,  fs_commit,
                                    fs_abort,  fs_stat,   fs_open,
                                    fs_remove, fs_close,  fs_settle,
                                    fs_intents};

static int take_lock(fs_store *s, vs_err *err)
{
  char path[PATH_MAX], pid[24] = "";
  ssize_t n;
  int rc = path_fmt(path, sizeof(path), err, "%s/.lock", s->dir);
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
static int clean_tmp(fs_store *s, int *cleaned, vs_err *err)
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

/* Intents whose version never landed (the crash came before the data
 * rename): the metadata that may have landed alone goes, then the intent.
 * Those whose version did land wait for the caller, who knows whether it
 * was recorded. */
static int drop_unplaced(fs_store *s, int *cleaned, vs_err *err)
{
  vs_store_intent *l;
  char keydir[PATH_MAX], p[PATH_MAX];
  struct stat st;
  size_t n, i;
  int rc = vs__intent_list(s->intent, &l, &n, err);
  for(i = 0; !rc && i < n; i++) {
    if(key_dir(s, l[i].bucket, l[i].key, keydir, sizeof(keydir), NULL) ||
       path_fmt(p, sizeof(p), NULL, "%s/@%s", keydir, l[i].version_id))
      continue; /* not a key this store could have made: left alone */
    if(!lstat(p, &st) || errno != ENOENT)
      continue;
    remove_version(keydir, l[i].version_id);
    if(!stat(keydir, &st))
      rc = vs_fsync_dir(keydir, err);
    if(!rc)
      rc = vs__intent_drop(s->intent, l[i].bucket, l[i].key,
                           l[i].version_id, err);
    if(!rc && cleaned)
      (*cleaned)++;
  }
  free(l);
  return rc;
}

/* A read-only store takes the directory as it is: it must be there. */
static int check_readable(fs_store *s, vs_err *err)
{
  struct stat st;
  if(stat(s->dir, &st))
    return vs_fail_errno(err, errno, "data directory %s", s->dir);
  if(!S_ISDIR(st.st_mode))
    return vs_fail(err, VS_ERR_INVALID, "data directory %s is not a "
                   "directory", s->dir);
  return VS_OK;
}

static int fs_setup(fs_store *s, const vs_store_fs_opts *o, int *cleaned,
                    vs_err *err)
{
  int rc;
  if(asprintf(&s->tmp, "%s/.tmp", o->dir) < 0 ||
     asprintf(&s->buckets, "%s/buckets", o->dir) < 0 ||
     asprintf(&s->intent, "%s/.intent", o->dir) < 0) {
    s->tmp = s->buckets = s->intent = NULL;
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
    rc = drop_unplaced(s, cleaned, err);
  return rc;
}

int vs_store_fs_open(vs_store **out, const vs_store_fs_opts *o, int *cleaned,
                     vs_err *err)
{
  fs_store *s;
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
  s->base.ops = &fs_ops;
  s->lock_fd = -1;
  s->read_only = o->read_only;
  s->now = o->now;
  s->now_ctx = o->now_ctx;
  for(i = 0; i < STRIPES; i++)
    pthread_mutex_init(&s->stripe[i], NULL);
  rc = fs_setup(s, o, cleaned, err);
  if(rc) {
    fs_close(&s->base);
    return rc;
  }
  *out = &s->base;
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
    if(e->d_name[0] != '@' || !vid_valid(e->d_name + 1))
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
  if(!base || base->ops != &fs_ops)
    return vs_fail(err, VS_ERR_INVALID, "not a filesystem store");
  rc = key_dir((fs_store *)base, bucket, key, keydir, sizeof(keydir), err);
  if(rc)
    return rc;
  return list_sorted(keydir, ids, n, err);
}

static int list_sorted(const char *keydir, char ***ids, size_t *n,
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

/* store_fs_list.c walks the key directories under this one. */
const char *vs__store_fs_buckets(const vs_store *base)
{
  return base && base->ops == &fs_ops ? ((const fs_store *)base)->buckets
                                      : NULL;
}

/* store_fs_list.c reads the metadata of the versions it walks to. */
int vs__store_fs_meta_parse(const char *text, size_t len, const char *vid,
                            vs_object_info *info)
{
  return meta_parse(text, len, vid, info);
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
  if(!vid || !vid_valid(vid))
    return vs_fail(err, VS_ERR_NOTFOUND, "no such version");
  rc = key_dir(u->s, bucket, key, dir, sizeof(dir), err);
  if(!rc)
    rc = path_fmt(src, sizeof(src), err, "%s/@%s", dir, vid);
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
