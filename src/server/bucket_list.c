/* The buckets the sink serves: those configured (--bucket) and those
 * created at run time (CreateBucket under --allow-bucket-create), each
 * with its creation date.
 *
 * Every request reads the list (is its bucket served?); CreateBucket
 * writes it. Readers take the rwlock shared; a creation persists the new
 * list first (under a mutex of its own, so the disk wait holds no reader
 * up) and only then appends to memory under the write lock.
 *
 * The list is kept in STATE/buckets, one line per bucket:
 *   <creation ms since 1970> configured|created <name>
 * written whole to a temporary file, fsynced and renamed, so a crash
 * leaves the old list or the new one. A created bucket is served from its
 * line alone, after a restart with or without --allow-bucket-create. A
 * configured bucket's line only keeps its date stable: it is served while
 * it is configured, and its date is that of the first start that served
 * it (or its folder's birth, when the folder was there before the list). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/internal.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"

#define LIST_NAME "buckets"
#define LIST_MAX (1024 * 1024)

static int64_t now_ms(const vs_server *s)
{
  return vs_now_ms(s->cfg.now, s->cfg.now_ctx);
}

static vs__bucket *find(vs__buckets *b, const char *name)
{
  size_t i;
  for(i = 0; i < b->n; i++)
    if(!strcmp(b->v[i].name, name))
      return &b->v[i];
  return NULL;
}

static int add(vs__buckets *b, const char *name, int64_t ms, int created,
               int served)
{
  if(b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 8;
    vs__bucket *v = realloc(b->v, cap * sizeof(*v));
    if(!v)
      return VS_ERR_NOMEM;
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n].name = strdup(name);
  if(!b->v[b->n].name)
    return VS_ERR_NOMEM;
  b->v[b->n].created_ms = ms;
  b->v[b->n].created = created;
  b->v[b->n].served = served;
  b->n++;
  return VS_OK;
}

/* The folder's birth time where the filesystem keeps one, else now: a
 * sink that served the bucket before it kept dates shows when it began. */
static int64_t folder_birth_ms(const vs_server *s, const char *name)
{
  char p[4096];
  struct statx st;
  if(s->cfg.buckets_dir &&
     snprintf(p, sizeof(p), "%s/%s", s->cfg.buckets_dir, name) <
       (int)sizeof(p) &&
     !statx(AT_FDCWD, p, 0, STATX_BTIME, &st) &&
     (st.stx_mask & STATX_BTIME) && st.stx_btime.tv_sec > 0)
    return (int64_t)st.stx_btime.tv_sec * 1000 +
           st.stx_btime.tv_nsec / 1000000;
  return now_ms(s);
}

/* ---- the file -------------------------------------------------------------- */

static int list_path(const vs_server *s, char *out, size_t cap,
                     const char *suffix)
{
  return snprintf(out, cap, "%s/" LIST_NAME "%s", s->cfg.state_dir,
                  suffix) < (int)cap ? 0 : -1;
}

/* Lines that do not parse are skipped, and said so: the list is the
 * sink's own file, and one bad line must not take every bucket away. */
static int load(vs_server *s, vs__buckets *b, vs_err *err)
{
  char path[4096], *text = NULL, *line, *save = NULL;
  size_t len;
  int rc;
  if(!s->cfg.state_dir || list_path(s, path, sizeof(path), ""))
    return VS_OK;
  rc = vs_read_file(path, LIST_MAX, &text, &len, err);
  if(rc == VS_ERR_NOTFOUND)
    return VS_OK;
  if(rc)
    return rc;
  for(line = strtok_r(text, "\n", &save); line;
      line = strtok_r(NULL, "\n", &save)) {
    long long ms;
    char kind[16], name[128];
    if(line[0] == '#')
      continue;
    if(sscanf(line, "%lld %15s %127s", &ms, kind, name) != 3 ||
       (strcmp(kind, "configured") && strcmp(kind, "created")) ||
       vs_store_check_bucket(name, NULL) || find(b, name)) {
      vs_log("warn", "%s: line skipped: %.80s", path, line);
      continue;
    }
    if(add(b, name, ms, !strcmp(kind, "created"), kind[1] == 'r')) {
      free(text);
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    }
  }
  free(text);
  return VS_OK;
}

