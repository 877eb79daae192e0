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
#include <sys/eventfd.h>
#include <unistd.h>

#include "store/s3/s3store_int.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/log.h"

#define PUT_MAX (5ULL << 40) /* S3's largest object */

/* ---- the part pool ------------------------------------------------------ */

static int mpu_create(vs_upload *u, vs_err *err);

/* A job of u ended, or u was cancelled: whoever waits for a slot looks
 * again, in a thread (done) or in a poll (wake_fd, wait_fd). s->mu held. */
static void signal_done(vs_upload *u)
{
  pthread_cond_broadcast(&u->done);
  if(u->want_wake) {
    u->want_wake = 0;
    if(eventfd_write(u->wake_fd, 1))
      vs_log("warn", "%s: waking the upload's writer: %s", u->ckey,
             strerror(errno));
  }
}

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
    signal_done(u);
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
    vs__s3s_end_upload(u, VS__S3S_INTENT_DROP);
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
  signal_done(u);
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
  if(u->wake_fd >= 0)
    close(u->wake_fd);
  pthread_cond_destroy(&u->done);
  free(u);
}

static int upload_init(vs__s3s *s, vs_upload *u, const char *bucket,
                       const char *key, vs_err *err)
{
  unsigned i;
  int rc;
  u->s = s;
  u->wake_fd = -1;
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
  int rc = vs__s3s_meta(u->intent->token, u->headers, NULL, &h, err);
  o.content_type = vs__s3s_ctype(u->ctype);
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

/* The last part handed over and every part answered; the first error of
 * any part otherwise. */
int vs__s3s_finish_parts(vs_upload *u, vs_err *err)
{
  int rc = send_part(u, 1, err);
  return rc ? rc : wait_parts(u, 0, err);
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

/* Whether write(u, n) would wait in next_slot: the parts it must hand
 * over outnumber the slots not being sent. Then the eventfd a part's end
 * (or a failure, or cancel) makes readable; the check and want_wake are
 * under s->mu, so an end between this and the caller's poll still wakes
 * it. */
int vs__s3s_wait_fd(vs_upload *u, size_t n)
{
  uint64_t room = u->part_size - u->slots[u->cur].len, need, spare = 0;
  eventfd_t junk;
  unsigned i;
  int fd = -1;
  if(n <= room)
    return -1;
  need = (n - room + u->part_size - 1) / u->part_size;
  pthread_mutex_lock(&u->s->mu);
  for(i = 0; i < u->n_slots; i++)
    spare += i != u->cur && !u->slots[i].busy;
  if(spare < need && !u->part_rc && !u->cancelled) {
    if(u->wake_fd < 0)
      u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if(u->wake_fd >= 0) {
      eventfd_read(u->wake_fd, &junk); /* an old wake is spent */
      u->want_wake = 1;
      fd = u->wake_fd;
    }
  }
  pthread_mutex_unlock(&u->s->mu);
  return fd;
}

/* ENDED: the commit failed without knowing whether its write landed (the
 * cluster did not answer), or its multipart upload could not be aborted:
 * the intent stays, without a process (pid 0), so that intents() finds
 * the version if it landed, or aborts the upload and drops it if not. */
void vs__s3s_end_upload(vs_upload *u, int fate)
{
  vs_err e;
  wait_parts(u, 1, NULL);
  if(u->upload_id[0] &&
     vs_s3_mpu_abort(&u->s->t, u->s->bucket, u->ckey, u->upload_id, &e) &&
     e.code != VS_ERR_NOTFOUND) {
    vs_log("warn", "abort multipart upload of %s: %s", u->ckey, e.msg);
    fate = VS__S3S_INTENT_ENDED;
  }
  if(u->intent_made && fate == VS__S3S_INTENT_DROP)
    vs__s3s_intent_drop(u->s, u->intent->name);
  if(u->intent_made && fate == VS__S3S_INTENT_ENDED) {
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
    vs__s3s_end_upload(u, VS__S3S_INTENT_DROP);
  }
}

void vs__s3s_cancel(vs_upload *u)
{
  pthread_mutex_lock(&u->s->mu);
  u->cancelled = 1;
  signal_done(u);
  pthread_mutex_unlock(&u->s->mu);
}
