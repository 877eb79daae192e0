/* vsink report: one row per output from the manifest, or groups of them. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "cli/mloc.h"
#include "cli/opts.h"
#include "util/clock.h"
#include "vsink/report.h"

#define DEFAULT_DIR "./vsink-data/manifest"

typedef struct report_opts {
  const char *dir, *out;
  const char *preview, *credentials, *data, *region; /* html previews */
  vs_report_filter filter;
  int by, format, format_set, jobs;
  int64_t grace_ms, now_ms;
  int now_set;
  vs_cli_mloc loc; /* s3:// manifests: --manifest-extra, --s3-endpoint */
} report_opts;

static void usage(FILE *f)
{
  fprintf(f,
    "usage: vsink report [OPTIONS]\n"
    "One row per output of the manifest: what was asked, what it cost, where\n"
    "the bytes are, and a status: complete, waiting, missing-upload,\n"
    "missing-result, unexpected-upload, failed, checksum-mismatch,\n"
    "missing-object, deleted (a delete marker is the key's current version;\n"
    "the output's version is kept), purged (its version removed for good).\n\n"
    "  --manifest DIR|s3://BUCKET[/PREFIX]  the manifest (default %s)\n"
    "  --manifest-extra DIR   with s3://: also this folder's segments\n"
    "  --s3-endpoint URL  --s3-region R   where s3:// is read\n"
    "  --since T          rows at or after T (RFC 3339 or YYYY-MM-DD, UTC)\n"
    "  --until T          rows before T\n"
    "  --status S         only rows with status S (repeat, or S1,S2)\n"
    "  --group-by G       day, model, resolution, status or prefix: outputs,\n"
    "                     seconds, estimated and actual cost, bytes per group\n"
    "                     and a TOTAL\n"
    "  --format F         table, csv, jsonl or html; default table on a\n"
    "                     terminal, csv otherwise\n"
    "  -o FILE            write to FILE (replaced whole, never half-written)\n"
    "  --grace D          how long an output may wait before it counts as\n"
    "                     missing: 90s, 15m, 2h, 7d (default 2h)\n"
    "  --now T            the time the grace is measured to (default: now)\n"
    "  --jobs N           threads reading segments (default: one per CPU)\n"
    "html (one self-contained file: summary, charts, sortable table):\n"
    "  --preview-endpoint URL  the sink (http://host:port): a <video> per\n"
    "                     stored object through a GET URL presigned for 7 days\n"
    "  --credentials FILE the key to sign previews with (default: the\n"
    "                     environment's VSINK_ACCESS_KEY_ID/..., then\n"
    "                     DATA/credentials)\n"
    "  --data DIR         the sink's data folder (default ./vsink-data)\n"
    "  --region R         the sink's region (default us-east-1)\n\n"
    "A row's time is its submission (else the first event about it); a day\n"
    "is a UTC day. Costs are exact decimals.\n"
    VS_CLI_MLOC_HELP
    "exit status: 0 every row complete, waiting, deleted or purged, 1 some\n"
    "row is not, 2 bad usage, 3 the manifest or the output could not be\n"
    "read/written\n",
    DEFAULT_DIR);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "vsink report: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n'vsink report --help' lists the options.\n");
  return VS_EXIT_USAGE;
}

static int parse_statuses(const char *arg, unsigned *mask)
{
  char *copy = strdup(arg), *save = NULL, *s;
  int st, rc = 0;
  if(!copy)
    return bad("out of memory");
  for(s = strtok_r(copy, ",", &save); s && !rc; s = strtok_r(NULL, ",", &save))
    if(vs_report_status_parse(s, &st))
      rc = bad("--status '%s': not a status (complete, waiting, "
               "missing-upload, missing-result, unexpected-upload, failed, "
               "checksum-mismatch, missing-object, deleted, purged)", s);
    else
      *mask |= 1u << st;
  if(!rc && !*mask)
    rc = bad("--status '%s': no status named", arg);
  free(copy);
  return rc;
}

static int parse_time(const char *opt, const char *arg, int64_t *ms)
{
  if(vs_time_parse_rfc3339(arg, ms))
    return bad("%s '%s': not a time (2026-11-24T12:00:00Z, an offset such "
               "as +02:00, or a date 2026-11-24)", opt, arg);
  return 0;
}

