/* Report output: grouping, and rows or groups as an aligned table, CSV
 * (RFC 4180) or JSON Lines. CSV and JSONL cells come from one function, so
 * the two formats cannot disagree about a value. The columns about deletes
 * (deleted, delete_marker, purged; per group: deleted, purged) come last
 * and only when the manifest holds a delete, so that a manifest from
 * before deletes reports byte for byte as it did. */
#include "vsink/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/dec.h"
#include "util/log.h"

#define MONEY_FRAC 4 /* "0.0668", "315.0000": cents and the API's digits */
#define NONE_NAME "(none)"
#define TOTAL_NAME "TOTAL"

static const char *const by_names[] = {"none", "day", "model", "resolution",
                                       "status", "prefix"};

int vs_report_by_parse(const char *name, int *by)
{
  int i;
  for(i = 1; i < (int)(sizeof(by_names) / sizeof(by_names[0])); i++)
    if(!strcmp(name, by_names[i])) {
      *by = i;
      return 0;
    }
  return -1;
}

const char *vs_report_by_name(int by)
{
  return by >= 0 && by < (int)(sizeof(by_names) / sizeof(by_names[0]))
           ? by_names[by]
           : NULL;
}

int vs_report_format_parse(const char *name, int *format)
{
  static const char *const names[] = {"table", "csv", "jsonl", "html"};
  int i;
  for(i = 0; i < 4; i++)
    if(!strcmp(name, names[i])) {
      *format = i;
      return 0;
    }
  return -1;
}

/* ---- grouping ----------------------------------------------------------- */
typedef struct grouper {
  int by;
  vs_report_group *g;
  size_t n, cap;
  size_t *slots; /* open addressing: group index + 1, 0 empty */
  size_t scap;
  vs_report_group total;
  int rc;
} grouper;

