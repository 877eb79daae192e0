/* The manifest reader: lists segments and streams each one line by line
 * out of a fixed buffer (plain or gzip); manifest_merge.c merges all of
 * them in event-time order. A line handed to a callback points into the
 * reader's buffer: no per-line allocation, and never a whole segment in
 * memory. */
#define _GNU_SOURCE
#include "vsink/manifest.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/clock.h"
#include "util/json.h"
#include "manifest_int.h"

#define READ_CHUNK (256u << 10)
#define INFLATE_CHUNK (1u << 20)
#define LINE_HARD_LIMIT (64u << 20) /* a reader's guard, far above writers' */

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

void vs__rd_close(rd *r)
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

int vs__rd_open(rd *r, const vs_manifest_segment *s, vs_err *err)
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

int vs__rd_next(rd *r, const char **line, size_t *len, tail *t,
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
  rc = vs__rd_open(&r, s, err);
  while(!rc && (k = vs__rd_next(&r, &line, &len, &t, err)) != 0) {
    if(k < 0)
      rc = err->code;
    else
      rc = fn(ctx, line, len);
  }
  if(!rc && t.torn && torn)
    torn(ctx, r.path, t.off, t.len);
  vs__rd_close(&r);
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