static int write_file(const char *tmp, const vs_buf *body, vs_err *err)
{
  int rc, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if(fd < 0)
    return vs_fail(err, VS_ERR_IO, "%s: %s", tmp, strerror(errno));
  rc = vs_write_all(fd, body->data ? body->data : "", body->len, err);
  if(!rc && fsync(fd))
    rc = vs_fail(err, VS_ERR_IO, "fsync %s: %s", tmp, strerror(errno));
  if(close(fd) && !rc)
    rc = vs_fail(err, VS_ERR_IO, "close %s: %s", tmp, strerror(errno));
  return rc;
}

/* Writes b as the new list, with extra (when not NULL) in place of the
 * line of the same name or after the others: durable on return. */
static int persist(const vs_server *s, const vs__buckets *b,
                   const vs__bucket *extra, vs_err *err)
{
  char path[4096], tmp[4096];
  vs_buf body = VS_BUF_INIT;
  size_t i;
  int rc;
  const vs__bucket *last = extra && find((vs__buckets *)b, extra->name)
                             ? NULL : extra;
  if(!s->cfg.state_dir)
    return VS_OK;
  if(list_path(s, path, sizeof(path), "") ||
     list_path(s, tmp, sizeof(tmp), ".tmp"))
    return vs_fail(err, VS_ERR_INVALID, "state path too long");
  vs_buf_adds(&body, "# vsink buckets: creation time (ms since 1970), "
              "configured|created, name\n");
  for(i = 0; i <= b->n; i++) {
    const vs__bucket *e = i < b->n ? &b->v[i] : last;
    if(e && extra && e != extra && !strcmp(e->name, extra->name))
      e = extra;
    if(e)
      vs_buf_addf(&body, "%lld %s %s\n", (long long)e->created_ms,
                  e->created ? "created" : "configured", e->name);
  }
  if(body.failed)
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  else
    rc = vs_mkdirs(s->cfg.state_dir, 0755, err);
  if(!rc)
    rc = write_file(tmp, &body, err);
  if(!rc && rename(tmp, path))
    rc = vs_fail(err, VS_ERR_IO, "rename %s: %s", tmp, strerror(errno));
  if(!rc)
    rc = vs_fsync_dir(s->cfg.state_dir, err);
  if(rc)
    unlink(tmp);
  vs_buf_free(&body);
  return rc;
}

/* ---- start and stop -------------------------------------------------------- */

static int take_configured(vs_server *s, vs__buckets *b, int *dirty,
                           vs_err *err)
{
  size_t i;
  for(i = 0; i < s->cfg.n_buckets; i++) {
    const char *name = s->cfg.buckets[i];
    vs__bucket *e;
    if(vs_store_check_bucket(name, err))
      return VS_ERR_INVALID;
    if((e = find(b, name))) { /* its date stays; configured now */
      e->served = 1;
      continue;
    }
    if(add(b, name, folder_birth_ms(s, name), 0, 1))
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    *dirty = 1;
  }
  return VS_OK;
}

int vs__buckets_init(vs_server *s, vs_err *err)
{
  vs__buckets *b = &s->buckets;
  int rc, dirty = 0;
  pthread_rwlock_init(&b->lock, NULL);
  pthread_mutex_init(&b->write, NULL);
  b->ready = 1;
  rc = load(s, b, err);
  if(!rc)
    rc = take_configured(s, b, &dirty, err);
  if(!rc && dirty && persist(s, b, NULL, err))
    rc = VS_ERR_IO;
  return rc;
}

void vs__buckets_free(vs_server *s)
{
  vs__buckets *b = &s->buckets;
  size_t i;
  if(!b->ready)
    return;
  for(i = 0; i < b->n; i++)
    free(b->v[i].name);
  free(b->v);
  pthread_rwlock_destroy(&b->lock);
  pthread_mutex_destroy(&b->write);
  memset(b, 0, sizeof(*b));
}

