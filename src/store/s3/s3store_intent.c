/* The S3 store's intents (see vs_store_ops): one small file per commit in
 * state_dir/intent/, named by a random token that the object also carries
 * as x-amz-meta-vsink-intent. It is durable before the write can become
 * visible; the version id joins it once the cluster answered. A crash
 * between the two leaves an intent without a version id: intents() then
 * finds the version carrying the token among the key's versions, or drops
 * the intent (and aborts its multipart upload) when none landed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "store/s3/s3store_int.h"
#include "util/fs.h"
#include "util/log.h"

#define MAGIC "vsink-s3-intent 1"
#define FILE_MAX (4 * VS_KEY_MAX + 1024)
/* The cluster's clock may lag the node's by this much: a version made
 * this long before the intent may still be its commit's. */
#define SKEW_MS 5000

int vs__s3s_token(char out[VS__S3S_TOKEN_LEN + 1], vs_err *err)
{
  unsigned char r[VS__S3S_TOKEN_LEN / 2];
  size_t i;
  int rc = vs_random(r, sizeof(r), err);
  if(rc)
    return rc;
  for(i = 0; i < sizeof(r); i++)
    sprintf(out + 2 * i, "%02x", r[i]);
  return VS_OK;
}

static const char *dash(const char *s)
{
  return *s ? s : "-";
}

static int format(const vs__s3s_intent *it, vs_buf *b)
{
  const unsigned char *k = (const unsigned char *)it->key;
  vs_buf_addf(b, MAGIC "\npid %ld\nmade %lld\nmarker %d\nversion %s\n"
              "replaces %s\nupload %s\nbucket %s\nkey ", it->pid,
              (long long)it->made_ms, it->marker, dash(it->version_id),
              dash(it->replaces), dash(it->upload_id), it->bucket);
  for(; *k; k++)
    vs_buf_addf(b, "%02x", *k);
  vs_buf_addf(b, "\ntoken %s\n", it->token);
  return b->failed ? -1 : 0;
}

int vs__s3s_intent_put(vs__s3s *s, const vs__s3s_intent *it, int sync,
                       vs_err *err)
{
  char tmp[4096], path[4096];
  vs_buf b = VS_BUF_INIT;
  int fd, rc;
  snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", s->idir, it->name);
  snprintf(path, sizeof(path), "%s/%s", s->idir, it->name);
  if(format(it, &b)) {
    vs_buf_free(&b);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if(fd < 0) {
    vs_buf_free(&b);
    return vs_fail_errno(err, errno, "create intent %s", tmp);
  }
  rc = vs_write_all(fd, b.data, b.len, err);
  vs_buf_free(&b);
  if(!rc && fsync(fd))
    rc = vs_fail_errno(err, errno, "fsync intent %s", tmp);
  close(fd);
  if(!rc && rename(tmp, path))
    rc = vs_fail_errno(err, errno, "rename intent to %s", path);
  if(rc)
    unlink(tmp);
  /* without the directory's fsync a crash may lose only the rename of an
   * update, which leaves the older intent: it is looked up by name */
  if(!rc && sync)
    rc = vs_fsync_dir(s->idir, err);
  return rc;
}

void vs__s3s_intent_drop(vs__s3s *s, const char *name)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", s->idir, name);
  if(unlink(path) && errno != ENOENT)
    vs_log("warn", "remove intent %s: %s", path, strerror(errno));
}

static int unhex_key(const char *h, char *out, size_t cap)
{
  size_t n = strlen(h), i;
  if(n % 2 || n / 2 >= cap)
    return -1;
  for(i = 0; i < n / 2; i++) {
    unsigned v;
    if(sscanf(h + 2 * i, "%2x", &v) != 1 || !v)
      return -1;
    out[i] = (char)v;
  }
  out[n / 2] = 0;
  return 0;
}

static void undash(char *s)
{
  if(!strcmp(s, "-"))
    *s = 0;
}

int vs__s3s_intent_attempt(const vs__s3s_intent *it)
{
  return strcmp(it->name, it->token) != 0;
}

/* The intent file name into *it: 0, -1 not one of ours. Intents written
 * before the token line was added are named by their token. */
