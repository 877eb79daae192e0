/* The join (vs_report_finish): the records read so far become outputs.
 * Each kind of record is grouped by task with a counting sort, results and
 * stored objects seen twice count once, re-stored outputs after a delete
 * fold into the output they replace, verified events meet their objects,
 * and the tasks and orphan uploads are put in row order. It is apart from
 * reading (report.c, report_parse.c) and from the rows (report_rows.c)
 * because it runs once, between the two, on the whole of the records. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ---- the join ----------------------------------------------------------- */
static uint32_t task_field(const vs_report *r, int kind, size_t i)
{
  const void *p = vs__cv_at(&r->core[kind], i);
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

static int res_by_vid(uint32_t a, uint32_t b, const vs_report *r)
{
  const rres *x = vs__res_at(r, a), *y = vs__res_at(r, b);
  int c = memcmp(&x->vid, &y->vid, sizeof(key16));
  return c ? c : CMP(x->t, y->t);
}

static int res_by_time(uint32_t a, uint32_t b, const vs_report *r)
{
  const rres *x = vs__res_at(r, a), *y = vs__res_at(r, b);
  return x->t != y->t ? CMP(x->t, y->t)
                      : memcmp(&x->vid, &y->vid, sizeof(key16));
}

static int sto_by_obj(uint32_t a, uint32_t b, const vs_report *r)
{
  const rsto *x = vs__sto_at(r, a), *y = vs__sto_at(r, b);
  int c = memcmp(&x->obj, &y->obj, sizeof(key16));
  return c ? c : CMP(x->t, y->t);
}

static int sto_by_time(uint32_t a, uint32_t b, const vs_report *r)
{
  const rsto *x = vs__sto_at(r, a), *y = vs__sto_at(r, b);
  return x->t != y->t ? CMP(x->t, y->t)
                      : memcmp(&x->obj, &y->obj, sizeof(key16));
}

static int fail_by_time(uint32_t a, uint32_t b, const vs_report *r)
{
  const rfail *x = vs__cv_at(&r->core[K_FAIL], a);
  const rfail *y = vs__cv_at(&r->core[K_FAIL], b);
  return CMP(x->t, y->t);
}

static int ver_by_obj(uint32_t a, uint32_t b, const vs_report *r)
{
  const rver *x = vs__cv_at(&r->core[K_VER], a);
  const rver *y = vs__cv_at(&r->core[K_VER], b);
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
    rres *cur = vs__cv_at(&r->core[K_RES], a[i]);
    rres *kept = m ? vs__cv_at(&r->core[K_RES], a[m - 1]) : NULL;
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
    if(!m || memcmp(&vs__sto_at(r, a[m - 1])->obj, &vs__sto_at(r, a[i])->obj,
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
    const rsub *s = vs__cv_at(&r->core[K_SUB], i);
    const rsub *o = r->tsub[s->task] == NONE
                      ? NULL
                      : vs__cv_at(&r->core[K_SUB], r->tsub[s->task]);
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
     ((const rsub *)vs__cv_at(&r->core[K_SUB], r->tsub[t]))->nres > explained)
    explained = ((const rsub *)vs__cv_at(&r->core[K_SUB], r->tsub[t]))->nres;
  for(i = 0; i < n; i++) {
    const rsto *prev = m ? vs__sto_at(r, a[m - 1]) : NULL;
    const rsto *cur = vs__sto_at(r, a[i]);
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
    m += vs__sto_at(r, (uint32_t)i)->task == NONE;
  r->orph = malloc((m ? m : 1) * sizeof(*r->orph));
  if(!r->orph)
    return VS_ERR_NOMEM;
  for(i = 0; i < n; i++)
    if(vs__sto_at(r, (uint32_t)i)->task == NONE)
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
    const rver *x = vs__cv_at(&r->core[K_VER], v[mid]);
    if(memcmp(&x->obj, obj, sizeof(*obj)) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if(!lo)
    return NONE;
  return memcmp(&((const rver *)vs__cv_at(&r->core[K_VER], v[lo - 1]))->obj,
                obj, sizeof(*obj))
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
    r->sver[i] = find_ver(r, v, nv, &vs__sto_at(r, (uint32_t)i)->obj);
  free(v);
  return 0;
}

static void sto_view(const void *ctx, size_t i, key16 *obj, int64_t *t,
                     int32_t *vdt)
{
  const rsto *o = vs__sto_at(ctx, (uint32_t)i);
  *obj = o->obj;
  *t = o->t;
  *vdt = o->vdt;
}

static int64_t task_time(const vs_report *r, uint32_t t)
{
  int64_t best = INT64_MAX;
  if(r->tsub[t] != NONE)
    return ((const rsub *)vs__cv_at(&r->core[K_SUB], r->tsub[t]))->t;
  if(r->rlen[t])
    best = vs__res_at(r, r->rord[r->rstart[t]])->t;
  if(r->slen[t] && vs__sto_at(r, r->sord[r->sstart[t]])->t < best)
    best = vs__sto_at(r, r->sord[r->sstart[t]])->t;
  if(r->fstart[t + 1] > r->fstart[t]) {
    const rfail *f = vs__cv_at(&r->core[K_FAIL], r->ford[r->fstart[t]]);
    if(f->t < best)
      best = f->t;
  }
  return best;
}

static const key16 *unit_key(const vs_report *r, uint32_t id)
{
  if(id < r->keys.n)
    return vs__cv_at(&r->keys, id);
  return &vs__sto_at(r, r->orph[id - r->keys.n])->obj;
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
    r->units[ntask + i].t = vs__sto_at(r, r->orph[i])->t;
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
  rc = vs__flush(r->ctx[0]);
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
