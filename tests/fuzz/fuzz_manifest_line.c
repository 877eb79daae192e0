/* Fuzz target: the report's manifest line scanner (src/report/report_scan.c, via
 * vs_report_add_line and the fold), vs_manifest_line_time, and the manifest
 * reader on torn input.
 *
 * Input: a mode byte, then manifest text.
 *   mode & 0x81 == 0x80: each line goes to the scanner alone (a fieldset
 *                naming top-level and nested members), every span it hands
 *                back through the span conversions, and a string member's
 *                text compared with cJSON's reading of the same line; fast,
 *                as no report is built (a report costs megabytes of blocks);
 *   bit 0 clear: the text's lines go straight to the fold;
 *   bit 0 set:   the text becomes a segment file read by
 *                vs_manifest_read_segment, plain or (bit 1) gzip cut after a
 *                fuzzer-chosen share of its compressed bytes (bits 2..7):
 *                a crash mid-write or mid-gzip. Bytes the reader hands over
 *                as lines plus the torn tail must be exactly the file's
 *                (plain), and never more than the text (gzip).
 * Either way the fold is finished and every row written as a table, CSV,
 * JSONL and HTML (to /dev/null), so what the scanner lets through reaches
 * every consumer. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz_input.h"
#include "report/report_scan.h"
#include "util/json.h"
#include "vsink/manifest.h"
#include "vsink/report.h"

#define NOW_MS 1795000000000LL /* 2026-11-18 */

typedef struct feed {
  vs_report *r;
  uint64_t line_bytes, lines, torn_bytes, torns;
} feed;

static int on_line(void *ctx, const char *line, size_t len)
{
  feed *f = ctx;
  int64_t ms = 0;
  int rc = vs_manifest_line_time(line, len, &ms);
  FZ_ASSERT(rc == 0 || rc == -1, "line_time returned %d", rc);
  FZ_ASSERT(!memchr(line, '\n', len), "a line holds a newline");
  f->line_bytes += len;
  f->lines++;
  return vs_report_add_line(f->r, line, len, "fuzz", NULL) ? -1 : 0;
}

static void on_torn(void *ctx, const char *segment, uint64_t offset,
                    size_t len)
{
  feed *f = ctx;
  f->torn_bytes += len;
  f->torns++;
  vs_report_add_torn(f->r, segment, offset, len);
}

static void feed_lines(feed *f, const char *text, size_t n)
{
  const char *p = text, *e = text + n;
  while(p < e) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    if(!nl) {
      on_torn(f, "fuzz", (uint64_t)(p - text), (size_t)(e - p));
      break;
    }
    on_line(f, p, (size_t)(nl - p));
    p = nl + 1;
  }
}

static int write_file(const char *path, const void *p, size_t n)
{
  FILE *fp = fopen(path, "wb");
  int ok = fp && fwrite(p, 1, n, fp) == n;
  if(fp && fclose(fp))
    ok = 0;
  return ok ? 0 : -1;
}

