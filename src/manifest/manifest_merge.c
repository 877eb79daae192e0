/* The merge of a directory (vs_manifest_scan): every segment's lines in
 * event-time order, through a heap of open segments that opens each one
 * only when the merged stream nears the time its name carries, and a
 * read-ahead thread that keeps inflating and merging a few batches ahead
 * of the caller. It is apart from manifest_read.c, which reads one segment
 * and lists a directory, because it is the only part of the reader that
 * holds many segments open and runs a thread of its own. */
#define _GNU_SOURCE /* qsort_r */
#include "vsink/manifest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"

/* A segment's name carries the time it was opened; its events are no
 * older (give or take clock jitter), so the merge opens it only when the
 * merged stream gets within this much of that time: a directory of
 * thousands of segments keeps only the ones that overlap open. */
#define OPEN_SLACK_MS (60LL * 1000)

/* ---- the merge ------------------------------------------------------------ */

typedef struct src {
  rd r;
  const char *line;
  size_t len;
  int64_t t;
} src;

typedef struct merge {
  vs_manifest_segment *segs;
  size_t n;
  src *s;
  size_t *heap, hn;
  vs_manifest_torn_fn torn;
  void *ctx;
} merge;

static int before(const merge *g, size_t a, size_t b)
{
  return g->s[a].t < g->s[b].t || (g->s[a].t == g->s[b].t && a < b);
}

static void sift_down(merge *g, size_t i)
{
  for(;;) {
    size_t l = 2 * i + 1, m = i, tmp;
    if(l < g->hn && before(g, g->heap[l], g->heap[m]))
      m = l;
    if(l + 1 < g->hn && before(g, g->heap[l + 1], g->heap[m]))
      m = l + 1;
    if(m == i)
      return;
    tmp = g->heap[i], g->heap[i] = g->heap[m], g->heap[m] = tmp;
    i = m;
  }
}

static void sift_up(merge *g, size_t i)
{
  while(i > 0 && before(g, g->heap[i], g->heap[(i - 1) / 2])) {
    size_t p = (i - 1) / 2, tmp = g->heap[i];
    g->heap[i] = g->heap[p], g->heap[p] = tmp;
    i = p;
  }
}

/* Reads source i's next line: 1 (with its time), 0 (source done and
 * closed), or -1 and err. */
static int advance(merge *g, size_t i, vs_err *err)
{
  src *s = &g->s[i];
  tail t = {0};
  int k = vs__rd_next(&s->r, &s->line, &s->len, &t, err);
  if(k == 1) {
    if(vs_manifest_line_time(s->line, s->len, &s->t))
      s->t = INT64_MIN; /* no readable time: first, and still delivered */
    return 1;
  }
  if(k == 0 && t.torn && g->torn)
    g->torn(g->ctx, s->r.path, t.off, t.len);
  vs__rd_close(&s->r);
  return k;
}

static int open_src(merge *g, size_t i, vs_err *err)
{
  int k, rc = vs__rd_open(&g->s[i].r, &g->segs[i], err);
  if(rc)
    return rc;
  k = advance(g, i, err);
  if(k < 0)
    return err->code;
  if(k == 1) {
    g->heap[g->hn++] = i;
    sift_up(g, g->hn - 1);
  }
  return VS_OK;
}

static int by_start(const void *a, const void *b, void *arg)
{
  const int64_t *st = arg;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  if(st[x] != st[y])
    return st[x] < st[y] ? -1 : 1;
  return x < y ? -1 : x > y;
}

static int run_merge(merge *g, const size_t *order, const int64_t *start,
                     vs_manifest_line_fn fn, vs_err *err)
{
  size_t p = 0;
  int rc = VS_OK;
  while(!rc) {
    while(!rc && p < g->n &&
          (g->hn == 0 || start[order[p]] == INT64_MIN ||
           start[order[p]] - OPEN_SLACK_MS <= g->s[g->heap[0]].t))
      rc = open_src(g, order[p++], err);
    if(rc || g->hn == 0)
      break;
    size_t top = g->heap[0];
    rc = fn(g->ctx, g->s[top].line, g->s[top].len);
    if(rc)
      break;
    int k = advance(g, top, err);
    if(k < 0)
      rc = err->code;
    else if(k == 0)
      g->heap[0] = g->heap[--g->hn];
    sift_down(g, 0);
  }
  return rc;
}

