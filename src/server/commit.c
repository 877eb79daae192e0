/* The commit pool: where requests wait on the disk or a remote. Committing
 * an upload is fsync of the file and its directory, a rename and the
 * manifest's fdatasync; recording a hook is the fdatasync and, for a bucket
 * target, a HEAD. Done on the event thread either would stall every other
 * connection that thread serves, so the connection is suspended, a commit
 * thread does the work, and the connection is resumed to send the
 * answer. */
#include <stdio.h>
#include <stdlib.h>

#include "server/internal.h"
#include "util/buf.h"

static void *committer(void *cls)
{
  vs_server *s = cls;
  for(;;) {
    vs__req *r;
    pthread_mutex_lock(&s->q_lock);
    while(!s->q_head && !s->q_stop)
      pthread_cond_wait(&s->q_cond, &s->q_lock);
    r = s->q_head;
    if(!r) { /* stopping, and nothing left to do */
      pthread_mutex_unlock(&s->q_lock);
      return NULL;
    }
    s->q_head = r->q_next;
    if(!s->q_head)
      s->q_tail = NULL;
    pthread_mutex_unlock(&s->q_lock);
    /* the outcome's 8.75 KiB only now, not while queued or receiving: 256
     * slow uploads ending together held 2.2 MiB of them */
    if(!r->done_info)
      r->done_info = calloc(1, sizeof(*r->done_info));
    if(r->done_info)
      r->work(r);
    else
      r->done_code = VS__S3_INTERNAL;
    MHD_resume_connection(r->conn);
    pthread_mutex_lock(&s->q_lock);
    if(--s->q_parked == 0)
      pthread_cond_broadcast(&s->q_idle);
    pthread_mutex_unlock(&s->q_lock);
  }
}

int vs__commits_start(vs_server *s, unsigned n, vs_err *err)
{
  pthread_mutex_init(&s->q_lock, NULL);
  pthread_cond_init(&s->q_cond, NULL);
  pthread_cond_init(&s->q_idle, NULL);
  s->committers = calloc(n, sizeof(*s->committers));
  if(!s->committers)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(; s->n_committers < n; s->n_committers++)
    if(pthread_create(&s->committers[s->n_committers], NULL, committer, s)) {
      vs__commits_stop(s);
      return vs_fail(err, VS_ERR_IO, "cannot start commit threads");
    }
  return VS_OK;
}

/* Called from the connection's own handler: MHD requires it there. */
int vs__commit_submit(vs__req *r, void (*work)(vs__req *r))
{
  vs_server *s = r->srv;
  pthread_mutex_lock(&s->q_lock);
  if(s->q_closed) {
    pthread_mutex_unlock(&s->q_lock);
    return -1;
  }
  r->work = work;
  s->q_parked++;
  atomic_fetch_add(&s->q_unanswered, 1);
  vs__conn_enter(r->cn, VS__C_PARKED, vs_now_ms(NULL, NULL));
  /* under q_lock, so that vs__commits_close either sees this connection
   * parked or refuses it: never a suspension it does not wait for */
  MHD_suspend_connection(r->conn);
  r->q_next = NULL;
  if(s->q_tail)
    s->q_tail->q_next = r;
  else
    s->q_head = r;
  s->q_tail = r;
  pthread_cond_signal(&s->q_cond);
  pthread_mutex_unlock(&s->q_lock);
  return 0;
}

/* libmicrohttpd 0.9.75 aborts the process when it is stopped with a
 * connection still suspended; a body that completes during the drain
 * would otherwise suspend one after the last check. */
void vs__commits_close(vs_server *s)
{
  if(!s->committers)
    return;
  pthread_mutex_lock(&s->q_lock);
  s->q_closed = 1;
  while(s->q_parked)
    pthread_cond_wait(&s->q_idle, &s->q_lock);
  pthread_mutex_unlock(&s->q_lock);
}

/* Every queued commit is finished (and its connection resumed) before the
 * threads end: libmicrohttpd must not be stopped with a connection still
 * suspended. */
void vs__commits_stop(vs_server *s)
{
  size_t i;
  if(!s->committers)
    return;
  pthread_mutex_lock(&s->q_lock);
  s->q_stop = 1;
  pthread_cond_broadcast(&s->q_cond);
  pthread_mutex_unlock(&s->q_lock);
  for(i = 0; i < s->n_committers; i++)
    pthread_join(s->committers[i], NULL);
  free(s->committers);
  s->committers = NULL;
  s->n_committers = 0;
  pthread_cond_destroy(&s->q_cond);
  pthread_cond_destroy(&s->q_idle);
  pthread_mutex_destroy(&s->q_lock);
}

int vs__done(vs__req *r, vs__s3code code, const char *msg)
{
  r->done_code = code;
  snprintf(r->done_msg, sizeof(r->done_msg), "%s", msg ? msg : "");
  return -1;
}

void vs__pooled_body(vs__req *r, vs_buf *b)
{
  if(b->failed) {
    vs_buf_free(b);
    vs__done(r, VS__S3_INTERNAL, "out of memory");
    return;
  }
  r->body_len = b->len;
  r->body = vs_buf_steal(b);
}

enum MHD_Result vs__pooled(vs__req *r, void (*work)(vs__req *r))
{
  vs_buf b;
  if(r->phase == 0) {
    r->phase = 3;
    if(vs__commit_submit(r, work))
      return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
    return MHD_YES;
  }
  if(r->phase != 3)
    return MHD_YES;
  r->phase = 2;
  if(r->done_code || !r->body)
    return vs__reject(r, r->done_code ? r->done_code : VS__S3_INTERNAL,
                      r->done_msg[0] ? r->done_msg : NULL);
  /* the document itself goes out, not a copy (a page may be a MiB) */
  b.data = r->body;
  b.len = r->body_len;
  b.cap = r->body_len + 1;
  b.failed = 0;
  r->body = NULL;
  return vs__send_buf(r, MHD_HTTP_OK, &b, "application/xml");
}

vs__s3code vs__checked(vs__req *r)
{
  vs__s3code code = r->done_code;
  free(r->done_info); /* the commit allocates its own when it runs */
  r->done_info = NULL;
  r->done_code = VS__S3_NONE;
  if(!code)
    vs__conn_enter(r->cn, VS__C_BODY, vs_now_ms(NULL, NULL));
  return code;
}
