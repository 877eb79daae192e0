/* Shipping closed manifest segments to the cluster bucket.
 *
 * The shipper scans the manifest folder rather than hooking the writer: a
 * closed segment is any *.jsonl.gz there (the writer renames a .gz into
 * place only once it is complete), whoever wrote it and whenever, so
 * segments left by an earlier run, by a crashed writer (closed here by
 * vs_manifest_recover) or by another process sharing the folder are
 * shipped the same way, and a restart needs no state but the folder.
 *
 * A segment is shipped once DIR/shipped/NAME exists. That marker is made
 * only after the cluster answered, so a crash at any point at worst ships
 * again: the second PutObject carries If-None-Match: *, its 412 is checked
 * with a HEAD (size and ETag, the MD5 of the bytes) and an identical
 * object counts as shipped. A different one is never replaced: logged,
 * counted, kept locally, not tried again by this process.
 *
 * Pruning walks DIR/shipped, so only what the cluster holds is ever
 * removed, and removes the segment before its marker: a crash in between
 * leaves a marker without a segment (removed by the next prune), never a
 * segment without a marker that is gone from the folder's view. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/internal.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/fs.h"
#include "util/log.h"
#include "vsink/s3.h"
#include "vsink/server.h"

#define SHIPPED_DIR "shipped"
#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_MAX_BACKOFF_MS 60000
#define PRUNE_EVERY_MS 60000

struct vs_ship {
  vs_ship_opts o;
  char *dir, *bucket, *prefix, *node;
  vs_s3_target t;

  pthread_mutex_t mu; /* what follows */
  pthread_cond_t cv;
  int stop, thread_ok;
  pthread_t thread;
  char **conflicts; /* names whose cluster copy differs: not tried again */
  size_t n_conflicts;
  vs_ship_stats st;
};

/* ---- one segment -------------------------------------------------------- */

static int file_md5(int fd, char hex[33], vs_err *err)
{
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned char buf[65536], d[16];
  uint64_t off = 0;
  ssize_t r;
  int rc = VS_OK;
  if(!c || !EVP_DigestInit_ex(c, EVP_md5(), NULL)) {
    EVP_MD_CTX_free(c);
    return vs_fail(err, VS_ERR_NOMEM, "cannot set up MD5");
  }
  while((r = pread(fd, buf, sizeof(buf), (off_t)off)) != 0) {
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0) {
      rc = vs_fail_errno(err, errno, "reading a manifest segment");
      break;
    }
    EVP_DigestUpdate(c, buf, (size_t)r);
    off += (uint64_t)r;
  }
  if(!rc)
    EVP_DigestFinal_ex(c, d, NULL);
  EVP_MD_CTX_free(c);
  if(!rc)
    vs_hex(d, sizeof(d), hex);
  return rc;
}

/* After a 412: is the object there the same bytes as ours? */
static int same_object(vs_ship *s, const char *key, int fd, uint64_t size,
                       int *same, vs_err *err)
{
  /* static-sized but large (kept headers): off the shipping thread's stack */
  vs_object_info *info = calloc(1, sizeof(*info));
  char md5[33];
  int rc;
  if(!info)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  rc = vs_s3_head(&s->t, s->bucket, key, info, err);
  if(!rc)
    rc = file_md5(fd, md5, err);
  if(!rc)
    *same = info->bytes == size && !strcasecmp(info->etag, md5);
  free(info);
  return rc;
}

