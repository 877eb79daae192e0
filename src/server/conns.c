/* Connection limits, header deadlines and minimum body rates (conns.h).
 *
 * A connection is admitted by the acceptor before libmicrohttpd sees it,
 * announced by libmicrohttpd's "started" notification (found again by its
 * fd) and released by its "closed" one, which libmicrohttpd sends before it
 * closes the fd: so while a record is in by_fd, its fd is that connection's
 * and the sweeper may shutdown() it under the lock without hitting a socket
 * that reused the number. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "server/conns.h"
#include "vsink/common.h"

#define SWEEP_MS 250
#define MAX_FDS (1u << 20)

static void ip_key(const struct sockaddr *sa, unsigned char ip[16])
{
  memset(ip, 0, 16);
  if(sa->sa_family == AF_INET6)
    memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
  else if(sa->sa_family == AF_INET) { /* as ::ffff:a.b.c.d */
    ip[10] = ip[11] = 0xff;
    memcpy(ip + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  }
}

static size_t ip_hash(const unsigned char ip[16])
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  int i;
  for(i = 0; i < 16; i++)
    h = (h ^ ip[i]) * 1099511628211ULL;
  return (size_t)h;
}

/* The slot holding ip, or the free slot where it would go. */
static vs__ipcount *ip_find(vs__conns *t, const unsigned char ip[16])
{
  size_t i = ip_hash(ip) & t->ip_mask;
  while(t->ips[i].n && memcmp(t->ips[i].ip, ip, 16))
    i = (i + 1) & t->ip_mask;
  return &t->ips[i];
}

/* Linear probing without tombstones: entries after a freed slot that would
 * be unreachable move back into it. */
static void ip_release(vs__conns *t, const unsigned char ip[16])
{
  vs__ipcount *e = ip_find(t, ip);
  size_t i, j;
  if(!e->n || --e->n)
    return;
  i = (size_t)(e - t->ips);
  for(j = (i + 1) & t->ip_mask; t->ips[j].n; j = (j + 1) & t->ip_mask) {
    size_t home = ip_hash(t->ips[j].ip) & t->ip_mask;
    /* move j to i unless its home lies cyclically in (i, j] */
    if(i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
      t->ips[i] = t->ips[j];
      t->ips[j].n = 0;
      i = j;
    }
  }
}

int vs__conns_init(vs__conns *t, const vs__conns_config *c)
{
  struct rlimit rl;
  size_t n = 16;
  memset(t, 0, sizeof(*t));
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->wake, NULL);
  t->max = c->max;
  t->max_per_ip = c->max_per_ip;
  t->header_ms = (int64_t)c->header_timeout_s * 1000;
  t->min_rate = c->min_rate;
  t->window_ms = (int64_t)(c->rate_window_s ? c->rate_window_s : 30) * 1000;
  while(n < 2 * (size_t)t->max)
    n <<= 1;
  t->ip_mask = n - 1;
  t->fd_cap = getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > MAX_FDS
                ? MAX_FDS : (size_t)rl.rlim_cur;
  t->ips = calloc(n, sizeof(*t->ips));
  t->live = calloc(t->max ? t->max : 1, sizeof(*t->live));
  t->by_fd = calloc(t->fd_cap, sizeof(*t->by_fd));
  if(!t->ips || !t->live || !t->by_fd) {
    vs__conns_free(t);
    return -1;
  }
  return 0;
}

/* Called with the lock held. */
static void drop(vs__conns *t, vs__conn *c)
{
  vs__conn *last = t->live[--t->n_live];
  last->slot = c->slot;
  t->live[c->slot] = last;
  if(t->by_fd[c->fd] == c)
    t->by_fd[c->fd] = NULL;
  ip_release(t, c->ip);
  free(c->raw_uri);
  free(c);
}

int vs__conns_admit(vs__conns *t, int fd, const struct sockaddr *sa,
                    int64_t now_ms)
{
  vs__conn *c;
  vs__ipcount *e;
  if(fd < 0 || (size_t)fd >= t->fd_cap)
    return -1;
  pthread_mutex_lock(&t->lock);
  /* a record never announced whose fd is back: libmicrohttpd dropped that
   * socket without a word (out of memory); the slot is free again */
  if(t->by_fd[fd])
    drop(t, t->by_fd[fd]);
  c = calloc(1, sizeof(*c));
  if(c)
    ip_key(sa, c->ip);
  e = c ? ip_find(t, c->ip) : NULL;
  if(!c || t->n_live >= t->max || (t->max_per_ip && e->n >= t->max_per_ip)) {
    if(c && t->n_live < t->max)
      atomic_fetch_add(&t->refused_per_ip, 1);
    atomic_fetch_add(&t->refused_total, 1);
    pthread_mutex_unlock(&t->lock);
    free(c);
    return -1;
  }
  memcpy(e->ip, c->ip, 16);
  e->n++;
  c->fd = fd;
  c->slot = t->n_live;
  atomic_init(&c->state, VS__C_HEADERS);
  atomic_init(&c->since_ms, now_ms);
  t->live[t->n_live++] = c;
  t->by_fd[fd] = c;
  pthread_mutex_unlock(&t->lock);
  return 0;
}

