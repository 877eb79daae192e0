/* Manifest lines to records: a per-thread string arena and interning, the
 * fields each event kind yields, and the line parser that fills a pend
 * record for the fold. It is apart from report.c because it is the fold's
 * only contact with the manifest's JSON format (through the scanner of
 * report_scan.h): what an event means lives here, how records are stored,
 * grouped and joined does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ---- per-thread arena and interning ----------------------------------- */
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
int vs__parse_line(rctx *c, const char *text, size_t len, pend *p,
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
