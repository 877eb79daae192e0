/* The pump (pump.h): a fixed pool of threads and buffers that runs the
 * lanes of the pipes. One mutex guards it all: a lane takes it twice per
 * MiB, which costs nothing beside hashing that MiB. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/pump.h"

struct lane {
  struct lane *next; /* on the ready list */
  vs__pipe *pipe;
  vs__lane_def def;
  unsigned done;     /* buffers finished */
  int busy;          /* on the ready list or running */
};

struct vs__pipe {
  vs__pump *pump;
  char *buf[PUMP_DEPTH];
  size_t len[PUMP_DEPTH];
  unsigned depth;    /* buffers it has */
  unsigned sent;     /* buffers handed to the lanes */
  size_t fill;       /* bytes in buf[sent % depth] */
  size_t cap;        /* that buffer's size: the first aligns the offset */
  struct lane lane[PUMP_LANES];
  unsigned nlanes;
  int failed;
  int waiting;       /* its owner stopped for want of a buffer */
  vs_err err;        /* the first lane's failure */
  /* parked (vs__pipe_park): its owner waits for room, or for its lanes to
   * be done (idle), without holding its thread; wake(arg) says when */
  void (*wake)(void *arg);
  void *wake_arg;
  int want_idle;
  struct vs__pipe *park_next;
};

struct vs__pump {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a lane is ready, or stop */
  pthread_cond_t done; /* a lane finished a buffer */
  pthread_t *threads;
  unsigned nthreads;
  int stop;
  int closing;         /* vs__pump_close: no more parking */
  struct vs__pipe *parked;
  struct lane *head, *tail;
  char **free_bufs;    /* allocated, unused */
  unsigned nfree, nbufs, maxbufs;
  unsigned long long waits[PUMP_LANES]; /* by lane kind: vs__pump_waits */
};

static void ready(vs__pump *p, struct lane *l)
{
  l->busy = 1;
  l->next = NULL;
  if(p->tail)
    p->tail->next = l;
  else
    p->head = l;
  p->tail = l;
  pthread_cond_signal(&p->work);
}

static struct lane *take(vs__pump *p)
{
  struct lane *l = p->head;
  if(l && !(p->head = l->next))
    p->tail = NULL;
  return l;
}

static int lanes_idle(const vs__pipe *pp);
static int has_room(const vs__pipe *pp);

/* Off the parked list; mu held. */
static void unpark(vs__pump *p, vs__pipe *pp)
{
  vs__pipe **at;
  for(at = &p->parked; *at; at = &(*at)->park_next)
    if(*at == pp) {
      *at = pp->park_next;
      break;
    }
  pp->wake = NULL;
}

/* A parked pipe whose owner may go on is woken; mu held. */
static void maybe_wake(vs__pump *p, vs__pipe *pp)
{
  void (*wake)(void *) = pp->wake;
  if(!wake || !(pp->failed || (pp->want_idle ? lanes_idle(pp)
                                             : has_room(pp))))
    return;
  unpark(p, pp);
  wake(pp->wake_arg);
}

/* Runs the lane's buffers until it has caught up with its pipe; mu held. */
static void run(vs__pump *p, struct lane *l)
{
  vs__pipe *pp = l->pipe;
  while(l->done < pp->sent) {
    unsigned slot = l->done % pp->depth;
    vs_err e = {0};
    int rc = 0, skip = pp->failed;
    pthread_mutex_unlock(&p->mu);
    if(!skip)
      rc = l->def.fn(l->def.ctx, pp->buf[slot], pp->len[slot], &e);
    pthread_mutex_lock(&p->mu);
    if(rc && !pp->failed) {
      pp->failed = 1;
      pp->err = e;
    }
    l->done++;
    if(pp->waiting && has_room(pp)) { /* this lane held the owner back */
      pp->waiting = 0;
      if(l->def.kind < PUMP_LANES)
        p->waits[l->def.kind]++;
    }
    pthread_cond_broadcast(&p->done);
    maybe_wake(p, pp);
  }
  l->busy = 0;
  pthread_cond_broadcast(&p->done);
  maybe_wake(p, pp);
}