void vs__conns_refused(vs__conns *t, int fd)
{
  pthread_mutex_lock(&t->lock);
  if(t->by_fd[fd] && !t->by_fd[fd]->started)
    drop(t, t->by_fd[fd]);
  pthread_mutex_unlock(&t->lock);
}

vs__conn *vs__conns_started(vs__conns *t, int fd)
{
  vs__conn *c = NULL;
  pthread_mutex_lock(&t->lock);
  if(fd >= 0 && (size_t)fd < t->fd_cap && t->by_fd[fd]) {
    c = t->by_fd[fd];
    c->started = 1;
  }
  pthread_mutex_unlock(&t->lock);
  return c;
}

void vs__conns_closed(vs__conns *t, vs__conn *c)
{
  if(!c)
    return;
  pthread_mutex_lock(&t->lock);
  drop(t, c);
  pthread_mutex_unlock(&t->lock);
}

void vs__conn_enter(vs__conn *c, enum vs__conn_state st, int64_t now_ms)
{
  if(!c)
    return;
  if(st == VS__C_BODY)
    atomic_store(&c->body_bytes, 0);
  atomic_store(&c->since_ms, now_ms);
  atomic_store(&c->state, st);
}

unsigned vs__conns_open(vs__conns *t)
{
  unsigned n;
  pthread_mutex_lock(&t->lock);
  n = (unsigned)t->n_live;
  pthread_mutex_unlock(&t->lock);
  return n;
}

/* A body slower than min_rate over a whole window. The window restarts
 * when the state changes, so a pause between requests is not counted. */
static int too_slow(vs__conns *t, vs__conn *c, int64_t now)
{
  int64_t since = atomic_load(&c->since_ms);
  uint64_t bytes = atomic_load(&c->body_bytes);
  if(c->win_ms < since || bytes < c->win_bytes) {
    c->win_ms = since;
    c->win_bytes = 0;
  }
  if(now - c->win_ms < t->window_ms)
    return 0;
  if((bytes - c->win_bytes) * 1000 <
     t->min_rate * (uint64_t)(now - c->win_ms))
    return 1;
  c->win_ms = now;
  c->win_bytes = bytes;
  return 0;
}

/* shutdown(), not close(): libmicrohttpd owns the fd, sees the connection
 * end, and cleans up as for a client that went away. */
static void sweep(vs__conns *t, int64_t now)
{
  size_t i;
  for(i = 0; i < t->n_live; i++) {
    vs__conn *c = t->live[i];
    int st = atomic_load(&c->state);
    if(!c->started)
      continue;
    if(st == VS__C_HEADERS && t->header_ms &&
       now - atomic_load(&c->since_ms) > t->header_ms) {
      atomic_fetch_add(&t->header_timeouts, 1);
      shutdown(c->fd, SHUT_RDWR);
      atomic_store(&c->state, VS__C_ACTIVE); /* counted once */
    }
    else if(st == VS__C_BODY && t->min_rate && too_slow(t, c, now)) {
      atomic_fetch_add(&t->slow_bodies, 1);
      shutdown(c->fd, SHUT_RDWR);
      atomic_store(&c->state, VS__C_ACTIVE);
    }
  }
}

static void *sweeper(void *cls)
{
  vs__conns *t = cls;
  pthread_mutex_lock(&t->lock);
  while(!t->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += SWEEP_MS * 1000000L;
    if(ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&t->wake, &t->lock, &ts);
    if(!t->stop)
      sweep(t, vs_now_ms(NULL, NULL));
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

int vs__conns_start(vs__conns *t)
{
  if(!t->header_ms && !t->min_rate)
    return 0;
  if(pthread_create(&t->sweeper, NULL, sweeper, t))
    return -1;
  t->sweeping = 1;
  return 0;
}

void vs__conns_free(vs__conns *t)
{
  if(t->sweeping) {
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->sweeper, NULL);
    t->sweeping = 0;
  }
  while(t->live && t->n_live)
    drop(t, t->live[t->n_live - 1]);
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->wake);
  free(t->ips);
  free(t->live);
  free(t->by_fd);
  t->ips = NULL;
  t->live = NULL;
  t->by_fd = NULL;
}
