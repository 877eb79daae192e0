/* The API client: submits videoInference tasks to the generation API
 * (POST https://api.runware.ai/v1, a JSON array, `Authorization: Bearer`),
 * retries what may be retried, polls getResponse with back-off; and the
 * submitter built on it (vs_submit_run), which turns built tasks into
 * presigned uploads and webhooks, records every step in the manifest and
 * reports one line per task.
 *
 * Retries: 408, 429 (Retry-After honoured), 5xx and transport errors, with a
 * capped exponential back-off and jitter; never 400/401/402/403 or any
 * other 4xx. A retried request is the same bytes with the same taskUUIDs, so
 * a task whose ack was lost comes back as conflictTaskUUID: "already
 * accepted", never sent again under a new taskUUID.
 *
 * Time, sleeping, randomness and the transport are injectable so that the
 * policy can be tested exactly. The API key is held by the client only; it
 * never reaches a log, an error message or argv. */
#ifndef VSINK_RUNWARE_H
#define VSINK_RUNWARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vsink/common.h"
#include "util/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;
struct vs_keyring;
struct vs_manifest;
struct vs_task_item;
struct vs_task_api_error;

#define VS_RW_API_URL "https://api.runware.ai/v1"

/* ---- the retry policy (pure) --------------------------------------------- */
typedef struct vs_rw_retry {
  int max_attempts;           /* 0: 8 */
  int64_t base_ms;            /* 0: 500; the pause after the 1st failure */
  int64_t cap_ms;             /* 0: 30000 */
  int64_t max_retry_after_ms; /* 0: 300000; a longer Retry-After is cut */
} vs_rw_retry;

/* 1 when an answer with this HTTP status is retried (0 stands for a
 * transport error): 0, 408, 429, 5xx. */
int vs_rw_retryable(long status);
/* The pause after failed attempt number `attempt` (1-based). With a
 * Retry-After (retry_after_ms >= 0) exactly that, capped at
 * max_retry_after_ms. Otherwise d = min(cap, base x 2^(attempt-1)) with
 * "equal jitter": d/2 + (rnd mod (d/2 + 1)), so pauses never collapse to
 * zero and clients spread out. */
int64_t vs_rw_backoff_ms(const vs_rw_retry *p, int attempt,
                         int64_t retry_after_ms, uint64_t rnd);

/* ---- injectable world ----------------------------------------------------- */
typedef void (*vs_sleep_fn)(void *ctx, int64_t ms);
typedef uint64_t (*vs_rand_fn)(void *ctx);

/* One HTTP exchange's answer. */
typedef struct vs_rw_http {
  long status;            /* 0: transport error (error says which) */
  int64_t retry_after_ms; /* -1: no usable Retry-After */
  vs_buf body;
  char error[256];
} vs_rw_http;

void vs_rw_http_init(vs_rw_http *h);
void vs_rw_http_free(vs_rw_http *h);

/* A transport: POSTs body to the API and fills out (reset by the caller).
 * Returns 0, or non-zero only when it could not even try (out of memory);
 * a network failure is status 0, not a return code. */
typedef int (*vs_rw_send_fn)(void *ctx, const char *body, size_t len,
                             vs_rw_http *out);

/* ---- the client ------------------------------------------------------------
 * One client per thread: it owns one libcurl easy handle, so its connection
 * to the API stays alive between requests. */
typedef struct vs_rw_client vs_rw_client;

typedef struct vs_rw_opts {
  const char *api_url;  /* NULL: VS_RW_API_URL */
  const char *api_key;  /* required; copied */
  long timeout_ms;      /* per request; 0: 60000 (connect: 10000) */
  size_t max_body;      /* largest answer taken; 0: 64 MiB */
  vs_rw_retry retry;
  vs_now_fn now;        /* NULL: the real clock */
  void *now_ctx;
  vs_sleep_fn sleep;    /* NULL: nanosleep */
  void *sleep_ctx;
  vs_rand_fn rand;      /* NULL: a per-client generator seeded from
                           vs_random */
  void *rand_ctx;
  vs_rw_send_fn send;   /* NULL: libcurl */
  void *send_ctx;
} vs_rw_opts;

