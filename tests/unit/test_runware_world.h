/* runware unit tests: an injected world. A clock that only moves when the
 * client sleeps, a fixed random source, and a scripted transport that
 * answers each request from a list and remembers what was sent and when. */
#ifndef VS_TEST_RUNWARE_WORLD_H
#define VS_TEST_RUNWARE_WORLD_H

#include <stdlib.h>
#include <string.h>

#include "vsink/runware.h"

#define W_MAX 64

typedef struct w_step {
  long status;           /* 0: transport error */
  int64_t retry_after_ms;/* -1: none */
  const char *body;      /* answer body; NULL: "" */
} w_step;

typedef struct world {
  int64_t now;                  /* ms */
  int64_t sleeps[W_MAX];
  int n_sleeps;
  const w_step *script;
  int n_script;
  int sent;                     /* requests sent */
  char *bodies[W_MAX];          /* what was sent */
  int64_t sent_at[W_MAX];
  /* answers made by a function instead of the script (polls) */
  const char *(*answer)(struct world *w, const char *body, long *status);
  void *user;
  uint64_t rnd;
} world;

static inline int64_t w_now(void *ctx)
{
  return ((world *)ctx)->now;
}

static inline void w_sleep(void *ctx, int64_t ms)
{
  world *w = ctx;
  if(w->n_sleeps < W_MAX)
    w->sleeps[w->n_sleeps++] = ms;
  w->now += ms;
}

static inline uint64_t w_rand(void *ctx)
{
  return ((world *)ctx)->rnd;
}

static inline int w_send(void *ctx, const char *body, size_t len,
                         vs_rw_http *out)
{
  world *w = ctx;
  const char *text = "";
  int i = w->sent++;
  if(i < W_MAX) {
    w->bodies[i] = strndup(body, len);
    w->sent_at[i] = w->now;
  }
  if(w->answer) {
    text = w->answer(w, body, &out->status);
  }
  else if(i < w->n_script) {
    out->status = w->script[i].status;
    out->retry_after_ms = w->script[i].retry_after_ms;
    text = w->script[i].body ? w->script[i].body : "";
  }
  else {
    out->status = 0;
    strcpy(out->error, "script ran out");
  }
  if(!out->status && !out->error[0])
    strcpy(out->error, "connection refused");
  return vs_buf_adds(&out->body, text);
}

static inline void w_opts(world *w, vs_rw_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->api_url = "http://127.0.0.1:9/v1";
  o->api_key = "test-key";
  o->now = w_now;
  o->now_ctx = w;
  o->sleep = w_sleep;
  o->sleep_ctx = w;
  o->rand = w_rand;
  o->rand_ctx = w;
  o->send = w_send;
  o->send_ctx = w;
}

static inline void w_free(world *w)
{
  int i;
  for(i = 0; i < w->sent && i < W_MAX; i++)
    free(w->bodies[i]);
}

#endif
