/* verify: every object the manifest says was stored, read back from the
 * store and hashed again. The list is gathered first (stored events only,
 * one entry per bucket/key/versionId, less the versions a `purged` event
 * removed for good), sorted so that reads walk the data folder in order,
 * then checked on opts.jobs threads, each streaming its object through one
 * fixed buffer: memory does not grow with object size.
 *
 * A delete marker changes nothing here: the versions under it are kept
 * and still read by versionId, so damage to them is found before anyone
 * restores one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/enc.h"
#include "util/json.h"
#include "vsink/manifest.h"
#include "vsink/report.h"
#include "vsink/store.h"

#define DEFAULT_READ (1u << 20)
#define MAX_JOBS 64

typedef struct vobj {
  char *bucket, *key, *vid; /* one allocation, bucket first */
  char sha[65];
  uint64_t bytes;
} vobj;

typedef struct vlist {
  vobj *v;
  size_t n, cap;
  vs_verify_stats *st;
  int nomem;
  struct vlist *purged; /* the versions purged events name */
} vlist;

static const char *str_field(const cJSON *j, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_sha(const char *s)
{
  size_t i;
  for(i = 0; s && i < 64; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return s && !s[64];
}

static int push(vlist *l, const char *b, const char *k, const char *v,
                const char *sha, uint64_t bytes)
{
  size_t nb = strlen(b) + 1, nk = strlen(k) + 1, nv = strlen(v) + 1;
  vobj *o;
  if(l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    vobj *grown = realloc(l->v, cap * sizeof(*grown));
    if(!grown)
      return -1;
    l->v = grown;
    l->cap = cap;
  }
  o = &l->v[l->n];
  if(!(o->bucket = malloc(nb + nk + nv)))
    return -1;
  memcpy(o->bucket, b, nb);
  o->key = o->bucket + nb;
  memcpy(o->key, k, nk);
  o->vid = o->key + nk;
  memcpy(o->vid, v, nv);
  memcpy(o->sha, sha, 65);
  o->bytes = bytes;
  l->n++;
  return 0;
}

/* A purged event: that version is meant to be gone. */
static int on_purged(vlist *l, const char *line, size_t len)
{
  static const char nosha[65] = "";
  cJSON *j = vs_json_parse(line, len);
  const char *b = str_field(j, "bucket"), *k = str_field(j, "key");
  const char *v = str_field(j, "versionId");
  int rc = 0;
  if(!j || !b || !k || !v)
    l->st->malformed++;
  else if(push(l->purged, b, k, v, nosha, 0)) {
    l->nomem = 1;
    rc = VS_ERR_NOMEM;
  }
  cJSON_Delete(j);
  return rc;
}

/* A stored event of a local object into the list; anything else ignored
 * (verified, result, ... events) or counted (malformed, skipped). */
static int on_line(void *ctx, const char *line, size_t len)
{
  vlist *l = ctx;
  const char *b, *k, *v, *sha, *src;
  int64_t bytes;
  cJSON *j;
  /* Writers put the event name in the first few bytes: most lines (results,
   * submissions) are passed over without a parse. */
  if(memmem(line, len < 64 ? len : 64, "\"event\":\"purged\"", 16))
    return on_purged(l, line, len);
  if(!memmem(line, len < 64 ? len : 64, "\"event\":\"stored\"", 16))
    return 0;
  j = vs_json_parse(line, len);
  b = str_field(j, "bucket");
  k = str_field(j, "key");
  v = str_field(j, "versionId");
  sha = str_field(j, "sha256");
  src = str_field(j, "source");
  if(!j || !b || !k ||
     vs_json_int64(cJSON_GetObjectItemCaseSensitive(j, "bytes"), 0,
                   INT64_MAX, &bytes))
    l->st->malformed++;
  else if((src && !strcmp(src, "head")) || !is_sha(sha))
    l->st->skipped++; /* a HEAD of a bucket: no bytes of ours to read */
  else if(push(l, b, k, v ? v : "", sha, (uint64_t)bytes)) {
    l->nomem = 1;
    cJSON_Delete(j);
    return VS_ERR_NOMEM;
  }
  cJSON_Delete(j);
  return 0;
}

static void on_torn(void *ctx, const char *segment, uint64_t offset,
                    size_t len)
{
  (void)segment;
  (void)offset;
  (void)len;
  ((vlist *)ctx)->st->torn++;
}

static int obj_cmp(const void *a, const void *b)
{
  const vobj *x = a, *y = b;
  int c = strcmp(x->bucket, y->bucket);
  if(!c)
    c = strcmp(x->key, y->key);
  return c ? c : strcmp(x->vid, y->vid);
}

static void list_free(vlist *l)
{
  size_t i;
  for(i = 0; i < l->n; i++)
    free(l->v[i].bucket);
  free(l->v);
}

/* Each object once: the first stored event of it is the one compared. */
static void dedupe(vlist *l)
{
  size_t i, o = 0;
  if(l->n)
    qsort(l->v, l->n, sizeof(*l->v), obj_cmp);
  for(i = 0; i < l->n; i++) {
    if(o && !obj_cmp(&l->v[o - 1], &l->v[i])) {
      free(l->v[i].bucket);
      l->st->duplicates++;
      continue;
    }
    l->v[o++] = l->v[i];
  }
  l->n = o;
}

/* Purged versions leave the list, counted: nothing of theirs to read. */
static void drop_purged(vlist *l)
{
  vlist *p = l->purged;
  size_t i, o = 0, k = 0;
  if(p->n)
    qsort(p->v, p->n, sizeof(*p->v), obj_cmp);
  for(i = 0; i < l->n; i++) {
    int c = 1;
    while(k < p->n && (c = obj_cmp(&p->v[k], &l->v[i])) < 0)
      k++;
    if(k < p->n && !c) {
      free(l->v[i].bucket);
      l->st->purged++;
      continue;
    }
    l->v[o++] = l->v[i];
  }
  l->n = o;
}

static int gather(const char *dir, vlist *l, vs_err *err)
{
  vs_manifest_segment *segs = NULL;
  size_t n = 0, i;
  int rc = vs_manifest_list(dir, &segs, &n, err);
  for(i = 0; !rc && i < n; i++) {
    rc = vs_manifest_read_segment(&segs[i], on_line, on_torn, l, err);
    if(rc && l->nomem)
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory listing objects");
  }
  vs_manifest_list_free(segs, n);
  if(!rc) {
    dedupe(l);
    drop_purged(l);
  }
  return rc;
}

/* ---- checking ------------------------------------------------------------ */
typedef struct vrun {
  const vs_verify_opts *o;
  vlist *l;
  size_t next;
  uint64_t done, bytes;
  int failed;
  vs_err err;
  pthread_mutex_t mu;
} vrun;

static void set_problem(vs_verify_item *it, const char *problem,
                        const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void set_problem(vs_verify_item *it, const char *problem,
                        const char *fmt, ...)
{
  va_list ap;
  it->ok = 0;
  it->problem = problem;
  va_start(ap, fmt);
  vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
  va_end(ap);
}

/* Streams fd through SHA-256. -1 with errno on a read error. */
static int hash_fd(int fd, unsigned char *buf, size_t cap, EVP_MD_CTX *md,
                   vs_verify_item *it)
{
  unsigned char dig[32];
  unsigned int dl = 0;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  for(;;) {
    ssize_t r = read(fd, buf, cap);
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0)
      return -1;
    if(!r)
      break;
    EVP_DigestUpdate(md, buf, (size_t)r);
    it->bytes_read += (uint64_t)r;
  }
  EVP_DigestFinal_ex(md, dig, &dl);
  vs_hex(dig, 32, it->sha256);
  return 0;
}

/* The store refuses to open data whose size differs from its own
 * metadata (VS_ERR_IO with no errno): the bytes were cut or padded. */
static void open_failed(vrun *ru, const vobj *ob, vs_verify_item *it,
                        int rc, const vs_err *e)
{
  vs_object_info info;
  vs_err e2 = {0};
  if(rc == VS_ERR_NOTFOUND)
    set_problem(it, "missing-object", "%s", e->msg);
  else if(rc == VS_ERR_IO && !e->sys_errno &&
          !vs_store_stat(ru->o->store, ob->bucket, ob->key, ob->vid, &info,
                         &e2))
    set_problem(it, "size-mismatch", "%s", e->msg);
  else
    set_problem(it, "read-error", "%s", e->msg);
}

static void check_one(vrun *ru, const vobj *ob, unsigned char *buf,
                      size_t cap, EVP_MD_CTX *md, vs_verify_item *it)
{
  vs_err e = {0};
  vs_object_info *info = malloc(sizeof(*info));
  int fd = -1, rc, streamed = 0;
  uint64_t len = 0;
  memset(it, 0, sizeof(*it));
  it->bucket = ob->bucket;
  it->key = ob->key;
  it->version_id = ob->vid;
  it->bytes_expected = ob->bytes;
  it->sha256_expected = ob->sha;
  it->ok = 1;
  rc = info ? vs_store_open(ru->o->store, ob->bucket, ob->key, ob->vid, &fd,
                            info, &e)
            : vs_fail(&e, VS_ERR_NOMEM, "out of memory");
  /* a store without local files (S3) streams the version it found */
  if(!rc && fd < 0) {
    streamed = 1;
    len = info->bytes;
    rc = vs_store_stream(ru->o->store, ob->bucket, ob->key, ob->vid, 0,
                         len, &fd, &e);
  }
  free(info);
  if(rc) {
    open_failed(ru, ob, it, rc, &e);
    return;
  }
  if(hash_fd(fd, buf, cap, md, it))
    set_problem(it, "read-error", "reading %s/%s version %s: %s", ob->bucket,
                ob->key, ob->vid, strerror(errno));
  else if(streamed && it->bytes_read < len) /* a transfer that failed */
    set_problem(it, "read-error", "reading %s/%s version %s: the store's "
                "stream ended after %" PRIu64 " of %" PRIu64 " bytes",
                ob->bucket, ob->key, ob->vid, it->bytes_read, len);
  else if(it->bytes_read != ob->bytes)
    set_problem(it, "size-mismatch", "%" PRIu64 " bytes, the manifest "
                "records %" PRIu64, it->bytes_read, ob->bytes);
  else if(strcmp(it->sha256, ob->sha))
    set_problem(it, "checksum-mismatch", "SHA-256 %s, the manifest "
                "records %s", it->sha256, ob->sha);
  close(fd);
}

static cJSON *event_of(const vs_verify_item *it)
{
  cJSON *f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "bucket", it->bucket);
  cJSON_AddStringToObject(f, "key", it->key);
  cJSON_AddStringToObject(f, "versionId", it->version_id);
  cJSON_AddBoolToObject(f, "ok", it->ok);
  if(it->sha256[0])
    cJSON_AddStringToObject(f, "sha256", it->sha256);
  cJSON_AddNumberToObject(f, "bytes", (double)it->bytes_read);
  if(it->problem) {
    cJSON_AddStringToObject(f, "problem", it->problem);
    cJSON_AddStringToObject(f, "detail", it->detail);
  }
  return f;
}

static void count(vs_verify_stats *st, const vs_verify_item *it)
{
  st->objects++;
  st->bytes += it->bytes_read;
  if(it->ok) {
    st->ok++;
    return;
  }
  st->problems++;
  if(!strcmp(it->problem, "missing-object"))
    st->missing++;
  else if(!strcmp(it->problem, "size-mismatch"))
    st->size_mismatch++;
  else if(!strcmp(it->problem, "checksum-mismatch"))
    st->checksum_mismatch++;
  else
    st->read_errors++;
}

/* Records the verdict: the event first (durable), then the count and the
 * caller's callback, so that what is printed was written. */
static int record(vrun *ru, const vs_verify_item *it)
{
  vs_err e = {0};
  int rc = 0;
  if(ru->o->events) {
    cJSON *f = event_of(it);
    rc = f ? vs_manifest_append(ru->o->events, "verified", f, &e)
           : vs_fail(&e, VS_ERR_NOMEM, "out of memory writing an event");
    cJSON_Delete(f);
  }
  pthread_mutex_lock(&ru->mu);
  if(rc && !ru->failed) {
    ru->failed = 1;
    ru->err = e;
  }
  if(!rc) {
    count(ru->l->st, it);
    ru->done++;
    ru->bytes += it->bytes_read;
    if(ru->o->on_item)
      ru->o->on_item(ru->o->ctx, it, ru->done, ru->l->n, ru->bytes);
  }
  pthread_mutex_unlock(&ru->mu);
  return rc;
}

static void *worker(void *arg)
{
  vrun *ru = arg;
  size_t cap = ru->o->read_size ? ru->o->read_size : DEFAULT_READ;
  unsigned char *buf = malloc(cap);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  vs_verify_item it;
  if(!buf || !md) {
    pthread_mutex_lock(&ru->mu);
    if(!ru->failed)
      ru->failed = vs_fail(&ru->err, VS_ERR_NOMEM, "out of memory for a "
                           "read buffer of %zu bytes", cap);
    pthread_mutex_unlock(&ru->mu);
  }
  while(buf && md) {
    size_t i;
    pthread_mutex_lock(&ru->mu);
    i = ru->failed ? ru->l->n : ru->next++;
    pthread_mutex_unlock(&ru->mu);
    if(i >= ru->l->n)
      break;
    check_one(ru, &ru->l->v[i], buf, cap, md, &it);
    if(record(ru, &it))
      break;
  }
  EVP_MD_CTX_free(md);
  free(buf);
  return NULL;
}

static int run(vrun *ru, int jobs, vs_err *err)
{
  pthread_t th[MAX_JOBS];
  int i, started = 0;
  for(i = 0; i < jobs; i++) {
    if(pthread_create(&th[i], NULL, worker, ru))
      break;
    started++;
  }
  if(!started)
    worker(ru); /* no thread to be had: check here */
  for(i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  if(ru->failed) {
    if(err)
      *err = ru->err;
    return ru->err.code ? ru->err.code : VS_ERR_IO;
  }
  return VS_OK;
}

int vs_report_verify(const vs_verify_opts *o, vs_verify_stats *st,
                     vs_err *err)
{
  vlist l = {0}, purged = {0};
  vrun ru;
  int jobs, rc;
  memset(st, 0, sizeof(*st));
  if(!o || !o->manifest_dir || !o->store)
    return vs_fail(err, VS_ERR_INVALID, "verify needs a manifest and a "
                   "store");
  jobs = o->jobs > 0 ? o->jobs : 1;
  if(jobs > MAX_JOBS)
    return vs_fail(err, VS_ERR_INVALID, "jobs %d: at most %d", jobs,
                   MAX_JOBS);
  l.st = purged.st = st;
  l.purged = &purged;
  rc = gather(o->manifest_dir, &l, err);
  if(!rc) {
    memset(&ru, 0, sizeof(ru));
    ru.o = o;
    ru.l = &l;
    pthread_mutex_init(&ru.mu, NULL);
    rc = run(&ru, jobs, err);
    pthread_mutex_destroy(&ru.mu);
  }
  list_free(&l);
  list_free(&purged);
  return rc;
}
