/* The HTML report: one self-contained file (no network, no external
 * script, style or font). Written straight to the FILE in a single pass
 * over the groups and two passes over the rows (problems, then the rest),
 * so memory does not grow with the number of rows. Numbers people read
 * (costs, seconds) are exact decimals; the charts' geometry alone uses
 * doubles. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/dec.h"
#include "vsink/report.h"
#include "vsink/sigv4.h"

#define WEEK_S 604800

typedef struct hw {
  const vs_report *r;
  FILE *out;
  const vs_report_html_opts *o;
  vs_sigv4_creds creds;
  int previews;
  size_t cap, shown;
  uint64_t rows, problems;
  int pass_problems;
  vs_err *err;
  int rc;
} hw;

/* ---- small writers ------------------------------------------------------ */
static void esc(FILE *f, const char *s)
{
  const char *run = s;
  for(; s && *s; s++) {
    const char *rep;
    switch(*s) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    default: continue;
    }
    fwrite(run, 1, (size_t)(s - run), f);
    fputs(rep, f);
    run = s + 1;
  }
  if(s)
    fwrite(run, 1, (size_t)(s - run), f);
}

static const char *dec_text(vs_report_dec d, int min_frac, char *buf)
{
  vs_dec_format(d, min_frac, buf);
  return buf;
}

static void money(FILE *f, vs_report_dec d)
{
  char b[VS_DEC_STRLEN];
  fprintf(f, "$%s", dec_text(d, 2, b));
}

