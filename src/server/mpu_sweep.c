/* The multipart sweeper: uploads neither completed nor aborted within
 * --multipart-expiry of their creation are aborted (their parts removed),
 * as S3's AbortIncompleteMultipartUpload lifecycle rule does. It looks at
 * start, then every min(expiry / 2, 60 s). */
#include <errno.h>
#include <time.h>

#include "server/internal.h"
#include "util/clock.h"
#include "util/log.h"

#define DAY_MS (24ULL * 3600 * 1000)
#define EVERY_MAX_MS 60000ULL

static uint64_t expiry_ms(const vs_server *s)
{
  return s->cfg.mpu_expiry_ms ? s->cfg.mpu_expiry_ms : DAY_MS;
}

static void sweep(vs_server *s)
{
  int64_t now = vs_now_ms(s->cfg.now, s->cfg.now_ctx);
  size_t removed = 0;
  vs_err err = {0};
  if(vs_store_mpu_expire(s->cfg.store, now - (int64_t)expiry_ms(s),
                         &removed, &err))
    vs_log("error", "multipart sweeper: %s", err.msg);
  if(removed) {
    atomic_fetch_add(&s->m.mpu_expired, removed);
    vs_log("info", "multipart sweeper: %zu upload(s) older than %llu s "
           "aborted", removed, (unsigned long long)(expiry_ms(s) / 1000));
  }
}

static void *sweeper(void *arg)
{
  vs_server *s = arg;
  uint64_t every = expiry_ms(s) / 2;
  if(every > EVERY_MAX_MS)
    every = EVERY_MAX_MS;
  if(every < 100)
    every = 100;
  pthread_mutex_lock(&s->mpu_lock);
  while(!s->mpu_stop) {
    struct timespec ts;
    pthread_mutex_unlock(&s->mpu_lock);
    sweep(s);
    pthread_mutex_lock(&s->mpu_lock);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(every / 1000);
    ts.tv_nsec += (long)(every % 1000) * 1000000L;
    if(ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    while(!s->mpu_stop &&
          pthread_cond_timedwait(&s->mpu_wake, &s->mpu_lock, &ts) !=
            ETIMEDOUT)
      ;
  }
  pthread_mutex_unlock(&s->mpu_lock);
  return NULL;
}

int vs__mpu_sweeper_start(vs_server *s, vs_err *err)
{
  if(!vs_store_has_mpu(s->cfg.store))
    return VS_OK; /* no uploads to sweep (s3api.c refuses them) */
  pthread_mutex_init(&s->mpu_lock, NULL);
  pthread_cond_init(&s->mpu_wake, NULL);
  s->mpu_stop = 0;
  if(pthread_create(&s->mpu_sweeper, NULL, sweeper, s)) {
    pthread_cond_destroy(&s->mpu_wake);
    pthread_mutex_destroy(&s->mpu_lock);
    return vs_fail(err, VS_ERR_IO, "cannot start the multipart sweeper");
  }
  s->mpu_sweeper_running = 1;
  return VS_OK;
}

void vs__mpu_sweeper_stop(vs_server *s)
{
  if(!s->mpu_sweeper_running)
    return;
  pthread_mutex_lock(&s->mpu_lock);
  s->mpu_stop = 1;
  pthread_cond_signal(&s->mpu_wake);
  pthread_mutex_unlock(&s->mpu_lock);
  pthread_join(s->mpu_sweeper, NULL);
  pthread_cond_destroy(&s->mpu_wake);
  pthread_mutex_destroy(&s->mpu_lock);
  s->mpu_sweeper_running = 0;
}
