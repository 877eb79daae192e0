/* The fold: manifest lines -> compact event records -> one row per output.
 *
 * Memory is what bounds a million-output manifest, so no parsed JSON tree
 * outlives its line: a targeted scanner (below) pulls the fields the report
 * needs out of each line into small fixed records, strings that repeat
 * (models, buckets, prompts re-used) are interned, and taskUUIDs become
 * dense 32-bit task numbers through one open-addressing table. Fields that
 * only per-row output shows live in parallel "detail" records that exist
 * only when opts.detail asks for them.
 *
 * Reading runs on several threads (zlib and the scan dominate): each thread
 * parses into a private batch and its own string arena, then appends the
 * batch to the shared record vectors under one lock, resolving taskUUIDs
 * there, once per batch rather than once per line. */
#define _GNU_SOURCE
#include "vsink/report.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/dec.h"
#include "vsink/manifest.h"
#include "report_del.h"
#include "report_scan.h"

#define NONE UINT32_MAX
#define BATCH 2048
#define MAX_JOBS 8

/* ---- chunked vectors: stable addresses, no doubling peaks --------------- */
#define CV_SHIFT 14
#define CV_BLOCK ((size_t)1 << CV_SHIFT)

typedef struct cvec {
  size_t esize, n, nblocks, capblocks;
  char **blocks;
} cvec;

static void *cv_at(const cvec *v, size_t i)
{
  return v->blocks[i >> CV_SHIFT] + (i & (CV_BLOCK - 1)) * v->esize;
}

static void *cv_push(cvec *v)
{
  if(v->n == v->nblocks * CV_BLOCK) {
    if(v->nblocks == v->capblocks) {
      size_t cap = v->capblocks ? v->capblocks * 2 : 16;
      char **b = realloc(v->blocks, cap * sizeof(*b));
      if(!b)
        return NULL;
      v->blocks = b;
      v->capblocks = cap;
    }
    v->blocks[v->nblocks] = malloc(CV_BLOCK * v->esize);
    if(!v->blocks[v->nblocks])
      return NULL;
    v->nblocks++;
  }
  return cv_at(v, v->n++);
}