static void human_bytes(FILE *f, uint64_t n)
{
  static const char *const u[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = (double)n;
  int i = 0;
  while(v >= 1000 && i < 5) {
    v /= 1000;
    i++;
  }
  fprintf(f, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void when(FILE *f, int64_t ms)
{
  char t[25];
  if(ms < 0) {
    fputs("&mdash;", f);
    return;
  }
  vs_time_rfc3339(ms, t);
  fprintf(f, "%.10s %.5s", t, t + 11); /* "2026-11-24 12:15" UTC */
}

static const char *status_class(int st)
{
  switch(st) {
  case VS_REPORT_COMPLETE: return "ok";
  case VS_REPORT_WAITING: return "wait";
  case VS_REPORT_FAILED: return "fail";
  case VS_REPORT_DELETED:
  case VS_REPORT_PURGED: return "del";
  default: return "bad";
  }
}

/* Problems first in the default order and when sorting by status. */
static int status_rank(int st)
{
  static const int rank[VS_REPORT_NSTATUS] = {
    [VS_REPORT_CHECKSUM_MISMATCH] = 0, [VS_REPORT_MISSING_OBJECT] = 1,
    [VS_REPORT_MISSING_UPLOAD] = 2,    [VS_REPORT_MISSING_RESULT] = 3,
    [VS_REPORT_UNEXPECTED_UPLOAD] = 4, [VS_REPORT_FAILED] = 5,
    [VS_REPORT_PURGED] = 6,            [VS_REPORT_DELETED] = 7,
    [VS_REPORT_WAITING] = 8,           [VS_REPORT_COMPLETE] = 9};
  return st >= 0 && st < VS_REPORT_NSTATUS ? rank[st] : 10;
}

/* ---- head and summary ---------------------------------------------------- */
static const char css[] =
  ":root{--fg:#1d2430;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;"
  "--card:#fff;--accent:#3b5bdb;--accent2:#a5b4fc;--ok:#067647;"
  "--okbg:#ecfdf3;--bad:#b42318;--badbg:#fef3f2;--wait:#8a5a00;"
  "--waitbg:#fffaeb;--fail:#6941c6;--failbg:#f4f3ff}"
  "*{box-sizing:border-box}"
  "body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 "
  "system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
  "sans-serif;-webkit-font-smoothing:antialiased}"
  "main{max-width:1280px;margin:0 auto;padding:28px 32px 48px}"
  "h1{font-size:22px;font-weight:650;margin:0 0 4px;letter-spacing:-.01em}"
  "h2{font-size:15px;font-weight:600;margin:0 0 12px}"
  ".sub{color:var(--muted);font-size:13px}"
  ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,"
  "1fr));gap:14px;margin:22px 0}"
  ".card,.panel{background:var(--card);border:1px solid var(--line);"
  "border-radius:10px;box-shadow:0 1px 2px rgba(16,24,40,.04)}"
  ".card{padding:14px 16px}"
  ".card .k{color:var(--muted);font-size:12px;text-transform:uppercase;"
  "letter-spacing:.04em}"
  ".card .v{font-size:26px;font-weight:650;margin-top:2px;"
  "font-variant-numeric:tabular-nums}"
  ".card.alert .v{color:var(--bad)}"
  ".panel{padding:16px 18px;margin-bottom:16px}"
  ".charts{display:grid;grid-template-columns:3fr 2fr;gap:16px}"
  "@media(max-width:900px){.charts{grid-template-columns:1fr}}"
  "svg{display:block;width:100%;height:auto}"
  "svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Arial,"
  "sans-serif;fill:var(--muted)}"
  "svg .bar{fill:var(--accent)}svg .est{fill:var(--accent2);opacity:.45}"
  "svg .grid{stroke:var(--line)}svg .val{fill:var(--fg);font-weight:600}"
  ".legend{display:flex;gap:14px;font-size:12px;color:var(--muted);"
  "margin-top:6px}.legend i{display:inline-block;width:10px;height:10px;"
  "border-radius:2px;margin-right:5px;vertical-align:-1px}"
  ".chips{display:flex;flex-wrap:wrap;gap:8px;margin:-6px 0 18px}"
  ".badge{display:inline-block;padding:1px 8px;border-radius:999px;"
  "font-size:12px;font-weight:600;white-space:nowrap}"
  ".b-ok{color:var(--ok);background:var(--okbg)}"
  ".b-bad{color:var(--bad);background:var(--badbg)}"
  ".b-wait{color:var(--wait);background:var(--waitbg)}"
  ".b-fail{color:var(--fail);background:var(--failbg)}"
  ".tools{display:flex;align-items:center;gap:12px;margin-bottom:10px}"
  ".tools input{font:inherit;padding:6px 10px;border:1px solid var(--line);"
  "border-radius:8px;min-width:260px}"
  ".note{background:var(--waitbg);color:var(--wait);padding:8px 12px;"
  "border-radius:8px;margin-bottom:10px;font-size:13px}"
  ".wrap{overflow:auto;max-height:80vh;border:1px solid var(--line);"
  "border-radius:8px}"
  "table{border-collapse:collapse;width:100%;font-size:13px}"
  "th,td{padding:7px 10px;border-bottom:1px solid var(--line);"
  "text-align:left;vertical-align:top}"
  "th{position:sticky;top:0;background:#f2f4f7;font-weight:600;"
  "font-size:12px;color:#475467;cursor:pointer;user-select:none;"
  "white-space:nowrap}"
  "th:hover{color:var(--fg)}"
  "th[aria-sort=ascending]::after{content:' \\25B2';font-size:9px}"
  "th[aria-sort=descending]::after{content:' \\25BC';font-size:9px}"
  "tbody tr:hover{background:#f9fafb}"
  "td.n{text-align:right;font-variant-numeric:tabular-nums;"
  "white-space:nowrap}"
  "td.p{max-width:340px;min-width:220px}"
  "td.t{white-space:nowrap}"
  "code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
  "color:#344054}"
  ".obj{min-width:230px;max-width:320px;overflow-wrap:anywhere}"
  ".err{color:var(--bad);font-size:12px}"
  "details summary{cursor:pointer;color:var(--accent);font-size:12px}"
  "video{width:320px;max-width:40vw;margin-top:6px;border-radius:6px;"
  "background:#000}"
  "footer{margin-top:18px;color:var(--muted);font-size:12px}";
/* only when the manifest holds a delete: older reports stay as they were */
static const char css_deletes[] = ".b-del{color:#475467;background:#f2f4f7}";

static void head(hw *w, const vs_report_stats *st)
{
  FILE *f = w->out;
  const char *title = w->o->title ? w->o->title : "vsink report";
  int64_t now = w->o->now_ms ? w->o->now_ms : vs_now_ms(NULL, NULL);
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,"
        "initial-scale=1\"><title>", f);
  esc(f, title);
  fprintf(f, "</title><style>%s%s</style></head>\n<body><main>\n<h1>", css,
          vs_report_has_deletes(w->r) ? css_deletes : "");
  esc(f, title);
  fputs("</h1><div class=\"sub\">Generated ", f);
  when(f, now);
  fprintf(f, " UTC &middot; %" PRIu64 " manifest lines in %" PRIu64
          " segment(s)", st->lines, st->segments);
  if(st->torn || st->malformed)
    fprintf(f, " &middot; <span class=\"err\">%" PRIu64 " torn and %" PRIu64
            " malformed line(s) skipped</span>", st->torn, st->malformed);
  fputs("</div>\n", f);
}

static void card(FILE *f, const char *id, const char *label, int alert)
{
  fprintf(f, "<div class=\"card%s\" id=\"%s\"><div class=\"k\">%s</div>"
          "<div class=\"v\">", alert ? " alert" : "", id, label);
}

static void summary(hw *w, const vs_report_group *tot,
                    const vs_report_group *by_status, size_t n)
{
  FILE *f = w->out;
  char b[VS_DEC_STRLEN];
  size_t i;
  card(f, "sum-outputs", "Outputs", 0);
  fprintf(f, "%" PRIu64 "</div><div class=\"sub\">rows in this report"
          "</div></div>\n", tot->outputs);
  card(f, "sum-seconds", "Seconds of video", 0);
  fprintf(f, "%s</div><div class=\"sub\">as asked</div></div>\n",
          dec_text(tot->seconds, 0, b));
  card(f, "sum-spend", "Spend", 0);
  money(f, tot->actual);
  fputs("</div><div class=\"sub\">estimated ", f);
  money(f, tot->estimated);
  fputs("</div></div>\n", f);
  card(f, "sum-problems", "Problems", tot->problems > 0);
  fprintf(f, "%" PRIu64 "</div><div class=\"sub\">not complete%s or "
          "waiting</div></div>\n", tot->problems,
          vs_report_has_deletes(w->r) ? ", deleted, purged" : "");
  if(vs_report_has_deletes(w->r)) {
    card(f, "sum-deleted", "Deleted", 0);
    fprintf(f, "%" PRIu64 "</div><div class=\"sub\">%" PRIu64 " purged "
            "for good</div></div>\n", tot->deleted, tot->purged);
  }
  card(f, "sum-bytes", "Stored", 0);
  human_bytes(f, tot->bytes);
  fprintf(f, "</div><div class=\"sub\">%" PRIu64 " bytes</div></div>\n",
          tot->bytes);
  fputs("</div>\n<div class=\"chips\" id=\"statuses\">", f);
  for(i = 0; i < n; i++) {
    int st;
    if(vs_report_status_parse(by_status[i].name, &st))
      continue;
    fprintf(f, "<span class=\"badge b-%s\" data-status=\"%s\" data-count=\""
            "%" PRIu64 "\">%s &middot; %" PRIu64 "</span>",
            status_class(st), by_status[i].name, by_status[i].outputs,
            by_status[i].name, by_status[i].outputs);
  }
  fputs("</div>\n", f);
}

/* ---- charts -------------------------------------------------------------- */
/* An axis maximum of 1, 2 or 5 x 10^k units at or above max, in exact
 * decimal units so the tick labels are exact too. */
static vs_report_dec nice_max(vs_report_dec max)
{
  vs_report_dec p = 1;
  if(max <= 0)
    return VS_DEC_SCALE / 100; /* $0.01: an empty chart still has a scale */
  for(;;) {
    if(p >= max)
      return p;
    if(2 * p >= max)
      return 2 * p;
    if(5 * p >= max)
      return 5 * p;
    if(p > INT64_MAX / 100)
      return max;
    p *= 10;
  }
}

static double frac(vs_report_dec v, vs_report_dec max)
{
  return max > 0 ? (double)v / (double)max : 0;
}

static void bar_title(FILE *f, const vs_report_group *g)
{
  fputs("<title>", f);
  esc(f, g->name);
  fputs(": ", f);
  money(f, g->actual);
  fputs(" spent, ", f);
  money(f, g->estimated);
  fprintf(f, " estimated, %" PRIu64 " output(s)</title>", g->outputs);
}

static void group_attrs(FILE *f, const vs_report_group *g)
{
  char a[VS_DEC_STRLEN], e[VS_DEC_STRLEN];
  fputs(" data-key=\"", f);
  esc(f, g->name);
  fprintf(f, "\" data-spend=\"%s\" data-estimate=\"%s\" data-outputs=\"%"
          PRIu64 "\"", dec_text(g->actual, 2, a), dec_text(g->estimated, 2, e),
          g->outputs);
}

static vs_report_dec chart_max(const vs_report_group *g, size_t n)
{
  vs_report_dec m = 0;
  size_t i;
  for(i = 0; i < n; i++) {
    if(g[i].actual > m)
      m = g[i].actual;
    if(g[i].estimated > m)
      m = g[i].estimated;
  }
  return nice_max(m);
}

/* Vertical bars: estimated behind, actual in front, one per day. */
static void day_chart(FILE *f, const vs_report_group *g, size_t n)
{
  const double W = 640, H = 240, L = 64, R = 12, T = 14, B = 30;
  const double pw = W - L - R, ph = H - T - B;
  vs_report_dec max = chart_max(g, n);
  char b[VS_DEC_STRLEN];
  size_t i, every = n > 10 ? (n + 9) / 10 : 1;
  int k;
  fprintf(f, "<svg id=\"chart-day\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
          "aria-label=\"Spend per day\">", W, H);
  for(k = 0; k <= 4; k++) {
    double y = T + ph - ph * k / 4;
    fprintf(f, "<line class=\"grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
            "y2=\"%.1f\"/><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">$%s"
            "</text>", L, W - R, y, y, L - 8, y + 4,
            dec_text(max / 4 * k, 2, b));
  }
  if(!n)
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no spend "
            "in this window</text>", L + pw / 2, T + ph / 2);
  for(i = 0; i < n; i++) {
    double slot = pw / (double)n, bw = slot * 0.62;
    double x = L + slot * (double)i + (slot - bw) / 2;
    double he = ph * frac(g[i].estimated, max), ha = ph * frac(g[i].actual,
                                                                 max);
    fprintf(f, "<rect class=\"est\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\" rx=\"2\"/>", x, T + ph - he, bw, he);
    fprintf(f, "<rect class=\"bar\"");
    group_attrs(f, &g[i]);
    fprintf(f, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "rx=\"2\">", x + bw * 0.18, T + ph - ha, bw * 0.64, ha);
    bar_title(f, &g[i]);
    fputs("</rect>", f);
    if(n <= 14) {
      fprintf(f, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" "
              "text-anchor=\"middle\">", x + bw / 2, T + ph - ha - 4);
      money(f, g[i].actual);
      fputs("</text>", f);
    }
    if(i % every == 0) {
      fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
              x + bw / 2, H - 10);
      esc(f, strlen(g[i].name) == 10 ? g[i].name + 5 : g[i].name);
      fputs("</text>", f);
    }
  }
  fputs("</svg>", f);
}