/* The gzip stream of text, cut to share/64 of its length (64: whole). */
static void *gzip_cut(const char *text, size_t n, unsigned share, size_t *out)
{
  z_stream z;
  size_t cap = compressBound((uLong)n) + 64;
  unsigned char *buf = malloc(cap);
  memset(&z, 0, sizeof(z));
  if(!buf || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
    abort();
  z.next_in = (unsigned char *)text;
  z.avail_in = (uInt)n;
  z.next_out = buf;
  z.avail_out = (uInt)cap;
  if(deflate(&z, Z_FINISH) != Z_STREAM_END)
    abort();
  *out = z.total_out * (share > 64 ? 64 : share) / 64;
  deflateEnd(&z);
  return buf;
}

static size_t newlines(const char *p, size_t n)
{
  size_t k = 0;
  const char *e = p + n;
  while(p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
    k++;
    p++;
  }
  return k;
}

static void read_segment(feed *f, const char *text, size_t n, unsigned mode)
{
  char dir[64], path[128];
  vs_manifest_segment seg;
  vs_err err = {0};
  int gz = (mode & 2) != 0, rc;
  void *bytes = (void *)text;
  size_t len = n;
  if(fz_mkdtemp("manifest", dir, sizeof(dir)))
    abort();
  snprintf(path, sizeof(path), "%s/20261118T000000000Z-fuzz-1-00000000.jsonl%s",
           dir, gz ? ".gz" : "");
  if(gz)
    bytes = gzip_cut(text, n, mode >> 2, &len);
  if(write_file(path, bytes, len))
    abort();
  seg.path = path;
  seg.gz = gz;
  rc = vs_manifest_read_segment(&seg, on_line, on_torn, f, &err);
  /* Blank lines are skipped, so newlines are counted from the text. */
  if(!gz && rc == 0)
    FZ_ASSERT(f->line_bytes + newlines(text, n) + f->torn_bytes == n,
              "plain segment of %zu bytes read as %llu in %llu lines + %llu "
              "torn", n, (unsigned long long)f->line_bytes,
              (unsigned long long)f->lines,
              (unsigned long long)f->torn_bytes);
  if(gz)
    FZ_ASSERT(f->line_bytes + f->lines + f->torn_bytes <= n,
              "a cut gzip gave more bytes than were compressed");
  if(gz)
    free(bytes);
  unlink(path);
  rmdir(dir);
}

/* ---- the scanner alone ------------------------------------------------- */
static const char *const top_names[] = {"v", "event", "time", "task", "key",
                                        "bytes", "cost", "taskUUID"};
static const uint8_t top_lens[] = {1, 5, 4, 4, 3, 5, 4, 8};
static const char *const task_names[] = {"seed", "positivePrompt",
                                         "duration"};
static const uint8_t task_lens[] = {4, 14, 8};
#define NTOP 8
#define NTASK 3

/* span_text against cJSON on a string member both accepted; skipped where
 * the two differ by design (a \u0000 cJSON cuts at; a lone surrogate the
 * scanner turns into U+FFFD). */
static void compare_text(const char *line, size_t len, const char *name,
                         const char *text, size_t n)
{
  cJSON *root = vs_json_parse(line, len), *m = NULL, *c;
  int count = 0;
  for(c = root ? root->child : NULL; c; c = c->next)
    if(c->string && !strcmp(c->string, name) && ++count == 1)
      m = c;
  /* (A member given twice: the scanner keeps the last, cJSON the first.) */
  if(count == 1 && cJSON_IsString(m) && !memchr(text, 0, n) &&
     !memmem(text, n, "\xef\xbf\xbd", 3) && !memmem(line, len, "\\u0000", 6))
    FZ_ASSERT(strlen(m->valuestring) == n && !memcmp(m->valuestring, text, n),
              "member %s: scanner read %zu bytes, cJSON '%s'", name, n,
              m->valuestring);
  cJSON_Delete(root);
}

static void convert(const char *line, size_t len, const char *name,
                    const span *sp, vs_buf *b)
{
  int64_t i;
  vs_dec d;
  key16 k;
  vs__span_int(sp, INT64_MIN, INT64_MAX, &i);
  vs__span_dec(sp, &d);
  vs__span_time(sp, &i);
  vs__span_uuid(sp, &k);
  if(sp->kind != J_STR)
    return;
  FZ_ASSERT(!vs__span_text(sp, b), "span_text failed");
  FZ_ASSERT(b->len <= sp->n, "text of %zu bytes from a span of %u", b->len,
            (unsigned)sp->n);
  if(name)
    compare_text(line, len, name, vs_buf_str(b), b->len);
}

static void scan_line(const char *line, size_t len)
{
  span top[NTOP], task[NTASK];
  fieldset tfs = {task_names, task_lens, NTASK, task, -1, NULL};
  fieldset fs = {top_names, top_lens, NTOP, top, 3, &tfs};
  js s = {line, line + len};
  vs_buf b = VS_BUF_INIT;
  int i;
  memset(top, 0, sizeof(top));
  memset(task, 0, sizeof(task));
  vs__js_ws(&s);
  if(s.p < s.e && *s.p == '{' && !vs__js_object(&s, 0, &fs)) {
    FZ_ASSERT(s.p <= s.e, "scanner ran past the line");
    vs__js_ws(&s);
    for(i = 0; i < NTOP; i++)
      convert(line, len, s.p == s.e && !memchr(line, 0, len) ? top_names[i]
                                                             : NULL,
              &top[i], &b);
    for(i = 0; i < NTASK; i++)
      convert(line, len, NULL, &task[i], &b);
  }
  vs_buf_free(&b);
}

static void scan_lines(const char *text, size_t n)
{
  const char *p = text, *e = text + n;
  while(p < e) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);
    /* A copy the exact length of the line: ASan sees any overread. */
    char *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    scan_line(copy, len);
    free(copy);
    p += len + 1;
  }
}

static int count_row(void *ctx, const vs_report_row *row)
{
  FZ_ASSERT(row->status >= 0, "status %d", row->status);
  FZ_ASSERT(strlen(row->task_uuid) <= 36, "taskUUID '%s'", row->task_uuid);
  ++*(size_t *)ctx;
  return 0;
}

static void write_everything(vs_report *r)
{
  static const int formats[] = {VS_REPORT_TABLE, VS_REPORT_CSV,
                                VS_REPORT_JSONL};
  FILE *null = fopen("/dev/null", "w");
  vs_report_html_opts ho = {0};
  vs_report_summary sum;
  size_t i, rows = 0;
  vs_err err = {0};
  if(!null)
    abort();
  vs_report_each(r, NULL, count_row, &rows);
  for(i = 0; i < 3; i++) {
    FZ_ASSERT(!vs_report_write(r, NULL, VS_REPORT_BY_NONE, formats[i], null,
                               &sum, &err), "write: %s", err.msg);
    FZ_ASSERT(sum.rows == rows, "wrote %llu rows of %zu",
              (unsigned long long)sum.rows, rows);
  }
  FZ_ASSERT(!vs_report_write(r, NULL, VS_REPORT_BY_PREFIX, VS_REPORT_CSV,
                             null, &sum, &err), "groups: %s", err.msg);
  ho.now_ms = NOW_MS;
  FZ_ASSERT(!vs_report_html(r, NULL, &ho, null, &sum, &err), "html: %s",
            err.msg);
  fclose(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vs_report_opts o = {1, 1};
  vs_report_stats st;
  feed f = {0};
  vs_err err = {0};
  const char *text = (const char *)data + 1;
  if(size >= 1 && (data[0] & 0x81) == 0x80) {
    scan_lines(text, size - 1);
    return 0;
  }
  if(size < 1 || vs_report_new(&f.r, &o, &err))
    return 0;
  if(data[0] & 1)
    read_segment(&f, text, size - 1, data[0]);
  else
    feed_lines(&f, text, size - 1);
  vs_report_get_stats(f.r, &st);
  FZ_ASSERT(st.lines == f.lines, "fold counted %llu lines of %llu",
            (unsigned long long)st.lines, (unsigned long long)f.lines);
  FZ_ASSERT(st.torn == f.torns, "fold counted %llu torn of %llu",
            (unsigned long long)st.torn, (unsigned long long)f.torns);
  FZ_ASSERT(!vs_report_finish(f.r, NOW_MS, 3600 * 1000, &err), "finish: %s",
            err.msg);
  write_everything(f.r);
  vs_report_free(f.r);
  return 0;
}