/* Call once before any thread makes a client (curl_global_init). */
int vs_rw_global_init(vs_err *err);
int vs_rw_client_new(vs_rw_client **out, const vs_rw_opts *o, vs_err *err);
void vs_rw_client_free(vs_rw_client *c);
/* The clock, sleep and random source the client was given (for callers
 * that pace themselves by the same clock). */
int64_t vs_rw_now(vs_rw_client *c);
void vs_rw_sleep(vs_rw_client *c, int64_t ms);

/* POSTs body with retries. VS_OK when a final answer came back (any status
 * that is not retried, 2xx or 4xx: look at out->status); VS_ERR_NET when
 * the attempts ran out (out holds the last answer). *attempts (may be NULL)
 * counts the requests sent. out is reset here. */
int vs_rw_post(vs_rw_client *c, const char *body, size_t len,
               vs_rw_http *out, int *attempts, vs_err *err);

/* ---- submitting ------------------------------------------------------------ */
typedef enum vs_rw_state {
  VS_RW_PENDING = 0,
  VS_RW_ACCEPTED,  /* in "data", or conflictTaskUUID (conflict = 1) */
  VS_RW_REFUSED,   /* an error item for the task, or a request-level error
                      (401, 402, 403, 400 ...): never sent again */
  VS_RW_UNKNOWN    /* retries ran out: the API may or may not hold it */
} vs_rw_state;

typedef struct vs_rw_ack {
  int state;           /* a vs_rw_state */
  int conflict;
  int attempts;        /* requests sent */
  long status;         /* HTTP status of the last answer; 0: transport */
  char code[64];       /* refused/unknown: the API's error code, or
                          "httpStatus" / "transportError" */
  char message[320];
  char parameter[64];
} vs_rw_ack;

/* Sends tasks (a cJSON array of task objects, each with its taskUUID) in
 * one request, retried as a whole; acks[i] is filled for tasks[i]. Returns
 * VS_OK when every task has an answer (accepted or refused), VS_ERR_NET
 * when the retries ran out (states VS_RW_UNKNOWN), VS_ERR_NOMEM. */
int vs_rw_submit(vs_rw_client *c, const struct cJSON *tasks, vs_rw_ack *acks,
                 vs_err *err);

/* ---- polling ---------------------------------------------------------------- */
typedef struct vs_rw_wait_opts {
  int64_t initial_ms;  /* before the first poll */
  int64_t first_ms;    /* the first pause between polls */
  int64_t max_ms;      /* pauses grow x1.5 up to this */
  int64_t timeout_ms;  /* from the start of vs_rw_wait */
  size_t batch;        /* getResponse tasks per request */
} vs_rw_wait_opts;
/* initial 1000, first 500, max 10000, timeout 3600000, batch 50 */
void vs_rw_wait_defaults(vs_rw_wait_opts *o);

typedef enum vs_rw_wait_state {
  VS_RW_WAITING = 0,
  VS_RW_DONE,      /* every expected result came back */
  VS_RW_FAILED,    /* an error item came back */
  VS_RW_TIMEOUT
} vs_rw_wait_state;

typedef struct vs_rw_wait_task {
  const char *task_uuid;
  int expected;        /* results to wait for (numberResults) */
  int state;           /* out: a vs_rw_wait_state */
  int got;             /* out: distinct videoUUIDs seen */
} vs_rw_wait_task;

typedef struct vs_rw_wait_cb {
  /* A result not seen before (de-duplicated by videoUUID). A non-zero
   * return stops the wait with that code. */
  int (*result)(void *ctx, size_t task, const struct vs_task_item *it);
  /* The task's error item (once per task). */
  int (*failed)(void *ctx, size_t task, const struct vs_task_api_error *e);
  /* After every poll round (may be NULL). */
  void (*progress)(void *ctx, size_t done, size_t total, int64_t elapsed_ms);
  void *ctx;
} vs_rw_wait_cb;