static void cv_free(cvec *v)
{
  size_t i;
  for(i = 0; i < v->nblocks; i++)
    free(v->blocks[i]);
  free(v->blocks);
  v->blocks = NULL;
  v->n = v->nblocks = v->capblocks = 0;
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

static const size_t core_size[NKINDS] = {sizeof(rsub), sizeof(rres),
                                         sizeof(rsto), sizeof(rfail),
                                         sizeof(rver)};
static const size_t detail_size[NKINDS] = {sizeof(rsubd), sizeof(rresd),
                                           sizeof(rstod), 0, 0};

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

static void *arena_alloc(rctx *c, size_t n)
{
  achunk *a = c->arena;
  if(!a || a->cap - a->used < n) {
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    a = malloc(sizeof(*a) + cap);
    if(!a)
      return NULL;
    a->cap = cap;
    a->used = 0;
    a->next = c->arena;
    c->arena = a;
  }
  a->used += n;
  return a->data + a->used - n;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
  const uint8_t *s = p;
  uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;
  for(; n >= 8; n -= 8, s += 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  w = 0;
  memcpy(&w, s, n);
  h = (h ^ w ^ ((uint64_t)n << 56)) * 0x94d049bb133111ebULL;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 32);
}

static int intern_grow(rctx *c)
{
  size_t cap = c->icap ? c->icap * 2 : 1024, i, j;
  istr *t = calloc(cap, sizeof(*t));
  if(!t)
    return -1;
  for(i = 0; i < c->icap; i++) {
    if(!c->itab[i].s)
      continue;
    for(j = c->itab[i].h & (cap - 1); t[j].s; j = (j + 1) & (cap - 1))
      ;
    t[j] = c->itab[i];
  }
  free(c->itab);
  c->itab = t;
  c->icap = cap;
  return 0;
}

/* One copy per distinct string per thread. */
static const char *intern(rctx *c, const char *s, size_t n)
{
  uint32_t h = (uint32_t)hash_bytes(s, n, 7);
  size_t i;
  char *d;
  if(c->icount * 2 >= c->icap && intern_grow(c)) {
    c->failed = 1; /* NULL would read as "absent": ctx_line fails instead */
    return NULL;
  }
  for(i = h & (c->icap - 1); c->itab[i].s; i = (i + 1) & (c->icap - 1))
    if(c->itab[i].h == h && c->itab[i].n == n && !memcmp(c->itab[i].s, s, n))
      return c->itab[i].s;
  d = arena_alloc(c, n + 1);
  if(!d) {
    c->failed = 1;
    return NULL;
  }
  memcpy(d, s, n);
  d[n] = 0;
  c->itab[i].s = d;
  c->itab[i].n = (uint32_t)n;
  c->itab[i].h = h;
  c->icount++;
  return d;
}

static const char *span_intern(rctx *c, const span *sp, int slot)
{
  if(sp->kind != J_STR || vs__span_text(sp, &c->tmp[slot]))
    return NULL;
  return intern(c, c->tmp[slot].data ? c->tmp[slot].data : "",
                c->tmp[slot].len);
}

/* ---- lines to records --------------------------------------------------- */
enum { TF_V, TF_EVENT, TF_TIME, TF_TASKUUID, TF_VIDEOUUID, TF_SEED, TF_COST,
       TF_ESTIMATE, TF_BUCKET, TF_KEY, TF_VERSIONID, TF_BYTES, TF_SHA256, TF_CODE,
       TF_MESSAGE, TF_OK, TF_PROBLEM, TF_TASK, TF_MARKER, NTOP };
static const char *const top_names[NTOP] = {
  "v", "event", "time", "taskUUID", "videoUUID", "seed", "cost", "estimate",
  "bucket", "key", "versionId", "bytes", "sha256", "code", "message", "ok",
  "problem", "task", "deleteMarker"};
static const uint8_t top_lens[NTOP] = {1, 5, 4, 8, 9, 4, 4, 8, 6,
                                       3, 9, 5, 6, 4, 7, 2, 7, 4, 12};

enum { T_PROMPT, T_MODEL, T_WIDTH, T_HEIGHT, T_RESOLUTION, T_DURATION,
       T_FORMAT, T_QUALITY, T_SEED, T_NRES, NTASK };
static const char *const task_names[NTASK] = {
  "positivePrompt", "model", "width", "height", "resolution", "duration",
  "outputFormat", "outputQuality", "seed", "numberResults"};
static const uint8_t task_lens[NTASK] = {14, 5, 5, 6, 10, 8, 12, 13, 4, 13};

typedef struct fields {
  span top[NTOP], task[NTASK];
} fields;

#define BAD(msg)  \
  do {            \
    *why = (msg); \
    return -1;    \
  } while(0)

/* The object's identity: 64 bits of (bucket, key), which every version of
 * a key shares (report_del.h), then 64 of (bucket, key, versionId). *vms
 * (may be NULL) gets the time a sink version id carries. */
static int obj_id(rctx *c, const fields *l, key16 *obj, rstod *d,
                  int64_t *vms)
{
  vs_buf *b = &c->tmp[0];
  uint64_t h1, h2;
  size_t kb, kk, nv;
  if(l->top[TF_BUCKET].kind != J_STR || l->top[TF_KEY].kind != J_STR)
    return -1;
  if(l->top[TF_VERSIONID].kind != J_STR && l->top[TF_VERSIONID].kind != J_NULL &&
     l->top[TF_VERSIONID].kind != J_NONE)
    return -1;
  /* bucket NUL key NUL versionId: the object's identity, decoded */
  if(vs__span_text(&l->top[TF_BUCKET], b))
    return -1;
  kb = b->len;
  vs_buf_addc(b, 0);
  {
    vs_buf *t = &c->tmp[1];
    if(vs__span_text(&l->top[TF_KEY], t))
      return -1;
    vs_buf_add(b, t->data, t->len);
    kk = t->len;
    if(b->failed)
      return -1;
    h1 = hash_bytes(b->data, b->len, 0x243f6a8885a308d3ULL);
    vs_buf_addc(b, 0);
    vs_buf_reset(t);
    if(l->top[TF_VERSIONID].kind == J_STR && vs__span_text(&l->top[TF_VERSIONID], t))
      return -1;
    vs_buf_add(b, t->data ? t->data : "", t->len);
  }
  if(b->failed)
    return -1;
  h2 = hash_bytes(b->data, b->len, 0x13198a2e03707344ULL);
  memcpy(obj->b, &h1, 8);
  memcpy(obj->b + 8, &h2, 8);
  nv = b->len - kb - kk - 2;
  if(vms)
    *vms = vs__vid_ms(b->data + kb + kk + 2, nv);
  if(d) {
    d->bucket = intern(c, b->data, kb);
    d->key = intern(c, b->data + kb + 1, kk);
    d->ver = intern(c, b->data + kb + kk + 2, b->len - kb - kk - 2);
    if(!d->bucket || !d->key || !d->ver)
      return -1;
  }
  return 0;
}

/* The grouping key for the size: resolution, else "WxH". */
static const char *task_size(rctx *c, const span *t)
{
  int64_t w, h;
  char buf[48];
  if(t[T_RESOLUTION].kind == J_STR)
    return span_intern(c, &t[T_RESOLUTION], 0);
  if(vs__span_int(&t[T_WIDTH], 1, 1000000, &w) ||
     vs__span_int(&t[T_HEIGHT], 1, 1000000, &h))
    return NULL;
  snprintf(buf, sizeof(buf), "%dx%d", (int)w, (int)h);
  return intern(c, buf, strlen(buf));
}

/* Display-only fields are lenient: a value of the wrong type is left out.
 * Identity (taskUUID, time) and money (estimate) are strict. */
static int make_sub(rctx *c, const fields *l, pend *p, const char **why)
{
  const span *t = l->task;
  int64_t v;
  rsub *s = &p->c.s;
  if(l->top[TF_ESTIMATE].kind != J_NONE && l->top[TF_ESTIMATE].kind != J_NULL) {
    if(vs__span_dec(&l->top[TF_ESTIMATE], &s->est))
      BAD("submitted: estimate is not an exact decimal");
    s->has_est = 1;
  }
  s->nres = 1; /* the API's default */
  if(!vs__span_int(&t[T_NRES], 1, 65535, &v))
    s->nres = (uint16_t)v;
  if((t[T_DURATION].kind == J_NUM) && !vs__span_dec(&t[T_DURATION], &s->dur))
    s->has_dur = 1;
  s->model = span_intern(c, &t[T_MODEL], 0);
  s->size = task_size(c, t);
  if(c->r->detail) {
    rsubd *d = &p->d.s;
    d->prompt = span_intern(c, &t[T_PROMPT], 0);
    d->res = span_intern(c, &t[T_RESOLUTION], 0);
    d->fmt = span_intern(c, &t[T_FORMAT], 0);
    d->w = vs__span_int(&t[T_WIDTH], 1, INT32_MAX, &v) ? 0 : (int32_t)v;
    d->h = vs__span_int(&t[T_HEIGHT], 1, INT32_MAX, &v) ? 0 : (int32_t)v;
    d->q = vs__span_int(&t[T_QUALITY], 0, INT32_MAX, &v) ? -1 : (int32_t)v;
    d->has_seed = !vs__span_int(&t[T_SEED], INT64_MIN, INT64_MAX, &d->seed);
  }
  return 0;
}

static int make_res(rctx *c, const fields *l, pend *p, const char **why)
{
  rres *s = &p->c.r;
  if(vs__span_uuid(&l->top[TF_VIDEOUUID], &s->vid))
    BAD("result: videoUUID is not a UUID");
  if(l->top[TF_COST].kind != J_NONE && l->top[TF_COST].kind != J_NULL) {
    if(vs__span_dec(&l->top[TF_COST], &s->cost))
      BAD("result: cost is not an exact decimal");
    s->has_cost = 1;
  }
  if(c->r->detail)
    p->d.r.has_seed =
      !vs__span_int(&l->top[TF_SEED], INT64_MIN, INT64_MAX, &p->d.r.seed);
  return 0;
}

static int make_sto(rctx *c, const fields *l, pend *p, const char **why)
{
  rsto *s = &p->c.o;
  rstod *d = c->r->detail ? &p->d.o : NULL;
  int64_t vms;
  if(obj_id(c, l, &s->obj, d, &vms))
    BAD("stored: bucket, key or versionId missing or not a string");
  s->vdt = vs__vid_delta(vms, s->t);
  if(vs__span_int(&l->top[TF_BYTES], 0, INT64_MAX, &s->bytes))
    BAD("stored: bytes is not a non-negative integer");
  if(d && l->top[TF_SHA256].kind == J_STR && l->top[TF_SHA256].n == 64) {
    int i, ok = 1;
    for(i = 0; i < 32 && ok; i++) {
      int hi = vs__hexval(l->top[TF_SHA256].p[2 * i]);
      int lo = vs__hexval(l->top[TF_SHA256].p[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      if(ok) /* hexval is -1 for a non-digit: -1 << 4 is undefined */
        d->sha[i] = (uint8_t)(hi << 4 | lo);
    }
    d->has_sha = (uint8_t)ok;
  }
  return 0;
}

static int make_fail(rctx *c, const fields *l, pend *p, const char **why)
{
  (void)why;
  p->c.f.code = span_intern(c, &l->top[TF_CODE], 0);
  p->c.f.message = span_intern(c, &l->top[TF_MESSAGE], 0);
  return 0;
}

static int make_ver(rctx *c, const fields *l, pend *p, const char **why)
{
  rver *v = &p->c.v;
  if(obj_id(c, l, &v->obj, NULL, NULL))
    BAD("verified: bucket, key or versionId missing or not a string");
  if(l->top[TF_OK].kind != J_TRUE && l->top[TF_OK].kind != J_FALSE)
    BAD("verified: ok is not a boolean");
  v->ok = l->top[TF_OK].kind == J_TRUE;
  v->problem = span_intern(c, &l->top[TF_PROBLEM], 2);
  return 0;
}

/* A delete marker's `deleted` event, or a `purged` one (of a version with
 * bytes, or of a marker: "deleteMarker": true). Neither names a task. */
static int make_gone(rctx *c, const fields *l, pend *p, const char **why,
                     int what)
{
  vs__rdel *x = &p->c.x;
  rstod d;
  int64_t vms;
  if(l->top[TF_VERSIONID].kind != J_STR ||
     obj_id(c, l, &x->obj, &d, &vms))
    BAD("deleted/purged: bucket, key or versionId missing or not a string");
  if(what == VS__DEL_PURGED && l->top[TF_MARKER].kind == J_TRUE)
    what = VS__DEL_PURGED_MARKER;
  x->what = (uint8_t)what;
  x->vdt = vs__vid_delta(vms, x->t);
  x->ver = d.ver;
  return 0;
}

static int make_del(rctx *c, const fields *l, pend *p, const char **why)
{
  return make_gone(c, l, p, why, VS__DEL_MARKER);
}

static int make_purged(rctx *c, const fields *l, pend *p, const char **why)
{
  return make_gone(c, l, p, why, VS__DEL_PURGED);
}

static const struct {
  const char *name;
  int kind;
  int (*make)(rctx *, const fields *, pend *, const char **);
} events[] = {
  {"submitted", K_SUB, make_sub}, {"result", K_RES, make_res},
  {"stored", K_STO, make_sto},    {"failed", K_FAIL, make_fail},
  {"verified", K_VER, make_ver},  {"deleted", K_DEL, make_del},
  {"purged", K_DEL, make_purged},
};

static int kind_of(const span *ev)
{
  size_t i;
  for(i = 0; i < sizeof(events) / sizeof(events[0]); i++)
    if(strlen(events[i].name) == ev->n && !memcmp(events[i].name, ev->p, ev->n))
      return (int)i;
  return -1;
}

/* 0 parsed (or an event kind the fold ignores: *why stays NULL and 1 is
 * returned), -1 malformed with *why. */
static int parse_line(rctx *c, const char *text, size_t len, pend *p,
                      const char **why)
{
  static const fieldset task_fs = {task_names, task_lens, NTASK, NULL, -1,
                                   NULL};
  fields l;
  fieldset top = {top_names, top_lens, NTOP, l.top, TF_TASK, &task_fs};
  fieldset tfs = task_fs;
  js s = {text, text + len};
  int64_t v;
  int e;
  memset(&l, 0, sizeof(l));
  tfs.out = l.task;
  top.child = &tfs;
  vs__js_ws(&s);
  if(s.p >= s.e || *s.p != '{' || vs__js_object(&s, 0, &top))
    BAD("not a JSON object");
  vs__js_ws(&s);
  if(s.p != s.e)
    BAD("text after the JSON object");
  if(vs__span_int(&l.top[TF_V], 1, 1, &v))
    BAD("\"v\" is not 1");
  if(l.top[TF_EVENT].kind != J_STR || l.top[TF_EVENT].esc)
    BAD("\"event\" is not a string");
  e = kind_of(&l.top[TF_EVENT]);
  if(e < 0)
    return 1;
  memset(p, 0, sizeof(*p));
  p->kind = events[e].kind;
  if(vs__span_time(&l.top[TF_TIME], &p->c.s.t)) /* t leads every record */
    BAD("\"time\" is not an RFC 3339 time");
  if(l.top[TF_TASKUUID].kind != J_NONE && p->kind != K_VER &&
     p->kind != K_DEL) {
    if(vs__span_uuid(&l.top[TF_TASKUUID], &p->tid))
      BAD("taskUUID is not a UUID");
    p->has_tid = 1;
  }
  else if(p->kind != K_STO && p->kind != K_VER && p->kind != K_DEL)
    BAD("taskUUID is missing");
  return events[e].make(c, &l, p, why);
}

/* ---- the task table ----------------------------------------------------- */
static size_t key_slot(const key16 *k, size_t cap)
{
  uint64_t a, b;
  memcpy(&a, k->b, 8);
  memcpy(&b, k->b + 8, 8);
  a = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
  return (size_t)((a ^ (a >> 31)) & (cap - 1));
}

static int task_grow(vs_report *r)
{
  size_t cap = r->scap ? r->scap * 2 : 4096, i, j;
  uint32_t *t = malloc(cap * sizeof(*t));
  if(!t)
    return -1;
  memset(t, 0xff, cap * sizeof(*t));
  for(i = 0; i < r->keys.n; i++) {
    for(j = key_slot(cv_at(&r->keys, i), cap); t[j] != NONE;
        j = (j + 1) & (cap - 1))
      ;
    t[j] = (uint32_t)i;
  }
  free(r->slots);
  r->slots = t;
  r->scap = cap;
  return 0;
}

static uint32_t task_of(vs_report *r, const key16 *k)
{
  size_t j;
  key16 *nk;
  if(r->keys.n * 2 >= r->scap && task_grow(r))
    return NONE;
  for(j = key_slot(k, r->scap); r->slots[j] != NONE;
      j = (j + 1) & (r->scap - 1))
    if(!memcmp(cv_at(&r->keys, r->slots[j]), k, sizeof(*k)))
      return r->slots[j];
  if(r->keys.n >= NONE - 1 || !(nk = cv_push(&r->keys)))
    return NONE;
  *nk = *k;
  r->slots[j] = (uint32_t)(r->keys.n - 1);
  return r->slots[j];
}

static int flush_locked(vs_report *r, rctx *c)
{
  size_t i;
  for(i = 0; i < c->npend; i++) {
    pend *p = &c->pend[i];
    uint32_t task = NONE;
    void *core, *det;
    if(p->kind == K_DEL) {
      if(vs__dels_add(&r->dels, &p->c.x))
        return VS_ERR_NOMEM;
      continue;
    }
    if(p->has_tid && (task = task_of(r, &p->tid)) == NONE)
      return VS_ERR_NOMEM;
    switch(p->kind) {
    case K_SUB: p->c.s.task = task; break;
    case K_RES: p->c.r.task = task; break;
    case K_STO: p->c.o.task = task; break;
    case K_FAIL: p->c.f.task = task; break;
    default: break;
    }
    if(!(core = cv_push(&r->core[p->kind])))
      return VS_ERR_NOMEM;
    memcpy(core, &p->c, core_size[p->kind]);
    if(r->detail && detail_size[p->kind]) {
      if(!(det = cv_push(&r->det[p->kind])))
        return VS_ERR_NOMEM;
      memcpy(det, &p->d, detail_size[p->kind]);
    }
  }
  c->npend = 0;
  return 0;
}

static int flush(rctx *c)
{
  int rc;
  pthread_mutex_lock(&c->r->lock);
  rc = flush_locked(c->r, c);
  pthread_mutex_unlock(&c->r->lock);
  return rc;
}

static void note_problem(rctx *c, const char *where, const char *why)
{
  if(c->first_problem[0])
    return;
  if(where)
    snprintf(c->first_problem, sizeof(c->first_problem), "%s: %s", where, why);
  else if(c->seg)
    snprintf(c->first_problem, sizeof(c->first_problem), "%s line %llu: %s",
             c->seg, (unsigned long long)c->lineno, why);
  else
    snprintf(c->first_problem, sizeof(c->first_problem), "line %llu: %s",
             (unsigned long long)c->lines, why);
}

static int ctx_line(rctx *c, const char *text, size_t len, const char *where)
{
  const char *why = NULL;
  int rc;
  c->lines++;
  c->lineno++;
  rc = parse_line(c, text, len, &c->pend[c->npend], &why);
  if(c->failed)
    return VS_ERR_NOMEM;
  if(rc < 0) {
    c->malformed++;
    note_problem(c, where, why ? why : "out of memory while parsing");
    return 0;
  }
  if(rc > 0) {
    c->unknown++;
    return 0;
  }
  if(c->pend[c->npend].kind != K_DEL)
    c->ev[c->pend[c->npend].kind]++;
  else if(c->pend[c->npend].c.x.what == VS__DEL_MARKER)
    c->deleted++;
  else
    c->purged++;
  if(++c->npend == BATCH)
    return flush(c);
  return 0;
}

static rctx *ctx_new(vs_report *r)
{
  rctx *c = calloc(1, sizeof(*c)), **list;
  if(!c)
    return NULL;
  c->r = r;
  c->pend = malloc(BATCH * sizeof(*c->pend));
  list = realloc(r->ctx, (r->nctx + 1) * sizeof(*list));
  if(!c->pend || !list) {
    free(c->pend);
    free(c);
    if(list)
      r->ctx = list;
    return NULL;
  }
  r->ctx = list;
  r->ctx[r->nctx++] = c;
  return c;
}

static void ctx_free(rctx *c)
{
  int i;
  while(c->arena) {
    achunk *n = c->arena->next;
    free(c->arena);
    c->arena = n;
  }
  for(i = 0; i < 3; i++)
    vs_buf_free(&c->tmp[i]);
  free(c->itab);
  free(c->pend);
  free(c);
}

/* ---- the public face: building ------------------------------------------ */
int vs_report_new(vs_report **out, const vs_report_opts *o, vs_err *err)
{
  vs_report *r = calloc(1, sizeof(*r));
  int k;
  if(!r)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  r->detail = o ? o->detail : 0;
  r->jobs = o ? o->jobs : 0;
  pthread_mutex_init(&r->lock, NULL);
  for(k = 0; k < NKINDS; k++) {
    r->core[k].esize = core_size[k];
    r->det[k].esize = detail_size[k] ? detail_size[k] : 1;
  }
  r->keys.esize = sizeof(key16);
  if(!ctx_new(r)) {
    vs_report_free(r);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  *out = r;
  return 0;
}

static void free_join(vs_report *r)
{
  free(r->tsub);
  free(r->rstart);
  free(r->rlen);
  free(r->rord);
  free(r->sstart);
  free(r->slen);
  free(r->sord);
  free(r->fstart);
  free(r->fcnt);
  free(r->ford);
  free(r->orph);
  free(r->sver);
  free(r->units);
}

void vs_report_free(vs_report *r)
{
  size_t i;
  int k;
  if(!r)
    return;
  for(k = 0; k < NKINDS; k++) {
    cv_free(&r->core[k]);
    cv_free(&r->det[k]);
  }
  cv_free(&r->keys);
  free(r->slots);
  for(i = 0; i < r->nctx; i++)
    ctx_free(r->ctx[i]);
  free(r->ctx);
  free_join(r);
  vs__dels_free(&r->dels);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

int vs_report_add_line(vs_report *r, const char *line, size_t len,
                       const char *where, vs_err *err)
{
  rctx *c = r->ctx[0];
  if(r->finished)
    return vs_fail(err, VS_ERR_INVALID, "report already finished");
  c->seg = NULL;
  if(ctx_line(c, line, len, where))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  return 0;
}

void vs_report_add_torn(vs_report *r, const char *segment, uint64_t offset,
                        size_t len)
{
  rctx *c = r->ctx[0];
  char why[96];
  c->torn++;
  snprintf(why, sizeof(why), "torn line of %zu bytes at byte %llu", len,
           (unsigned long long)offset);
  note_problem(c, segment, why);
}

/* ---- loading a directory on several threads ----------------------------- */
typedef struct loader {
  vs_report *r;
  const vs_manifest_segment *segs;
  const size_t *order;
  size_t n;
  atomic_size_t next;
  atomic_int stop;
} loader;

typedef struct worker {
  loader *ld;
  rctx *c;
  pthread_t th;
  int rc;
} worker;

static int on_line(void *ctx, const char *text, size_t len)
{
  rctx *c = ctx;
  return ctx_line(c, text, len, NULL);
}

static void on_torn(void *ctx, const char *segment, uint64_t offset,
                    size_t len)
{
  rctx *c = ctx;
  char why[96];
  c->torn++;
  snprintf(why, sizeof(why), "torn line of %zu bytes at byte %llu", len,
           (unsigned long long)offset);
  note_problem(c, segment, why);
}

static void *work(void *arg)
{
  worker *w = arg;
  loader *ld = w->ld;
  size_t i;
  while(!atomic_load(&ld->stop) &&
        (i = atomic_fetch_add(&ld->next, 1)) < ld->n) {
    const vs_manifest_segment *s = &ld->segs[ld->order[i]];
    w->c->seg = s->path;
    w->c->lineno = 0;
    w->rc = vs_manifest_read_segment(s, on_line, on_torn, w->c, &w->c->err);
    if(!w->rc)
      w->rc = flush(w->c);
    if(w->rc) {
      if(!w->c->err.msg[0])
        vs_fail(&w->c->err, w->rc, "%s: out of memory", s->path);
      atomic_store(&ld->stop, 1);
      break;
    }
  }
  w->c->seg = NULL;
  return NULL;
}

/* Biggest segments first, so that the threads finish together. */
static size_t *size_order(const vs_manifest_segment *segs, size_t n)
{
  size_t *o = malloc((n ? n : 1) * sizeof(*o)), i, j;
  off_t *sz = malloc((n ? n : 1) * sizeof(*sz));
  if(!o || !sz) {
    free(o);
    free(sz);
    return NULL;
  }
  for(i = 0; i < n; i++) {
    struct stat st;
    sz[i] = stat(segs[i].path, &st) ? 0 : st.st_size;
    o[i] = i;
  }
  for(i = 1; i < n; i++) /* insertion sort: n is small */
    for(j = i; j > 0 && sz[o[j - 1]] < sz[o[j]]; j--) {
      size_t t = o[j];
      o[j] = o[j - 1];
      o[j - 1] = t;
    }
  free(sz);
  return o;
}

static int run_workers(vs_report *r, loader *ld, size_t jobs, vs_err *err)
{
  worker w[MAX_JOBS];
  size_t i, started = 1;
  int rc = 0;
  memset(w, 0, sizeof(w));
  for(i = 0; i < jobs; i++) {
    w[i].ld = ld;
    w[i].c = i ? ctx_new(r) : r->ctx[0];
    if(!w[i].c) {
      jobs = i;
      break;
    }
  }
  for(i = 1; i < jobs; i++, started++)
    if(pthread_create(&w[i].th, NULL, work, &w[i]))
      break;
  work(&w[0]);
  for(i = 1; i < started; i++)
    pthread_join(w[i].th, NULL);
  for(i = 0; i < started && !rc; i++)
    if(w[i].rc) {
      rc = w[i].rc;
      if(err)
        *err = w[i].c->err;
    }
  return rc;
}

int vs_report_load(vs_report *r, const char *dir, vs_err *err)
{
  vs_manifest_segment *segs = NULL;
  size_t n = 0, jobs;
  loader ld;
  int rc;
  if(r->finished)
    return vs_fail(err, VS_ERR_INVALID, "report already finished");
  rc = flush(r->ctx[0]);
  if(rc)
    return vs_fail(err, rc, "out of memory");
  rc = vs_manifest_list(dir, &segs, &n, err);
  if(rc)
    return rc;
  memset(&ld, 0, sizeof(ld));
  ld.r = r;
  ld.segs = segs;
  ld.n = n;
  ld.order = size_order(segs, n);
  if(!ld.order) {
    vs_manifest_list_free(segs, n);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  jobs = r->jobs > 0 ? (size_t)r->jobs : (size_t)sysconf(_SC_NPROCESSORS_ONLN);
  jobs = jobs < 1 ? 1 : jobs > MAX_JOBS ? MAX_JOBS : jobs;
  jobs = n && jobs > n ? n : jobs;
  rc = run_workers(r, &ld, jobs, err);
  r->segments += n;
  free((void *)ld.order);
  vs_manifest_list_free(segs, n);
  return rc;
}

void vs_report_get_stats(const vs_report *r, vs_report_stats *st)
{
  size_t i;
  memset(st, 0, sizeof(*st));
  for(i = 0; i < r->nctx; i++) {
    const rctx *c = r->ctx[i];
    st->lines += c->lines;
    st->torn += c->torn;
    st->malformed += c->malformed;
    st->unknown += c->unknown;
    st->submitted += c->ev[K_SUB];
    st->results += c->ev[K_RES];
    st->stored += c->ev[K_STO];
    st->failed += c->ev[K_FAIL];
    st->verified += c->ev[K_VER];
    st->deleted += c->deleted;
    st->purged += c->purged;
    if(!st->first_problem[0] && c->first_problem[0])
      memcpy(st->first_problem, c->first_problem, sizeof(st->first_problem));
  }
  st->duplicates = r->duplicates;
  st->segments = r->segments;
}

int vs_report_has_deletes(const vs_report *r)
{
  return r->dels.n > 0;
}

/* ---- the join ----------------------------------------------------------- */
static uint32_t task_field(const vs_report *r, int kind, size_t i)
{
  const void *p = cv_at(&r->core[kind], i);
  switch(kind) {
  case K_SUB: return ((const rsub *)p)->task;
  case K_RES: return ((const rres *)p)->task;
  case K_STO: return ((const rsto *)p)->task;
  case K_FAIL: return ((const rfail *)p)->task;
  default: return NONE;
  }
}

typedef int (*idx_cmp)(uint32_t a, uint32_t b, const vs_report *r);

typedef struct sortctx {
  idx_cmp cmp;
  const vs_report *r;
} sortctx;

static int qcmp(const void *a, const void *b, void *arg)
{
  const sortctx *s = arg;
  return s->cmp(*(const uint32_t *)a, *(const uint32_t *)b, s->r);
}

/* Most tasks have one to four records: insertion sort; qsort beyond. */
static void sort_idx(uint32_t *a, size_t n, idx_cmp cmp, const vs_report *r)
{
  size_t i, j;
  if(n > 16) {
    sortctx s = {cmp, r};
    qsort_r(a, n, sizeof(*a), qcmp, &s);
    return;
  }
  for(i = 1; i < n; i++)
    for(j = i; j > 0 && cmp(a[j - 1], a[j], r) > 0; j--) {
      uint32_t t = a[j];
      a[j] = a[j - 1];
      a[j - 1] = t;
    }
}

#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

static const rres *res_at(const vs_report *r, uint32_t i)
{
  return cv_at(&r->core[K_RES], i);
}

static const rsto *sto_at(const vs_report *r, uint32_t i)
{
  return cv_at(&r->core[K_STO], i);
}

static int res_by_vid(uint32_t a, uint32_t b, const vs_report *r)
{
  const rres *x = res_at(r, a), *y = res_at(r, b);
  int c = memcmp(&x->vid, &y->vid, sizeof(key16));
  return c ? c : CMP(x->t, y->t);
}

static int res_by_time(uint32_t a, uint32_t b, const vs_report *r)
{
  const rres *x = res_at(r, a), *y = res_at(r, b);
  return x->t != y->t ? CMP(x->t, y->t)
                      : memcmp(&x->vid, &y->vid, sizeof(key16));
}

static int sto_by_obj(uint32_t a, uint32_t b, const vs_report *r)
{
  const rsto *x = sto_at(r, a), *y = sto_at(r, b);
  int c = memcmp(&x->obj, &y->obj, sizeof(key16));
  return c ? c : CMP(x->t, y->t);
}

static int sto_by_time(uint32_t a, uint32_t b, const vs_report *r)
{
  const rsto *x = sto_at(r, a), *y = sto_at(r, b);
  return x->t != y->t ? CMP(x->t, y->t)
                      : memcmp(&x->obj, &y->obj, sizeof(key16));
}

static int fail_by_time(uint32_t a, uint32_t b, const vs_report *r)
{
  const rfail *x = cv_at(&r->core[K_FAIL], a);
  const rfail *y = cv_at(&r->core[K_FAIL], b);
  return CMP(x->t, y->t);
}

static int ver_by_obj(uint32_t a, uint32_t b, const vs_report *r)
{
  const rver *x = cv_at(&r->core[K_VER], a), *y = cv_at(&r->core[K_VER], b);
  int c = memcmp(&x->obj, &y->obj, sizeof(key16));
  return c ? c : CMP(x->t, y->t);
}

/* Counting sort of one kind's records by task: (*start)[t] .. [t+1] in
 * *ord. Records with no task are left out. */
static int group_by_task(const vs_report *r, int kind, uint32_t **start,
                         uint32_t **ord)
{
  size_t ntask = r->keys.n, n = r->core[kind].n, i;
  uint32_t *st = calloc(ntask + 1, sizeof(*st));
  uint32_t *o = malloc((n ? n : 1) * sizeof(*o));
  uint32_t *cur = malloc((ntask ? ntask : 1) * sizeof(*cur));
  if(!st || !o || !cur) {
    free(st);
    free(o);
    free(cur);
    return VS_ERR_NOMEM;
  }
  for(i = 0; i < n; i++) {
    uint32_t t = task_field(r, kind, i);
    if(t != NONE)
      st[t + 1]++;
  }
  for(i = 0; i < ntask; i++)
    st[i + 1] += st[i];
  memcpy(cur, st, ntask * sizeof(*cur));
  for(i = 0; i < n; i++) {
    uint32_t t = task_field(r, kind, i);
    if(t != NONE)
      o[cur[t]++] = (uint32_t)i;
  }
  free(cur);
  *start = st;
  *ord = o;
  return 0;
}

/* Poll and webhook both report a result: one per videoUUID, at its first
 * sighting, with the cost of whichever report carried one. */
static size_t dedupe_results(vs_report *r, uint32_t *a, size_t n)
{
  size_t i, m = 0;
  sort_idx(a, n, res_by_vid, r);
  for(i = 0; i < n; i++) {
    rres *cur = cv_at(&r->core[K_RES], a[i]);
    rres *kept = m ? cv_at(&r->core[K_RES], a[m - 1]) : NULL;
    if(kept && !memcmp(&kept->vid, &cur->vid, sizeof(key16))) {
      if(!kept->has_cost && cur->has_cost) {
        kept->cost = cur->cost;
        kept->has_cost = 1;
      }
      continue;
    }
    a[m++] = a[i];
  }
  sort_idx(a, m, res_by_time, r);
  r->duplicates += n - m;
  return m;
}

/* The same object reported twice is one object, at its first sighting. */
static size_t dedupe_stored(vs_report *r, uint32_t *a, size_t n)
{
  size_t i, m = 0;
  sort_idx(a, n, sto_by_obj, r);
  for(i = 0; i < n; i++)
    if(!m || memcmp(&sto_at(r, a[m - 1])->obj, &sto_at(r, a[i])->obj,
                    sizeof(key16)))
      a[m++] = a[i];
  sort_idx(a, m, sto_by_time, r);
  r->duplicates += n - m;
  return m;
}

/* A task submitted twice (a retry after conflictTaskUUID, a second writer)
 * counts once: the earliest submission. */
static int index_submissions(vs_report *r)
{
  size_t i, n = r->core[K_SUB].n;
  r->tsub = malloc((r->keys.n ? r->keys.n : 1) * sizeof(*r->tsub));
  if(!r->tsub)
    return VS_ERR_NOMEM;
  memset(r->tsub, 0xff, r->keys.n * sizeof(*r->tsub));
  for(i = 0; i < n; i++) {
    const rsub *s = cv_at(&r->core[K_SUB], i);
    const rsub *o = r->tsub[s->task] == NONE
                      ? NULL
                      : cv_at(&r->core[K_SUB], r->tsub[s->task]);
    if(!o || s->t < o->t || (s->t == o->t && s->est < o->est))
      r->tsub[s->task] = (uint32_t)i;
  }
  return 0;
}

/* Deleted (or purged), then stored again: a version of a task's key
 * stored after a marker deleted the task's previous version of it, or
 * after that version was purged, takes its place (the new stored wins,
 * complete) instead of reading as one more output. Only versions beyond
 * what the task explains (its numberResults, its results) are folded, so
 * the outputs of a several-result task arriving around a delete stay
 * outputs. Only a manifest with deletes has any. */
static size_t fold_restored(const vs_report *r, uint32_t t, uint32_t *a,
                            size_t n)
{
  size_t i, m = 0, explained = r->rlen[t];
  if(r->tsub[t] != NONE &&
     ((const rsub *)cv_at(&r->core[K_SUB], r->tsub[t]))->nres > explained)
    explained = ((const rsub *)cv_at(&r->core[K_SUB], r->tsub[t]))->nres;
  for(i = 0; i < n; i++) {
    const rsto *prev = m ? sto_at(r, a[m - 1]) : NULL, *cur = sto_at(r, a[i]);
    const vs__rdel *gone = m ? vs__dels_fate(&r->dels, a[m - 1]) : NULL;
    if(prev && n - (i - m) > explained &&
       vs__del_key(&prev->obj) == vs__del_key(&cur->obj) &&
       ((gone && gone->what != VS__DEL_MARKER && gone->t <= cur->t) ||
        vs__dels_marked_between(&r->dels, &cur->obj, prev->t, prev->vdt,
                                cur->t, cur->vdt)))
      m--;
    a[m++] = a[i];
  }
  return m;
}

static int join_per_task(vs_report *r)
{
  size_t t, ntask = r->keys.n;
  int rc = group_by_task(r, K_RES, &r->rstart, &r->rord);
  if(!rc)
    rc = group_by_task(r, K_STO, &r->sstart, &r->sord);
  if(!rc)
    rc = group_by_task(r, K_FAIL, &r->fstart, &r->ford);
  if(rc)
    return rc;
  r->rlen = malloc((ntask ? ntask : 1) * sizeof(*r->rlen));
  r->slen = malloc((ntask ? ntask : 1) * sizeof(*r->slen));
  if(!r->rlen || !r->slen)
    return VS_ERR_NOMEM;
  for(t = 0; t < ntask; t++) {
    r->rlen[t] = (uint32_t)dedupe_results(r, r->rord + r->rstart[t],
                                          r->rstart[t + 1] - r->rstart[t]);
    r->slen[t] = (uint32_t)dedupe_stored(r, r->sord + r->sstart[t],
                                         r->sstart[t + 1] - r->sstart[t]);
    if(r->dels.n)
      r->slen[t] = (uint32_t)fold_restored(r, (uint32_t)t,
                                           r->sord + r->sstart[t], r->slen[t]);
    sort_idx(r->ford + r->fstart[t], r->fstart[t + 1] - r->fstart[t],
             fail_by_time, r);
  }
  return 0;
}

static int join_orphans(vs_report *r)
{
  size_t i, n = r->core[K_STO].n, m = 0;
  for(i = 0; i < n; i++)
    m += sto_at(r, (uint32_t)i)->task == NONE;
  r->orph = malloc((m ? m : 1) * sizeof(*r->orph));
  if(!r->orph)
    return VS_ERR_NOMEM;
  for(i = 0; i < n; i++)
    if(sto_at(r, (uint32_t)i)->task == NONE)
      r->orph[r->norph++] = (uint32_t)i;
  r->norph = dedupe_stored(r, r->orph, r->norph);
  return 0;
}

/* The latest verified event of object `obj`, or NONE. */
static uint32_t find_ver(const vs_report *r, const uint32_t *v, size_t n,
                         const key16 *obj)
{
  size_t lo = 0, hi = n;
  while(lo < hi) { /* the first entry past obj's run */
    size_t mid = lo + (hi - lo) / 2;
    const rver *x = cv_at(&r->core[K_VER], v[mid]);
    if(memcmp(&x->obj, obj, sizeof(*obj)) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if(!lo)
    return NONE;
  return memcmp(&((const rver *)cv_at(&r->core[K_VER], v[lo - 1]))->obj, obj,
                sizeof(*obj))
           ? NONE
           : v[lo - 1];
}

static int join_verified(vs_report *r)
{
  size_t i, nv = r->core[K_VER].n, ns = r->core[K_STO].n;
  uint32_t *v;
  if(!nv)
    return 0;
  v = malloc(nv * sizeof(*v));
  r->sver = malloc((ns ? ns : 1) * sizeof(*r->sver));
  if(!v || !r->sver) {
    free(v);
    return VS_ERR_NOMEM;
  }
  for(i = 0; i < nv; i++)
    v[i] = (uint32_t)i;
  sort_idx(v, nv, ver_by_obj, r);
  for(i = 0; i < ns; i++)
    r->sver[i] = find_ver(r, v, nv, &sto_at(r, (uint32_t)i)->obj);
  free(v);
  return 0;
}

static void sto_view(const void *ctx, size_t i, key16 *obj, int64_t *t,
                     int32_t *vdt)
{
  const rsto *o = sto_at(ctx, (uint32_t)i);
  *obj = o->obj;
  *t = o->t;
  *vdt = o->vdt;
}

static int64_t task_time(const vs_report *r, uint32_t t)
{
  int64_t best = INT64_MAX;
  if(r->tsub[t] != NONE)
    return ((const rsub *)cv_at(&r->core[K_SUB], r->tsub[t]))->t;
  if(r->rlen[t])
    best = res_at(r, r->rord[r->rstart[t]])->t;
  if(r->slen[t] && sto_at(r, r->sord[r->sstart[t]])->t < best)
    best = sto_at(r, r->sord[r->sstart[t]])->t;
  if(r->fstart[t + 1] > r->fstart[t]) {
    const rfail *f = cv_at(&r->core[K_FAIL], r->ford[r->fstart[t]]);
    if(f->t < best)
      best = f->t;
  }
  return best;
}

static const key16 *unit_key(const vs_report *r, uint32_t id)
{
  if(id < r->keys.n)
    return cv_at(&r->keys, id);
  return &sto_at(r, r->orph[id - r->keys.n])->obj;
}

static int unit_cmp(const void *a, const void *b, void *arg)
{
  const struct unit *x = a, *y = b;
  const vs_report *r = arg;
  int xo = x->id >= r->keys.n, yo = y->id >= r->keys.n;
  if(x->t != y->t)
    return CMP(x->t, y->t);
  if(xo != yo)
    return xo - yo;
  return memcmp(unit_key(r, x->id), unit_key(r, y->id), sizeof(key16));
}

/* Rows come out by time, then taskUUID: the same order whatever the order
 * of the segments or of the threads that read them. */
static int order_units(vs_report *r)
{
  size_t i, ntask = r->keys.n;
  r->nunits = ntask + r->norph;
  r->units = malloc((r->nunits ? r->nunits : 1) * sizeof(*r->units));
  if(!r->units)
    return VS_ERR_NOMEM;
  for(i = 0; i < ntask; i++) {
    r->units[i].t = task_time(r, (uint32_t)i);
    r->units[i].id = (uint32_t)i;
  }
  for(i = 0; i < r->norph; i++) {
    r->units[ntask + i].t = sto_at(r, r->orph[i])->t;
    r->units[ntask + i].id = (uint32_t)(ntask + i);
  }
  qsort_r(r->units, r->nunits, sizeof(*r->units), unit_cmp, r);
  return 0;
}

int vs_report_finish(vs_report *r, int64_t now_ms, int64_t grace_ms,
                     vs_err *err)
{
  int rc;
  if(r->finished)
    return vs_fail(err, VS_ERR_INVALID, "report already finished");
  rc = flush(r->ctx[0]);
  r->finished = 1;
  r->now_ms = now_ms;
  r->grace_ms = grace_ms;
  /* the slot table only served lookups while reading */
  free(r->slots);
  r->slots = NULL;
  r->scap = 0;
  if(!rc)
    rc = index_submissions(r);
  if(!rc) /* before the per-task join: it folds re-stored outputs */
    rc = vs__dels_join(&r->dels, r->core[K_STO].n, sto_view, r);
  if(!rc)
    rc = join_per_task(r);
  if(!rc)
    rc = join_orphans(r);
  if(!rc)
    rc = join_verified(r);
  if(!rc)
    rc = order_units(r);
  if(rc)
    return vs_fail(err, rc, "out of memory joining the manifest's events");
  return 0;
}

/* ---- rows --------------------------------------------------------------- */
static const char *const status_names[VS_REPORT_NSTATUS] = {
  "complete", "waiting", "missing-upload", "missing-result",
  "unexpected-upload", "failed", "checksum-mismatch", "missing-object",
  "deleted", "purged"};

const char *vs_report_status_name(int status)
{
  return status >= 0 && status < VS_REPORT_NSTATUS ? status_names[status]
                                                    : NULL;
}

int vs_report_status_parse(const char *name, int *status)
{
  int i;
  for(i = 0; i < VS_REPORT_NSTATUS; i++)
    if(!strcmp(name, status_names[i])) {
      *status = i;
      return 0;
    }
  return -1;
}

int vs_report_status_is_problem(int status)
{
  return status != VS_REPORT_COMPLETE && status != VS_REPORT_WAITING &&
         status != VS_REPORT_DELETED && status != VS_REPORT_PURGED;
}

void vs_report_filter_init(vs_report_filter *f)
{
  f->since_ms = INT64_MIN;
  f->until_ms = INT64_MAX;
  f->status_mask = 0;
}

static void uuid_text(const key16 *k, char out[37])
{
  static const char hx[] = "0123456789abcdef";
  int i, o = 0;
  for(i = 0; i < 16; i++) {
    if(i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hx[k->b[i] >> 4];
    out[o++] = hx[k->b[i] & 15];
  }
  out[o] = 0;
}

static void fill_submission(const vs_report *r, vs_report_row *row,
                            uint32_t si, int k)
{
  const rsub *s = cv_at(&r->core[K_SUB], si);
  row->submitted_ms = s->t;
  row->model = s->model;
  row->size = s->size;
  row->has_duration = s->has_dur;
  row->duration = s->dur;
  row->number_results = s->nres;
  if(s->has_est && k < s->nres) {
    /* split to the last unit; the remainder goes to the first outputs */
    vs_dec per = s->est / s->nres, rem = s->est - per * s->nres;
    row->has_estimate = 1;
    row->estimate = per + (k < (rem < 0 ? -rem : rem) ? (rem < 0 ? -1 : 1)
                                                      : 0);
  }
  if(r->detail) {
    const rsubd *d = cv_at(&r->det[K_SUB], si);
    row->prompt = d->prompt;
    row->resolution = d->res;
    row->format = d->fmt;
    row->width = d->w;
    row->height = d->h;
    row->quality = d->q;
    row->has_seed_requested = d->has_seed;
    row->seed_requested = d->seed;
  }
}

static void fill_result(const vs_report *r, vs_report_row *row, uint32_t ri)
{
  const rres *x = res_at(r, ri);
  row->has_cost = x->has_cost;
  row->cost = x->cost;
  if(r->detail) {
    const rresd *d = cv_at(&r->det[K_RES], ri);
    uuid_text(&x->vid, row->video_uuid);
    row->has_seed = d->has_seed;
    row->seed = d->seed;
  }
}

/* What a delete did to the row's object (the precedence: report.h). */
static void fill_fate(const vs_report *r, vs_report_row *row, uint32_t oi)
{
  const vs__rdel *d = vs__dels_fate(&r->dels, oi);
  if(!d)
    return;
  if(d->what == VS__DEL_MARKER) {
    row->deleted_ms = d->t;
    row->delete_marker = d->ver;
  }
  else
    row->purged_ms = d->t;
  if(row->status == VS_REPORT_UNEXPECTED_UPLOAD)
    return;
  if(d->what != VS__DEL_MARKER)
    row->status = VS_REPORT_PURGED;
  else if(row->status != VS_REPORT_CHECKSUM_MISMATCH &&
          row->status != VS_REPORT_MISSING_OBJECT)
    row->status = VS_REPORT_DELETED;
}

static void fill_object(const vs_report *r, vs_report_row *row, uint32_t oi)
{
  const rsto *o = sto_at(r, oi);
  row->has_object = 1;
  row->stored_ms = o->t;
  row->bytes = o->bytes;
  if(r->detail) {
    static const char hx[] = "0123456789abcdef";
    const rstod *d = cv_at(&r->det[K_STO], oi);
    int i;
    row->bucket = d->bucket;
    row->key = d->key;
    row->version_id = d->ver;
    for(i = 0; d->has_sha && i < 32; i++) {
      row->sha256[2 * i] = hx[d->sha[i] >> 4];
      row->sha256[2 * i + 1] = hx[d->sha[i] & 15];
    }
  }
  if(r->sver && r->sver[oi] != NONE) {
    const rver *v = cv_at(&r->core[K_VER], r->sver[oi]);
    row->verified_ms = v->t;
    if(!v->ok) {
      row->verify_problem = v->problem ? v->problem : "not ok";
      if(row->status != VS_REPORT_UNEXPECTED_UPLOAD)
        row->status = v->problem && !strcmp(v->problem, "missing-object")
                        ? VS_REPORT_MISSING_OBJECT
                        : VS_REPORT_CHECKSUM_MISMATCH;
    }
  }
  fill_fate(r, row, oi);
}

static void row_init(vs_report_row *row, int64_t t)
{
  memset(row, 0, sizeof(*row));
  row->time_ms = t;
  row->submitted_ms = row->stored_ms = row->bytes = row->verified_ms = -1;
  row->deleted_ms = row->purged_ms = -1;
  row->quality = -1;
}

static int wait_or(const vs_report *r, int64_t since, int late)
{
  return r->now_ms - since < r->grace_ms ? VS_REPORT_WAITING : late;
}

static int emit(const vs_report_row *row, const vs_report_filter *f,
                vs_report_row_fn fn, void *ctx)
{
  if(f && f->status_mask && !(f->status_mask & (1u << row->status)))
    return 0;
  return fn(ctx, row);
}

/* The k-th output of task t. With numberResults > 1 every result is PUT to
 * the same key (the API gives the upload no videoUUID, no seed, nothing
 * naming which result it is), so arrival order is the only evidence that
 * ties a stored version to a result: the k-th result is paired with the k-th
 * stored version. At worst two outputs of one task swap videoUUID and seed;
 * both come from one request with the same parameters and cost, so
 * statuses, costs and totals cannot be wrong. */
static void task_row(const vs_report *r, uint32_t t, int k, vs_report_row *row)
{
  uint32_t si = r->tsub[t];
  uint32_t ri = (uint32_t)k < r->rlen[t] ? r->rord[r->rstart[t] + k] : NONE;
  uint32_t oi = (uint32_t)k < r->slen[t] ? r->sord[r->sstart[t] + k] : NONE;
  uint32_t nf = r->fstart[t + 1] - r->fstart[t];
  uuid_text(cv_at(&r->keys, t), row->task_uuid);
  if(si != NONE)
    fill_submission(r, row, si, k);
  if(ri != NONE)
    fill_result(r, row, ri);
  if(oi != NONE && si == NONE)
    row->status = VS_REPORT_UNEXPECTED_UPLOAD;
  else if(ri != NONE && oi != NONE)
    row->status = VS_REPORT_COMPLETE;
  else if(ri != NONE)
    row->status = wait_or(r, res_at(r, ri)->t, VS_REPORT_MISSING_UPLOAD);
  else if(oi != NONE)
    row->status = wait_or(r, sto_at(r, oi)->t, VS_REPORT_MISSING_RESULT);
  else if(nf || si == NONE)
    row->status = VS_REPORT_FAILED;
  else
    row->status = wait_or(r, row->submitted_ms, VS_REPORT_MISSING_UPLOAD);
  if(oi != NONE)
    fill_object(r, row, oi);
  if(row->status == VS_REPORT_FAILED && nf) {
    const rfail *fl = cv_at(&r->core[K_FAIL], r->ford[r->fstart[t]]);
    row->error_code = fl->code;
    row->error_message = fl->message;
  }
}

static int unit_rows(const vs_report *r, const struct unit *u,
                     const vs_report_filter *f, vs_report_row_fn fn,
                     void *ctx)
{
  vs_report_row row;
  uint32_t t = u->id, n, k;
  int rc;
  if(t >= r->keys.n) {
    row_init(&row, u->t);
    row.status = VS_REPORT_UNEXPECTED_UPLOAD;
    fill_object(r, &row, r->orph[t - r->keys.n]);
    return emit(&row, f, fn, ctx);
  }
  n = r->tsub[t] != NONE
        ? ((const rsub *)cv_at(&r->core[K_SUB], r->tsub[t]))->nres
        : 0;
  n = r->rlen[t] > n ? r->rlen[t] : n;
  n = r->slen[t] > n ? r->slen[t] : n;
  if(!n)
    n = 1; /* a failure alone */
  for(k = 0; k < n; k++) {
    row_init(&row, u->t);
    task_row(r, t, (int)k, &row);
    if((rc = emit(&row, f, fn, ctx)))
      return rc;
  }
  return 0;
}

int vs_report_each(const vs_report *r, const vs_report_filter *f,
                   vs_report_row_fn fn, void *ctx)
{
  size_t i;
  int rc;
  if(!r->finished)
    return VS_ERR_INVALID;
  for(i = 0; i < r->nunits; i++) {
    const struct unit *u = &r->units[i];
    if(f && (u->t < f->since_ms || u->t >= f->until_ms))
      continue;
    if((rc = unit_rows(r, u, f, fn, ctx)))
      return rc;
  }
  return 0;
}
