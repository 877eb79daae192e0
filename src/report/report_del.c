/* Deletes in the report: which stored objects a purge removed and which
 * keys read as deleted (report_del.h).
 *
 * A key reads as deleted when its latest surviving version is a delete
 * marker, as S3 (and the sink's store) define the current version: the
 * newest, once purged ones are gone. Newest is the event's time, and
 * within one millisecond the version id's own time, which the sink's
 * store makes strictly increasing per key, so a PUT and a DELETE of one
 * key in the same millisecond still come out in commit order. A PUT after
 * a marker makes the key read again: every output of that key is then
 * not deleted (its version is an older one, as after any overwrite), and
 * a purge of the marker brings the key back the same way.
 *
 * Only keys with a marker are looked at, so a manifest with few deletes
 * costs little more than one without, and one with none costs nothing. */
#define _GNU_SOURCE /* qsort_r */
#include "report_del.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "vsink/common.h"

#define NONE UINT32_MAX

uint64_t vs__del_key(const key16 *obj)
{
  uint64_t k;
  memcpy(&k, obj->b, 8);
  return k;
}

static int digits(const char *p, int n, int64_t *out)
{
  int64_t v = 0;
  int i;
  for(i = 0; i < n; i++) {
    if(p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return 0;
}

int64_t vs__vid_ms(const char *v, size_t n)
{
  int64_t y, mo, d, h, mi, s, ms;
  size_t i;
  if(n != 26 || v[8] != 'T' || v[18] != 'Z' || v[19] != '-')
    return INT64_MIN;
  for(i = 20; i < 26; i++)
    if(!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
      return INT64_MIN;
  if(digits(v, 4, &y) || digits(v + 4, 2, &mo) || digits(v + 6, 2, &d) ||
     digits(v + 9, 2, &h) || digits(v + 11, 2, &mi) ||
     digits(v + 13, 2, &s) || digits(v + 15, 3, &ms) || mo < 1 || mo > 12 ||
     d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return INT64_MIN;
  return ((vs_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
           h * 3600 + mi * 60 + s) * 1000) + ms;
}

int32_t vs__vid_delta(int64_t vid_ms, int64_t t)
{
  int64_t dt;
  if(vid_ms == INT64_MIN || t < INT64_MIN / 4 || t > INT64_MAX / 4)
    return 0;
  dt = vid_ms - t;
  return dt > INT32_MAX ? INT32_MAX : dt < INT32_MIN ? INT32_MIN : (int32_t)dt;
}

int vs__dels_add(vs__dels *d, const vs__rdel *e)
{
  if(d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 64;
    vs__rdel *g = realloc(d->v, cap * sizeof(*g));
    if(!g)
      return VS_ERR_NOMEM;
    d->v = g;
    d->cap = cap;
  }
  d->v[d->n++] = *e;
  return 0;
}

void vs__dels_free(vs__dels *d)
{
  free(d->v);
  free(d->fate);
  free(d->marks);
  memset(d, 0, sizeof(*d));
}

const vs__rdel *vs__dels_fate(const vs__dels *d, size_t i)
{
  return d->fate && d->fate[i] != NONE ? &d->v[d->fate[i]] : NULL;
}

/* ---- the join ------------------------------------------------------------ */
#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

/* One version of a key with a marker: a stored record or a marker. */
typedef struct kev {
  uint64_t key;
  int64_t t;
  int32_t vdt;
  uint8_t marker; /* on a full tie the marker counts as the later */
  uint32_t idx;   /* the marker's record */
} kev;

static int kev_cmp(const void *a, const void *b)
{
  const kev *x = a, *y = b;
  if(x->key != y->key)
    return CMP(x->key, y->key);
  if(x->t != y->t)
    return CMP(x->t, y->t);
  if(x->vdt != y->vdt)
    return CMP(x->vdt, y->vdt);
  return CMP(x->marker, y->marker);
}

static int u64_cmp(const void *a, const void *b)
{
  return CMP(*(const uint64_t *)a, *(const uint64_t *)b);
}

typedef struct join {
  vs__dels *d;
  uint32_t *purged; /* purge records by object, earliest first */
  size_t np;
  uint64_t *mkeys;  /* keys with a surviving marker, sorted, unique */
  size_t nk;
  kev *ev;
  size_t ne, cape;
  uint64_t *dkey;   /* keys reading as deleted, sorted ... */
  uint32_t *dmark;  /* ... and the marker that deleted each */
  size_t nd;
} join;

static int purge_cmp(const void *a, const void *b, void *arg)
{
  const vs__dels *d = arg;
  const vs__rdel *x = &d->v[*(const uint32_t *)a];
  const vs__rdel *y = &d->v[*(const uint32_t *)b];
  int c = memcmp(&x->obj, &y->obj, sizeof(key16));
  return c ? c : CMP(x->t, y->t);
}

/* The earliest purge of obj, or NONE. */
static uint32_t purged_by(const join *j, const key16 *obj)
{
  size_t lo = 0, hi = j->np;
  while(lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if(memcmp(&j->d->v[j->purged[mid]].obj, obj, sizeof(*obj)) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < j->np && !memcmp(&j->d->v[j->purged[lo]].obj, obj, sizeof(*obj))
           ? j->purged[lo]
           : NONE;
}

static int has_key(const uint64_t *keys, size_t n, uint64_t k, size_t *at)
{
  size_t lo = 0, hi = n;
  while(lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if(keys[mid] < k)
      lo = mid + 1;
    else
      hi = mid;
  }
  if(at)
    *at = lo;
  return lo < n && keys[lo] == k;
}

static int push_ev(join *j, uint64_t key, int64_t t, int32_t vdt, int marker,
                   uint32_t idx)
{
  if(j->ne == j->cape) {
    size_t cap = j->cape ? j->cape * 2 : 64;
    kev *g = realloc(j->ev, cap * sizeof(*g));
    if(!g)
      return VS_ERR_NOMEM;
    j->ev = g;
    j->cape = cap;
  }
  j->ev[j->ne].key = key;
  j->ev[j->ne].t = t;
  j->ev[j->ne].vdt = vdt;
  j->ev[j->ne].marker = (uint8_t)marker;
  j->ev[j->ne].idx = idx;
  j->ne++;
  return 0;
}

/* Purges by object; markers that survive, and their keys. */
static int index_dels(join *j)
{
  vs__dels *d = j->d;
  size_t i, m = 0;
  j->purged = malloc(d->n * sizeof(*j->purged));
  j->mkeys = malloc(d->n * sizeof(*j->mkeys));
  if(!j->purged || !j->mkeys)
    return VS_ERR_NOMEM;
  for(i = 0; i < d->n; i++)
    if(d->v[i].what != VS__DEL_MARKER)
      j->purged[j->np++] = (uint32_t)i;
  qsort_r(j->purged, j->np, sizeof(*j->purged), purge_cmp, d);
  for(i = 0; i < d->n; i++) {
    const vs__rdel *e = &d->v[i];
    if(e->what != VS__DEL_MARKER || purged_by(j, &e->obj) != NONE)
      continue;
    j->mkeys[m++] = vs__del_key(&e->obj);
    if(push_ev(j, vs__del_key(&e->obj), e->t, e->vdt, 1, (uint32_t)i))
      return VS_ERR_NOMEM;
  }
  qsort(j->mkeys, m, sizeof(*j->mkeys), u64_cmp);
  for(i = 0; i < m; i++)
    if(!j->nk || j->mkeys[j->nk - 1] != j->mkeys[i])
      j->mkeys[j->nk++] = j->mkeys[i];
  return 0;
}

/* Per key, in version order: a key whose last version is a marker reads
 * as deleted since the first marker after its last stored version. */
static int deleted_keys(join *j)
{
  size_t i, start;
  j->dkey = malloc((j->nk ? j->nk : 1) * sizeof(*j->dkey));
  j->dmark = malloc((j->nk ? j->nk : 1) * sizeof(*j->dmark));
  if(!j->dkey || !j->dmark)
    return VS_ERR_NOMEM;
  if(j->ne)
    qsort(j->ev, j->ne, sizeof(*j->ev), kev_cmp);
  for(start = 0; start < j->ne; start = i) {
    size_t first = start;
    for(i = start; i < j->ne && j->ev[i].key == j->ev[start].key; i++)
      if(!j->ev[i].marker)
        first = i + 1; /* the first marker after the last version */
    if(!j->ev[i - 1].marker)
      continue;
    j->dkey[j->nd] = j->ev[start].key;
    j->dmark[j->nd++] = j->ev[first].idx;
  }
  return 0;
}

/* The surviving markers, kept for vs__dels_marked_between. */
static int keep_marks(join *j)
{
  size_t i, n = 0;
  vs__dels *d = j->d;
  d->marks = malloc((j->ne ? j->ne : 1) * sizeof(*d->marks));
  if(!d->marks)
    return VS_ERR_NOMEM;
  for(i = 0; i < j->ne; i++)
    if(j->ev[i].marker) {
      d->marks[n].key = j->ev[i].key;
      d->marks[n].t = j->ev[i].t;
      d->marks[n++].vdt = j->ev[i].vdt;
    }
  d->nmarks = n;
  return 0;
}

/* -1, 0, 1 as (t1, v1) is before, the same as, after (t2, v2). */
static int order(int64_t t1, int32_t v1, int64_t t2, int32_t v2)
{
  return t1 != t2 ? CMP(t1, t2) : CMP(v1, v2);
}

int vs__dels_marked_between(const vs__dels *d, const key16 *obj, int64_t t1,
                            int32_t v1, int64_t t2, int32_t v2)
{
  uint64_t k = vs__del_key(obj);
  size_t lo = 0, hi = d->nmarks;
  while(lo < hi) { /* the first of k's markers not before (t1, v1) */
    size_t mid = lo + (hi - lo) / 2;
    const vs__mark *m = &d->marks[mid];
    if(m->key < k || (m->key == k && order(m->t, m->vdt, t1, v1) < 0))
      lo = mid + 1;
    else
      hi = mid;
  }
  /* on a full tie a marker counts as the later (kev_cmp) */
  return lo < d->nmarks && d->marks[lo].key == k &&
         order(d->marks[lo].t, d->marks[lo].vdt, t2, v2) < 0;
}

static void join_free(join *j)
{
  free(j->purged);
  free(j->mkeys);
  free(j->ev);
  free(j->dkey);
  free(j->dmark);
}

int vs__dels_join(vs__dels *d, size_t ns, vs__sto_fn sto, const void *ctx)
{
  join j;
  size_t i, at;
  int rc;
  if(!d->n)
    return 0;
  memset(&j, 0, sizeof(j));
  j.d = d;
  rc = index_dels(&j);
  for(i = 0; !rc && i < ns; i++) {
    key16 obj;
    int64_t t;
    int32_t vdt;
    sto(ctx, i, &obj, &t, &vdt);
    if(has_key(j.mkeys, j.nk, vs__del_key(&obj), NULL) &&
       purged_by(&j, &obj) == NONE)
      rc = push_ev(&j, vs__del_key(&obj), t, vdt, 0, NONE);
  }
  if(!rc)
    rc = deleted_keys(&j);
  if(!rc)
    rc = keep_marks(&j);
  if(!rc && !(d->fate = malloc((ns ? ns : 1) * sizeof(*d->fate))))
    rc = VS_ERR_NOMEM;
  for(i = 0; !rc && i < ns; i++) {
    key16 obj;
    int64_t t;
    int32_t vdt;
    sto(ctx, i, &obj, &t, &vdt);
    d->fate[i] = purged_by(&j, &obj);
    if(d->fate[i] == NONE && has_key(j.dkey, j.nd, vs__del_key(&obj), &at))
      d->fate[i] = j.dmark[at];
  }
  join_free(&j);
  return rc;
}