/* Horizontal bars, one per resolution (or WxH). */
static void size_chart(FILE *f, const vs_report_group *g, size_t n)
{
  const double W = 440, L = 86, R = 150, row = 30, T = 8;
  const double H = T * 2 + row * (double)(n ? n : 1), pw = W - L - R;
  vs_report_dec max = chart_max(g, n);
  size_t i;
  fprintf(f, "<svg id=\"chart-resolution\" viewBox=\"0 0 %.0f %.0f\" "
          "role=\"img\" aria-label=\"Spend per resolution\">", W, H);
  if(!n)
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">no outputs</text>", L, T + 18);
  for(i = 0; i < n; i++) {
    double y = T + row * (double)i;
    double we = pw * frac(g[i].estimated, max), wa = pw * frac(g[i].actual,
                                                                 max);
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L - 10,
            y + 19);
    esc(f, g[i].name);
    fprintf(f, "</text><rect class=\"est\" x=\"%.0f\" y=\"%.1f\" width=\""
            "%.1f\" height=\"20\" rx=\"3\"/><rect class=\"bar\"", L, y + 5,
            we);
    group_attrs(f, &g[i]);
    fprintf(f, " x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" "
            "rx=\"2\">", L, y + 9, wa);
    bar_title(f, &g[i]);
    fprintf(f, "</rect><text class=\"val\" x=\"%.1f\" y=\"%.1f\">",
            L + (we > wa ? we : wa) + 8, y + 19);
    money(f, g[i].actual);
    fprintf(f, "<tspan dx=\"6\" font-weight=\"400\">%" PRIu64
            " out.</tspan></text>", g[i].outputs);
  }
  fputs("</svg>", f);
}

