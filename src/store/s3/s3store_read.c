/* The S3 store's reads and removals: stat (HEAD), open (stat; the bytes
 * are not a local file), stream (a pipe a thread fills from a ranged
 * GetObject), remove (DeleteObject of one version), versions (the key's
 * ListObjectVersions entries). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/s3/s3store_int.h"
#include "util/log.h"

/* ---- HEAD --------------------------------------------------------------- */

/* One x-amz-meta-vsink-<name>:value line into info (or the token). */
static void take_meta(const char *name, size_t nlen, const char *val,
                      size_t vlen, vs_object_info *info, char *token)
{
#define IS(s) (nlen == sizeof(s) - 1 && !strncasecmp(name, s, nlen))
  if(IS("sha256") && vlen < sizeof(info->sha256))
    memcpy(info->sha256, val, vlen), info->sha256[vlen] = 0;
  else if(IS("md5") && vlen < sizeof(info->md5))
    memcpy(info->md5, val, vlen), info->md5[vlen] = 0;
  else if(IS("intent") && token && vlen == VS__S3S_TOKEN_LEN)
    memcpy(token, val, vlen), token[vlen] = 0;
  else if(IS("checksum")) {
    const char *c = memchr(val, ':', vlen);
    size_t alen = c ? (size_t)(c - val) : 0;
    if(c && alen < sizeof(info->checksum_alg) &&
       vlen - alen - 1 < sizeof(info->checksum)) {
      memcpy(info->checksum_alg, val, alen);
      info->checksum_alg[alen] = 0;
      memcpy(info->checksum, c + 1, vlen - alen - 1);
      info->checksum[vlen - alen - 1] = 0;
    }
  }
#undef IS
}

/* The store's own metadata out of info->headers into its fields. */
static void split_meta(vs_object_info *info, char *token)
{
  char *r = info->headers, *w = info->headers;
  size_t mlen = strlen(VS__S3S_META);
  info->sha256[0] = info->md5[0] = 0;
  info->checksum_alg[0] = info->checksum[0] = 0;
  while(*r) {
    char *nl = strchr(r, '\n'), *colon;
    size_t n = nl ? (size_t)(nl - r + 1) : strlen(r);
    colon = memchr(r, ':', n);
    if(colon && !strncasecmp(r, VS__S3S_META, mlen)) {
      size_t vlen = (size_t)(r + n - colon - 1) - (nl ? 1 : 0);
      take_meta(r + mlen, (size_t)(colon - r) - mlen, colon + 1, vlen, info,
                token);
    }
    else {
      memmove(w, r, n);
      w += n;
    }
    r += n;
  }
  *w = 0;
}

int vs__s3s_head(vs__s3s *s, const char *ckey, const char *vid,
                 vs_object_info *info, char token[VS__S3S_TOKEN_LEN + 1],
                 vs_err *err)
{
  const char *dash;
  int rc;
  if(token)
    token[0] = 0;
  memset(info, 0, sizeof(*info));
  if((rc = vs_s3_head_version(&s->t, s->bucket, ckey, vid, info, err)))
    return rc;
  split_meta(info, token);
  dash = strrchr(info->etag, '-');
  info->parts_count = dash ? (unsigned)strtoul(dash + 1, NULL, 10) : 0;
  return VS_OK;
}

int vs__s3s_stat(vs_store *st, const char *bucket, const char *key,
                 const char *vid, vs_object_info *info, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  vs_err inner;
  char *ckey;
  int rc = vs__s3s_ckey(s, bucket, key, &ckey, &inner), bad_vid = 0;
  if(!rc) {
    rc = vs__s3s_head(s, ckey, vid, info, NULL, &inner);
    free(ckey);
    bad_vid = rc == VS_ERR_INVALID && vid && *vid; /* the cluster's 400 */
  }
  /* a key too long to be stored, a malformed version id: no such object */
  if(rc == VS_ERR_TOOLARGE || bad_vid)
    return vs_fail(err, VS_ERR_NOTFOUND, "%s", inner.msg);
  if(rc && err)
    *err = inner;
  return rc;
}

int vs__s3s_open_obj(vs_store *st, const char *bucket, const char *key,
                     const char *vid, int *fd, vs_object_info *info,
                     vs_err *err)
{
  *fd = -1; /* the bytes come through stream */
  return vs__s3s_stat(st, bucket, key, vid, info, err);
}

/* ---- stream ------------------------------------------------------------- */

