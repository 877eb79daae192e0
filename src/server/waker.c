/* The waker (waker.h). One mutex guards the slots; the suspend and the
 * resume happen under it, so a resume never comes before its suspend and
 * a slot is never reused while an event may still name it. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/waker.h"

#define STOP_EVENT UINT64_MAX

struct slot {
  int fd;              /* -1: free */
  uint32_t gen;        /* bumped at each park: older events are stale */
  int parked;
  vs__wake_for why;
  struct MHD_Connection *conn;
};

struct vs__waker {
  pthread_mutex_t mu;
  pthread_t thread;
  int ep, stop_fd;
  int closing;
  struct slot *slots;
  int nslots;
  unsigned parked[2]; /* by vs__wake_for */
};

static void wake(vs__waker *w, uint64_t id)
{
  int i = (int)(id >> 32);
  struct slot *s;
  pthread_mutex_lock(&w->mu);
  s = i < w->nslots ? &w->slots[i] : NULL;
  if(s && s->fd >= 0 && s->parked && s->gen == (uint32_t)id) {
    s->parked = 0;
    w->parked[s->why]--;
    MHD_resume_connection(s->conn);
  }
  pthread_mutex_unlock(&w->mu);
}

static void *waker_main(void *arg)
{
  vs__waker *w = arg;
  for(;;) {
    struct epoll_event ev;
    int n = epoll_wait(w->ep, &ev, 1, -1);
    if(n < 0 && errno != EINTR)
      break;
    if(n <= 0)
      continue;
    if(ev.data.u64 == STOP_EVENT)
      break;
    wake(w, ev.data.u64);
  }
  return NULL;
}

int vs__waker_start(vs__waker **out, vs_err *err)
{
  vs__waker *w = calloc(1, sizeof(*w));
  struct epoll_event ev = {EPOLLIN, {.u64 = STOP_EVENT}};
  *out = NULL;
  if(!w)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  w->ep = epoll_create1(EPOLL_CLOEXEC);
  w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if(w->ep < 0 || w->stop_fd < 0 ||
     epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stop_fd, &ev)) {
    int e = errno;
    if(w->ep >= 0)
      close(w->ep);
    if(w->stop_fd >= 0)
      close(w->stop_fd);
    free(w);
    return vs_fail_errno(err, e, "the waker's epoll");
  }
  pthread_mutex_init(&w->mu, NULL);
  if(pthread_create(&w->thread, NULL, waker_main, w)) {
    close(w->ep);
    close(w->stop_fd);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return vs_fail(err, VS_ERR_NOMEM, "cannot start the waker's thread");
  }
  *out = w;
  return VS_OK;
}

void vs__waker_close(vs__waker *w)
{
  int i;
  if(!w)
    return;
  pthread_mutex_lock(&w->mu);
  w->closing = 1;
  for(i = 0; i < w->nslots; i++)
    if(w->slots[i].fd >= 0 && w->slots[i].parked) {
      w->slots[i].parked = 0;
      w->parked[w->slots[i].why]--;
      MHD_resume_connection(w->slots[i].conn);
    }
  pthread_mutex_unlock(&w->mu);
}

void vs__waker_stop(vs__waker *w)
{
  uint64_t one = 1;
  if(!w)
    return;
  while(write(w->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
    ;
  pthread_join(w->thread, NULL);
  close(w->ep);
  close(w->stop_fd);
  pthread_mutex_destroy(&w->mu);
  free(w->slots);
  free(w);
}

/* A free slot for fd (added to epoll, disarmed); mu held. -1: none. */
static int take_slot(vs__waker *w, int fd)
{
  struct epoll_event ev = {0, {0}};
  struct slot *g;
  int i, n;
  for(i = 0; i < w->nslots && w->slots[i].fd >= 0; i++)
    ;
  if(i == w->nslots) {
    n = w->nslots ? w->nslots * 2 : 16;
    if(!(g = realloc(w->slots, (size_t)n * sizeof(*g))))
      return -1;
    for(w->slots = g; w->nslots < n; w->nslots++)
      w->slots[w->nslots].fd = -1, w->slots[w->nslots].gen = 0;
  }
  if(epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev))
    return -1;
  w->slots[i].fd = fd;
  w->slots[i].parked = 0;
  return i;
}

int vs__waker_park(vs__waker *w, int *slot, int fd,
                   struct MHD_Connection *conn, vs__wake_for why)
{
  struct epoll_event ev = {EPOLLIN | EPOLLONESHOT, {0}};
  struct slot *s;
  int rc = -1;
  pthread_mutex_lock(&w->mu);
  if(w->closing)
    rc = 1;
  else if(*slot >= 0 || (*slot = take_slot(w, fd)) >= 0) {
    s = &w->slots[*slot];
    s->gen++;
    s->conn = conn;
    s->why = why;
    ev.data.u64 = (uint64_t)*slot << 32 | s->gen;
    MHD_suspend_connection(conn); /* before the event can come */
    if(!epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &ev)) {
      s->parked = 1;
      w->parked[why]++;
      rc = 0;
    }
    else
      MHD_resume_connection(conn);
  }
  pthread_mutex_unlock(&w->mu);
  return rc;
}

void vs__waker_forget(vs__waker *w, int *slot)
{
  if(*slot < 0)
    return;
  pthread_mutex_lock(&w->mu);
  epoll_ctl(w->ep, EPOLL_CTL_DEL, w->slots[*slot].fd, NULL);
  w->slots[*slot].fd = -1;
  if(w->slots[*slot].parked) /* cannot be: a parked one is not freed */
    w->slots[*slot].parked = 0, w->parked[w->slots[*slot].why]--;
  pthread_mutex_unlock(&w->mu);
  *slot = -1;
}

unsigned vs__waker_parked(vs__waker *w, vs__wake_for why)
{
  unsigned n;
  if(!w)
    return 0;
  pthread_mutex_lock(&w->mu);
  n = w->parked[why];
  pthread_mutex_unlock(&w->mu);
  return n;
}
