/* An upload's bytes written with O_DIRECT by a thread of its own
 * (store_fs_direct.h): the connection's thread copies into one aligned
 * buffer while this one writes the other, so the disk works while the
 * caller receives and hashes, and nothing goes through the page cache. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fs_direct.h"

#define ALIGN 4096

struct vs__fs_direct {
  int dfd, fd;     /* O_DIRECT, and the plain one for what it refuses */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  unsigned char *buf[2];
  size_t len[2], cap;
  uint64_t off[2]; /* where each buffer's bytes belong in the file */
  uint64_t next;   /* the offset of the next byte given */
  int full[2], cur, stop, err;
};

/* Whole buffers O_DIRECT; the tail, or everything once refused, plain. */
static int put(vs__fs_direct *d, const unsigned char *p, size_t n,
               uint64_t off)
{
  size_t done = 0;
  while(done < n) {
    int direct = d->dfd >= 0 && n == d->cap;
    ssize_t w = pwrite(direct ? d->dfd : d->fd, p + done, n - done,
                       (off_t)(off + done));
    if(w < 0 && errno == EINTR)
      continue;
    if(w < 0 && direct && errno == EINVAL) {
      close(d->dfd);
      d->dfd = -1;
      continue;
    }
    if(w < 0)
      return errno;
    done += (size_t)w;
  }
  return 0;
}

static void *run(void *arg)
{
  vs__fs_direct *d = arg;
  int i = 0, e;
  for(;;) {
    pthread_mutex_lock(&d->lock);
    while(!d->full[i] && !d->stop)
      pthread_cond_wait(&d->cond, &d->lock);
    if(d->stop == 2 || !d->full[i]) {
      pthread_mutex_unlock(&d->lock);
      return NULL;
    }
    pthread_mutex_unlock(&d->lock);
    e = d->err ? 0 : put(d, d->buf[i], d->len[i], d->off[i]);
    pthread_mutex_lock(&d->lock);
    if(e && !d->err)
      d->err = e;
    d->full[i] = 0;
    d->len[i] = 0;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    i ^= 1;
  }
}

int vs__fs_direct_start(vs__fs_direct **out, const char *path, int fd,
                        uint64_t off, size_t cap)
{
  vs__fs_direct *d = calloc(1, sizeof(*d));
  void *b0 = NULL, *b1 = NULL;
  *out = NULL;
  if(!d || off % ALIGN || cap % ALIGN ||
     posix_memalign(&b0, ALIGN, cap) || posix_memalign(&b1, ALIGN, cap))
    goto fail;
  d->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
  if(d->dfd < 0)
    goto fail; /* tmpfs and the like: the caller stays buffered */
  d->fd = fd;
  d->buf[0] = b0;
  d->buf[1] = b1;
  d->cap = cap;
  d->next = d->off[0] = off;
  pthread_mutex_init(&d->lock, NULL);
  pthread_cond_init(&d->cond, NULL);
  if(pthread_create(&d->thread, NULL, run, d)) {
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    close(d->dfd);
    goto fail;
  }
  *out = d;
  return 0;
fail:
  free(b0);
  free(b1);
  free(d);
  return -1;
}

/* Hands the current buffer over and waits for the other one to be free. */
static int hand_over(vs__fs_direct *d)
{
  int e;
  pthread_mutex_lock(&d->lock);
  d->full[d->cur] = 1;
  pthread_cond_broadcast(&d->cond);
  d->cur ^= 1;
  while(d->full[d->cur])
    pthread_cond_wait(&d->cond, &d->lock);
  d->off[d->cur] = d->next;
  e = d->err;
  pthread_mutex_unlock(&d->lock);
  return e;
}

int vs__fs_direct_write(vs__fs_direct *d, const void *p, size_t n)
{
  const unsigned char *s = p;
  int e = 0;
  while(n && !e) {
    size_t room = d->cap - d->len[d->cur], k = n < room ? n : room;
    memcpy(d->buf[d->cur] + d->len[d->cur], s, k);
    d->len[d->cur] += k;
    d->next += k;
    s += k;
    n -= k;
    if(d->len[d->cur] == d->cap)
      e = hand_over(d);
  }
  return e; /* a later error still fails the finish */
}

static int end(vs__fs_direct *d, int how)
{
  int e;
  pthread_mutex_lock(&d->lock);
  if(how == 1 && d->len[d->cur])
    d->full[d->cur] = 1;
  d->stop = how;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->lock);
  pthread_join(d->thread, NULL);
  e = d->err;
  pthread_mutex_destroy(&d->lock);
  pthread_cond_destroy(&d->cond);
  if(d->dfd >= 0)
    close(d->dfd);
  free(d->buf[0]);
  free(d->buf[1]);
  free(d);
  return e;
}

int vs__fs_direct_finish(vs__fs_direct *d)
{
  return end(d, 1);
}

void vs__fs_direct_free(vs__fs_direct *d)
{
  if(d)
    end(d, 2);
}