typedef struct stream_job {
  vs__s3s *s;
  char *ckey;
  char *vid;
  uint64_t off, len, sent;
  int wfd;
} stream_job;

/* Into the pipe; a reader gone (EPIPE: SIGPIPE is blocked in this thread)
 * or more than asked for (a store that ignored the Range) stops the
 * transfer, the latter once the asked-for bytes are in. */
static int to_pipe(void *ctx, const void *p, size_t n)
{
  stream_job *j = ctx;
  const char *c = p;
  int over = n > j->len - j->sent;
  if(over)
    n = (size_t)(j->len - j->sent);
  while(n) {
    ssize_t w = write(j->wfd, c, n);
    if(w < 0 && errno == EINTR)
      continue;
    if(w <= 0)
      return 1;
    c += w;
    n -= (size_t)w;
    j->sent += (uint64_t)w;
  }
  return over;
}

/* The GET is still read: a pipe whose read end is closed (the answer cut,
 * the client gone, the sink stopping) shows POLLERR on its write end, and
 * the transfer stops then rather than at the cluster's stall timeout. */
static int reader_here(void *ctx)
{
  stream_job *j = ctx;
  struct pollfd p = {j->wfd, 0, 0};
  return poll(&p, 1, 0) <= 0 || !(p.revents & POLLERR);
}

static void *stream_main(void *arg)
{
  stream_job *j = arg;
  vs__s3s *s = j->s;
  vs_s3_get_opts o = {0};
  vs_object_info *info = malloc(sizeof(*info));
  vs_err e;
  o.version_id = j->vid;
  o.range = 1;
  o.first = j->off;
  o.last = (int64_t)(j->off + j->len - 1);
  o.alive = reader_here;
  if(info && j->len &&
     vs_s3_get(&s->t, s->bucket, j->ckey, &o, to_pipe, j, info, &e) &&
     j->sent < j->len && e.code != VS_ERR_IO)
    vs_log("warn", "stream of %s: %s", j->ckey, e.msg);
  close(j->wfd); /* EOF: after len bytes, or early when the GET failed */
  free(info);
  free(j->ckey);
  free(j->vid);
  free(j);
  pthread_mutex_lock(&s->mu);
  s->streams--;
  pthread_cond_broadcast(&s->idle);
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* A detached thread for j, SIGPIPE blocked in it (it inherits the mask):
 * a write to a pipe whose reader closed then fails with EPIPE instead of
 * killing the process. */
static int start_stream(stream_job *j, vs_err *err)
{
  pthread_attr_t a;
  pthread_t th;
  sigset_t pipe_set, old;
  int e;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  pthread_mutex_lock(&j->s->mu);
  j->s->streams++;
  pthread_mutex_unlock(&j->s->mu);
  e = pthread_create(&th, &a, stream_main, j);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  if(!e)
    return VS_OK;
  pthread_mutex_lock(&j->s->mu);
  j->s->streams--;
  pthread_mutex_unlock(&j->s->mu);
  return vs_fail_errno(err, e, "start a stream thread");
}

int vs__s3s_stream(vs_store *st, const char *bucket, const char *key,
                   const char *vid, uint64_t off, uint64_t len, int *fd,
                   vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  stream_job *j = calloc(1, sizeof(*j));
  int p[2] = {-1, -1}, rc;
  *fd = -1;
  if(!j)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  j->s = s, j->off = off, j->len = len;
  if((rc = vs__s3s_ckey(s, bucket, key, &j->ckey, err)) ||
     (vid && *vid && !(j->vid = strdup(vid)) &&
      (rc = vs_fail(err, VS_ERR_NOMEM, "out of memory"))) ||
     (pipe2(p, O_CLOEXEC) && (rc = vs_fail_errno(err, errno, "pipe"))))
    goto fail;
  j->wfd = p[1];
  if((rc = start_stream(j, err)))
    goto fail;
  *fd = p[0];
  return VS_OK;
fail:
  if(p[0] >= 0)
    close(p[0]), close(p[1]);
  free(j->ckey);
  free(j->vid);
  free(j);
  return rc;
}

/* ---- versions ----------------------------------------------------------- */

void vs__s3s_entries_free(vs_s3_entry *e, size_t n)
{
  size_t i;
  for(i = 0; e && i < n; i++)
    free(e[i].key);
  free(e);
}

/* Appends pg's entries for ckey (keys sort: a later key ends it). */
static int take_page(vs_s3_list_page *pg, const char *ckey, vs_s3_entry **out,
                     size_t *n, size_t *cap, int *past, vs_err *err)
{
  size_t i;
  for(i = 0; i < pg->n; i++) {
    int c = strcmp(pg->entries[i].key, ckey);
    if(c > 0)
      *past = 1;
    if(c)
      continue;
    if(*n == *cap) {
      size_t nc = *cap ? *cap * 2 : 16;
      vs_s3_entry *g = realloc(*out, nc * sizeof(*g));
      if(!g)
        return vs_fail(err, VS_ERR_NOMEM, "out of memory");
      *out = g;
      *cap = nc;
    }
    (*out)[*n] = pg->entries[i];
    (*out)[(*n)++].key = NULL;
  }
  return VS_OK;
}

int vs__s3s_key_versions(vs__s3s *s, const char *ckey, vs_s3_entry **out,
                         size_t *n, vs_err *err)
{
  vs_s3_list_opts lo = {0};
  vs_s3_list_page pg;
  char *km = NULL, *vm = NULL;
  size_t cap = 0, i;
  int rc = VS_OK, past = 0, more = 1;
  *out = NULL;
  *n = 0;
  lo.prefix = ckey;
  while(!rc && more && !past) {
    lo.key_marker = km, lo.version_marker = vm;
    if((rc = vs_s3_list_versions(&s->t, s->bucket, &lo, &pg, err)))
      break;
    rc = take_page(&pg, ckey, out, n, &cap, &past, err);
    more = pg.truncated && pg.next_key_marker;
    free(km);
    free(vm);
    km = pg.next_key_marker, vm = pg.next_version_marker;
    pg.next_key_marker = pg.next_version_marker = NULL;
    vs_s3_list_page_free(&pg);
  }
  free(km);
  free(vm);
  if(rc) {
    vs__s3s_entries_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc;
  }
  for(i = 0; i < *n / 2; i++) { /* S3 lists newest first */
    vs_s3_entry t = (*out)[i];
    (*out)[i] = (*out)[*n - 1 - i];
    (*out)[*n - 1 - i] = t;
  }
  return VS_OK;
}

int vs__s3s_versions(vs_store *st, const char *bucket, const char *key,
                     char ***ids, size_t *n, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  vs_s3_entry *v = NULL;
  char *ckey;
  size_t nv = 0, i;
  int rc = vs__s3s_ckey(s, bucket, key, &ckey, err);
  *ids = NULL;
  *n = 0;
  if(rc || (rc = vs__s3s_key_versions(s, ckey, &v, &nv, err))) {
    free(ckey);
    return rc;
  }
  free(ckey);
  if(nv && !(*ids = calloc(nv, sizeof(**ids))))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; !rc && i < nv; i++)
    if(!((*ids)[i] = strdup(v[i].version_id)))
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  vs__s3s_entries_free(v, nv);
  if(rc) {
    for(i = 0; *ids && i < nv; i++)
      free((*ids)[i]);
    free(*ids);
    *ids = NULL;
    return rc;
  }
  *n = nv;
  return VS_OK;
}