static int parse_one(report_opts *o, int c, const char *arg)
{
  int64_t secs;
  unsigned long long n;
  switch(c) {
  case 'm': o->dir = arg; return 0;
  case 'o': o->out = arg; return 0;
  case 's': return parse_time("--since", arg, &o->filter.since_ms);
  case 'u': return parse_time("--until", arg, &o->filter.until_ms);
  case 'n':
    o->now_set = 1;
    return parse_time("--now", arg, &o->now_ms);
  case 'S': return parse_statuses(arg, &o->filter.status_mask);
  case 'g':
    if(vs_report_by_parse(arg, &o->by))
      return bad("--group-by '%s': must be day, model, resolution, status "
                 "or prefix", arg);
    return 0;
  case 'f':
    o->format_set = 1;
    if(vs_report_format_parse(arg, &o->format))
      return bad("--format '%s': must be table, csv, jsonl or html", arg);
    return 0;
  case 'G':
    if(vs_cli_parse_duration(arg, &secs) || secs > INT64_MAX / 1000)
      return bad("--grace '%s': not a duration (90s, 15m, 2h, 7d)", arg);
    o->grace_ms = secs * 1000;
    return 0;
  case 'P': o->preview = arg; return 0;
  case 'C': o->credentials = arg; return 0;
  case 'D': o->data = arg; return 0;
  case 'R': o->region = arg; return 0;
  case 'X': o->loc.extra = arg; return 0;
  case 'E': o->loc.endpoint = arg; return 0;
  case 'r': o->loc.region = arg; return 0;
  case 'j':
    if(vs_cli_parse_uint(arg, 1, 8, &n))
      return bad("--jobs '%s': must be a whole number from 1 to 8", arg);
    o->jobs = (int)n;
    return 0;
  default: return bad("internal: option %c", c);
  }
}