/* Polls until every task is done or failed, or the timeout passes (the
 * rest then VS_RW_TIMEOUT). A poll whose retries run out is skipped (the
 * next round tries again); a 401 or 403 stops with VS_ERR_AUTH. */
int vs_rw_wait(vs_rw_client *c, const vs_rw_wait_opts *o,
               vs_rw_wait_task *tasks, size_t n, const vs_rw_wait_cb *cb,
               vs_err *err);

/* ---- the submitter ---------------------------------------------------------- */
typedef enum vs_target_kind { VS_TARGET_SINK = 1, VS_TARGET_S3 } vs_target_kind;

/* Where the videos go. From --target:
 *   http(s)://HOST:PORT/BUCKET[/PREFIX]  a vsink sink
 *   s3://BUCKET[/PREFIX]                 a bucket at an S3 endpoint */
typedef struct vs_target {
  int kind;            /* a vs_target_kind */
  char endpoint[256];  /* sink: scheme://host:port; s3: set by the caller */
  char bucket[64];
  char prefix[512];    /* no leading or trailing '/' */
} vs_target;

int vs_target_parse(const char *text, vs_target *t, vs_err *err);
/* "http(s)://host[:port]" with at most one trailing '/', no path, no
 * query: copied to out without the '/'. */
int vs_endpoint_parse(const char *text, char *out, size_t cap, vs_err *err);

typedef struct vs_submit_cfg {
  vs_target target;
  const char *s3_region;          /* bucket target; "us-east-1" if NULL */
  const char *s3_key_id;          /* bucket target's keys */
  const char *s3_secret;
  const struct vs_keyring *sink_keys; /* sink target's PUT, every webhook */
  const char *sink_region;        /* "us-east-1" if NULL */
  const char *webhook_base;       /* NULL: no webhookURL */
  int64_t url_ttl_s;              /* 1..604800 */
  vs_rw_opts api;                 /* one client per worker from this */
  int concurrency;                /* workers sending tasks, >= 1 */
  int64_t rate_milli;             /* submissions per 1000 s; 0: no limit */
  int wait;
  vs_rw_wait_opts wait_opts;
  int dry_run;                    /* print the JSON array, send nothing */
  struct vs_manifest *manifest;   /* required unless dry_run */
  FILE *out;                      /* one JSON line per task (stdout) */
  FILE *msg;                      /* notes for a person (stderr) */
  int progress;                   /* progress lines on msg */
  int64_t now_s;                  /* signing time and object-key date; 0:
                                     the clock */
} vs_submit_cfg;

typedef struct vs_submit_job {
  struct cJSON *task;  /* built by vs_task_build (no taskUUID); taken */
  int line;            /* jobs-file line, or 0 */
} vs_submit_job;

typedef struct vs_submit_stats {
  size_t tasks, accepted, refused, unknown;
  size_t complete, failed, missing, timeout;
} vs_submit_stats;

/* Expands the jobs into tasks (a bucket target gets N one-result tasks for
 * numberResults N), gives each its taskUUID, object key, uploadEndpoint and
 * webhookURL; with dry_run prints the JSON array and stops; otherwise
 * records `submitted`, sends with cfg->concurrency workers at cfg->rate,
 * records `failed` for refusals, with cfg->wait polls (`result`, `failed`,
 * and for a bucket target a HEAD and `stored`) and prints one JSON line per
 * task. The jobs' tasks are freed. VS_OK when it ran (stats says how the
 * tasks fared), an error code when it could not. */
int vs_submit_run(const vs_submit_cfg *cfg, vs_submit_job *jobs, size_t n,
                  vs_submit_stats *stats, vs_err *err);

/* A URL with its X-Amz-Signature parameter removed (malloc'd), as the
 * manifest keeps it. */
char *vs_url_strip_signature(const char *url);

#ifdef __cplusplus
}
#endif
#endif