/* ---- requests -------------------------------------------------------------- */

int vs__bucket_known(const vs_server *cs, const char *bucket)
{
  vs__buckets *b = &((vs_server *)cs)->buckets;
  vs__bucket *e;
  int known;
  pthread_rwlock_rdlock(&b->lock);
  e = find(b, bucket);
  known = e && e->served;
  pthread_rwlock_unlock(&b->lock);
  return known;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(((const vs__bucket *)a)->name, ((const vs__bucket *)b)->name);
}

int vs__buckets_served(vs_server *s, vs__bucket **out, size_t *n)
{
  vs__buckets *b = &s->buckets;
  vs__bucket *v;
  size_t i;
  int rc = VS_OK;
  *out = NULL;
  *n = 0;
  pthread_rwlock_rdlock(&b->lock);
  v = calloc(b->n ? b->n : 1, sizeof(*v));
  for(i = 0; v && i < b->n; i++) {
    if(!b->v[i].served)
      continue;
    v[*n] = b->v[i];
    if(!(v[*n].name = strdup(b->v[i].name)))
      rc = VS_ERR_NOMEM;
    (*n)++;
  }
  pthread_rwlock_unlock(&b->lock);
  if(!v || rc) {
    vs__buckets_served_free(v, *n);
    *n = 0;
    return VS_ERR_NOMEM;
  }
  qsort(v, *n, sizeof(*v), by_name); /* S3 lists them by name */
  *out = v;
  return VS_OK;
}

void vs__buckets_served_free(vs__bucket *v, size_t n)
{
  size_t i;
  for(i = 0; v && i < n; i++)
    free(v[i].name);
  free(v);
}

/* The bucket's folder, made now so that it is there (empty) from its
 * creation on; *made says whether this call made it. */
static int make_folder(const vs_server *s, const char *name, int *made,
                       vs_err *err)
{
  char p[4096];
  struct stat st;
  *made = 0;
  if(!s->cfg.buckets_dir)
    return VS_OK;
  if(snprintf(p, sizeof(p), "%s/%s", s->cfg.buckets_dir, name) >=
     (int)sizeof(p))
    return vs_fail(err, VS_ERR_INVALID, "bucket path too long");
  if(!stat(p, &st))
    return VS_OK;
  *made = 1;
  return vs_mkdirs(p, 0755, err);
}

static void unmake_folder(const vs_server *s, const char *name)
{
  char p[4096];
  if(snprintf(p, sizeof(p), "%s/%s", s->cfg.buckets_dir, name) <
     (int)sizeof(p))
    rmdir(p); /* empty: nothing was stored in a bucket not yet served */
}

/* Only creators change the list, one at a time under b->write: they may
 * read it unlocked; readers are kept out only while memory changes. */
int vs__bucket_create(vs_server *s, const char *name, vs_err *err)
{
  vs__buckets *b = &s->buckets;
  vs__bucket e = {(char *)name, now_ms(s), 1, 1}, *old;
  int rc, made = 0;
  if(vs_store_check_bucket(name, err))
    return VS_ERR_INVALID;
  pthread_mutex_lock(&b->write);
  if(vs__bucket_known(s, name)) {
    pthread_mutex_unlock(&b->write);
    return VS_ERR_EXISTS;
  }
  /* the folder first, the list last: the list is what serves it */
  rc = make_folder(s, name, &made, err);
  if(!rc)
    rc = persist(s, b, &e, err);
  if(!rc) {
    pthread_rwlock_wrlock(&b->lock);
    if((old = find(b, name))) /* configured once, no longer: taken over */
      *old = (vs__bucket){old->name, e.created_ms, 1, 1};
    else if(add(b, name, e.created_ms, 1, 1))
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    pthread_rwlock_unlock(&b->lock);
  }
  if(rc && made)
    unmake_folder(s, name);
  pthread_mutex_unlock(&b->write);
  return rc;
}