static void legend(FILE *f)
{
  fputs("<div class=\"legend\"><span><i style=\"background:#3b5bdb\"></i>"
        "spent (results' cost)</span><span><i style=\"background:#a5b4fc\">"
        "</i>estimated at submission</span></div>", f);
}

static int charts(hw *w, const vs_report_filter *flt)
{
  vs_report_group *days = NULL, *sizes = NULL, t1 = {0}, t2 = {0};
  size_t nd = 0, ns = 0;
  FILE *f = w->out;
  int rc = vs_report_groups(w->r, flt, VS_REPORT_BY_DAY, &days, &nd, &t1,
                            w->err);
  if(!rc)
    rc = vs_report_groups(w->r, flt, VS_REPORT_BY_RESOLUTION, &sizes, &ns,
                          &t2, w->err);
  if(!rc) {
    fputs("<div class=\"charts\"><section class=\"panel\"><h2>Spend per day "
          "<span class=\"sub\">(UTC)</span></h2>", f);
    day_chart(f, days, nd);
    legend(f);
    fputs("</section><section class=\"panel\"><h2>Spend per resolution"
          "</h2>", f);
    size_chart(f, sizes, ns);
    legend(f);
    fputs("</section></div>\n", f);
  }
  vs_report_groups_free(days, nd);
  vs_report_groups_free(sizes, ns);
  vs_report_group_free(&t1);
  vs_report_group_free(&t2);
  return rc;
}

