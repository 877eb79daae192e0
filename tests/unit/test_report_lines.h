/* Manifest lines for the report tests, written the way the writers write
 * them ({"v":1,"event":E,"time":T,"node":N,...}), and a row collector. */
#ifndef VS_TEST_REPORT_LINES_H
#define VS_TEST_REPORT_LINES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsink/report.h"

#define LINE_MAX_BYTES 8192

/* taskUUID n, videoUUID n of task t. */
static inline const char *tid(int n)
{
  static char b[8][37];
  static int i;
  char *o = b[i++ & 7];
  snprintf(o, 37, "%08x-1111-4111-8111-%012x", n, n);
  return o;
}

static inline const char *vid(int t, int k)
{
  static char b[8][37];
  static int i;
  char *o = b[i++ & 7];
  snprintf(o, 37, "%08x-2222-4222-8222-%012x", t, k);
  return o;
}

/* "2026-11-24T10:MM:SS.000Z": minute m, second s. */
static inline const char *at(int m, int s)
{
  static char b[8][48];
  static int i;
  char *o = b[i++ & 7];
  snprintf(o, 48, "2026-11-24T%02d:%02d:%02d.000Z", (10 + m / 60) % 100,
           m % 60, s % 60);
  return o;
}

static inline const char *sub_line(const char *time, int t, int nres,
                                   const char *estimate, const char *prompt)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"submitted\",\"time\":\"%s\",\"node\":\"cli\","
           "\"taskUUID\":\"%s\",\"task\":{\"taskType\":\"videoInference\","
           "\"taskUUID\":\"%s\",\"model\":\"bytedance:2@2\","
           "\"positivePrompt\":\"%s\",\"resolution\":\"720p\","
           "\"duration\":5,\"numberResults\":%d,\"outputFormat\":\"MP4\","
           "\"outputQuality\":95,\"seed\":%d,\"includeCost\":true},"
           "\"estimate\":\"%s\",\"target\":{\"kind\":\"sink\",\"bucket\":"
           "\"b\",\"key\":\"out/%s.mp4\"}}",
           time, tid(t), tid(t), prompt, nres, 1000 + t, estimate, tid(t));
  return b;
}

/* Version "v<t>-<k>" of out/<taskUUID>.mp4. */
static inline const char *sto_line(const char *time, int t, int k, int bytes)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"stored\",\"time\":\"%s\",\"node\":\"sink-%d\","
           "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"versionId\":\"v%d-%d\","
           "\"bytes\":%d,\"sha256\":\"%064x\",\"contentType\":\"video/mp4\","
           "\"etag\":\"\\\"e\\\"\",\"remote\":\"127.0.0.1\",\"taskUUID\":\"%s\"}",
           time, k % 2, tid(t), t, k, bytes, t * 16 + k, tid(t));
  return b;
}

static inline const char *res_line(const char *time, int t, int k,
                                   const char *cost, const char *source)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"result\",\"time\":\"%s\",\"node\":\"sink-0\","
           "\"taskUUID\":\"%s\",\"videoUUID\":\"%s\",\"videoURL\":"
           "\"https://example.invalid/%s.mp4\",\"seed\":%d,\"cost\":\"%s\","
           "\"NSFWContent\":false,\"source\":\"%s\"}",
           time, tid(t), vid(t, k), vid(t, k), 5000 + t * 10 + k, cost,
           source);
  return b;
}

static inline const char *fail_line(const char *time, int t, const char *code,
                                    const char *message)
{
  static char b[LINE_MAX_BYTES];
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"failed\",\"time\":\"%s\",\"node\":\"cli\","
           "\"taskUUID\":\"%s\",\"code\":\"%s\",\"message\":\"%s\","
           "\"parameter\":\"width\"}",
           time, tid(t), code, message);
  return b;
}

/* problem NULL: ok. */
static inline const char *ver_line(const char *time, int t, int k,
                                   const char *problem)
{
  static char b[LINE_MAX_BYTES];
  char p[64] = "null";
  if(problem)
    snprintf(p, sizeof(p), "\"%s\"", problem);
  snprintf(b, sizeof(b),
           "{\"v\":1,\"event\":\"verified\",\"time\":\"%s\",\"node\":\"v\","
           "\"bucket\":\"b\",\"key\":\"out/%s.mp4\",\"versionId\":\"v%d-%d\","
           "\"ok\":%s,\"sha256\":\"%064x\",\"problem\":%s}",
           time, tid(t), t, k, problem ? "false" : "true", t * 16 + k, p);
  return b;
}

/* Feeds one line; the tests check the fold never refuses a line. */
static inline int feed(vs_report *r, const char *line)
{
  return vs_report_add_line(r, line, strlen(line), NULL, NULL);
}

typedef struct rowset {
  vs_report_row *v;
  size_t n, cap;
} rowset;

static inline int collect_row(void *ctx, const vs_report_row *row)
{
  rowset *s = ctx;
  if(s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->v = realloc(s->v, s->cap * sizeof(*s->v));
    if(!s->v)
      return -1;
  }
  s->v[s->n++] = *row;
  return 0;
}

/* Rows of a finished report (filter may be NULL). */
static inline rowset collect(const vs_report *r, const vs_report_filter *f)
{
  rowset s = {NULL, 0, 0};
  vs_report_each(r, f, collect_row, &s);
  return s;
}

/* The rows of task t in output order. */
static inline size_t rows_of(const rowset *s, int t, const vs_report_row **out,
                             size_t cap)
{
  size_t i, n = 0;
  for(i = 0; i < s->n; i++)
    if(!strcmp(s->v[i].task_uuid, tid(t)) && n < cap)
      out[n++] = &s->v[i];
  return n;
}

/* A report of opts {detail}, fed lines[0..n), finished at now. */
static inline vs_report *fold(const char *const *lines, size_t n, int64_t now,
                              int64_t grace)
{
  vs_report_opts o = {1, 1};
  vs_report *r = NULL;
  size_t i;
  if(vs_report_new(&r, &o, NULL))
    return NULL;
  for(i = 0; i < n; i++)
    if(feed(r, lines[i])) {
      vs_report_free(r);
      return NULL;
    }
  if(vs_report_finish(r, now, grace, NULL)) {
    vs_report_free(r);
    return NULL;
  }
  return r;
}

#endif