static int intent_read(vs__s3s *s, const char *name, vs__s3s_intent *it)
{
  char path[4096], *text = NULL, khex[2 * VS_KEY_MAX + 2];
  size_t len;
  long long made;
  vs_err e;
  int n;
  if(strlen(name) != VS__S3S_TOKEN_LEN)
    return -1;
  snprintf(path, sizeof(path), "%s/%s", s->idir, name);
  if(vs_read_file(path, FILE_MAX, &text, &len, &e))
    return -1;
  memset(it, 0, sizeof(*it));
  n = sscanf(text, MAGIC "\npid %ld\nmade %lld\nmarker %d\nversion %47s\n"
             "replaces %47s\nupload %255s\nbucket %63s\nkey %2049s\n"
             "token %32s", &it->pid, &made, &it->marker, it->version_id,
             it->replaces, it->upload_id, it->bucket, khex, it->token);
  free(text);
  if(n < 8 || unhex_key(khex, it->key, sizeof(it->key)) ||
     (n == 9 && strlen(it->token) != VS__S3S_TOKEN_LEN))
    return -1;
  it->made_ms = made;
  undash(it->version_id);
  undash(it->replaces);
  undash(it->upload_id);
  memcpy(it->name, name, VS__S3S_TOKEN_LEN + 1);
  if(n == 8)
    memcpy(it->token, name, VS__S3S_TOKEN_LEN + 1);
  return 0;
}

typedef int (*intent_fn)(vs__s3s *s, vs__s3s_intent *it, void *ctx,
                         vs_err *err);

/* The intent names in the directory (*names malloc'd, each one too): read
 * whole before any is acted on, as acting renames and removes them. */
static int intent_names(vs__s3s *s, char ***names, size_t *n, vs_err *err)
{
  DIR *d = opendir(s->idir);
  struct dirent *e;
  size_t cap = 0;
  int rc = VS_OK;
  *names = NULL;
  *n = 0;
  if(!d)
    return vs_fail_errno(err, errno, "open %s", s->idir);
  while(!rc && (e = readdir(d))) {
    if(e->d_name[0] == '.')
      continue;
    if(*n == cap) {
      char **g = realloc(*names, (cap = cap ? cap * 2 : 16) * sizeof(*g));
      if(!g) {
        rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
        break;
      }
      *names = g;
    }
    if(!((*names)[*n] = strdup(e->d_name)))
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    else
      (*n)++;
  }
  closedir(d);
  return rc;
}

/* fn on every intent in the directory, until it fails. */
static int each_intent(vs__s3s *s, intent_fn fn, void *ctx, vs_err *err)
{
  vs__s3s_intent *it = malloc(sizeof(*it));
  char **names = NULL;
  size_t n = 0, i;
  int rc = it ? intent_names(s, &names, &n, err)
              : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; !rc && i < n; i++) {
    if(intent_read(s, names[i], it))
      vs_log("warn", "%s/%s is not an intent of this store; left alone",
             s->idir, names[i]);
    else
      rc = fn(s, it, ctx, err);
  }
  for(i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(it);
  return rc;
}

/* ---- a chain of deferred overwrites --------------------------------------- */

typedef struct chain_ctx {
  const vs__s3s_intent *self; /* claimed: the intent asking */
  const char *bucket, *key, *vid;
  char to[VS_S3_VERSION_MAX]; /* pass_on: what vid replaced */
} chain_ctx;

static int same_key(const vs__s3s_intent *it, const char *bucket,
                    const char *key)
{
  return !strcmp(it->bucket, bucket) && !strcmp(it->key, key);
}

static int claims(vs__s3s *s, vs__s3s_intent *it, void *ctx, vs_err *err)
{
  chain_ctx *c = ctx;
  (void)s;
  (void)err;
  return same_key(it, c->bucket, c->key) &&
         strcmp(it->name, c->self->name) &&
         !strcmp(it->replaces, c->self->replaces)
           ? -1 /* found: stop */
           : VS_OK;
}

/* -1 when an intent other than self replaces what self replaces, VS_OK
 * when none does, or an error. */
static int claimed(vs__s3s *s, const vs__s3s_intent *self, vs_err *err)
{
  chain_ctx c = {self, self->bucket, self->key, NULL, ""};
  return each_intent(s, claims, &c, err);
}

