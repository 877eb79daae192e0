/* The S3 store's uploads. The body is spooled to unlinked files in
 * spool_dir: a body of at most one part goes up at commit as one
 * PutObject; a larger one becomes a multipart upload whose parts go up
 * from a fixed set of spool files (upload_parts + 1: one filling while
 * the others are sent) by the store's pool of part threads, so memory and
 * spool disk stay bounded whatever the body's size. Nothing is visible
 * before commit; a failed commit leaves nothing (the upload aborted, a
 * version that landed but did not check out deleted). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/s3/s3store_int.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/log.h"

#define PUT_MAX (5ULL << 40) /* S3's largest object */

/* ---- the part pool ------------------------------------------------------ */

/* What becomes of an upload's intent when it ends (end_upload). */
enum { INTENT_KEEP, INTENT_DROP, INTENT_ENDED };

static int mpu_create(vs_upload *u, vs_err *err);
static void end_upload(vs_upload *u, int fate);

/* The first job makes the cluster upload (CreateMultipartUpload and the
 * intent naming it), so that the writer, which may be the event thread of
 * a slow upload, never waits on the cluster; the others wait for it. */
static int job_create(vs__s3s *s, vs__s3s_job *j, vs_err *e)
{
  vs_upload *u = j->u;
  int rc = VS_OK;
  if(j->create) {
    if(!u->cancelled) {
      pthread_mutex_unlock(&s->mu);
      rc = mpu_create(u, e);
      pthread_mutex_lock(&s->mu);
    }
    u->creating = 0;
    pthread_cond_broadcast(&u->done);
  }
  while(u->creating)
    pthread_cond_wait(&u->done, &s->mu);
  return rc;
}

static void run_job(vs__s3s *s, vs__s3s_job *j)
{
  vs_upload *u = j->u;
  vs__s3s_slot *sl = &u->slots[j->slot];
  char etag[VS_S3_ETAG_MAX] = "";
  vs_err e = {0};
  int rc;
  if(j->reap) { /* after the upload's parts in the queue: no deadlock */
    pthread_mutex_unlock(&s->mu);
    end_upload(u, INTENT_DROP);
    pthread_mutex_lock(&s->mu);
    free(j);
    return;
  }
  rc = job_create(s, j, &e);
  if(!rc && !u->cancelled && !u->upload_id[0]) /* its Create failed */
    rc = vs_fail(&e, VS_ERR_IO, "part %u: no cluster upload", j->number);
  if(!rc && !u->cancelled) {
    vs_s3_body b = {NULL, sl->fd, 0, sl->len, sl->md5_b64};
    pthread_mutex_unlock(&s->mu);
    rc = vs_s3_mpu_part(&s->t, s->bucket, u->ckey, u->upload_id, j->number,
                        &b, etag, &e);
    pthread_mutex_lock(&s->mu);
  }
  if(rc && !u->part_rc) {
    u->part_rc = rc;
    u->part_err = e;
  }
  else if(!rc && etag[0]) {
    u->parts[j->number - 1].number = j->number;
    memcpy(u->parts[j->number - 1].etag, etag, sizeof(etag));
  }
  sl->busy = 0;
  sl->len = 0;
  u->in_flight--;
  pthread_cond_broadcast(&u->done);
  free(j);
}