static void *worker(void *arg)
{
  vs__pump *p = arg;
  pthread_mutex_lock(&p->mu);
  while(!p->stop) {
    struct lane *l = take(p);
    if(l)
      run(p, l);
    else
      pthread_cond_wait(&p->work, &p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int vs__pump_start(vs__pump **out, unsigned threads, unsigned bufs,
                   vs_err *err)
{
  vs__pump *p = calloc(1, sizeof(*p));
  *out = NULL;
  if(bufs < PUMP_DEPTH_MIN)
    bufs = PUMP_DEPTH_MIN;
  if(!p || !(p->threads = calloc(threads, sizeof(pthread_t))) ||
     !(p->free_bufs = calloc(bufs, sizeof(char *)))) {
    if(p)
      free(p->threads);
    free(p);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory for the pump");
  }
  p->maxbufs = bufs;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  for(; p->nthreads < threads; p->nthreads++)
    if(pthread_create(&p->threads[p->nthreads], NULL, worker, p)) {
      vs__pump_stop(p);
      return vs_fail(err, VS_ERR_NOMEM, "cannot start the pump's threads");
    }
  *out = p;
  return VS_OK;
}

void vs__pump_stop(vs__pump *p)
{
  if(!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  while(p->nthreads)
    pthread_join(p->threads[--p->nthreads], NULL);
  while(p->nfree)
    free(p->free_bufs[--p->nfree]);
  pthread_cond_destroy(&p->done);
  pthread_cond_destroy(&p->work);
  pthread_mutex_destroy(&p->mu);
  free(p->free_bufs);
  free(p->threads);
  free(p);
}

/* A new pipe's buffers, from the free ones or new: how many (0: too few
 * are left); mu held */
static unsigned get_bufs(vs__pump *p, char **bufs)
{
  unsigned i, left = p->nfree + (p->maxbufs - p->nbufs);
  unsigned n = left * 2 >= p->maxbufs ? PUMP_DEPTH : PUMP_DEPTH_MIN;
  if(n > left)
    n = left;
  if(n < PUMP_DEPTH_MIN)
    return 0;
  for(i = 0; i < n; i++) {
    void *b = NULL;
    if(p->nfree)
      b = p->free_bufs[--p->nfree];
    else if(!posix_memalign(&b, PUMP_ALIGN, PUMP_BUF))
      p->nbufs++;
    else
      b = NULL;
    if(!b) {
      while(i)
        p->free_bufs[p->nfree++] = bufs[--i];
      return 0;
    }
    bufs[i] = b;
  }
  return n;
}

vs__pipe *vs__pipe_open(vs__pump *p, const vs__lane_def *lanes, unsigned n,
                        uint64_t offset)
{
  vs__pipe *pp;
  unsigned i;
  if(!p || !n || n > PUMP_LANES || !(pp = calloc(1, sizeof(*pp))))
    return NULL;
  pthread_mutex_lock(&p->mu);
  pp->depth = get_bufs(p, pp->buf);
  pthread_mutex_unlock(&p->mu);
  if(!pp->depth) {
    free(pp);
    return NULL;
  }
  pp->pump = p;
  pp->nlanes = n;
  for(i = 0; i < n; i++) {
    pp->lane[i].pipe = pp;
    pp->lane[i].def = lanes[i];
  }
  pp->cap = PUMP_BUF - (size_t)(offset % PUMP_ALIGN);
  return pp;
}

unsigned vs__pipe_depth(const vs__pipe *pp)
{
  return pp->depth;
}

static unsigned slowest(const vs__pipe *pp)
{
  unsigned i, m = pp->lane[0].done;
  for(i = 1; i < pp->nlanes; i++)
    if(pp->lane[i].done < m)
      m = pp->lane[i].done;
  return m;
}

/* The next buffer's slot is free: its lanes are done with it; mu held. */
static int has_room(const vs__pipe *pp)
{
  return pp->sent - slowest(pp) < pp->depth;
}

/* No lane runs or waits to run; mu held. */
static int lanes_idle(const vs__pipe *pp)
{
  unsigned i;
  for(i = 0; i < pp->nlanes; i++)
    if(pp->lane[i].busy)
      return 0;
  return 1;
}

/* The filled buffer goes down the lanes; mu held. */
static void hand_over(vs__pipe *pp)
{
  unsigned i;
  pp->len[pp->sent % pp->depth] = pp->fill;
  pp->sent++;
  for(i = 0; i < pp->nlanes; i++)
    if(!pp->lane[i].busy)
      ready(pp->pump, &pp->lane[i]);
  pp->fill = 0;
  pp->cap = PUMP_BUF;
}

/* The pipe's failure into err: -1, or 0 when it has none; mu held. */
static int failure(const vs__pipe *pp, vs_err *err)
{
  if(!pp->failed)
    return 0;
  if(err)
    *err = pp->err;
  return -1;
}

/* Waits until the next buffer's slot is free (its lanes are done with
 * what it held) or the pipe failed: -1 then, err says how. */
static int wait_room(vs__pipe *pp, vs_err *err)
{
  vs__pump *p = pp->pump;
  int rc;
  pthread_mutex_lock(&p->mu);
  if(!pp->failed && !has_room(pp))
    pp->waiting = 1;
  while(!pp->failed && !has_room(pp))
    pthread_cond_wait(&p->done, &p->mu);
  rc = failure(pp, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* The filled buffer goes down the lanes. */
static void send_fill(vs__pipe *pp)
{
  pthread_mutex_lock(&pp->pump->mu);
  hand_over(pp);
  pthread_mutex_unlock(&pp->pump->mu);
}

int vs__pipe_offer(vs__pipe *pp, const void *data, size_t n, size_t *took,
                   vs_err *err)
{
  vs__pump *p = pp->pump;
  const char *d = data;
  *took = 0;
  while(n) {
    size_t k = pp->cap - pp->fill;
    if(!pp->fill) { /* a new buffer: its slot must be free */
      int rc, room;
      pthread_mutex_lock(&p->mu);
      rc = failure(pp, err);
      room = has_room(pp);
      if(!rc && !room)
        pp->waiting = 1;
      pthread_mutex_unlock(&p->mu);
      if(rc || !room)
        return rc;
    }
    if(k > n)
      k = n;
    memcpy(pp->buf[pp->sent % pp->depth] + pp->fill, d, k);
    pp->fill += k;
    d += k;
    n -= k;
    *took += k;
    if(pp->fill == pp->cap)
      send_fill(pp);
  }
  return 0;
}

int vs__pipe_park(vs__pipe *pp, int idle, void (*park)(void *),
                  void (*wake)(void *), void *arg)
{
  vs__pump *p = pp->pump;
  int parked = 0;
  pthread_mutex_lock(&p->mu);
  if(idle && pp->fill)
    hand_over(pp); /* the last piece goes too */
  if(!p->closing && !pp->failed && !(idle ? lanes_idle(pp) : has_room(pp))) {
    pp->wake = wake;
    pp->wake_arg = arg;
    pp->want_idle = idle;
    pp->park_next = p->parked;
    p->parked = pp;
    park(arg);
    parked = 1;
  }
  pthread_mutex_unlock(&p->mu);
  return parked;
}

void vs__pump_close(vs__pump *p)
{
  if(!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->closing = 1;
  while(p->parked) {
    vs__pipe *pp = p->parked;
    void (*wake)(void *) = pp->wake;
    unpark(p, pp);
    wake(pp->wake_arg);
  }
  pthread_mutex_unlock(&p->mu);
}

unsigned vs__pump_parked(vs__pump *p)
{
  const vs__pipe *pp;
  unsigned n = 0;
  if(!p)
    return 0;
  pthread_mutex_lock(&p->mu);
  for(pp = p->parked; pp; pp = pp->park_next)
    n++;
  pthread_mutex_unlock(&p->mu);
  return n;
}

unsigned long long vs__pump_waits(vs__pump *p, unsigned kind)
{
  unsigned long long n;
  if(!p || kind >= PUMP_LANES)
    return 0;
  pthread_mutex_lock(&p->mu);
  n = p->waits[kind];
  pthread_mutex_unlock(&p->mu);
  return n;
}

/* A new buffer is begun only in a free slot: after an offer that found
 * none (the owner could not park: the server is stopping), the slot may
 * still be with a lane, and writing there would change bytes it hashes or
 * writes. */
int vs__pipe_put(vs__pipe *pp, const void *data, size_t n, vs_err *err)
{
  const char *d = data;
  while(n) {
    size_t k = pp->cap - pp->fill;
    if(!pp->fill && wait_room(pp, err))
      return -1;
    if(k > n)
      k = n;
    memcpy(pp->buf[pp->sent % pp->depth] + pp->fill, d, k);
    pp->fill += k;
    d += k;
    n -= k;
    if(pp->fill == pp->cap)
      send_fill(pp);
  }
  return 0;
}

/* Waits until no lane runs or waits to run; mu held. */
static void settle(vs__pipe *pp)
{
  unsigned i;
  for(i = 0; i < pp->nlanes; i++)
    while(pp->lane[i].busy)
      pthread_cond_wait(&pp->pump->done, &pp->pump->mu);
}

int vs__pipe_end(vs__pipe *pp, vs_err *err)
{
  int rc = 0;
  if(pp->fill)
    send_fill(pp);
  pthread_mutex_lock(&pp->pump->mu);
  settle(pp);
  if(pp->failed) {
    rc = -1;
    if(err)
      *err = pp->err;
  }
  pthread_mutex_unlock(&pp->pump->mu);
  return rc;
}

void vs__pipe_free(vs__pipe *pp)
{
  vs__pump *p;
  unsigned i;
  if(!pp)
    return;
  p = pp->pump;
  pthread_mutex_lock(&p->mu);
  if(pp->wake)
    unpark(p, pp);
  pp->failed = 1; /* the lanes skip what is left */
  settle(pp);
  for(i = 0; i < pp->depth; i++)
    p->free_bufs[p->nfree++] = pp->buf[i];
  pthread_mutex_unlock(&p->mu);
  free(pp);
}
