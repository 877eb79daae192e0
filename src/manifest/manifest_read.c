/* The manifest reader: lists segments, streams each one line by line out of
 * a fixed buffer (plain or gzip), and merges all of them in event-time
 * order. A line handed to a callback points into the reader's buffer: no
 * per-line allocation, and never a whole segment in memory. */
#define _GNU_SOURCE
#include "vsink/manifest.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/clock.h"
#include "util/json.h"

#define READ_CHUNK (256u << 10)
#define INFLATE_CHUNK (1u << 20)
#define LINE_HARD_LIMIT (64u << 20) /* a reader's guard, far above writers' */
/* A segment's name carries the time it was opened; its events are no
 * older (give or take clock jitter), so the merge opens it only when the
 * merged stream gets within this much of that time: a directory of
 * thousands of segments keeps only the ones that overlap open. */
#define OPEN_SLACK_MS (60LL * 1000)

/* ---- event time of a line ----------------------------------------------- */

static int num(const char *s, int n, unsigned *v)
{
  int i;
  *v = 0;
  for(i = 0; i < n; i++) {
    if(s[i] < '0' || s[i] > '9')
      return -1;
    *v = *v * 10 + (unsigned)(s[i] - '0');
  }
  return 0;
}

/* "2026-01-24T12:15:00.123Z", the only form the writer makes. */
static int canonical_time(const char *p, int64_t *ms)
{
  static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
  unsigned y, mo, d, h, mi, s, f;
  if(p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
     p[16] != ':' || p[19] != '.' || p[23] != 'Z' || num(p, 4, &y) ||
     num(p + 5, 2, &mo) || num(p + 8, 2, &d) || num(p + 11, 2, &h) ||
     num(p + 14, 2, &mi) || num(p + 17, 2, &s) || num(p + 20, 3, &f))
    return -1;
  if(mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
     s > 59 ||
     (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
    return -1;
  *ms = ((vs_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
        s * 1000 + f;
  return 0;
}

static int time_text(const char *p, size_t n, int64_t *ms)
{
  char t[48];
  const char *q = memchr(p, '"', n < sizeof(t) ? n : sizeof(t));
  if(!q)
    return -1;
  if(q - p == 24 && !canonical_time(p, ms))
    return 0;
  memcpy(t, p, (size_t)(q - p));
  t[q - p] = 0;
  return vs_time_parse_rfc3339(t, ms);
}

static int parsed_time(const char *line, size_t len, int64_t *ms)
{
  cJSON *root = vs_json_parse(line, len);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "time");
  int rc = cJSON_IsString(t) ? vs_time_parse_rfc3339(t->valuestring, ms) : -1;
  cJSON_Delete(root);
  return rc;
}

int vs_manifest_line_time(const char *line, size_t len, int64_t *ms)
{
  static const char pre[] = "{\"v\":1,\"event\":\"";
  static const char key[] = ",\"time\":\"";
  size_t i = sizeof(pre) - 1;
  if(len > i && !memcmp(line, pre, i)) {
    while(i < len && line[i] != '"')
      i += line[i] == '\\' ? 2 : 1;
    i++;
    if(i + sizeof(key) - 1 < len &&
       !memcmp(line + i, key, sizeof(key) - 1)) {
      i += sizeof(key) - 1;
      return time_text(line + i, len - i, ms);
    }
  }
  return parsed_time(line, len, ms); /* written by something else */
}

/* ---- one segment, streamed ---------------------------------------------- */

typedef struct rd {
  char *path;       /* the file actually read */
  int fd, gz;
  int eof;          /* no more bytes will come */
  int truncated;    /* the gzip stream ended early */
  int in_eof, between; /* gzip: input exhausted; at a member boundary */
  int zlive;
  z_stream z;
  unsigned char *in;
  char *buf;
  size_t cap, start, end;
  uint64_t off;     /* offset of buf[start] in the (uncompressed) segment */
} rd;

static void rd_close(rd *r)
{
  if(r->fd >= 0)
    close(r->fd);
  if(r->zlive)
    inflateEnd(&r->z);
  free(r->in);
  free(r->buf);
  free(r->path);
  memset(r, 0, sizeof(*r));
  r->fd = -1;
}

/* A plain segment listed a moment ago may have been compressed since. */
static int rd_open_file(rd *r, const vs_manifest_segment *s, vs_err *err)
{
  r->path = strdup(s->path);
  r->gz = s->gz;
  if(!r->path)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
  if(r->fd < 0 && errno == ENOENT && !s->gz) {
    char *gz;
    if(asprintf(&gz, "%s.gz", s->path) < 0)
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    r->fd = open(gz, O_RDONLY | O_CLOEXEC);
    if(r->fd >= 0) {
      free(r->path);
      r->path = gz;
      r->gz = 1;
    }
    else {
      free(gz);
      errno = ENOENT;
    }
  }
  if(r->fd < 0)
    return vs_fail_errno(err, errno, "open manifest segment %s", s->path);
  posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return VS_OK;
}

static int rd_open(rd *r, const vs_manifest_segment *s, vs_err *err)
{
  int rc;
  memset(r, 0, sizeof(*r));
  r->fd = -1;
  rc = rd_open_file(r, s, err);
  if(rc)
    return rc;
  r->cap = r->gz ? INFLATE_CHUNK : READ_CHUNK;
  r->buf = malloc(r->cap);
  if(r->gz) {
    r->in = malloc(READ_CHUNK);
    if(r->in && inflateInit2(&r->z, 15 + 16) == Z_OK)
      r->zlive = 1;
  }
  if(!r->buf || (r->gz && !r->zlive))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory reading %s", r->path);
  return VS_OK;
}

static int read_some(rd *r, void *p, size_t n, ssize_t *got, vs_err *err)
{
  do
    *got = read(r->fd, p, n);
  while(*got < 0 && errno == EINTR);
  if(*got < 0)
    return vs_fail_errno(err, errno, "read manifest segment %s", r->path);
  return VS_OK;
}

static int fill_plain(rd *r, vs_err *err)
{
  ssize_t got;
  int rc = read_some(r, r->buf + r->end, r->cap - r->end, &got, err);
  if(rc)
    return rc;
  if(got == 0)
    r->eof = 1;
  r->end += (size_t)got;
  return VS_OK;
}

/* Inflates until some output is made or the input ends. Concatenated gzip
 * members are one stream (gzip allows it); input ending inside a member is
 * a truncated stream, reported as a torn tail. */
static int fill_gz(rd *r, vs_err *err)
{
  size_t before = r->end;
  while(r->end == before) {
    int ret;
    if(r->z.avail_in == 0 && !r->in_eof) {
      ssize_t got;
      int rc = read_some(r, r->in, READ_CHUNK, &got, err);
      if(rc)
        return rc;
      r->in_eof = got == 0;
      r->z.next_in = r->in;
      r->z.avail_in = (uInt)got;
    }
    if(r->z.avail_in == 0) {
      r->eof = 1;
      r->truncated = !r->between;
      return VS_OK;
    }
    if(r->between) {
      inflateReset(&r->z);
      r->between = 0;
    }
    r->z.next_out = (unsigned char *)r->buf + r->end;
    r->z.avail_out = (uInt)(r->cap - r->end);
    ret = inflate(&r->z, Z_NO_FLUSH);
    r->end = r->cap - r->z.avail_out;
    if(ret == Z_STREAM_END)
      r->between = 1;
    else if(ret != Z_OK && !(ret == Z_BUF_ERROR && r->z.avail_in == 0))
      return vs_fail(err, VS_ERR_IO,
                     "manifest segment %s: corrupt gzip data after %llu "
                     "bytes: %s", r->path,
                     (unsigned long long)(r->off + r->end - r->start),
                     r->z.msg ? r->z.msg : zError(ret));
  }
  return VS_OK;
}

/* Makes room after the partial line at the end of the buffer. */
static int rd_room(rd *r, vs_err *err)
{
  char *nb;
  if(r->start > 0) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
  }
  if(r->end < r->cap)
    return VS_OK;
  if(r->cap >= LINE_HARD_LIMIT)
    return vs_fail(err, VS_ERR_TOOLARGE,
                   "manifest segment %s: line at offset %llu is longer than "
                   "%u bytes", r->path, (unsigned long long)r->off,
                   LINE_HARD_LIMIT);
  nb = realloc(r->buf, r->cap * 2);
  if(!nb)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory reading %s", r->path);
  r->buf = nb;
  r->cap *= 2;
  return VS_OK;
}

/* 1 and a line (valid until the next call), 0 at the end (then torn_len
 * and torn say whether a torn tail was left), or -1 and err. */
typedef struct tail {
  int torn;
  uint64_t off;
  size_t len;
} tail;

static int rd_next(rd *r, const char **line, size_t *len, tail *t,
                   vs_err *err)
{
  for(;;) {
    char *b = r->buf + r->start;
    char *nl = memchr(b, '\n', r->end - r->start);
    int rc;
    if(nl) {
      *line = b;
      *len = (size_t)(nl - b);
      r->start += *len + 1;
      r->off += *len + 1;
      if(*len)
        return 1;
      continue; /* a blank line is no event */
    }
    if(r->eof) {
      t->torn = r->end > r->start || r->truncated;
      t->off = r->off;
      t->len = r->end - r->start;
      r->off += t->len;
      r->start = r->end;
      r->truncated = 0;
      return 0;
    }
    rc = rd_room(r, err);
    if(!rc)
      rc = r->gz ? fill_gz(r, err) : fill_plain(r, err);
    if(rc)
      return -1;
  }
}

int vs_manifest_read_segment(const vs_manifest_segment *s,
                             vs_manifest_line_fn fn, vs_manifest_torn_fn torn,
                             void *ctx, vs_err *err)
{
  vs_err own;
  rd r;
  tail t = {0};
  const char *line;
  size_t len;
  int k, rc;
  if(!err)
    err = &own;
  rc = rd_open(&r, s, err);
  while(!rc && (k = rd_next(&r, &line, &len, &t, err)) != 0) {
    if(k < 0)
      rc = err->code;
    else
      rc = fn(ctx, line, len);
  }
  if(!rc && t.torn && torn)
    torn(ctx, r.path, t.off, t.len);
  rd_close(&r);
  return rc;
}

/* ---- listing -------------------------------------------------------------- */

typedef struct entry {
  char *name;
  size_t base; /* length without .jsonl or .jsonl.gz */
  int gz;
} entry;

static int entry_cmp(const void *a, const void *b)
{
  const entry *x = a, *y = b;
  size_t n = x->base < y->base ? x->base : y->base;
  int c = memcmp(x->name, y->name, n);
  if(c)
    return c;
  if(x->base != y->base)
    return x->base < y->base ? -1 : 1;
  return x->gz - y->gz;
}

/* Segment names end .jsonl or .jsonl.gz; anything else (a .gz.tmp left by
 * a crash mid-compression, dot files, directories) is not a segment. */
static int segment_name(const char *dir, const struct dirent *d, entry *e)
{
  size_t n = strlen(d->d_name);
  struct stat st;
  char *path;
  int reg;
  if(d->d_name[0] == '.')
    return 0;
  if(n > 9 && !strcmp(d->d_name + n - 9, ".jsonl.gz"))
    e->base = n - 9, e->gz = 1;
  else if(n > 6 && !strcmp(d->d_name + n - 6, ".jsonl"))
    e->base = n - 6, e->gz = 0;
  else
    return 0;
  if(d->d_type != DT_UNKNOWN)
    return d->d_type == DT_REG;
  if(asprintf(&path, "%s/%s", dir, d->d_name) < 0)
    return 0;
  reg = !stat(path, &st) && S_ISREG(st.st_mode);
  free(path);
  return reg;
}

static int collect(const char *dir, entry **out, size_t *n, vs_err *err)
{
  DIR *dh = opendir(dir);
  struct dirent *d;
  entry *es = NULL, e;
  size_t cap = 0;
  int rc = VS_OK;
  *n = 0;
  *out = NULL;
  if(!dh)
    return vs_fail_errno(err, errno, "manifest directory %s", dir);
  while(!rc && (errno = 0, d = readdir(dh))) {
    if(!segment_name(dir, d, &e))
      continue;
    if(*n == cap) {
      entry *ne = realloc(es, (cap = cap ? cap * 2 : 64) * sizeof(*es));
      if(!ne) {
        rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
        break;
      }
      es = ne;
    }
    e.name = strdup(d->d_name);
    if(!e.name)
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
    else
      es[(*n)++] = e;
  }
  if(!rc && errno)
    rc = vs_fail_errno(err, errno, "read manifest directory %s", dir);
  closedir(dh);
  *out = es;
  return rc;
}

int vs_manifest_list(const char *dir, vs_manifest_segment **segs, size_t *n,
                     vs_err *err)
{
  entry *es;
  size_t ne, i, k = 0;
  vs_manifest_segment *out = NULL;
  int rc = collect(dir, &es, &ne, err);
  if(!rc && ne && !(out = calloc(ne, sizeof(*out))))
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  if(!rc && ne)
    qsort(es, ne, sizeof(*es), entry_cmp);
  for(i = 0; !rc && i < ne; i++) {
    /* A crash between the .gz's rename and the plain one's unlink left
     * both: the .gz (sorted right after) is complete. */
    if(!es[i].gz && i + 1 < ne && es[i + 1].gz &&
       es[i + 1].base == es[i].base &&
       !memcmp(es[i].name, es[i + 1].name, es[i].base))
      continue;
    if(asprintf(&out[k].path, "%s/%s", dir, es[i].name) < 0) {
      rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
      break;
    }
    out[k++].gz = es[i].gz;
  }
  for(i = 0; i < ne; i++)
    free(es[i].name);
  free(es);
  if(rc) {
    vs_manifest_list_free(out, k);
    return rc;
  }
  *segs = out;
  *n = k;
  return VS_OK;
}

void vs_manifest_list_free(vs_manifest_segment *segs, size_t n)
{
  size_t i;
  for(i = 0; segs && i < n; i++)
    free(segs[i].path);
  free(segs);
}

/* ---- the merge ------------------------------------------------------------ */

/* "20260124T121500123Z-..." -> ms; INT64_MIN for a name of another form,
 * which the merge then opens from the start. */
int64_t vs_manifest_segment_start(const vs_manifest_segment *s)
{
  const char *slash = strrchr(s->path, '/');
  const char *p = slash ? slash + 1 : s->path;
  char amz[17];
  int64_t sec;
  unsigned ms;
  if(strlen(p) < 20 || p[15] < '0' || p[18] != 'Z' || p[19] != '-' ||
     num(p + 15, 3, &ms))
    return INT64_MIN;
  memcpy(amz, p, 15);
  amz[15] = 'Z';
  amz[16] = 0;
  if(vs_time_parse_amz(amz, &sec))
    return INT64_MIN;
  return sec * 1000 + ms;
}

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
  int k = rd_next(&s->r, &s->line, &s->len, &t, err);
  if(k == 1) {
    if(vs_manifest_line_time(s->line, s->len, &s->t))
      s->t = INT64_MIN; /* no readable time: first, and still delivered */
    return 1;
  }
  if(k == 0 && t.torn && g->torn)
    g->torn(g->ctx, s->r.path, t.off, t.len);
  rd_close(&s->r);
  return k;
}

static int open_src(merge *g, size_t i, vs_err *err)
{
  int k, rc = rd_open(&g->s[i].r, &g->segs[i], err);
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
      rd_close(&g.s[i].r);
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
