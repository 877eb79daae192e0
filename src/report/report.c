/* The fold: manifest lines -> compact event records -> one row per output.
 *
 * Memory is what bounds a million-output manifest, so no parsed JSON tree
 * outlives its line: a targeted scanner (report_scan.c) pulls the fields
 * the report needs out of each line into small fixed records, strings that
 * repeat (models, buckets, prompts re-used) are interned, and taskUUIDs become
 * dense 32-bit task numbers through one open-addressing table. Fields that
 * only per-row output shows live in parallel "detail" records that exist
 * only when opts.detail asks for them.
 *
 * Reading runs on several threads (zlib and the scan dominate): each thread
 * parses into a private batch and its own string arena, then appends the
 * batch to the shared record vectors under one lock, resolving taskUUIDs
 * there, once per batch rather than once per line.
 *
 * This file holds the building: the record vectors, the task table, the
 * batches, loading a directory on several threads and the public calls
 * that feed the fold. Lines become records in report_parse.c, records
 * become outputs in report_join.c and outputs rows in report_rows.c; the
 * types they share are in report_int.h. */
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
#include "report_int.h"

#define BATCH 2048
#define MAX_JOBS 8

/* ---- chunked vectors: stable addresses, no doubling peaks --------------- */
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
  return vs__cv_at(v, v->n++);
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

static const size_t core_size[NKINDS] = {sizeof(rsub), sizeof(rres),
                                         sizeof(rsto), sizeof(rfail),
                                         sizeof(rver)};
static const size_t detail_size[NKINDS] = {sizeof(rsubd), sizeof(rresd),
                                           sizeof(rstod), 0, 0};

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
    for(j = key_slot(vs__cv_at(&r->keys, i), cap); t[j] != NONE;
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
    if(!memcmp(vs__cv_at(&r->keys, r->slots[j]), k, sizeof(*k)))
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

int vs__flush(rctx *c)
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
  rc = vs__parse_line(c, text, len, &c->pend[c->npend], &why);
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
    return vs__flush(c);
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
      w->rc = vs__flush(w->c);
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
  rc = vs__flush(r->ctx[0]);
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