static int replaced_by(vs__s3s *s, vs__s3s_intent *it, void *ctx,
                       vs_err *err)
{
  chain_ctx *c = ctx;
  (void)s;
  (void)err;
  if(same_key(it, c->bucket, c->key) && !strcmp(it->version_id, c->vid))
    snprintf(c->to, sizeof(c->to), "%s", it->replaces);
  return VS_OK;
}

static int pass_one(vs__s3s *s, vs__s3s_intent *it, void *ctx, vs_err *err)
{
  chain_ctx *c = ctx;
  if(!same_key(it, c->bucket, c->key) || strcmp(it->replaces, c->vid))
    return VS_OK;
  snprintf(it->replaces, sizeof(it->replaces), "%s", c->to);
  return vs__s3s_intent_put(s, it, 1, err);
}

int vs__s3s_pass_on(vs__s3s *s, const char *bucket, const char *key,
                    const char *vid, vs_err *err)
{
  chain_ctx c = {NULL, bucket, key, vid, ""};
  int rc = each_intent(s, replaced_by, &c, err);
  if(rc || !c.to[0])
    return rc; /* settled, or replaced nothing */
  return each_intent(s, pass_one, &c, err);
}

/* ---- settle ------------------------------------------------------------- */

typedef struct settle_ctx {
  const char *bucket, *key, *vid;
  int keep_replaced;
} settle_ctx;

static int settle_one(vs__s3s *s, vs__s3s_intent *it, void *ctx, vs_err *err)
{
  settle_ctx *c = ctx;
  char *ckey;
  int rc = VS_OK;
  if(strcmp(it->bucket, c->bucket) || strcmp(it->key, c->key) ||
     strcmp(it->version_id, c->vid))
    return VS_OK;
  /* a deferred overwrite: the old version goes now, unless another intent
   * took it over (a crash in vs__s3s_remove after vs__s3s_pass_on) */
  if(it->replaces[0] && !c->keep_replaced)
    rc = claimed(s, it, err);
  if(it->replaces[0] && !c->keep_replaced && !rc) {
    if((rc = vs__s3s_ckey(s, it->bucket, it->key, &ckey, err)))
      return rc;
    rc = vs_s3_delete(&s->t, s->bucket, ckey, it->replaces, NULL, err);
    free(ckey);
  }
  if(rc > 0)
    return rc;
  vs__s3s_intent_drop(s, it->name);
  return VS_OK;
}

int vs__s3s_settle(vs_store *st, const char *bucket, const char *key,
                   const char *vid, vs_err *err)
{
  settle_ctx c = {bucket, key, vid, 0};
  if(!bucket || !key || !vid || !*vid)
    return VS_OK;
  return each_intent((vs__s3s *)st, settle_one, &c, err);
}

int vs__s3s_intent_forget(vs__s3s *s, const char *bucket, const char *key,
                          const char *vid, vs_err *err)
{
  settle_ctx c = {bucket, key, vid, 1};
  return each_intent(s, settle_one, &c, err);
}

/* ---- intents after a crash ---------------------------------------------- */

/* The version the intent's commit made, if one landed: a marker made
 * since the intent (a marker carries no metadata: the oldest one), else
 * the version whose metadata carries the token. */
static int find_version(vs__s3s *s, vs__s3s_intent *it, vs_err *err)
{
  vs_s3_entry *v;
  vs_object_info *info = malloc(sizeof(*info));
  char token[VS__S3S_TOKEN_LEN + 1], *ckey = NULL;
  size_t n = 0, i;
  int rc;
  if(!info)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if((rc = vs__s3s_ckey(s, it->bucket, it->key, &ckey, err)) ||
     (rc = vs__s3s_key_versions(s, ckey, &v, &n, err))) {
    free(ckey);
    free(info);
    return rc;
  }
  for(i = 0; !rc && i < n && !it->version_id[0]; i++) {
    /* a client's upload: its token is the upload's alone, and AWS dates
     * the object by the upload's Create, made before the intent */
    if((v[i].mtime_ms < it->made_ms - SKEW_MS &&
        !vs__s3s_intent_attempt(it)) || v[i].delete_marker != it->marker)
      continue;
    if(!it->marker) {
      rc = vs__s3s_head(s, ckey, v[i].version_id, info, token, err);
      if(rc == VS_ERR_NOTFOUND) /* removed meanwhile */
        rc = VS_OK;
      if(rc || strcmp(token, it->token))
        continue;
    }
    snprintf(it->version_id, sizeof(it->version_id), "%s", v[i].version_id);
  }
  vs__s3s_entries_free(v, n);
  free(info);
  free(ckey);
  return rc;
}

