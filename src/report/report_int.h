/* The fold's shared state (internal): the compact event records, the
 * per-thread parse context and struct vs_report itself, which the files of
 * the fold all work on: report.c (building, the task table, loading a
 * directory on several threads), report_parse.c (manifest lines to
 * records), report_join.c (records to outputs, vs_report_finish) and
 * report_rows.c (one row per output, vs_report_each). It lives apart so
 * that each of those files sees one definition of the records. */
#ifndef VS_REPORT_INT_H
#define VS_REPORT_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/dec.h"
#include "vsink/report.h"
#include "report_del.h"
#include "report_scan.h"

#define NONE UINT32_MAX

/* ---- chunked vectors: stable addresses, no doubling peaks --------------- */
#define CV_SHIFT 14
#define CV_BLOCK ((size_t)1 << CV_SHIFT)

typedef struct cvec {
  size_t esize, n, nblocks, capblocks;
  char **blocks;
} cvec;

static inline void *vs__cv_at(const cvec *v, size_t i)
{
  return v->blocks[i >> CV_SHIFT] + (i & (CV_BLOCK - 1)) * v->esize;
}

/* ---- records ------------------------------------------------------------ */

/* K_DEL (deleted and purged events) is kept apart, in report_del.c */
enum { K_SUB, K_RES, K_STO, K_FAIL, K_VER, NKINDS, K_DEL = NKINDS };

typedef struct rsub {
  int64_t t;
  vs_dec est, dur;
  const char *model, *size;
  uint32_t task;
  uint16_t nres;
  uint8_t has_est, has_dur;
} rsub;

typedef struct rsubd {
  const char *prompt, *res, *fmt;
  int64_t seed;
  int32_t w, h, q;
  uint8_t has_seed;
} rsubd;

typedef struct rres {
  int64_t t;
  vs_dec cost;
  key16 vid;
  uint32_t task;
  uint8_t has_cost;
} rres;

typedef struct rresd {
  int64_t seed;
  uint8_t has_seed;
} rresd;

typedef struct rsto {
  int64_t t, bytes;
  key16 obj; /* 128-bit hash of bucket, key, versionId (report_del.h) */
  uint32_t task;
  int32_t vdt; /* versionId's time - t: orders versions inside one ms */
} rsto;

typedef struct rstod {
  const char *bucket, *key, *ver;
  uint8_t sha[32];
  uint8_t has_sha;
} rstod;

typedef struct rfail { /* rare: kept whole */
  int64_t t;
  const char *code, *message;
  uint32_t task;
} rfail;

typedef struct rver {
  int64_t t;
  key16 obj;
  const char *problem;
  uint8_t ok;
} rver;

/* A parsed event waiting for its taskUUID to be resolved under the lock. */
typedef struct pend {
  int kind, has_tid;
  key16 tid;
  union {
    rsub s;
    rres r;
    rsto o;
    rfail f;
    rver v;
    vs__rdel x;
  } c;
  union {
    rsubd s;
    rresd r;
    rstod o;
  } d;
} pend;

/* ---- per-thread parse context: arena, interning, batch ------------------ */
typedef struct achunk {
  struct achunk *next;
  size_t used, cap;
  char data[];
} achunk;

typedef struct istr {
  const char *s;
  uint32_t n, h;
} istr;

typedef struct rctx {
  vs_report *r;
  achunk *arena;
  istr *itab;
  size_t icap, icount;
  pend *pend;
  size_t npend;
  vs_buf tmp[3];
  const char *seg;
  uint64_t lineno;
  uint64_t lines, torn, malformed, unknown, ev[NKINDS], deleted, purged;
  char first_problem[320];
  vs_err err;
  int failed;
} rctx;

struct vs_report {
  int detail, jobs, finished;
  pthread_mutex_t lock;
  cvec core[NKINDS], det[NKINDS];
  cvec keys;        /* key16 per task number */
  uint32_t *slots;  /* open addressing over keys: task number or NONE */
  size_t scap;
  rctx **ctx;
  size_t nctx;
  uint64_t segments, duplicates;
  /* the join (vs_report_finish) */
  int64_t now_ms, grace_ms;
  uint32_t *tsub;                 /* per task: its submitted record */
  uint32_t *rstart, *rlen, *rord; /* per task: results in time order */
  uint32_t *sstart, *slen, *sord; /* per task: stored objects */
  uint32_t *fstart, *fcnt, *ford; /* per task: failures */
  uint32_t *orph;                 /* stored objects with no task */
  size_t norph;
  uint32_t *sver;                 /* per stored record: latest verified */
  vs__dels dels;                  /* deleted and purged events */
  struct unit { int64_t t; uint32_t id; } *units;
  size_t nunits;
};

static inline const rres *vs__res_at(const vs_report *r, uint32_t i)
{
  return vs__cv_at(&r->core[K_RES], i);
}

static inline const rsto *vs__sto_at(const vs_report *r, uint32_t i)
{
  return vs__cv_at(&r->core[K_STO], i);
}

/* One manifest line into *p: 0 parsed, 1 an event kind the fold ignores
 * (*why stays NULL), -1 malformed with *why (report_parse.c). */
int vs__parse_line(rctx *c, const char *text, size_t len, pend *p,
                   const char **why);
/* Appends c's batch of parsed events to r's records under r's lock,
 * resolving taskUUIDs there (report.c). */
int vs__flush(rctx *c);

#endif