/* ---- remove ------------------------------------------------------------- */

int vs__s3s_remove(vs_store *st, const char *bucket, const char *key,
                   const char *vid, vs_err *err)
{
  vs__s3s *s = (vs__s3s *)st;
  vs_s3_entry *v = NULL;
  char *ckey;
  size_t nv = 0, i;
  int rc, found = 0;
  if(!vid || !*vid)
    return vs_fail(err, VS_ERR_NOTFOUND, "no version named");
  if((rc = vs__s3s_ckey(s, bucket, key, &ckey, err)))
    return rc;
  /* DeleteObject of a version that is not there succeeds: look first */
  if(!(rc = vs__s3s_key_versions(s, ckey, &v, &nv, err))) {
    for(i = 0; i < nv; i++)
      found |= !strcmp(v[i].version_id, vid);
    vs__s3s_entries_free(v, nv);
    if(!found)
      rc = vs_fail(err, VS_ERR_NOTFOUND, "%s/%s has no version %s", bucket,
                   key, vid);
  }
  if(!rc) {
    vs__s3s_held hold;
    vs__s3s_hold(s, &hold, ckey);
    rc = vs__s3s_pass_on(s, bucket, key, vid, err);
    if(!rc)
      rc = vs_s3_delete(&s->t, s->bucket, ckey, vid, NULL, err);
    vs__s3s_release(s, &hold);
  }
  free(ckey);
  if(rc)
    return rc;
  return vs__s3s_intent_forget(s, bucket, key, vid, err);
}