typedef struct list_ctx {
  vs_store_intent *list;
  size_t n, cap;
} list_ctx;

static int push(list_ctx *l, const vs__s3s_intent *it, vs_err *err)
{
  vs_store_intent *o;
  if(l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 8;
    vs_store_intent *g = realloc(l->list, nc * sizeof(*g));
    if(!g)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory listing intents");
    l->list = g;
    l->cap = nc;
  }
  o = &l->list[l->n++];
  memset(o, 0, sizeof(*o));
  snprintf(o->bucket, sizeof(o->bucket), "%s", it->bucket);
  snprintf(o->key, sizeof(o->key), "%s", it->key);
  snprintf(o->version_id, sizeof(o->version_id), "%s", it->version_id);
  o->pid = it->pid;
  o->mtime_ms = it->made_ms;
  return VS_OK;
}

/* A found version may be removed only if this intent's commit made it.
 * A client's Complete attempt shares its token with every other attempt
 * of the upload (the token is fixed at Create), so the version the token
 * finds is this attempt's only while the upload's journal still names it:
 * a later attempt, through this node or another, renames it, and one that
 * completed and recorded the object drops the journal; that version is not
 * ours to remove. One whose id the cluster answered is ours in any case. */
static int mine(vs__s3s *s, vs__s3s_intent *it, int *ours, vs_err *err)
{
  *ours = 1;
  if(it->version_id[0] || !vs__s3s_intent_attempt(it))
    return VS_OK;
  return vs__s3s_mpu_ours(s, it, ours, err);
}

/* An upload left by a commit that made no version: aborted, so that it
 * cannot complete later. A client's upload stays for its retries (S3
 * keeps an upload whose Complete failed); its journal's expiry ends it. */
static void abort_leftover(vs__s3s *s, const vs__s3s_intent *it)
{
  char *ckey;
  vs_err e;
  if(!it->upload_id[0] || it->marker || vs__s3s_intent_attempt(it) ||
     vs__s3s_ckey(s, it->bucket, it->key, &ckey, &e))
    return;
  if(vs_s3_mpu_abort(&s->t, s->bucket, ckey, it->upload_id, &e) &&
     e.code != VS_ERR_NOTFOUND)
    vs_log("warn", "abort leftover upload of %s: %s", ckey, e.msg);
  free(ckey);
}

static int intent_one(vs__s3s *s, vs__s3s_intent *it, void *ctx, vs_err *err)
{
  vs_err e;
  int rc, ours;
  if(!it->version_id[0]) {
    if(it->pid == (long)getpid()) /* a commit of ours, in flight */
      return VS_OK;
    if((rc = mine(s, it, &ours, err)) ||
       (ours && (rc = find_version(s, it, err))))
      return rc;
    if(!it->version_id[0]) { /* nothing landed, or not by this commit */
      if(ours)
        abort_leftover(s, it);
      vs__s3s_intent_drop(s, it->name);
      return VS_OK;
    }
    if(vs__s3s_intent_put(s, it, 0, &e))
      vs_log("warn", "update intent %s: %s", it->name, e.msg);
  }
  return push(ctx, it, err);
}

static int oldest(vs__s3s *s, vs__s3s_intent *it, void *ctx, vs_err *err)
{
  int64_t *made = ctx;
  (void)s;
  (void)err;
  if(it->made_ms < *made)
    *made = it->made_ms;
  return VS_OK;
}

int vs__s3s_oldest_intent(vs_store *st, int64_t *made_ms, vs_err *err)
{
  *made_ms = INT64_MAX;
  return each_intent((vs__s3s *)st, oldest, made_ms, err);
}

static int cmp_intent(const void *a, const void *b)
{
  const vs_store_intent *x = a, *y = b;
  return x->mtime_ms < y->mtime_ms ? -1 : x->mtime_ms > y->mtime_ms;
}