static uint64_t fnv(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for(; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static const char *group_name(int by, const vs_report_row *row, char *buf,
                              size_t cap)
{
  const char *slash;
  int64_t y;
  unsigned m, d;
  switch(by) {
  case VS_REPORT_BY_DAY:
    vs_civil_from_days(row->time_ms >= 0 ? row->time_ms / 86400000
                                         : -((-row->time_ms + 86399999) /
                                             86400000),
                       &y, &m, &d);
    snprintf(buf, cap, "%04d-%02u-%02u", (int)y, m, d);
    return buf;
  case VS_REPORT_BY_MODEL:
    return row->model ? row->model : NONE_NAME;
  case VS_REPORT_BY_RESOLUTION:
    return row->size ? row->size : NONE_NAME;
  case VS_REPORT_BY_STATUS:
    return vs_report_status_name(row->status);
  case VS_REPORT_BY_PREFIX:
    if(!row->key || !(slash = strrchr(row->key, '/')))
      return NONE_NAME;
    snprintf(buf, cap, "%.*s", (int)(slash - row->key + 1), row->key);
    return buf;
  default:
    return TOTAL_NAME;
  }
}

static int add_to(vs_report_group *g, const vs_report_row *row)
{
  g->outputs++;
  if(row->has_duration && vs_dec_add(g->seconds, row->duration, &g->seconds))
    return VS_ERR_TOOLARGE;
  if(row->has_estimate &&
     vs_dec_add(g->estimated, row->estimate, &g->estimated))
    return VS_ERR_TOOLARGE;
  if(row->has_cost && vs_dec_add(g->actual, row->cost, &g->actual))
    return VS_ERR_TOOLARGE;
  if(row->bytes > 0)
    g->bytes += (uint64_t)row->bytes;
  if(vs_report_status_is_problem(row->status))
    g->problems++;
  g->deleted += row->status == VS_REPORT_DELETED;
  g->purged += row->status == VS_REPORT_PURGED;
  return 0;
}

static int grow_slots(grouper *gr)
{
  size_t cap = gr->scap ? gr->scap * 2 : 64, i, j;
  size_t *s = calloc(cap, sizeof(*s));
  if(!s)
    return VS_ERR_NOMEM;
  for(i = 0; i < gr->n; i++) {
    for(j = fnv(gr->g[i].name) & (cap - 1); s[j]; j = (j + 1) & (cap - 1))
      ;
    s[j] = i + 1;
  }
  free(gr->slots);
  gr->slots = s;
  gr->scap = cap;
  return 0;
}

static vs_report_group *find_group(grouper *gr, const char *name)
{
  size_t j;
  if(gr->n * 2 >= gr->scap && grow_slots(gr))
    return NULL;
  for(j = fnv(name) & (gr->scap - 1); gr->slots[j]; j = (j + 1) & (gr->scap - 1))
    if(!strcmp(gr->g[gr->slots[j] - 1].name, name))
      return &gr->g[gr->slots[j] - 1];
  if(gr->n == gr->cap) {
    size_t cap = gr->cap ? gr->cap * 2 : 16;
    vs_report_group *g = realloc(gr->g, cap * sizeof(*g));
    if(!g)
      return NULL;
    gr->g = g;
    gr->cap = cap;
  }
  memset(&gr->g[gr->n], 0, sizeof(gr->g[0]));
  if(!(gr->g[gr->n].name = strdup(name)))
    return NULL;
  gr->slots[j] = ++gr->n;
  return &gr->g[gr->n - 1];
}

static int group_row(void *ctx, const vs_report_row *row)
{
  grouper *gr = ctx;
  char buf[1024];
  vs_report_group *g = find_group(gr, group_name(gr->by, row, buf, sizeof(buf)));
  if(!g)
    return gr->rc = VS_ERR_NOMEM;
  if(add_to(g, row) || add_to(&gr->total, row))
    return gr->rc = VS_ERR_TOOLARGE;
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(((const vs_report_group *)a)->name,
                ((const vs_report_group *)b)->name);
}

int vs_report_groups(const vs_report *r, const vs_report_filter *f, int by,
                     vs_report_group **groups, size_t *n,
                     vs_report_group *total, vs_err *err)
{
  grouper gr;
  int rc;
  memset(&gr, 0, sizeof(gr));
  gr.by = by;
  rc = vs_report_each(r, f, group_row, &gr);
  free(gr.slots);
  if(!rc && !(gr.total.name = strdup(TOTAL_NAME)))
    rc = VS_ERR_NOMEM;
  if(rc) {
    vs_report_groups_free(gr.g, gr.n);
    free(gr.total.name);
    if(rc == VS_ERR_TOOLARGE)
      return vs_fail(err, rc, "a total is over the largest amount a "
                              "report can add up (about 922 million)");
    return vs_fail(err, rc, rc == VS_ERR_INVALID ? "report not finished"
                                                 : "out of memory grouping");
  }
  if(gr.n)
    qsort(gr.g, gr.n, sizeof(*gr.g), by_name);
  *groups = gr.g;
  *n = gr.n;
  *total = gr.total;
  return 0;
}

void vs_report_groups_free(vs_report_group *g, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    free(g[i].name);
  free(g);
}

void vs_report_group_free(vs_report_group *g)
{
  free(g->name);
  g->name = NULL;
}

/* ---- cells -------------------------------------------------------------- */
enum { C_NULL, C_STR, C_NUM };

enum { COL_TASK, COL_VIDEO, COL_STATUS, COL_SUBMITTED, COL_PROMPT, COL_MODEL,
       COL_WIDTH, COL_HEIGHT, COL_RESOLUTION, COL_DURATION, COL_FORMAT,
       COL_QUALITY, COL_SEED_REQ, COL_SEED, COL_NRES, COL_ESTIMATE, COL_COST,
       COL_BUCKET, COL_KEY, COL_VERSION, COL_BYTES, COL_SHA, COL_STORED,
       COL_VERIFIED, COL_VPROBLEM, COL_ECODE, COL_EMSG, COL_DELETED,
       COL_MARKER, COL_PURGED, NCOLS };

static const char *const col_names[NCOLS] = {
  "task_uuid", "video_uuid", "status", "submitted", "prompt", "model",
  "width", "height", "resolution", "duration", "format", "quality",
  "seed_requested", "seed", "number_results", "estimated_cost",
  "actual_cost", "bucket", "key", "version_id", "bytes", "sha256", "stored",
  "verified", "verify_problem", "error_code", "error_message", "deleted",
  "delete_marker", "purged"};

static int c_str(vs_buf *b, const char *s)
{
  if(!s || !*s)
    return C_NULL;
  vs_buf_adds(b, s);
  return C_STR;
}

static int c_int(vs_buf *b, int has, int64_t v)
{
  if(!has)
    return C_NULL;
  vs_buf_addf(b, "%lld", (long long)v);
  return C_NUM;
}

static int c_dec(vs_buf *b, int has, vs_dec d, int min_frac, int type)
{
  char out[VS_DEC_STRLEN];
  if(!has)
    return C_NULL;
  vs_dec_format(d, min_frac, out);
  vs_buf_adds(b, out);
  return type;
}

static int c_time(vs_buf *b, int64_t ms)
{
  char out[25];
  if(ms < 0)
    return C_NULL;
  vs_time_rfc3339(ms, out);
  vs_buf_adds(b, out);
  return C_STR;
}

/* Costs are strings, as in the manifest: exact decimals a JSON reader
 * would otherwise turn into binary floats. */
static int cell(int col, const vs_report_row *w, vs_buf *b)
{
  vs_buf_reset(b);
  switch(col) {
  case COL_TASK: return c_str(b, w->task_uuid);
  case COL_VIDEO: return c_str(b, w->video_uuid);
  case COL_STATUS: return c_str(b, vs_report_status_name(w->status));
  case COL_SUBMITTED: return c_time(b, w->submitted_ms);
  case COL_PROMPT: return c_str(b, w->prompt);
  case COL_MODEL: return c_str(b, w->model);
  case COL_WIDTH: return c_int(b, w->width > 0, w->width);
  case COL_HEIGHT: return c_int(b, w->height > 0, w->height);
  case COL_RESOLUTION: return c_str(b, w->resolution);
  case COL_DURATION: return c_dec(b, w->has_duration, w->duration, 0, C_NUM);
  case COL_FORMAT: return c_str(b, w->format);
  case COL_QUALITY: return c_int(b, w->quality >= 0, w->quality);
  case COL_SEED_REQ: return c_int(b, w->has_seed_requested, w->seed_requested);
  case COL_SEED: return c_int(b, w->has_seed, w->seed);
  case COL_NRES: return c_int(b, w->number_results > 0, w->number_results);
  case COL_ESTIMATE:
    return c_dec(b, w->has_estimate, w->estimate, MONEY_FRAC, C_STR);
  case COL_COST: return c_dec(b, w->has_cost, w->cost, MONEY_FRAC, C_STR);
  case COL_BUCKET: return c_str(b, w->bucket);
  case COL_KEY: return c_str(b, w->key);
  case COL_VERSION: return c_str(b, w->version_id);
  case COL_BYTES: return c_int(b, w->bytes >= 0, w->bytes);
  case COL_SHA: return c_str(b, w->sha256);
  case COL_STORED: return c_time(b, w->stored_ms);
  case COL_VERIFIED: return c_time(b, w->verified_ms);
  case COL_VPROBLEM: return c_str(b, w->verify_problem);
  case COL_ECODE: return c_str(b, w->error_code);
  case COL_EMSG: return c_str(b, w->error_message);
  case COL_DELETED: return c_time(b, w->deleted_ms);
  case COL_MARKER: return c_str(b, w->delete_marker);
  case COL_PURGED: return c_time(b, w->purged_ms);
  default: return C_NULL;
  }
}

/* RFC 4180: quoted when it holds a comma, a quote, CR or LF; quotes
 * doubled. */
static void csv_field(vs_buf *o, const char *s, size_t n)
{
  size_t i;
  if(!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
     !memchr(s, '\r', n)) {
    vs_buf_add(o, s, n);
    return;
  }
  vs_buf_addc(o, '"');
  for(i = 0; i < n; i++) {
    if(s[i] == '"')
      vs_buf_addc(o, '"');
    vs_buf_addc(o, s[i]);
  }
  vs_buf_addc(o, '"');
}

/* ---- writing ------------------------------------------------------------ */
typedef struct writer {
  const vs_report *r;
  FILE *out;
  int format;
  int deletes;       /* the manifest holds a delete: its columns */
  int ncols, ngcols; /* fewer without deletes */
  vs_buf line, cellb;
  vs_report_summary sum;
  vs_report_group total;
  int rc;
  /* table: two passes, the first measuring */
  int measuring;
  size_t width[16];
} writer;

static int put(writer *w)
{
  if(w->line.failed)
    return w->rc = VS_ERR_NOMEM;
  if(w->line.len && fwrite(w->line.data, 1, w->line.len, w->out) != w->line.len)
    return w->rc = VS_ERR_IO;
  vs_buf_reset(&w->line);
  return 0;
}

static void count_row(writer *w, const vs_report_row *row)
{
  w->sum.rows++;
  if(vs_report_status_is_problem(row->status))
    w->sum.problems++;
}

static int csv_row(void *ctx, const vs_report_row *row)
{
  writer *w = ctx;
  int c;
  count_row(w, row);
  for(c = 0; c < w->ncols; c++) {
    if(c)
      vs_buf_addc(&w->line, ',');
    if(cell(c, row, &w->cellb) != C_NULL)
      csv_field(&w->line, w->cellb.data, w->cellb.len);
  }
  vs_buf_adds(&w->line, "\r\n");
  return put(w);
}

static int jsonl_row(void *ctx, const vs_report_row *row)
{
  writer *w = ctx;
  int c, t;
  count_row(w, row);
  vs_buf_addc(&w->line, '{');
  for(c = 0; c < w->ncols; c++) {
    vs_buf_addf(&w->line, "%s\"%s\":", c ? "," : "", col_names[c]);
    t = cell(c, row, &w->cellb);
    if(t == C_NULL)
      vs_buf_adds(&w->line, "null");
    else if(t == C_NUM)
      vs_buf_add(&w->line, w->cellb.data, w->cellb.len);
    else
      vs_buf_add_json_str(&w->line, w->cellb.data, w->cellb.len);
  }
  vs_buf_adds(&w->line, "}\n");
  return put(w);
}

/* ---- the table ---------------------------------------------------------- */
enum { T_STATUS, T_TIME, T_TASK, T_SIZE, T_SECS, T_SEED, T_EST, T_COST,
       T_BYTES, T_VERIFIED, T_OBJECT, T_PROMPT, NTCOLS };
static const char *const tcol_names[NTCOLS] = {
  "STATUS", "TIME", "TASK", "SIZE", "SECS", "SEED", "ESTIMATE", "COST",
  "BYTES", "VERIFIED", "OBJECT", "PROMPT"};
static const int tcol_right[NTCOLS] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0};
#define PROMPT_COLS 40

/* Terminal columns: one per UTF-8 code point (good enough for prompts). */
static size_t cols_of(const char *s, size_t n)
{
  size_t i, c = 0;
  for(i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xc0) != 0x80;
  return c;
}

/* A prompt on one line, cut at PROMPT_COLS code points. */
static void table_prompt(vs_buf *b, const char *s)
{
  size_t cols = 0;
  for(; s && *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if((ch & 0xc0) != 0x80 && ++cols > PROMPT_COLS) {
      vs_buf_adds(b, "\xe2\x80\xa6"); /* … */
      return;
    }
    vs_buf_addc(b, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
  }
}

static void time_short(vs_buf *b, int64_t ms)
{
  char t[25];
  vs_time_rfc3339(ms, t);
  vs_buf_addf(b, "%.10s %.5s", t, t + 11);
}

static void tcell(int c, const vs_report_row *w, vs_buf *b)
{
  char d[VS_DEC_STRLEN];
  vs_buf_reset(b);
  switch(c) {
  case T_STATUS: vs_buf_adds(b, vs_report_status_name(w->status)); break;
  case T_TIME: time_short(b, w->time_ms); break;
  case T_TASK: vs_buf_addf(b, "%.8s", w->task_uuid); break;
  case T_SIZE: vs_buf_adds(b, w->size ? w->size : ""); break;
  case T_SECS:
    if(w->has_duration) {
      vs_dec_format(w->duration, 0, d);
      vs_buf_adds(b, d);
    }
    break;
  case T_SEED: cell(COL_SEED, w, b); break;
  case T_EST: cell(COL_ESTIMATE, w, b); break;
  case T_COST: cell(COL_COST, w, b); break;
  case T_BYTES: cell(COL_BYTES, w, b); break;
  case T_VERIFIED: /* when the object was last proven intact */
    if(w->verified_ms >= 0)
      time_short(b, w->verified_ms);
    break;
  case T_OBJECT:
    if(w->key)
      vs_buf_addf(b, "%s/%s", w->bucket ? w->bucket : "", w->key);
    break;
  case T_PROMPT: table_prompt(b, w->prompt); break;
  default: break;
  }
  if(!b->data)
    vs_buf_adds(b, "");
}

static void pad(vs_buf *line, const char *s, size_t n, size_t width,
                int right, int last)
{
  size_t c = cols_of(s, n), i;
  if(right)
    for(i = c; i < width; i++)
      vs_buf_addc(line, ' ');
  vs_buf_add(line, s, n);
  if(!right && !last)
    for(i = c; i < width; i++)
      vs_buf_addc(line, ' ');
  if(!last)
    vs_buf_adds(line, "  ");
}

/* Lines of the table end at their last character. */
static void end_line(vs_buf *line)
{
  while(line->len && line->data[line->len - 1] == ' ')
    line->len--;
  vs_buf_addc(line, '\n');
}

static void measure(writer *w, int c, const vs_buf *b)
{
  size_t n = cols_of(b->data, b->len);
  if(n > w->width[c])
    w->width[c] = n;
}

static int table_row(void *ctx, const vs_report_row *row)
{
  writer *w = ctx;
  int c;
  if(!w->measuring)
    count_row(w, row);
  else if(add_to(&w->total, row))
    return w->rc = VS_ERR_TOOLARGE;
  for(c = 0; c < NTCOLS; c++) {
    tcell(c, row, &w->cellb);
    if(w->measuring)
      measure(w, c, &w->cellb);
    else
      pad(&w->line, w->cellb.data, w->cellb.len, w->width[c], tcol_right[c],
          c == NTCOLS - 1);
  }
  if(w->measuring)
    return 0;
  end_line(&w->line);
  return put(w);
}

/* The totals as a last row, under the columns they add up. */
static int table_total(writer *w, int pass)
{
  char d[NTCOLS][VS_DEC_STRLEN + 24];
  int c;
  memset(d, 0, sizeof(d));
  snprintf(d[T_STATUS], sizeof(d[0]), "TOTAL");
  snprintf(d[T_TIME], sizeof(d[0]), "%llu outputs",
           (unsigned long long)w->total.outputs);
  vs_dec_format(w->total.seconds, 0, d[T_SECS]);
  vs_dec_format(w->total.estimated, MONEY_FRAC, d[T_EST]);
  vs_dec_format(w->total.actual, MONEY_FRAC, d[T_COST]);
  snprintf(d[T_BYTES], sizeof(d[0]), "%llu",
           (unsigned long long)w->total.bytes);
  if(w->deletes)
    snprintf(d[T_OBJECT], sizeof(d[0]), "%llu problems, %llu deleted, "
             "%llu purged", (unsigned long long)w->total.problems,
             (unsigned long long)w->total.deleted,
             (unsigned long long)w->total.purged);
  else
    snprintf(d[T_OBJECT], sizeof(d[0]), "%llu problems",
             (unsigned long long)w->total.problems);
  for(c = 0; c < NTCOLS; c++) {
    size_t n = strlen(d[c]);
    if(pass == 0 && n > w->width[c])
      w->width[c] = n;
    if(pass == 1)
      pad(&w->line, d[c], n, w->width[c], tcol_right[c], c == NTCOLS - 1);
  }
  if(pass == 1)
    end_line(&w->line);
  return 0;
}

static void table_rule(writer *w, int ncols)
{
  size_t i, n = 0;
  int c;
  for(c = 0; c < ncols; c++)
    n += w->width[c] + (c + 1 < ncols ? 2 : 0);
  for(i = 0; i < n; i++)
    vs_buf_addc(&w->line, '-');
  vs_buf_addc(&w->line, '\n');
}

static int write_table(writer *w, const vs_report_filter *f)
{
  int c, rc;
  for(c = 0; c < NTCOLS; c++)
    w->width[c] = strlen(tcol_names[c]);
  w->measuring = 1;
  if((rc = vs_report_each(w->r, f, table_row, w)))
    return rc;
  table_total(w, 0);
  w->width[T_PROMPT] = 0; /* the last column is never padded */
  w->measuring = 0;
  for(c = 0; c < NTCOLS; c++)
    pad(&w->line, tcol_names[c], strlen(tcol_names[c]), w->width[c],
        tcol_right[c], c == NTCOLS - 1);
  end_line(&w->line);
  if((rc = vs_report_each(w->r, f, table_row, w)))
    return rc;
  table_rule(w, NTCOLS - 1);
  table_total(w, 1);
  return put(w);
}

/* ---- grouped output ----------------------------------------------------- */
enum { G_NAME, G_OUTPUTS, G_SECONDS, G_EST, G_COST, G_BYTES, G_PROBLEMS,
       G_DELETED, G_PURGED, NGCOLS };
#define NGCOLS_NO_DELETES G_DELETED
static const char *const gcol_names[NGCOLS] = {
  NULL, "outputs", "seconds", "estimated_cost", "actual_cost", "bytes",
  "problems", "deleted", "purged"};

static void gcell(int c, const vs_report_group *g, char *out, size_t cap)
{
  switch(c) {
  case G_NAME: snprintf(out, cap, "%s", g->name); break;
  case G_OUTPUTS: snprintf(out, cap, "%llu", (unsigned long long)g->outputs);
    break;
  case G_SECONDS: vs_dec_format(g->seconds, 0, out); break;
  case G_EST: vs_dec_format(g->estimated, MONEY_FRAC, out); break;
  case G_COST: vs_dec_format(g->actual, MONEY_FRAC, out); break;
  case G_BYTES: snprintf(out, cap, "%llu", (unsigned long long)g->bytes);
    break;
  case G_DELETED:
    snprintf(out, cap, "%llu", (unsigned long long)g->deleted);
    break;
  case G_PURGED: snprintf(out, cap, "%llu", (unsigned long long)g->purged);
    break;
  default: snprintf(out, cap, "%llu", (unsigned long long)g->problems); break;
  }
}

static void group_line(writer *w, int by, const vs_report_group *g, int total)
{
  char v[1024];
  int c;
  for(c = 0; c < w->ngcols; c++) {
    gcell(c, g, v, sizeof(v));
    if(w->format == VS_REPORT_TABLE)
      pad(&w->line, v, strlen(v), w->width[c], c > 0, c == w->ngcols - 1);
    else if(w->format == VS_REPORT_CSV) {
      if(c)
        vs_buf_addc(&w->line, ',');
      csv_field(&w->line, v, strlen(v));
    }
    else if(c == G_NAME) {
      vs_buf_addf(&w->line, "{\"%s\":", vs_report_by_name(by));
      if(total)
        vs_buf_adds(&w->line, "null,\"total\":true");
      else
        vs_buf_add_json_str(&w->line, v, strlen(v));
    }
    else if(c == G_EST || c == G_COST)
      vs_buf_addf(&w->line, ",\"%s\":\"%s\"", gcol_names[c], v);
    else
      vs_buf_addf(&w->line, ",\"%s\":%s", gcol_names[c], v);
  }
  vs_buf_adds(&w->line, w->format == VS_REPORT_CSV     ? "\r\n"
                        : w->format == VS_REPORT_JSONL ? "}\n"
                                                       : "\n");
}

static void group_header(writer *w, int by, const vs_report_group *g,
                         size_t n, const vs_report_group *total)
{
  char v[1024];
  size_t i;
  int c;
  const char *name = vs_report_by_name(by);
  if(w->format == VS_REPORT_JSONL)
    return;
  if(w->format == VS_REPORT_CSV) {
    vs_buf_adds(&w->line, name);
    for(c = 1; c < w->ngcols; c++)
      vs_buf_addf(&w->line, ",%s", gcol_names[c]);
    vs_buf_adds(&w->line, "\r\n");
    return;
  }
  for(c = 0; c < w->ngcols; c++) {
    w->width[c] = strlen(c ? gcol_names[c] : name);
    for(i = 0; i <= n; i++) {
      gcell(c, i < n ? &g[i] : total, v, sizeof(v));
      if(cols_of(v, strlen(v)) > w->width[c])
        w->width[c] = cols_of(v, strlen(v));
    }
  }
  for(c = 0; c < w->ngcols; c++) {
    const char *h = c ? gcol_names[c] : name;
    pad(&w->line, h, strlen(h), w->width[c], c > 0, c == w->ngcols - 1);
  }
  vs_buf_addc(&w->line, '\n');
}

static int write_groups(writer *w, const vs_report_filter *f, int by,
                        vs_err *err)
{
  vs_report_group *g = NULL, total;
  size_t n = 0, i;
  int rc = vs_report_groups(w->r, f, by, &g, &n, &total, err);
  if(rc)
    return rc;
  group_header(w, by, g, n, &total);
  for(i = 0; i < n && !put(w); i++)
    group_line(w, by, &g[i], 0);
  if(w->format == VS_REPORT_TABLE)
    table_rule(w, w->ngcols);
  group_line(w, by, &total, 1);
  w->sum.rows = total.outputs;
  w->sum.problems = total.problems;
  put(w);
  vs_report_groups_free(g, n);
  vs_report_group_free(&total);
  return w->rc;
}

int vs_report_write(const vs_report *r, const vs_report_filter *f, int by,
                    int format, FILE *out, vs_report_summary *sum,
                    vs_err *err)
{
  writer w;
  int c, rc = 0;
  if(format != VS_REPORT_TABLE && format != VS_REPORT_CSV &&
     format != VS_REPORT_JSONL)
    return vs_fail(err, VS_ERR_INVALID,
                   "report format must be table, csv or jsonl");
  memset(&w, 0, sizeof(w));
  w.r = r;
  w.out = out;
  w.format = format;
  w.deletes = vs_report_has_deletes(r);
  w.ncols = w.deletes ? NCOLS : COL_DELETED;
  w.ngcols = w.deletes ? NGCOLS : NGCOLS_NO_DELETES;
  if(by != VS_REPORT_BY_NONE)
    rc = write_groups(&w, f, by, err);
  else if(format == VS_REPORT_TABLE)
    rc = write_table(&w, f);
  else {
    if(format == VS_REPORT_CSV) {
      for(c = 0; c < w.ncols; c++)
        vs_buf_addf(&w.line, "%s%s", c ? "," : "", col_names[c]);
      vs_buf_adds(&w.line, "\r\n");
    }
    rc = vs_report_each(r, f, format == VS_REPORT_CSV ? csv_row : jsonl_row,
                        &w);
    if(!rc)
      rc = put(&w);
  }
  if(!rc && fflush(out))
    rc = VS_ERR_IO;
  vs_buf_free(&w.line);
  vs_buf_free(&w.cellb);
  if(sum)
    *sum = w.sum;
  if(rc == VS_ERR_IO)
    return vs_fail_errno(err, errno, "writing the report");
  if(rc == VS_ERR_TOOLARGE)
    return vs_fail(err, rc, "a total is over the largest amount a report "
                            "can add up (about 922 million)");
  if(rc && err && !err->msg[0])
    return vs_fail(err, rc, "out of memory writing the report");
  return rc;
}
