/* vsink-fakeapi: a stand-in for the remote videoInference API (see
 * README.md). It plays the other side of the wire, so nothing here uses
 * vsink's own task code: the rules come from the model page, in a table of
 * our own (validate.c). */
#ifndef FA_FAKEAPI_H
#define FA_FAKEAPI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/dec.h"
#include "vsink/common.h"

#define FA_MAX_RESULTS 4

/* ---- options ---------------------------------------------------------- */

/* A fault that applies to the first `count` occurrences; -1 means all. */
typedef struct fa_fault {
  long count;
  atomic_long used;
} fa_fault;

typedef struct fa_opts {
  char host[64];
  int port;
  const char *port_file;
  const char *api_key;
  long delay_ms;          /* per result */
  uint64_t size;          /* bytes of each delivered file */
  int workers;            /* delivery threads */
  int webhook_attempts;
  long webhook_backoff_ms;
  int upload_attempts;
  long slow_upload_ms;    /* pause between upload chunks */
  int drop_webhook, drop_upload, truncate_upload, duplicate_webhook;
  fa_fault fault_429, fault_500, fault_402, fault_lost_ack, fail_task;
} fa_opts;

/* ---- deterministic content (content.c) -------------------------------- */

typedef struct fa_content {
  uint8_t head[64];
  size_t hlen;
  uint64_t seed;
  uint64_t size;
} fa_content;

/* format: "MP4", "WEBM" or "MOV"; -1 for another. */
int fa_content_init(fa_content *c, const char *task_uuid, int index,
                    uint64_t size, const char *format);
void fa_content_fill(const fa_content *c, uint64_t off, uint8_t *out,
                     size_t n);
/* SHA-256 of the whole file as 64 hex digits. */
void fa_content_sha256(const fa_content *c, char hex[65]);

/* ---- prices (price.c) ------------------------------------------------- */

/* USD per second for "480p", "720p", "1080p"; -1 when unknown. */
int fa_price_per_second(const char *res_class, vs_dec *out);
/* The class of a width x height pair from the model page's table, or NULL. */
const char *fa_dimension_class(int64_t w, int64_t h);
/* Every pair as "WxH" into a new cJSON array (allowedValues). */
cJSON *fa_dimension_list(void);
/* cost of one result: price(class) x duration (in tenths of a second). */
int fa_cost(const char *res_class, int64_t tenths, vs_dec *out);

/* ---- image headers (image.c) ------------------------------------------ */

/* Sniffs PNG / JPEG / WEBP dimensions; returns the type name or NULL. */
const char *fa_image_sniff(const uint8_t *p, size_t n, long *w, long *h);

/* ---- tasks ------------------------------------------------------------ */

enum { FA_PENDING, FA_SUCCESS, FA_ERROR };

typedef struct fa_result {
  int state;
  uint64_t seed;
  char video_uuid[37];
  char sha256[65];
} fa_result;

typedef struct fa_task {
  struct fa_task *next;    /* hash chain */
  char uuid[37];           /* lowercased */
  char format[5];
  int n;
  int include_cost;
  int fail;                /* --fail-task chose this one */
  vs_dec cost;             /* per result */
  char *upload;            /* exact URL strings as received, or NULL */
  char *webhook;
  fa_result res[FA_MAX_RESULTS];
  char err_code[32];       /* when the task ended in an error */
  char err_msg[160];
} fa_task;

/* What validation extracts from a good task (validate.c). */
typedef struct fa_spec {
  char uuid[37];
  char format[5];
  int n;
  int include_cost;
  int has_seed;
  int64_t seed;
  vs_dec cost;
  const char *upload;      /* point into the request's cJSON tree */
  const char *webhook;
} fa_spec;

/* Validates one videoInference task; appends one error item per bad field
 * to errors. Returns the number of errors added (0: spec filled). */
int fa_validate(const cJSON *task, cJSON *errors, fa_spec *spec);
/* Appends {"code","message","parameter","type","taskType","taskUUID",
 * "documentation"} (+ allowedValues when not NULL, taken over). */
void fa_error_add(cJSON *errors, const char *code, const char *param,
                  const char *type, const char *task_type,
                  const char *task_uuid, cJSON *allowed,
                  const char *fmt, ...)
  __attribute__((format(printf, 8, 9)));

/* ---- the server ------------------------------------------------------- */

#define FA_BUCKETS 4096

typedef struct fa_job {
  struct fa_job *next;
  fa_task *task;
  int index;
  int64_t due_ms;          /* CLOCK_MONOTONIC */
} fa_job;

typedef struct fa_server {
  fa_opts *opts;
  char base_url[96];       /* http://host:port, for videoURL */
  pthread_mutex_t mu;      /* tasks and the job queue */
  pthread_cond_t cv;        /* jobs queued, or stopping */
  pthread_cond_t stop_cv;   /* wakes sleepers when stopping */
  fa_task *buckets[FA_BUCKETS];
  fa_job *head, *tail;
  atomic_int stop;
  pthread_t *threads;
  int nthreads;
} fa_server;

int64_t fa_mono_ms(void);

/* Takes one use of a fault: 1 when it applies now. */
int fa_fault_take(fa_fault *f);

/* store.c: the task table. Lookups and state changes take srv->mu. */
fa_task *fa_task_find(fa_server *srv, const char *uuid);
/* Adds a task made from spec and queues its jobs; -1 if out of memory. */
int fa_task_accept(fa_server *srv, const fa_spec *spec);
/* Appends a task's state to data (processing / success) or to errors. */
void fa_task_report(fa_server *srv, const fa_task *t, cJSON *data,
                    cJSON *errors);
/* The success item of one result (the webhook body and poll answer). */
cJSON *fa_result_item(fa_server *srv, const fa_task *t, int i);
cJSON *fa_task_error_item(const fa_task *t);
void fa_tasks_free(fa_server *srv);

/* deliver.c: the worker pool. */
int fa_pool_start(fa_server *srv, vs_err *err);
/* Stops the workers: transfers under way are abandoned. */
void fa_pool_stop(fa_server *srv);
/* Waits interruptibly (shutdown); returns non-zero when stopping. */
int fa_sleep_ms(fa_server *srv, long ms);

/* http.c: the API endpoint. */
struct MHD_Daemon;
struct MHD_Daemon *fa_http_start(fa_server *srv, int *port, vs_err *err);

/* Log helpers: the one-line JSON log on stderr. */
void fa_log_event(const char *event, const cJSON *fields);

#endif