int vs__s3s_intents(vs_store *st, vs_store_intent **list, size_t *n,
                    vs_err *err)
{
  list_ctx l = {0};
  int rc = each_intent((vs__s3s *)st, intent_one, &l, err);
  if(rc) {
    free(l.list);
    return rc;
  }
  if(l.n > 1)
    qsort(l.list, l.n, sizeof(*l.list), cmp_intent);
  *list = l.list;
  *n = l.n;
  return VS_OK;
}

/* ---- commits that ended not knowing what landed -------------------------
 * A commit that failed because the cluster did not answer leaves its
 * intent with pid 0 (s3store_put.c): its version may have landed, and it
 * has no stored event, since the commit failed. While the sink runs, the
 * cleaner retries such intents every CLEAN_EVERY_MS once one was made:
 * a version that landed is deleted, a leftover upload aborted, and the
 * intent dropped; while the cluster still does not answer it stays. (At
 * start, intents() hands the earlier runs' ones to the sink's
 * reconciliation instead.) */
#define CLEAN_EVERY_MS 2000

static int clean_one(vs__s3s *s, vs__s3s_intent *it, void *ctx, vs_err *err)
{
  char *ckey;
  int rc, ours;
  (void)ctx;
  if(it->pid != 0)
    return VS_OK;
  if((rc = mine(s, it, &ours, err)) ||
     (ours && !it->version_id[0] && (rc = find_version(s, it, err))))
    return rc;
  if(ours && !it->version_id[0]) {
    rc = VS_OK;
    if(it->upload_id[0] && !vs__s3s_intent_attempt(it) &&
       !(rc = vs__s3s_ckey(s, it->bucket, it->key, &ckey, err))) {
      rc = vs_s3_mpu_abort(&s->t, s->bucket, ckey, it->upload_id, err);
      free(ckey);
      if(rc == VS_ERR_NOTFOUND)
        rc = VS_OK;
    }
  }
  else if(ours && !(rc = vs__s3s_ckey(s, it->bucket, it->key, &ckey, err))) {
    rc = vs_s3_delete(&s->t, s->bucket, ckey, it->version_id, NULL, err);
    if(!rc)
      vs_log("warn", "removed %s/%s version %s: its commit failed while the "
             "cluster did not answer, and it landed", it->bucket, it->key,
             it->version_id);
    free(ckey);
  }
  if(!rc)
    vs__s3s_intent_drop(s, it->name);
  return rc;
}

static void *cleaner_main(void *arg)
{
  vs__s3s *s = arg;
  vs_err err;
  pthread_mutex_lock(&s->mu);
  while(!s->stopping) {
    struct timespec ts;
    if(s->ended) {
      s->ended = 0;
      pthread_mutex_unlock(&s->mu);
      if(each_intent(s, clean_one, NULL, &err)) {
        vs_log("warn", "intents of failed commits: %s (retried)", err.msg);
        pthread_mutex_lock(&s->mu);
        s->ended = 1;
      }
      else
        pthread_mutex_lock(&s->mu);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += CLEAN_EVERY_MS / 1000;
    pthread_cond_timedwait(&s->clean, &s->mu, &ts);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

void vs__s3s_ended(vs__s3s *s)
{
  pthread_mutex_lock(&s->mu);
  s->ended = 1;
  if(!s->cleaner_running &&
     !pthread_create(&s->cleaner, NULL, cleaner_main, s))
    s->cleaner_running = 1;
  pthread_mutex_unlock(&s->mu);
}

/* No last pass: a cluster that does not answer would hold the stop up
 * by its timeouts, and the next start's reconciliation takes what is left
 * (intents() hands pid 0 intents to it). */
void vs__s3s_cleaner_stop(vs__s3s *s)
{
  pthread_mutex_lock(&s->mu);
  pthread_cond_broadcast(&s->clean);
  pthread_mutex_unlock(&s->mu);
  if(s->cleaner_running)
    pthread_join(s->cleaner, NULL);
  s->cleaner_running = 0;
  if(s->ended)
    vs_log("warn", "intents of failed commits left for the next start's "
           "reconciliation");
}