/* 0 to run, -1 after --help, else an exit status. */
static int parse(int argc, char **argv, report_opts *o)
{
  static const struct option longopts[] = {
    {"manifest", 1, 0, 'm'}, {"since", 1, 0, 's'},   {"until", 1, 0, 'u'},
    {"status", 1, 0, 'S'},   {"group-by", 1, 0, 'g'}, {"format", 1, 0, 'f'},
    {"output", 1, 0, 'o'},   {"grace", 1, 0, 'G'},   {"now", 1, 0, 'n'},
    {"jobs", 1, 0, 'j'},     {"help", 0, 0, 'h'},
    {"preview-endpoint", 1, 0, 'P'}, {"credentials", 1, 0, 'C'},
    {"data", 1, 0, 'D'},     {"region", 1, 0, 'R'},
    {"manifest-extra", 1, 0, 'X'}, {"s3-endpoint", 1, 0, 'E'},
    {"s3-region", 1, 0, 'r'}, {0, 0, 0, 0}};
  int c, rc;
  opterr = 0;
  optind = 1;
  while((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
    if(c == 'h') {
      usage(stdout);
      return -1;
    }
    if(c == '?')
      return bad("unknown option '%s'", argv[optind - 1]);
    if(c == ':')
      return bad("option '%s' needs a value", argv[optind - 1]);
    if((rc = parse_one(o, c, optarg)))
      return rc;
  }
  if(optind < argc)
    return bad("unexpected argument '%s'", argv[optind]);
  if(o->filter.since_ms >= o->filter.until_ms)
    return bad("--since must be before --until");
  if(o->format == VS_REPORT_HTML && o->by != VS_REPORT_BY_NONE)
    return bad("--group-by does not apply to --format html (its charts "
               "group by day and resolution)");
  if(o->format != VS_REPORT_HTML && (o->preview || o->credentials))
    return bad("--preview-endpoint and --credentials apply to --format html "
               "only");
  if(o->preview && strncmp(o->preview, "http://", 7) &&
     strncmp(o->preview, "https://", 8))
    return bad("--preview-endpoint '%s': must be http://host[:port] or "
               "https://...", o->preview);
  if(!o->format_set)
    o->format = !o->out && isatty(STDOUT_FILENO) ? VS_REPORT_TABLE
                                                 : VS_REPORT_CSV;
  return 0;
}

static void warn_skipped(const vs_report *r)
{
  vs_report_stats st;
  vs_report_get_stats(r, &st);
  if(st.torn || st.malformed)
    fprintf(stderr,
            "vsink report: skipped %llu torn and %llu malformed line(s) of "
            "%llu (first: %s)\n",
            (unsigned long long)st.torn, (unsigned long long)st.malformed,
            (unsigned long long)st.lines, st.first_problem);
}

/* The preview key, when previews are asked for, signs every <video> URL. */
static int write_html(const vs_report *r, const report_opts *o, FILE *f,
                      vs_report_summary *sum, vs_err *err)
{
  vs_report_html_opts ho = {0};
  vs_keyring *kr = NULL;
  char *ep = NULL;
  int rc;
  if(o->preview) {
    if(vs_cli_keys(o->credentials, o->data ? o->data : "./vsink-data", 0,
                   &kr))
      return vs_fail(err, VS_ERR_AUTH, "no key to sign previews with");
    vs_keyring_first(kr, &ho.key_id, &ho.secret);
    ep = strdup(o->preview);
    if(ep && *ep && ep[strlen(ep) - 1] == '/') /* the presigner adds it */
      ep[strlen(ep) - 1] = 0;
    ho.preview_endpoint = ep;
    ho.region = o->region;
  }
  /* signed at the real time: --now moves only the grace */
  rc = o->preview && !ep ? vs_fail(err, VS_ERR_NOMEM, "out of memory")
                         : vs_report_html(r, &o->filter, &ho, f, sum, err);
  free(ep);
  vs_keyring_free(kr);
  return rc;
}

/* Into FILE through FILE.tmp and a rename: a reader of FILE sees the old
 * report or the new one, never half of one. */
static int write_out(const vs_report *r, const report_opts *o,
                     vs_report_summary *sum)
{
  static char buf[1 << 20];
  char *tmp = NULL;
  FILE *f = stdout;
  vs_err err = {0};
  int rc;
  if(o->out) {
    if(asprintf(&tmp, "%s.tmp", o->out) < 0 || !(f = fopen(tmp, "w"))) {
      fprintf(stderr, "vsink report: cannot create %s.tmp: %m\n", o->out);
      free(tmp);
      return VS_EXIT_FAIL;
    }
  }
  setvbuf(f, buf, _IOFBF, sizeof(buf));
  if(o->format == VS_REPORT_HTML)
    rc = write_html(r, o, f, sum, &err);
  else
    rc = vs_report_write(r, &o->filter, o->by, o->format, f, sum, &err);
  if(o->out) {
    if(fclose(f) && !rc)
      rc = vs_fail_errno(&err, errno, "writing %s", tmp);
    if(!rc && rename(tmp, o->out))
      rc = vs_fail_errno(&err, errno, "renaming %s to %s", tmp, o->out);
    if(rc)
      unlink(tmp);
    free(tmp);
  }
  if(rc) {
    fprintf(stderr, "vsink report: %s\n", err.msg);
    return VS_EXIT_FAIL;
  }
  return VS_EXIT_OK;
}

int vs_cli_report(int argc, char **argv)
{
  report_opts o;
  vs_report_opts ro = {0};
  vs_report_summary sum = {0};
  vs_report *r = NULL;
  vs_err err = {0};
  const char *dir = NULL;
  int rc;
  memset(&o, 0, sizeof(o));
  o.dir = DEFAULT_DIR;
  o.grace_ms = VS_REPORT_GRACE_MS;
  vs_report_filter_init(&o.filter);
  if((rc = parse(argc, argv, &o)))
    return rc < 0 ? VS_EXIT_OK : rc;
  if(!o.now_set)
    o.now_ms = vs_now_ms(NULL, NULL);
  /* groups other than prefix need no per-row detail: far less memory */
  ro.detail = o.by == VS_REPORT_BY_NONE || o.by == VS_REPORT_BY_PREFIX;
  ro.detail |= o.format == VS_REPORT_HTML;
  ro.jobs = o.jobs;
  o.loc.loc = o.dir;
  if((rc = vs_cli_mloc_open(&o.loc, "report", &dir)))
    return rc;
  rc = vs_report_new(&r, &ro, &err);
  if(!rc)
    rc = vs_report_load(r, dir, &err);
  vs_cli_mloc_close(&o.loc); /* everything is in memory now */
  if(!rc)
    rc = vs_report_finish(r, o.now_ms, o.grace_ms, &err);
  if(rc) {
    fprintf(stderr, "vsink report: %s\n", err.msg);
    vs_report_free(r);
    return VS_EXIT_FAIL;
  }
  warn_skipped(r);
  rc = write_out(r, &o, &sum);
  vs_report_free(r);
  if(rc)
    return rc;
  return sum.problems ? VS_EXIT_PROBLEM : VS_EXIT_OK;
}