static int merge_dir(const char *dir, vs_manifest_line_fn fn,
                     vs_manifest_torn_fn torn, void *ctx, vs_err *err)
{
  merge g = {0};
  size_t i, *order = NULL;
  int64_t *start = NULL;
  vs_err own;
  int rc;
  if(!err)
    err = &own;
  rc = vs_manifest_list(dir, &g.segs, &g.n, err);
  if(rc)
    return rc;
  g.torn = torn;
  g.ctx = ctx;
  g.s = calloc(g.n + 1, sizeof(*g.s));
  g.heap = calloc(g.n + 1, sizeof(*g.heap));
  order = calloc(g.n + 1, sizeof(*order));
  start = calloc(g.n + 1, sizeof(*start));
  if(!g.s || !g.heap || !order || !start)
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; !rc && i < g.n; i++) {
    g.s[i].r.fd = -1;
    order[i] = i;
    start[i] = vs_manifest_segment_start(&g.segs[i]);
  }
  if(!rc) {
    if(g.n)
      qsort_r(order, g.n, sizeof(*order), by_start, start);
    rc = run_merge(&g, order, start, fn, err);
  }
  for(i = 0; g.s && i < g.n; i++)
    if(g.s[i].r.buf || g.s[i].r.fd >= 0)
      vs__rd_close(&g.s[i].r);
  free(g.s);
  free(g.heap);
  free(order);
  free(start);
  vs_manifest_list_free(g.segs, g.n);
  return rc;
}

/* ---- read-ahead ---------------------------------------------------------- */

/* Inflating and merging take about as long as a caller's work on the lines
 * (parsing, folding), so the merge runs on a thread of its own, a few
 * batches ahead; the callbacks still run on the caller's thread, in order.
 * A batch is a run of records: a header, then the line (or the segment's
 * path for a torn report), padded to 8 bytes. */
#define BATCH_BYTES (128u << 10)
#define BATCHES 8

typedef struct rec_hdr {
  uint32_t torn;
  uint32_t len;
  uint64_t off;   /* torn: offset; line: unused */
  uint64_t tlen;  /* torn: its length */
} rec_hdr;

typedef struct batch {
  char *data;
  size_t len, cap;
} batch;

typedef struct ahead {
  const char *dir;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  batch b[BATCHES];
  size_t fill, full;  /* the batch being filled; how many wait to be read */
  int done, stop, rc;
  int failed;         /* put_rec could not store a record: stop the merge */
  vs_err err;
} ahead;

static int publish(ahead *a)
{
  int stop;
  pthread_mutex_lock(&a->mu);
  a->full++;
  pthread_cond_broadcast(&a->cv);
  while(a->full == BATCHES && !a->stop)
    pthread_cond_wait(&a->cv, &a->mu);
  stop = a->stop;
  pthread_mutex_unlock(&a->mu);
  a->fill = (a->fill + 1) % BATCHES;
  a->b[a->fill].len = 0;
  return stop;
}

static int put_rec(ahead *a, const rec_hdr *h, const char *p)
{
  batch *b = &a->b[a->fill];
  size_t need = sizeof(*h) + ((h->len + 7u) & ~7u);
  if(a->failed)
    return a->failed;
  if(b->len && b->len + need > b->cap && publish(a))
    return a->failed = -1; /* the reader stopped */
  b = &a->b[a->fill];
  if(need > b->cap) {
    char *nd = realloc(b->data, need);
    if(!nd)
      return a->failed = vs_fail(&a->err, VS_ERR_NOMEM, "out of memory");
    b->data = nd;
    b->cap = need;
  }
  memcpy(b->data + b->len, h, sizeof(*h));
  memcpy(b->data + b->len + sizeof(*h), p, h->len);
  b->len += need;
  return 0;
}

