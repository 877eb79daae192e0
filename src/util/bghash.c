/* A digest on its own thread, fed by double buffering (bghash.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/bghash.h"

struct vs_bghash {
  EVP_MD_CTX *ctx;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;  /* a buffer handed over, or given back, or stop */
  unsigned char *buf[2];
  size_t len[2], cap;
  int full[2];          /* handed to the thread, not yet hashed */
  int cur;              /* the buffer the producer fills */
  int stop;             /* 1: finish after what is handed over; 2: now */
};

static void *run(void *arg)
{
  vs_bghash *h = arg;
  int i = 0;
  for(;;) {
    pthread_mutex_lock(&h->lock);
    while(!h->full[i] && !h->stop)
      pthread_cond_wait(&h->cond, &h->lock);
    if(h->stop == 2 || !h->full[i]) {
      pthread_mutex_unlock(&h->lock);
      return NULL;
    }
    pthread_mutex_unlock(&h->lock);
    EVP_DigestUpdate(h->ctx, h->buf[i], h->len[i]);
    pthread_mutex_lock(&h->lock);
    h->full[i] = 0;
    h->len[i] = 0;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    i ^= 1; /* the producer hands them over in turn */
  }
}

int vs_bghash_start(vs_bghash **out, EVP_MD_CTX *ctx, size_t cap)
{
  vs_bghash *h = calloc(1, sizeof(*h));
  *out = NULL;
  if(!h || !cap || !(h->buf[0] = malloc(cap)) || !(h->buf[1] = malloc(cap)))
    goto fail;
  h->ctx = ctx;
  h->cap = cap;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->cond, NULL);
  if(pthread_create(&h->thread, NULL, run, h)) {
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    goto fail;
  }
  *out = h;
  return 0;
fail:
  if(h) {
    free(h->buf[0]);
    free(h->buf[1]);
  }
  free(h);
  return -1;
}

/* Hands the current buffer over and waits for the other one to be free. */
static void hand_over(vs_bghash *h)
{
  pthread_mutex_lock(&h->lock);
  h->full[h->cur] = 1;
  pthread_cond_broadcast(&h->cond);
  h->cur ^= 1;
  while(h->full[h->cur])
    pthread_cond_wait(&h->cond, &h->lock);
  pthread_mutex_unlock(&h->lock);
}

void vs_bghash_update(vs_bghash *h, const void *p, size_t n)
{
  const unsigned char *s = p;
  while(n) {
    size_t room = h->cap - h->len[h->cur], k = n < room ? n : room;
    memcpy(h->buf[h->cur] + h->len[h->cur], s, k);
    h->len[h->cur] += k;
    s += k;
    n -= k;
    if(h->len[h->cur] == h->cap)
      hand_over(h);
  }
}

static EVP_MD_CTX *end(vs_bghash *h, int how)
{
  EVP_MD_CTX *ctx = h->ctx;
  pthread_mutex_lock(&h->lock);
  if(how == 1 && h->len[h->cur])
    h->full[h->cur] = 1;
  h->stop = how;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->lock);
  pthread_join(h->thread, NULL);
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->cond);
  free(h->buf[0]);
  free(h->buf[1]);
  free(h);
  return ctx;
}

EVP_MD_CTX *vs_bghash_finish(vs_bghash *h)
{
  return end(h, 1);
}

void vs_bghash_free(vs_bghash *h)
{
  if(h)
    EVP_MD_CTX_free(end(h, 2));
}