static void *pool_main(void *arg)
{
  vs__s3s *s = arg;
  vs__s3s_job *j;
  pthread_mutex_lock(&s->mu);
  for(;;) {
    while(!s->head && !s->stopping)
      pthread_cond_wait(&s->work, &s->mu);
    if(!(j = s->head))
      break;
    if(!(s->head = j->next))
      s->tail = NULL;
    run_job(s, j);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int vs__s3s_pool_start(vs__s3s *s, unsigned n, vs_err *err)
{
  unsigned i;
  if(!(s->threads = calloc(n, sizeof(*s->threads))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; i < n; i++) {
    int e = pthread_create(&s->threads[i], NULL, pool_main, s);
    if(e)
      return vs_fail_errno(err, e, "start part thread %u of %u", i + 1, n);
    s->n_threads++;
  }
  return VS_OK;
}

void vs__s3s_pool_stop(vs__s3s *s)
{
  unsigned i;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->mu);
  for(i = 0; i < s->n_threads; i++)
    pthread_join(s->threads[i], NULL);
  free(s->threads);
  s->threads = NULL;
  s->n_threads = 0;
}

/* ---- spool files -------------------------------------------------------- */

/* A spool file, unlinked at once: a crash leaves nothing to clean but
 * what died between the two calls (vs_store_s3_open removes those). */
static int spool_open(const char *dir, int *fd, vs_err *err)
{
  char path[4096];
  int n = snprintf(path, sizeof(path), "%s/spool-XXXXXX", dir);
  if(n < 0 || (size_t)n >= sizeof(path))
    return vs_fail(err, VS_ERR_TOOLARGE, "spool dir path is too long");
  *fd = mkostemp(path, O_CLOEXEC);
  if(*fd < 0)
    return vs_fail_errno(err, errno, "create spool file in %s", dir);
  unlink(path);
  return VS_OK;
}

static int md5_start(vs__s3s_slot *sl, vs_err *err)
{
  if(!sl->md5 && !(sl->md5 = EVP_MD_CTX_new()))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!EVP_DigestInit_ex(sl->md5, EVP_md5(), NULL))
    return vs_fail(err, VS_ERR_NOMEM, "cannot set up MD5");
  return VS_OK;
}

int vs__s3s_slot_seal(vs__s3s_slot *sl, vs_err *err)
{
  unsigned char d[16];
  int rc = sl->md5 ? VS_OK : md5_start(sl, err); /* nothing written */
  if(rc)
    return rc;
  if(!EVP_DigestFinal_ex(sl->md5, d, NULL))
    return vs_fail(err, VS_ERR_NOMEM, "MD5 failed");
  vs_b64(d, 16, sl->md5_b64);
  return md5_start(sl, err); /* for the slot's next part */
}

static int spool_write(vs__s3s_slot *sl, const char *p, size_t n,
                       vs_err *err)
{
  int rc = sl->md5 ? VS_OK : md5_start(sl, err);
  if(rc)
    return rc;
  while(n) {
    ssize_t w = pwrite(sl->fd, p, n, (off_t)sl->len);
    if(w < 0 && errno == EINTR)
      continue;
    if(w < 0)
      return vs_fail_errno(err, errno, "write spool file");
    EVP_DigestUpdate(sl->md5, p, (size_t)w);
    p += w;
    n -= (size_t)w;
    sl->len += (uint64_t)w;
  }
  return VS_OK;
}

/* ---- begin, expect, describe -------------------------------------------- */

static void upload_free(vs_upload *u)
{
  unsigned i;
  for(i = 0; u->slots && i < u->n_slots; i++) {
    if(u->slots[i].fd >= 0)
      close(u->slots[i].fd);
    EVP_MD_CTX_free(u->slots[i].md5);
  }
  free(u->slots);
  free(u->parts);
  free(u->key);
  free(u->ckey);
  free(u->ctype);
  free(u->headers);
  free(u->intent);
  free(u->client_upload);
  free(u->copy_ckey);
  pthread_cond_destroy(&u->done);
  free(u);
}

static int upload_init(vs__s3s *s, vs_upload *u, const char *bucket,
                       const char *key, vs_err *err)
{
  unsigned i;
  int rc;
  u->s = s;
  u->part_size = VS__S3S_PART_MIN;
  u->n_slots = s->upload_parts + 1;
  pthread_cond_init(&u->done, NULL);
  if(!(u->slots = calloc(u->n_slots, sizeof(*u->slots))) ||
     !(u->key = strdup(key)) || !(u->intent = calloc(1, sizeof(*u->intent))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; i < u->n_slots; i++)
    u->slots[i].fd = -1;
  snprintf(u->bucket, sizeof(u->bucket), "%s", bucket);
  if((rc = vs__s3s_ckey(s, bucket, key, &u->ckey, err)) ||
     (rc = vs__s3s_token(u->intent->token, err)))
    return rc;
  memcpy(u->intent->name, u->intent->token, sizeof(u->intent->name));
  snprintf(u->intent->bucket, sizeof(u->intent->bucket), "%s", bucket);
  snprintf(u->intent->key, sizeof(u->intent->key), "%s", key);
  return spool_open(s->spool, &u->slots[0].fd, err);
}

int vs__s3s_begin(vs_store *st, const char *bucket, const char *key,
                  vs_upload **out, vs_err *err)
{
  vs_upload *u;
  int rc;
  *out = NULL;
  if(bucket && !strcmp(bucket, "manifest"))
    return vs_fail(err, VS_ERR_INVALID, "bucket name 'manifest' is the S3 "
                   "store's own (shipped manifests)");
  if(!(u = calloc(1, sizeof(*u))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if((rc = upload_init((vs__s3s *)st, u, bucket ? bucket : "",
                       key ? key : "", err))) {
    upload_free(u);
    return rc;
  }
  *out = u;
  return VS_OK;
}

int vs__s3s_expect(vs_upload *u, uint64_t bytes, vs_err *err)
{
  uint64_t part;
  if(u->started)
    return vs_fail(err, VS_ERR_INVALID, "expect after the first write");
  if(bytes > PUT_MAX)
    return vs_fail(err, VS_ERR_TOOLARGE, "%llu bytes: S3 takes at most 5 "
                   "TiB", (unsigned long long)bytes);
  part = (bytes + VS_PART_NUMBER_MAX - 1) / VS_PART_NUMBER_MAX;
  u->part_size = part > VS__S3S_PART_MIN ? part : VS__S3S_PART_MIN;
  u->expected = bytes;
  return VS_OK;
}

/* More than a part: a multipart upload on the cluster, whose ETag is made
 * of the parts' MD5s (each computed as it is spooled, Content-MD5). */
int vs__s3s_parted(const vs_upload *u)
{
  return u->expected > u->part_size;
}

int vs__s3s_describe(vs_upload *u, const char *content_type,
                     const char *headers, vs_err *err)
{
  if(u->started)
    return vs_fail(err, VS_ERR_INVALID, "describe after the first write");
  free(u->ctype);
  free(u->headers);
  u->ctype = strdup(content_type ? content_type : "");
  u->headers = strdup(headers ? headers : "");
  if(!u->ctype || !u->headers)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  return VS_OK;
}

/* ---- metadata ----------------------------------------------------------- */

static const char *ctype_of(const char *ct)
{
  return ct && *ct ? ct : "application/octet-stream";
}

/* The user's header lines without any x-amz-meta-vsink-* (the store's own
 * names: a client's would be taken for the store's), then the store's:
 * the intent token and, for a single PutObject (c set), the digests. */
static int build_headers(const vs_upload *u, const char *user,
                         const vs_commit *c, vs_buf *b, vs_err *err)
{
  return vs__s3s_meta(u->intent->token, user, c, b, err);
}

int vs__s3s_meta(const char *token, const char *user, const vs_commit *c,
                 vs_buf *b, vs_err *err)
{
  const char *p = user ? user : "";
  while(*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
    if(strncasecmp(p, VS__S3S_META, strlen(VS__S3S_META)))
      vs_buf_add(b, p, n);
    if(!nl && n)
      vs_buf_addc(b, '\n');
    p += n;
  }
  vs_buf_addf(b, VS__S3S_META "intent:%s\n", token);
  if(c && c->sha256 && *c->sha256)
    vs_buf_addf(b, VS__S3S_META "sha256:%s\n", c->sha256);
  if(c && c->md5 && *c->md5)
    vs_buf_addf(b, VS__S3S_META "md5:%s\n", c->md5);
  if(c && c->checksum_alg && *c->checksum_alg && c->checksum && *c->checksum)
    vs_buf_addf(b, VS__S3S_META "checksum:%s:%s\n", c->checksum_alg,
                c->checksum);
  if(b->failed)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  return VS_OK;
}

/* ---- the multipart upload ----------------------------------------------- */

int vs__s3s_make_intent(vs_upload *u, vs_err *err)
{
  vs__s3s_intent *it = u->intent;
  it->pid = (long)getpid();
  it->made_ms = vs_now_ms(NULL, NULL);
  u->intent_made = 1;
  return vs__s3s_intent_put(u->s, it, 1, err);
}

static int mpu_create(vs_upload *u, vs_err *err)
{
  vs_s3_write_opts o = {0};
  vs_buf h = VS_BUF_INIT;
  int rc = build_headers(u, u->headers, NULL, &h, err);
  o.content_type = ctype_of(u->ctype);
  o.headers = vs_buf_str(&h);
  if(!rc)
    rc = vs_s3_mpu_create(&u->s->t, u->s->bucket, u->ckey, &o, u->upload_id,
                          err);
  vs_buf_free(&h);
  if(rc)
    return rc;
  /* the id in the intent, so a crash's leftover upload can be aborted */
  snprintf(u->intent->upload_id, sizeof(u->intent->upload_id), "%s",
           u->upload_id);
  return vs__s3s_make_intent(u, err);
}

static int grow_parts(vs_upload *u, vs_err *err)
{
  unsigned nc;
  vs_s3_part *g;
  if(u->n_parts < u->cap_parts)
    return VS_OK;
  nc = u->cap_parts ? u->cap_parts * 2 : 64;
  if(nc > VS_PART_NUMBER_MAX)
    nc = VS_PART_NUMBER_MAX;
  if(!(g = realloc(u->parts, nc * sizeof(*g))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  memset(g + u->cap_parts, 0, (nc - u->cap_parts) * sizeof(*g));
  u->parts = g;
  u->cap_parts = nc;
  return VS_OK;
}

/* s->mu held. */
static void enqueue(vs__s3s *s, vs__s3s_job *j)
{
  if(s->tail)
    s->tail->next = j;
  else
    s->head = j;
  s->tail = j;
  pthread_cond_signal(&s->work);
}

/* A free slot for write() to fill (its spool file made on first use);
 * waits while every slot is being sent. s->mu held. */
static int next_slot(vs_upload *u, vs_err *err)
{
  unsigned i;
  for(;;) {
    if(u->part_rc)
      return vs_fail(err, u->part_rc, "%s", u->part_err.msg);
    if(u->cancelled)
      return vs_fail(err, VS_ERR_IO, "%s: the upload was cancelled",
                     u->ckey);
    for(i = 0; i < u->n_slots; i++)
      if(!u->slots[i].busy) {
        u->cur = i;
        return u->slots[i].fd >= 0 ? VS_OK
                                   : spool_open(u->s->spool,
                                                &u->slots[i].fd, err);
      }
    pthread_cond_wait(&u->done, &u->s->mu);
  }
}

/* Hands the slot being filled to the pool as the next part. */
static int send_part(vs_upload *u, int last, vs_err *err)
{
  vs__s3s *s = u->s;
  vs__s3s_job *j;
  int rc;
  if(u->n_parts >= VS_PART_NUMBER_MAX)
    return vs_fail(err, VS_ERR_TOOLARGE, "more than %d parts of %llu bytes "
                   "(tell the size first: expect)", VS_PART_NUMBER_MAX,
                   (unsigned long long)u->part_size);
  if((rc = vs__s3s_slot_seal(&u->slots[u->cur], err)))
    return rc;
  if(!(j = calloc(1, sizeof(*j))))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  pthread_mutex_lock(&s->mu);
  if((rc = grow_parts(u, err))) {
    pthread_mutex_unlock(&s->mu);
    free(j);
    return rc;
  }
  j->u = u;
  j->slot = u->cur;
  j->number = ++u->n_parts;
  if(j->number == 1)
    j->create = u->creating = 1;
  u->slots[u->cur].busy = 1;
  u->in_flight++;
  enqueue(s, j);
  rc = last ? VS_OK : next_slot(u, err);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* Waits for every part of u; cancel drops the ones not yet sent. */
static int wait_parts(vs_upload *u, int cancel, vs_err *err)
{
  int rc = VS_OK;
  pthread_mutex_lock(&u->s->mu);
  u->cancelled |= cancel;
  while(u->in_flight)
    pthread_cond_wait(&u->done, &u->s->mu);
  if(u->part_rc && err)
    rc = vs_fail(err, u->part_rc, "%s", u->part_err.msg);
  pthread_mutex_unlock(&u->s->mu);
  return rc;
}

/* ---- write, abort ------------------------------------------------------- */

int vs__s3s_write(vs_upload *u, const void *p, size_t n, vs_err *err)
{
  const char *c = p;
  int rc = VS_OK;
  u->started = 1;
  while(n && !rc) {
    vs__s3s_slot *sl = &u->slots[u->cur];
    uint64_t room = u->part_size - sl->len;
    size_t k;
    if(!room) { /* more than a part: the full one goes up */
      rc = send_part(u, 0, err);
      continue;
    }
    k = n < room ? n : (size_t)room;
    if(u->written + k > PUT_MAX)
      return vs_fail(err, VS_ERR_TOOLARGE, "S3 takes at most 5 TiB");
    if(!(rc = spool_write(sl, c, k, err))) {
      u->written += k;
      c += k;
      n -= k;
    }
  }
  return rc;
}

/* ENDED: the commit failed without knowing whether its write landed (the
 * cluster did not answer), or its multipart upload could not be aborted:
 * the intent stays, without a process (pid 0), so that intents() finds
 * the version if it landed, or aborts the upload and drops it if not. */
static void end_upload(vs_upload *u, int fate)
{
  vs_err e;
  wait_parts(u, 1, NULL);
  if(u->upload_id[0] &&
     vs_s3_mpu_abort(&u->s->t, u->s->bucket, u->ckey, u->upload_id, &e) &&
     e.code != VS_ERR_NOTFOUND) {
    vs_log("warn", "abort multipart upload of %s: %s", u->ckey, e.msg);
    fate = INTENT_ENDED;
  }
  if(u->intent_made && fate == INTENT_DROP)
    vs__s3s_intent_drop(u->s, u->intent->name);
  if(u->intent_made && fate == INTENT_ENDED) {
    u->intent->pid = 0;
    if(vs__s3s_intent_put(u->s, u->intent, 1, &e))
      vs_log("warn", "intent of %s: %s", u->ckey, e.msg);
    else
      vs__s3s_ended(u->s);
  }
  upload_free(u);
}

/* The event thread's (an upload refused or cut mid-body): what waits on
 * the cluster (parts in flight, AbortMultipartUpload) is left to the part
 * threads, behind the upload's parts. */
void vs__s3s_abort(vs_upload *u)
{
  vs__s3s_job *j;
  int here;
  if(!u)
    return;
  j = calloc(1, sizeof(*j));
  pthread_mutex_lock(&u->s->mu);
  u->cancelled = 1;
  /* here: nothing to wait for, or no part thread left to do it */
  here = !j || (!u->in_flight && !u->upload_id[0]) || u->s->stopping;
  if(!here) {
    j->u = u;
    j->reap = 1;
    enqueue(u->s, j);
  }
  pthread_mutex_unlock(&u->s->mu);
  if(here) {
    free(j);
    end_upload(u, INTENT_DROP);
  }
}

void vs__s3s_cancel(vs_upload *u)
{
  pthread_mutex_lock(&u->s->mu);
  u->cancelled = 1;
  pthread_cond_broadcast(&u->done);
  pthread_mutex_unlock(&u->s->mu);
}

/* ---- commit ------------------------------------------------------------- */

/* What commit learned before writing: the current version (if_match,
 * OVERWRITE), and the upload's result. */
typedef struct put_state {
  const vs_commit *c;
  char prev[VS_S3_VERSION_MAX];   /* the current version's id, "" none */
  vs_s3_put_result res;
} put_state;

static int reject(const vs_commit *c)
{
  return c->policy == VS_ON_EXISTING_REJECT || c->if_none_match;
}

/* HEAD of the current version when a condition or the policy needs it. */
static int check_current(vs_upload *u, put_state *ps, vs_err *err)
{
  const vs_commit *c = ps->c;
  vs_object_info cur;
  int rc;
  if(!c->if_match && c->policy != VS_ON_EXISTING_OVERWRITE && !reject(c))
    return VS_OK;
  rc = vs__s3s_head(u->s, u->ckey, NULL, &cur, NULL, err);
  if(rc && rc != VS_ERR_NOTFOUND)
    return rc;
  /* Multipart has no conditional Complete, and RGW ignores PutObject's
   * If-None-Match in a versioned bucket (it is still sent: AWS and an
   * unversioned RGW bucket honour it): this check and the write race with
   * another writer of the key, which the sink's one commit at a time per
   * key keeps from happening. */
  if(!rc && reject(c))
    return vs_fail(err, VS_ERR_EXISTS, "%s/%s exists", u->bucket, u->key);
  if(c->if_match && rc)
    return vs_fail(err, VS_ERR_NOTFOUND, "%s/%s: If-Match on no object",
                   u->bucket, u->key);
  if(c->if_match && strcmp(c->if_match, "*") &&
     strcmp(c->if_match, cur.etag))
    return vs_fail(err, VS_ERR_EXISTS, "%s/%s: ETag %s is not %s",
                   u->bucket, u->key, cur.etag, c->if_match);
  if(!rc && c->policy == VS_ON_EXISTING_OVERWRITE)
    snprintf(ps->prev, sizeof(ps->prev), "%s", cur.version_id);
  return VS_OK;
}

static int same(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

static int put_single(vs_upload *u, put_state *ps, vs_err *err)
{
  vs_s3_write_opts o = {0};
  vs_s3_body b = {NULL, u->slots[0].fd, 0, u->written, u->slots[0].md5_b64};
  vs_buf h = VS_BUF_INIT;
  int rc = build_headers(u, ps->c->headers, ps->c, &h, err);
  if(!rc)
    rc = vs__s3s_slot_seal(&u->slots[0], err);
  o.content_type = ctype_of(ps->c->content_type);
  o.headers = vs_buf_str(&h);
  o.if_none_match = reject(ps->c);
  if(!rc && !(rc = vs__s3s_make_intent(u, err)))
    rc = vs_s3_put(&u->s->t, u->s->bucket, u->ckey, &b, &o, &ps->res, err);
  vs_buf_free(&h);
  return rc;
}

static int put_multipart(vs_upload *u, put_state *ps, vs_err *err)
{
  const vs_commit *c = ps->c;
  int rc;
  if(!same(ctype_of(u->ctype), ctype_of(c->content_type)) ||
     !same(u->headers, c->headers))
    return vs_fail(err, VS_ERR_INVALID, "%s/%s: the content type and "
                   "headers at commit are not those told before the body "
                   "(describe), which the multipart upload carries",
                   u->bucket, u->key);
  if((rc = send_part(u, 1, err)) || (rc = wait_parts(u, 0, err)))
    return rc;
  return vs_s3_mpu_complete(&u->s->t, u->s->bucket, u->ckey, u->upload_id,
                            u->parts, u->n_parts, &ps->res, err);
}

/* A client's multipart upload (s3store_mpu.c): its parts are on the
 * cluster already, named by the caller's list; the intent first, as for
 * any write that becomes visible. */
static int complete_client(vs_upload *u, put_state *ps, vs_err *err)
{
  int rc;
  snprintf(u->intent->upload_id, sizeof(u->intent->upload_id), "%s",
           u->upload_id);
  if((rc = vs__s3s_make_intent(u, err)))
    return rc;
  return vs_s3_mpu_complete(&u->s->t, u->s->bucket, u->ckey, u->upload_id,
                            u->parts, u->n_parts, &ps->res, err);
}

/* The version that landed is the one sent: its size, and its ETag (the
 * MD5, or S3's "-N" of the parts' MD5s). */
static int verify(vs_upload *u, put_state *ps, vs_object_info *info,
                  vs_err *err)
{
  const char *want = ps->res.etag;
  int rc = vs__s3s_head(u->s, u->ckey, ps->res.version_id, info, NULL, err);
  if(rc)
    return rc;
  if(!u->upload_id[0] && ps->c->md5 && *ps->c->md5)
    want = ps->c->md5;
  if(info->bytes != u->written || (*want && strcasecmp(want, info->etag)))
    return vs_fail(err, VS_ERR_DIGEST, "%s: stored %llu bytes with ETag "
                   "%s, sent %llu with %s", u->ckey,
                   (unsigned long long)info->bytes, info->etag,
                   (unsigned long long)u->written, want);
  /* a copy carries the source's SHA-256 whichever way it was made */
  if(u->copy_ckey && strcmp(info->sha256, ps->c->sha256))
    return vs_fail(err, VS_ERR_DIGEST, "%s: the copy carries SHA-256 '%s', "
                   "its source %s", u->ckey, info->sha256, ps->c->sha256);
  return VS_OK;
}

/* The version is there and checked: its id into the intent, then the
 * replaced one goes (now, or at settle when deferred). */
static void landed(vs_upload *u, put_state *ps, vs_object_info *info)
{
  vs__s3s_intent *it = u->intent;
  vs_err e;
  snprintf(it->version_id, sizeof(it->version_id), "%s", info->version_id);
  if(ps->prev[0] && strcmp(ps->prev, info->version_id)) {
    if(ps->c->defer_overwrite)
      snprintf(it->replaces, sizeof(it->replaces), "%s", ps->prev);
    else if(vs_s3_delete(&u->s->t, u->s->bucket, u->ckey, ps->prev, NULL,
                         &e))
      vs_log("warn", "overwrite of %s: delete version %s: %s", u->ckey,
             ps->prev, e.msg);
  }
  /* Synced when it names a replaced version: that name exists only here,
   * and the stored event the caller writes next must not outlive it (a
   * power cut would otherwise keep both versions). */
  if(vs__s3s_intent_put(u->s, it, it->replaces[0] != 0, &e))
    vs_log("warn", "intent of %s %s: %s", u->ckey, info->version_id, e.msg);
}

/* A multipart object carries no digests on the cluster (they are known
 * only after Create): the commit's info has the caller's, for its
 * manifest event; stat then shows sha256 "". */
static void keep_digests(const vs_commit *c, vs_object_info *info)
{
  if(!info->sha256[0] && c->sha256)
    snprintf(info->sha256, sizeof(info->sha256), "%s", c->sha256);
  if(!info->md5[0] && c->md5)
    snprintf(info->md5, sizeof(info->md5), "%s", c->md5);
  if(!info->checksum[0] && c->checksum_alg && c->checksum) {
    snprintf(info->checksum_alg, sizeof(info->checksum_alg), "%s",
             c->checksum_alg);
    snprintf(info->checksum, sizeof(info->checksum), "%s", c->checksum);
  }
}

static int commit_marker(vs_upload *u, vs_object_info *info, vs_err *err)
{
  vs_s3_delete_result dr;
  int rc;
  u->intent->marker = 1;
  if((rc = vs__s3s_make_intent(u, err)) ||
     (rc = vs_s3_delete(&u->s->t, u->s->bucket, u->ckey, NULL, &dr, err)))
    return rc;
  memset(info, 0, sizeof(*info));
  snprintf(info->version_id, sizeof(info->version_id), "%s",
           dr.version_id[0] ? dr.version_id : "null");
  info->delete_marker = 1;
  info->mtime_ms = vs_now_ms(NULL, NULL);
  snprintf(u->intent->version_id, sizeof(u->intent->version_id), "%s",
           info->version_id);
  if((rc = vs__s3s_intent_put(u->s, u->intent, 0, err)))
    vs_log("warn", "intent of %s marker %s: %s", u->ckey, info->version_id,
           err->msg);
  return VS_OK;
}

static int commit_body(vs_upload *u, put_state *ps, vs_object_info *info,
                       vs_err *err)
{
  vs_err e;
  int rc = check_current(u, ps, err);
  if(rc)
    return rc;
  if(u->client)
    rc = complete_client(u, ps, err);
  else if(u->copy_ckey)
    rc = vs__s3s_put_copy(u, ps->c, &ps->res, err);
  else
    rc = u->n_parts ? put_multipart(u, ps, err) : put_single(u, ps, err);
  if(rc)
    return rc;
  if((rc = verify(u, ps, info, err)) ||
     (u->client && (rc = vs__s3s_hash(u->s, u->ckey, info->version_id,
                                      info->bytes, info->sha256, err)))) {
    /* it landed but is not what was sent, or cannot be checked */
    if(ps->res.version_id[0] &&
       vs_s3_delete(&u->s->t, u->s->bucket, u->ckey, ps->res.version_id,
                    NULL, &e))
      vs_log("warn", "remove unchecked version %s of %s: %s",
             ps->res.version_id, u->ckey, e.msg);
    return rc;
  }
  landed(u, ps, info);
  keep_digests(ps->c, info);
  return VS_OK;
}

int vs__s3s_commit(vs_upload *u, const vs_commit *c, vs_object_info *info,
                   vs_err *err)
{
  put_state ps;
  int rc;
  memset(&ps, 0, sizeof(ps));
  ps.c = c;
  if(c->bytes != u->written)
    rc = vs_fail(err, VS_ERR_INVALID, "commit of %llu bytes, %llu written",
                 (unsigned long long)c->bytes,
                 (unsigned long long)u->written);
  else if(c->delete_marker)
    rc = commit_marker(u, info, err);
  else
    rc = commit_body(u, &ps, info, err);
  if(rc) {
    end_upload(u, rc == VS_ERR_NET ? INTENT_ENDED : INTENT_DROP);
    return rc;
  }
  /* Complete consumed the upload: nothing to abort */
  u->upload_id[0] = 0;
  end_upload(u, INTENT_KEEP);
  return VS_OK;
}

int vs__s3s_commit_parts(vs_upload *u, const vs_commit *c,
                         vs_object_info *info, vs_err *err)
{
  put_state ps;
  int rc;
  memset(&ps, 0, sizeof(ps));
  ps.c = c;
  u->client = 1;
  rc = commit_body(u, &ps, info, err);
  /* the client's upload: consumed by Complete, or kept for a retry of it
   * (S3 leaves an upload whose Complete failed in place). A Complete the
   * cluster did not answer may have landed: its intent stays for the
   * cleaner, which removes that version if this attempt made it. */
  u->upload_id[0] = 0;
  end_upload(u, rc == VS_OK ? INTENT_KEEP
                : rc == VS_ERR_NET ? INTENT_ENDED : INTENT_DROP);
  return rc;
}