static int ahead_line(void *ctx, const char *line, size_t len)
{
  rec_hdr h = {0, (uint32_t)len, 0, 0};
  return put_rec(ctx, &h, line);
}

/* A failure here is kept in a->failed and stops the merge at its next
 * line (a torn callback cannot return one). */
static void ahead_torn(void *ctx, const char *seg, uint64_t off, size_t len)
{
  rec_hdr h = {1, (uint32_t)strlen(seg), off, len};
  put_rec(ctx, &h, seg);
}

static void *ahead_main(void *arg)
{
  ahead *a = arg;
  int rc = merge_dir(a->dir, ahead_line, ahead_torn, a, &a->err);
  pthread_mutex_lock(&a->mu);
  a->rc = rc ? rc : a->failed; /* a torn report could not be stored */
  a->full += a->b[a->fill].len > 0;
  a->done = 1;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* Hands one batch's records to the callbacks; non-zero if fn said stop. */
static int deliver(const batch *b, vs_manifest_line_fn fn,
                   vs_manifest_torn_fn torn, void *ctx)
{
  size_t at = 0;
  char path[4096];
  while(at < b->len) {
    rec_hdr h;
    const char *p = b->data + at + sizeof(h);
    int rc;
    memcpy(&h, b->data + at, sizeof(h));
    at += sizeof(h) + ((h.len + 7u) & ~7u);
    if(!h.torn) {
      rc = fn(ctx, p, h.len);
      if(rc)
        return rc;
    }
    else if(torn) {
      snprintf(path, sizeof(path), "%.*s", (int)h.len, p);
      torn(ctx, path, h.off, (size_t)h.tlen);
    }
  }
  return 0;
}

/* The caller's fn result if it stopped the scan, else the merge's. */
static int consume(ahead *a, vs_manifest_line_fn fn, vs_manifest_torn_fn torn,
                   void *ctx, int *merge_rc)
{
  size_t next = 0;
  int rc = 0;
  for(;;) {
    pthread_mutex_lock(&a->mu);
    while(!a->full && !a->done)
      pthread_cond_wait(&a->cv, &a->mu);
    if(!a->full) {
      pthread_mutex_unlock(&a->mu);
      *merge_rc = 1;
      return a->rc;
    }
    pthread_mutex_unlock(&a->mu);
    rc = deliver(&a->b[next], fn, torn, ctx);
    pthread_mutex_lock(&a->mu);
    a->full--;
    a->stop = rc != 0;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if(rc)
      return rc;
    next = (next + 1) % BATCHES;
  }
}

int vs_manifest_scan(const char *dir, vs_manifest_line_fn fn,
                     vs_manifest_torn_fn torn, void *ctx, vs_err *err)
{
  ahead a;
  pthread_t th;
  int rc, i, merge_rc = 0;
  memset(&a, 0, sizeof(a));
  a.dir = dir;
  for(i = 0; i < BATCHES; i++) {
    a.b[i].cap = BATCH_BYTES;
    a.b[i].data = malloc(BATCH_BYTES);
    if(!a.b[i].data)
      break;
  }
  pthread_mutex_init(&a.mu, NULL);
  pthread_cond_init(&a.cv, NULL);
  if(i < BATCHES || pthread_create(&th, NULL, ahead_main, &a))
    rc = merge_dir(dir, fn, torn, ctx, err); /* no thread: no read-ahead */
  else {
    rc = consume(&a, fn, torn, ctx, &merge_rc);
    pthread_join(th, NULL);
    if(rc && merge_rc && err)
      *err = a.err;
  }
  for(i = 0; i < BATCHES; i++)
    free(a.b[i].data);
  pthread_mutex_destroy(&a.mu);
  pthread_cond_destroy(&a.cv);
  return rc;
}