/* ---- the table ----------------------------------------------------------- */
static const struct {
  const char *id, *label;
  int num;
} cols[] = {
  {"status", "Status", 1},  {"time", "Submitted", 1}, {"task", "Task", 0},
  {"prompt", "Prompt", 0},  {"size", "Size", 0},      {"dur", "Seconds", 1},
  {"est", "Estimate", 1},   {"cost", "Cost", 1},      {"seed", "Seed", 1},
  {"object", "Object", 0},  {"bytes", "Bytes", 1},    {"sha", "SHA-256", 0},
  {"verified", "Verified", 1}, {"preview", "Preview", 0}};

static void table_head(FILE *f)
{
  size_t i;
  fputs("<div class=\"wrap\"><table id=\"outputs\"><thead><tr>", f);
  for(i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
    fprintf(f, "<th id=\"col-%s\"%s scope=\"col\">%s</th>", cols[i].id,
            cols[i].num ? " data-num" : "", cols[i].label);
  fputs("</tr></thead><tbody>\n", f);
}

static void cell_dec(FILE *f, int has, vs_report_dec d, int is_money)
{
  char b[VS_DEC_STRLEN];
  if(!has) {
    fputs("<td class=\"n\" data-v=\"\">&mdash;</td>", f);
    return;
  }
  fprintf(f, "<td class=\"n\" data-v=\"%s\">", dec_text(d, 0, b));
  if(is_money)
    money(f, d);
  else
    fputs(b, f);
  fputs("</td>", f);
}

static void cell_time(FILE *f, int64_t ms)
{
  fprintf(f, "<td class=\"t\" data-v=\"%" PRId64 "\">", ms);
  when(f, ms);
  fputs("</td>", f);
}

static void cell_status(FILE *f, const vs_report_row *w)
{
  const char *name = vs_report_status_name(w->status);
  fprintf(f, "<td data-v=\"%d\"><span class=\"badge b-%s\">%s</span>",
          status_rank(w->status), status_class(w->status), name);
  if(w->error_code || w->error_message) {
    fputs("<div class=\"err\">", f);
    esc(f, w->error_code);
    if(w->error_code && w->error_message)
      fputs(": ", f);
    esc(f, w->error_message);
    fputs("</div>", f);
  }
  fputs("</td>", f);
}

static void cell_size(FILE *f, const vs_report_row *w)
{
  fputs("<td>", f);
  if(w->resolution)
    esc(f, w->resolution);
  else if(w->width > 0 && w->height > 0)
    fprintf(f, "%d&times;%d", w->width, w->height);
  else if(w->size)
    esc(f, w->size);
  fputs("</td>", f);
}

static void cell_object(FILE *f, const vs_report_row *w)
{
  fputs("<td class=\"obj\">", f);
  if(w->has_object && w->bucket) {
    fputs("<code>", f);
    esc(f, w->bucket);
    fputs("/", f);
    esc(f, w->key);
    fputs("</code>", f);
    if(w->version_id && *w->version_id) {
      fputs("<div class=\"sub\">v ", f);
      esc(f, w->version_id);
      fputs("</div>", f);
    }
  }
  if(w->purged_ms >= 0) {
    fputs("<div class=\"sub\">purged ", f);
    when(f, w->purged_ms);
    fputs("</div>", f);
  }
  else if(w->deleted_ms >= 0) {
    fputs("<div class=\"sub\">deleted ", f);
    when(f, w->deleted_ms);
    if(w->delete_marker) {
      fputs(" &middot; marker ", f);
      esc(f, w->delete_marker);
    }
    fputs("</div>", f);
  }
  fputs("</td>", f);
}

static void cell_verified(FILE *f, const vs_report_row *w)
{
  fprintf(f, "<td class=\"t\" data-v=\"%" PRId64 "\">", w->verified_ms);
  if(w->verified_ms < 0)
    fputs(w->has_object ? "<span class=\"sub\">never</span>" : "", f);
  else
    when(f, w->verified_ms);
  if(w->verify_problem) {
    fputs("<div class=\"err\">", f);
    esc(f, w->verify_problem);
    fputs("</div>", f);
  }
  fputs("</td>", f);
}

/* A GET presigned for this very version, so a later PUT to the key does not
 * change what the preview shows. */
static int cell_preview(hw *w, const vs_report_row *row)
{
  FILE *f = w->out;
  char *q = NULL, *url = NULL, *enc = NULL, *path = NULL;
  vs_presign_req req = {0};
  int rc = 0;
  fputs("<td>", f);
  /* a deleted key's version still plays by versionId; a purged one is gone */
  if(w->previews && row->has_object && row->bucket && row->key &&
     row->purged_ms < 0) {
    if(asprintf(&path, "/%s/%s", row->bucket, row->key) < 0)
      path = NULL;
    if(row->version_id && *row->version_id &&
       (enc = vs_sigv4_uri_encode(row->version_id, strlen(row->version_id),
                                  0)) &&
       asprintf(&q, "versionId=%s", enc) < 0)
      q = NULL;
    req.method = "GET";
    req.endpoint = w->o->preview_endpoint;
    req.path = path;
    req.query = q;
    req.time = (w->o->now_ms ? w->o->now_ms : vs_now_ms(NULL, NULL)) / 1000;
    req.expires = w->o->expires_s ? w->o->expires_s : WEEK_S;
    rc = path ? vs_sigv4_presign(&w->creds, &req, &url, w->err)
              : vs_fail(w->err, VS_ERR_NOMEM, "out of memory");
    if(!rc) {
      fputs("<details><summary>play</summary><video preload=\"none\" "
            "controls src=\"", f);
      esc(f, url);
      fputs("\"></video></details>", f);
    }
  }
  fputs("</td>", f);
  free(q);
  free(url);
  free(enc);
  free(path);
  return rc;
}

static int row_html(hw *w, const vs_report_row *row)
{
  FILE *f = w->out;
  fprintf(f, "<tr data-status=\"%s\">", vs_report_status_name(row->status));
  cell_status(f, row);
  cell_time(f, row->submitted_ms >= 0 ? row->submitted_ms : row->time_ms);
  fputs("<td>", f);
  if(row->task_uuid[0])
    fprintf(f, "<code title=\"%s\">%.8s</code>", row->task_uuid,
            row->task_uuid);
  fputs("</td><td class=\"p\">", f);
  esc(f, row->prompt);
  fputs("</td>", f);
  cell_size(f, row);
  cell_dec(f, row->has_duration, row->duration, 0);
  cell_dec(f, row->has_estimate, row->estimate, 1);
  cell_dec(f, row->has_cost, row->cost, 1);
  if(row->has_seed)
    fprintf(f, "<td class=\"n\" data-v=\"%" PRId64 "\">%" PRId64 "</td>",
            row->seed, row->seed);
  else
    fputs("<td class=\"n\" data-v=\"\"></td>", f);
  cell_object(f, row);
  if(row->bytes >= 0) {
    fprintf(f, "<td class=\"n\" data-v=\"%" PRId64 "\" title=\"%" PRId64
            " bytes\">", row->bytes, row->bytes);
    human_bytes(f, (uint64_t)row->bytes);
    fputs("</td>", f);
  } else
    fputs("<td class=\"n\" data-v=\"\"></td>", f);
  if(row->sha256[0])
    fprintf(f, "<td><code title=\"%s\">%.12s&hellip;</code></td>",
            row->sha256, row->sha256);
  else
    fputs("<td></td>", f);
  cell_verified(f, row);
  if(cell_preview(w, row))
    return -1;
  fputs("</tr>\n", f);
  return 0;
}

static int on_row(void *ctx, const vs_report_row *row)
{
  hw *w = ctx;
  int problem = vs_report_status_is_problem(row->status);
  if(problem != w->pass_problems)
    return 0;
  w->rows++;
  w->problems += (uint64_t)problem;
  if(w->shown >= w->cap)
    return 0;
  w->shown++;
  return row_html(w, row) ? VS_ERR_IO : 0;
}

static const char script[] =
  "(function(){'use strict';"
  "var t=document.getElementById('outputs'),tb=t.tBodies[0],"
  "hs=t.tHead.rows[0].cells,cur=-1,dir=1;"
  "function val(tr,i,num){var c=tr.cells[i],v=c.getAttribute('data-v');"
  "if(num){v=v===null||v===''?NaN:parseFloat(v);return v;}"
  "return(v===null?c.textContent:v).toLowerCase();}"
  "function sortBy(i){var num=hs[i].hasAttribute('data-num');"
  "dir=cur===i?-dir:1;cur=i;"
  "var rs=Array.prototype.map.call(tb.rows,function(r,k){"
  "return{k:val(r,i,num),n:k,r:r};});"
  "rs.sort(function(a,b){var x=a.k,y=b.k;"
  "if(num){var xn=isNaN(x),yn=isNaN(y);if(xn||yn)return xn&&yn?a.n-b.n:"
  "xn?1:-1;}return x<y?-dir:x>y?dir:a.n-b.n;});"
  "var fr=document.createDocumentFragment();"
  "rs.forEach(function(o){fr.appendChild(o.r);});tb.appendChild(fr);"
  "for(var j=0;j<hs.length;j++)hs[j].removeAttribute('aria-sort');"
  "hs[i].setAttribute('aria-sort',dir>0?'ascending':'descending');}"
  "Array.prototype.forEach.call(hs,function(h,i){"
  "h.addEventListener('click',function(){sortBy(i);});});"
  "var q=document.getElementById('q');q.addEventListener('input',function(){"
  "var s=q.value.toLowerCase();Array.prototype.forEach.call(tb.rows,"
  "function(r){r.hidden=s!==''&&r.textContent.toLowerCase().indexOf(s)<0;"
  "});});"
  /* test hook: #click=<column id>[,<times>] clicks that header on load */
  "var m=/^#click=([a-z]+)(?:,([0-9]))?$/.exec(location.hash);"
  "if(m){var h=document.getElementById('col-'+m[1]);"
  "for(var n=+(m[2]||1);n>0;n--)h.click();}"
  "document.documentElement.setAttribute('data-ready','1');})();";

static int table(hw *w, const vs_report_filter *flt, uint64_t total)
{
  FILE *f = w->out;
  int rc;
  fputs("<section class=\"panel\"><div class=\"tools\"><h2 style=\"margin:0;"
        "flex:1\">Outputs</h2><input id=\"q\" type=\"search\" placeholder=\""
        "Filter rows (prompt, status, key&hellip;)\" aria-label=\"Filter rows"
        "\"></div>\n", f);
  if(total > w->cap)
    fprintf(f, "<div class=\"note\" id=\"capped\">Showing the first %zu of %"
            PRIu64 " outputs, problems first. The totals and charts above "
            "count all %" PRIu64 ".</div>\n", w->cap, total, total);
  table_head(f);
  w->pass_problems = 1;
  rc = vs_report_each(w->r, flt, on_row, w);
  w->pass_problems = 0;
  if(!rc)
    rc = vs_report_each(w->r, flt, on_row, w);
  fprintf(f, "</tbody></table></div></section>\n<footer>Costs in USD, exact "
          "as the manifest records them. Times in UTC. Click a column to "
          "sort; click again to reverse.%s</footer>\n",
          w->previews ? " Previews stream from the sink through presigned "
                        "links that expire." : "");
  return rc;
}

/* ---- entry ---------------------------------------------------------------- */
static int start(hw *w, const vs_report *r, const vs_report_html_opts *o,
                 FILE *out, vs_err *err)
{
  memset(w, 0, sizeof(*w));
  w->r = r;
  w->out = out;
  w->o = o;
  w->err = err;
  w->cap = o->max_rows ? o->max_rows : VS_REPORT_HTML_MAX_ROWS;
  if(!o->preview_endpoint)
    return 0;
  if(!o->key_id || !o->secret)
    return vs_fail(err, VS_ERR_INVALID, "previews need an access key to "
                   "sign with");
  if(strncmp(o->preview_endpoint, "http://", 7) &&
     strncmp(o->preview_endpoint, "https://", 8))
    return vs_fail(err, VS_ERR_INVALID, "preview endpoint '%s' is not an "
                   "http:// or https:// URL", o->preview_endpoint);
  if(o->expires_s < 0 || o->expires_s > WEEK_S)
    return vs_fail(err, VS_ERR_INVALID, "preview URL lifetime %" PRId64
                   " s: at most %d", o->expires_s, WEEK_S);
  w->previews = 1;
  w->creds.key_id = o->key_id;
  w->creds.secret = o->secret;
  w->creds.region = o->region ? o->region : "us-east-1";
  return 0;
}

int vs_report_html(const vs_report *r, const vs_report_filter *f,
                   const vs_report_html_opts *o, FILE *out,
                   vs_report_summary *sum, vs_err *err)
{
  static const vs_report_html_opts none;
  vs_report_group *st = NULL, tot = {0};
  vs_report_stats stats;
  size_t nst = 0;
  hw w;
  int rc = start(&w, r, o ? o : &none, out, err);
  if(!rc)
    rc = vs_report_groups(r, f, VS_REPORT_BY_STATUS, &st, &nst, &tot, err);
  if(rc)
    return rc;
  vs_report_get_stats(r, &stats);
  head(&w, &stats);
  fputs("<div class=\"cards\">", out);
  summary(&w, &tot, st, nst);
  rc = charts(&w, f);
  if(!rc && (rc = table(&w, f, tot.outputs)) && rc != VS_ERR_IO)
    rc = vs_fail(err, rc, "report not finished");
  if(!rc)
    fprintf(out, "</main><script>%s</script></body></html>\n", script);
  vs_report_groups_free(st, nst);
  vs_report_group_free(&tot);
  if(!rc && ferror(out))
    rc = vs_fail(err, VS_ERR_IO, "writing the HTML report failed");
  if(sum) {
    sum->rows = w.rows;
    sum->problems = w.problems;
  }
  return rc;
}