static int mark_shipped(vs_ship *s, const char *name, const char *etag,
                        vs_err *err)
{
  char *dir = NULL, *path = NULL;
  int fd, rc = VS_OK;
  if(asprintf(&dir, "%s/" SHIPPED_DIR, s->dir) < 0 ||
     asprintf(&path, "%s/%s", dir, name) < 0) {
    free(dir);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  rc = vs_mkdirs(dir, 0755, err);
  if(!rc) {
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if(fd < 0)
      rc = vs_fail_errno(err, errno, "create %s", path);
    else {
      /* The ETag is for people; the marker's existence is what counts. */
      rc = vs_write_all(fd, etag, strlen(etag), err);
      if(!rc)
        rc = vs_write_all(fd, "\n", 1, err);
      close(fd);
    }
  }
  if(!rc)
    rc = vs_fsync_dir(dir, err);
  free(dir);
  free(path);
  return rc;
}

static int add_conflict(vs_ship *s, const char *name)
{
  char **n = realloc(s->conflicts, (s->n_conflicts + 1) * sizeof(*n));
  if(!n)
    return VS_ERR_NOMEM;
  s->conflicts = n;
  if(!(n[s->n_conflicts] = strdup(name)))
    return VS_ERR_NOMEM;
  s->n_conflicts++;
  return VS_OK;
}

static int is_conflict(vs_ship *s, const char *name)
{
  size_t i;
  for(i = 0; i < s->n_conflicts; i++)
    if(!strcmp(s->conflicts[i], name))
      return 1;
  return 0;
}

static char *cluster_key(const vs_ship *s, const char *name)
{
  char *key = NULL;
  if(asprintf(&key, "%s%smanifest/%s/%s", s->prefix, *s->prefix ? "/" : "",
              s->node, name) < 0)
    return NULL;
  return key;
}

/* Puts one closed segment; *conflict when the cluster holds other bytes
 * under its name. */
static int ship_one(vs_ship *s, const char *name, int *conflict,
                    vs_err *err)
{
  char *path = NULL, *key = cluster_key(s, name);
  vs_s3_write_opts wo = {.content_type = "application/gzip",
                         .if_none_match = 1};
  vs_s3_put_result res;
  struct stat st;
  int fd = -1, rc, same = 0;
  *conflict = 0;
  memset(&res, 0, sizeof(res));
  if(!key || asprintf(&path, "%s/%s", s->dir, name) < 0) {
    free(key);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0 || fstat(fd, &st))
    rc = vs_fail_errno(err, errno, "open %s", path);
  else {
    vs_s3_body body = {NULL, fd, 0, (uint64_t)st.st_size, NULL};
    rc = vs_s3_put(&s->t, s->bucket, key, &body, &wo, &res, err);
    if(rc == VS_ERR_EXISTS) {
      rc = same_object(s, key, fd, (uint64_t)st.st_size, &same, err);
      if(!rc && !same) {
        *conflict = 1;
        rc = vs_fail(err, VS_ERR_EXISTS, "%s/%s holds other bytes than %s",
                     s->bucket, key, path);
      } else if(!rc)
        vs_log("info", "manifest: %s was already in %s/%s", name, s->bucket,
               key);
    }
  }
  if(!rc)
    rc = mark_shipped(s, name, res.etag, err);
  if(fd >= 0)
    close(fd);
  free(path);
  free(key);
  return rc;
}

/* ---- a pass over the folder --------------------------------------------- */

static int closed_name(const char *n)
{
  size_t len = strlen(n);
  return n[0] != '.' && len > 9 && !strcmp(n + len - 9, ".jsonl.gz");
}

static int marked(const vs_ship *s, const char *name)
{
  char *p = NULL;
  int yes;
  if(asprintf(&p, "%s/" SHIPPED_DIR "/%s", s->dir, name) < 0)
    return 0;
  yes = !access(p, F_OK);
  free(p);
  return yes;
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The closed segments not yet shipped, in name (time) order. */
static int unshipped(vs_ship *s, char ***out, size_t *n, vs_err *err)
{
  DIR *dh = opendir(s->dir);
  struct dirent *d;
  char **v = NULL;
  size_t cap = 0;
  int rc = VS_OK;
  *n = 0;
  if(!dh)
    return vs_fail_errno(err, errno, "manifest directory %s", s->dir);
  while(!rc && (d = readdir(dh))) {
    if(!closed_name(d->d_name) || marked(s, d->d_name))
      continue;
    if(*n == cap) {
      char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
      if(!nv) {
        rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
        break;
      }
      v = nv;
    }
    if(!(v[*n] = strdup(d->d_name)))
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    else
      (*n)++;
  }
  closedir(dh);
  if(*n)
    qsort(v, *n, sizeof(*v), name_cmp);
  *out = v;
  return rc;
}

static void free_names(char **v, size_t n)
{
  while(n)
    free(v[--n]);
  free(v);
}

int vs_ship_pass(vs_ship *s, vs_err *err)
{
  char **names = NULL;
  size_t n = 0, i, done = 0, held = 0;
  int rc;
  vs_err e = {0};
  if(vs_manifest_recover(s->dir, NULL, &e))
    vs_log("warn", "manifest: a segment left open stays plain: %s", e.msg);
  rc = unshipped(s, &names, &n, err);
  for(i = 0; !rc && i < n; i++) {
    int conflict = 0;
    pthread_mutex_lock(&s->mu);
    int skip = is_conflict(s, names[i]);
    pthread_mutex_unlock(&s->mu);
    if(skip) {
      held++;
      continue;
    }
    rc = ship_one(s, names[i], &conflict, err);
    pthread_mutex_lock(&s->mu);
    if(!rc)
      s->st.shipped++, done++;
    else if(conflict) {
      vs_log("error", "manifest: not shipped, kept locally: %s", err->msg);
      s->st.conflicts++;
      held++;
      add_conflict(s, names[i]);
      rc = VS_OK;
    } else
      s->st.errors++;
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_lock(&s->mu);
  s->st.pending = n - done - held;
  pthread_mutex_unlock(&s->mu);
  free_names(names, n);
  return rc;
}

/* ---- pruning shipped segments ------------------------------------------ */

/* The newest last-write time a prunable segment may have: older than
 * keep_ms, and older than any segment start-up reconciliation could read
 * for an intent open now or made later (reconcile.c reads those written
 * after the intent was made, less the slack). */
static int prune_bound(vs_ship *s, int64_t now, int64_t *bound, vs_err *err)
{
  int64_t oldest;
  int rc = vs_store_oldest_intent(s->o.store, &oldest, err);
  if(rc)
    return rc;
  *bound = now - VS__RECONCILE_SLACK_MS;
  if(now - s->o.keep_ms < *bound)
    *bound = now - s->o.keep_ms;
  if(oldest != INT64_MAX && oldest - VS__RECONCILE_SLACK_MS < *bound)
    *bound = oldest - VS__RECONCILE_SLACK_MS;
  return VS_OK;
}

/* One marker: its segment removed if last written before bound, then the
 * marker; a marker whose segment is gone goes too. *gone: a segment was
 * removed. */
static int prune_one(vs_ship *s, const char *name, int64_t bound, int *gone,
                     vs_err *err)
{
  char *seg = NULL, *mark = NULL;
  struct stat st;
  int rc = VS_OK, drop = 0;
  *gone = 0;
  if(asprintf(&seg, "%s/%s", s->dir, name) < 0 ||
     asprintf(&mark, "%s/" SHIPPED_DIR "/%s", s->dir, name) < 0) {
    free(seg);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  if(stat(seg, &st))
    drop = errno == ENOENT;
  else if((int64_t)st.st_mtim.tv_sec * 1000 +
          st.st_mtim.tv_nsec / 1000000 < bound) {
    if(unlink(seg) && errno != ENOENT)
      rc = vs_fail_errno(err, errno, "remove %s", seg);
    else
      drop = *gone = 1;
  }
  if(drop && unlink(mark) && errno != ENOENT)
    rc = vs_fail_errno(err, errno, "remove %s", mark);
  free(seg);
  free(mark);
  return rc;
}

int vs_ship_prune(vs_ship *s, vs_err *err)
{
  char *dir = NULL;
  DIR *dh;
  struct dirent *d;
  int64_t bound;
  uint64_t n = 0;
  int rc;
  if(!s->o.keep_ms)
    return VS_OK;
  rc = prune_bound(s, vs_now_ms(NULL, NULL), &bound, err);
  if(rc)
    return rc;
  if(asprintf(&dir, "%s/" SHIPPED_DIR, s->dir) < 0)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!(dh = opendir(dir))) {
    rc = errno == ENOENT ? VS_OK : vs_fail_errno(err, errno, "open %s", dir);
    free(dir);
    return rc;
  }
  while(!rc && (d = readdir(dh))) {
    int gone = 0;
    if(closed_name(d->d_name)) {
      rc = prune_one(s, d->d_name, bound, &gone, err);
      n += (uint64_t)gone;
    }
  }
  closedir(dh);
  free(dir);
  pthread_mutex_lock(&s->mu);
  s->st.pruned += n;
  pthread_mutex_unlock(&s->mu);
  if(n)
    vs_log("info", "manifest: removed %llu shipped segments from %s",
           (unsigned long long)n, s->dir);
  return rc;
}

/* ---- the thread --------------------------------------------------------- */

/* Waits ms unless stopped; returns stop. Called with s->mu held. */
static int nap(vs_ship *s, long ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if(ts.tv_nsec >= 1000000000L)
    ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  while(!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
    ;
  return s->stop;
}

/* A folder that holds a month of one-minute segments is ~45,000 files:
 * not read every second for nothing. Every create, rename and unlink in it
 * (a rotation, a compression) changes its mtime, so a pass is skipped while
 * the mtime is the one seen before the last clean pass; once a minute one
 * runs anyway, for writers that died without touching the folder. */
static int folder_changed(const vs_ship *s, struct timespec *seen)
{
  struct stat st;
  struct timespec was = *seen;
  if(stat(s->dir, &st))
    return 1;
  *seen = st.st_mtim;
  return st.st_mtim.tv_sec != was.tv_sec ||
         st.st_mtim.tv_nsec != was.tv_nsec;
}

static void *ship_main(void *arg)
{
  vs_ship *s = arg;
  long backoff = 0;
  int64_t next_try = 0, last_full = INT64_MIN / 2;
  int64_t last_prune = INT64_MIN / 2;
  struct timespec seen = {0, 0};
  int clean = 0; /* the last pass shipped everything */
  for(;;) {
    int64_t now = vs_now_ms(NULL, NULL);
    if(s->o.manifest)
      vs_manifest_tick(s->o.manifest);
    if(!folder_changed(s, &seen) && clean && now - last_full < 60000)
      ;
    else if(now >= next_try) {
      vs_err err = {0};
      vs_ship_stats st;
      last_full = now;
      int failed = vs_ship_pass(s, &err);
      vs_ship_stats_get(s, &st);
      clean = !failed && st.pending == 0;
      if(failed) {
        backoff = backoff ? backoff * 2 : s->o.interval_ms;
        if(backoff > s->o.max_backoff_ms)
          backoff = s->o.max_backoff_ms;
        vs_log("warn", "manifest: shipping to %s: %s; again in %ld ms",
               s->bucket, err.msg, backoff);
        next_try = now + backoff;
      } else
        backoff = 0, next_try = 0;
    }
    if(s->o.keep_ms && now - last_prune >= PRUNE_EVERY_MS) {
      vs_err err = {0};
      last_prune = now;
      if(vs_ship_prune(s, &err))
        vs_log("warn", "manifest: pruning shipped segments: %s", err.msg);
    }
    pthread_mutex_lock(&s->mu);
    int stop = nap(s, s->o.interval_ms);
    pthread_mutex_unlock(&s->mu);
    if(stop)
      return NULL;
  }
}

/* ---- the public face ---------------------------------------------------- */

/* As the writer names its files: the node as a key's folder. */
static char *node_folder(const char *node)
{
  char *f = strdup(node);
  size_t i;
  for(i = 0; f && f[i]; i++)
    if(!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789._-", f[i]))
      f[i] = '_';
  return f;
}

int vs_ship_open(vs_ship **out, const vs_ship_opts *o, vs_err *err)
{
  vs_ship *s;
  *out = NULL;
  if(!o || !o->dir || !o->node || !*o->node || !o->target || !o->bucket ||
     o->keep_ms < 0 || (o->keep_ms && !o->store) ||
     (o->prefix && (*o->prefix == '/' ||
                    (*o->prefix && o->prefix[strlen(o->prefix) - 1] == '/'))))
    return vs_fail(err, VS_ERR_INVALID, "manifest shipping: folder, node, "
                   "cluster and bucket needed (and the store to prune); no "
                   "'/' around the prefix");
  if(!(s = calloc(1, sizeof(*s))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  s->o = *o;
  s->t = *o->target;
  s->dir = strdup(o->dir);
  s->bucket = strdup(o->bucket);
  s->prefix = strdup(o->prefix ? o->prefix : "");
  s->node = node_folder(o->node);
  if(!s->o.interval_ms)
    s->o.interval_ms = DEFAULT_INTERVAL_MS;
  if(!s->o.max_backoff_ms)
    s->o.max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  if(!s->dir || !s->bucket || !s->prefix || !s->node) {
    vs_ship_free(s);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  *out = s;
  return VS_OK;
}

int vs_ship_start(vs_ship *s, vs_err *err)
{
  int rc = pthread_create(&s->thread, NULL, ship_main, s);
  if(rc)
    return vs_fail_errno(err, rc, "manifest: start the shipping thread");
  s->thread_ok = 1;
  return VS_OK;
}

void vs_ship_stop(vs_ship *s)
{
  if(!s || !s->thread_ok)
    return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->thread_ok = 0;
}

void vs_ship_stats_get(vs_ship *s, vs_ship_stats *st)
{
  pthread_mutex_lock(&s->mu);
  *st = s->st;
  pthread_mutex_unlock(&s->mu);
}

void vs_ship_free(vs_ship *s)
{
  if(!s)
    return;
  vs_ship_stop(s);
  free_names(s->conflicts, s->n_conflicts);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s->dir);
  free(s->bucket);
  free(s->prefix);
  free(s->node);
  free(s);
}
