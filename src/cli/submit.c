/* vsink submit: options (or a jobs file) become videoInference tasks,
 * checked in full before anything is sent, then handed to vs_submit_run. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "cli/mloc.h"
#include "cli/opts.h"
#include "util/dec.h"
#include "util/json.h"
#include "vsink/manifest.h"
#include "vsink/runware.h"
#include "vsink/sigv4.h"
#include "vsink/task.h"

#define DEFAULT_MANIFEST "./vsink-data/manifest"
#define JOBS_LINE_MAX (64L << 20) /* a frame image inline may be large */

typedef struct submit_opts {
  vs_task_opts task;
  const char *max_cost, *target, *s3_endpoint, *s3_region, *region;
  const char *manifest_extra; /* with an s3:// --manifest: the local one */
  const char *webhook_base, *api_url, *jobs, *manifest, *credentials, *data;
  int64_t url_ttl, timeout;
  int dry_run, wait;
  unsigned long long concurrency, retries;
  int64_t rate_milli;
  char webhook_buf[256];
} submit_opts;

static void usage(FILE *f)
{
  fprintf(f,
    "usage: vsink submit [OPTIONS]\n"
    "Sends videoInference tasks (model " VS_TASK_MODEL ") whose videos land\n"
    "in a vsink sink or a bucket, and records every step in the manifest.\n\n"
    "The task:\n"
    "  --prompt TEXT | --prompt-file FILE   positivePrompt, 2..3000 chars\n"
    "  --width W --height H | --resolution 480p|720p|1080p\n"
    "  --frame-image IMG    UUID, URL, data URI, base64 or a PNG/JPEG/WEBP "
    "file\n"
    "  --duration S         1.2..12 in steps of 0.1 [5]\n"
    "  --seed N             0..9223372036854775807\n"
    "  --results N          numberResults 1..4 [1]\n"
    "  --format F           MP4, WEBM or MOV [MP4]\n"
    "  --quality Q          outputQuality 20..99\n"
    "  --camera-fixed[=B]   providerSettings.bytedance.cameraFixed\n"
    "  --safety MODE        none, fast or full\n"
    "  --ttl S              result URL lifetime, >= 60\n"
    "  --no-cost            do not ask for includeCost (the audit needs it)\n"
    "  --max-cost USD       refuse when the estimate of all tasks exceeds it\n"
    "Where the videos go:\n"
    "  --target URL         http(s)://HOST:PORT/BUCKET/PREFIX (a sink) or\n"
    "                       s3://BUCKET/PREFIX with --s3-endpoint\n"
    "  --s3-endpoint URL    --s3-region R [us-east-1]; keys from\n"
    "                       VSINK_S3_ACCESS_KEY_ID/VSINK_S3_SECRET_ACCESS_KEY\n"
    "  --region R           the sink's SigV4 region [us-east-1]\n"
    "  --webhook-base URL   the sink that receives webhooks [the sink "
    "target]\n"
    "  --url-ttl D          lifetime of both URLs, at most 7d [24h]\n"
    "  --credentials FILE   --data DIR  the sink's keys, as vsink presign\n"
    "The API (key from RUNWARE_API_KEY):\n"
    "  --api-url URL        [" VS_RW_API_URL "]\n"
    "  --dry-run            print the JSON array that would be sent, send "
    "nothing\n"
    "  --wait               poll until done; --timeout D [1h]\n"
    "  --jobs FILE.jsonl    one task's options per line (keys as the "
    "options)\n"
    "  --concurrency N      requests in flight [4]; --rate N per second\n"
    "  --retries N          attempts per request (408, 429, 5xx, network) "
    "[8]\n"
    "  --manifest DIR       [./vsink-data/manifest]\n"
    "  --manifest s3://BUCKET[/PREFIX]  events go to --manifest-extra DIR\n"
    "                       [./vsink-data/manifest], whose closed segments\n"
    "                       are put to PREFIX/manifest/NODE/ at the end (at\n"
    "                       --s3-endpoint, as vsink serve --manifest-bucket)\n\n"
    "Prints one JSON line per task. Exit 0 when every task was accepted\n"
    "(with --wait: complete), 1 when any was not, 2 for bad options or "
    "tasks\n(nothing sent), 3 when it could not run.\n");
}

static int bad(const char *opt, const char *value, const char *allowed)
{
  fprintf(stderr, "vsink submit: %s '%s': %s\n'vsink submit --help' lists "
          "the options.\n", opt, value, allowed);
  return VS_EXIT_USAGE;
}

enum {
  O_PROMPT = 256, O_PROMPT_FILE, O_WIDTH, O_HEIGHT, O_RES, O_FRAME, O_DUR,
  O_SEED, O_RESULTS, O_FORMAT, O_QUALITY, O_CAMERA, O_SAFETY, O_TTL,
  O_NOCOST, O_MAXCOST, O_TARGET, O_S3EP, O_S3REG, O_REGION, O_HOOK,
  O_URLTTL, O_API, O_DRY, O_WAIT, O_TIMEOUT, O_JOBS, O_CONC, O_RATE,
  O_MANIFEST, O_CRED, O_DATA, O_RETRIES, O_MEXTRA
};

static const struct option longopts[] = {
  {"prompt", 1, 0, O_PROMPT}, {"prompt-file", 1, 0, O_PROMPT_FILE},
  {"width", 1, 0, O_WIDTH}, {"height", 1, 0, O_HEIGHT},
  {"resolution", 1, 0, O_RES}, {"frame-image", 1, 0, O_FRAME},
  {"duration", 1, 0, O_DUR}, {"seed", 1, 0, O_SEED},
  {"results", 1, 0, O_RESULTS}, {"format", 1, 0, O_FORMAT},
  {"quality", 1, 0, O_QUALITY}, {"camera-fixed", 2, 0, O_CAMERA},
  {"safety", 1, 0, O_SAFETY}, {"ttl", 1, 0, O_TTL},
  {"no-cost", 0, 0, O_NOCOST}, {"max-cost", 1, 0, O_MAXCOST},
  {"target", 1, 0, O_TARGET}, {"s3-endpoint", 1, 0, O_S3EP},
  {"s3-region", 1, 0, O_S3REG}, {"region", 1, 0, O_REGION},
  {"webhook-base", 1, 0, O_HOOK}, {"url-ttl", 1, 0, O_URLTTL},
  {"api-url", 1, 0, O_API}, {"dry-run", 0, 0, O_DRY},
  {"wait", 0, 0, O_WAIT}, {"timeout", 1, 0, O_TIMEOUT},
  {"jobs", 1, 0, O_JOBS}, {"concurrency", 1, 0, O_CONC},
  {"rate", 1, 0, O_RATE}, {"manifest", 1, 0, O_MANIFEST},
  {"credentials", 1, 0, O_CRED}, {"data", 1, 0, O_DATA},
  {"retries", 1, 0, O_RETRIES}, {"manifest-extra", 1, 0, O_MEXTRA},
  {"help", 0, 0, 'h'}, {0, 0, 0, 0}};

/* The task options are text kept for the task builder's rules. */
static const char **task_slot(vs_task_opts *t, int c)
{
  switch(c) {
  case O_PROMPT: return &t->prompt;
  case O_PROMPT_FILE: return &t->prompt_file;
  case O_WIDTH: return &t->width;
  case O_HEIGHT: return &t->height;
  case O_RES: return &t->resolution;
  case O_FRAME: return &t->frame_image;
  case O_DUR: return &t->duration;
  case O_SEED: return &t->seed;
  case O_RESULTS: return &t->results;
  case O_FORMAT: return &t->format;
  case O_QUALITY: return &t->quality;
  case O_SAFETY: return &t->safety;
  case O_TTL: return &t->ttl;
  default: return NULL;
  }
}

static int parse_rate(const char *s, int64_t *milli)
{
  vs_dec d;
  if(vs_dec_parse(s, strlen(s), &d) || d <= 0 || d > 1000000 * VS_DEC_SCALE)
    return -1;
  *milli = d / (VS_DEC_SCALE / 1000);
  return *milli > 0 ? 0 : -1;
}

static int other_option(int c, const char *arg, submit_opts *o)
{
  switch(c) {
  case O_MAXCOST: o->max_cost = arg; return 0;
  case O_TARGET: o->target = arg; return 0;
  case O_S3EP: o->s3_endpoint = arg; return 0;
  case O_S3REG: o->s3_region = arg; return 0;
  case O_REGION: o->region = arg; return 0;
  case O_HOOK: o->webhook_base = arg; return 0;
  case O_API: o->api_url = arg; return 0;
  case O_DRY: o->dry_run = 1; return 0;
  case O_WAIT: o->wait = 1; return 0;
  case O_JOBS: o->jobs = arg; return 0;
  case O_MANIFEST: o->manifest = arg; return 0;
  case O_MEXTRA: o->manifest_extra = arg; return 0;
  case O_CRED: o->credentials = arg; return 0;
  case O_DATA: o->data = arg; return 0;
  case O_URLTTL:
    if(vs_cli_parse_duration(arg, &o->url_ttl) || o->url_ttl < 1 ||
       o->url_ttl > VS_SIGV4_MAX_EXPIRES)
      return bad("--url-ttl", arg, "1s..7d (90, 90s, 15m, 24h, 7d)");
    return 0;
  case O_TIMEOUT:
    if(vs_cli_parse_duration(arg, &o->timeout) || o->timeout < 1 ||
       o->timeout > 30 * 86400)
      return bad("--timeout", arg, "1s..30d (90, 90s, 15m, 2h)");
    return 0;
  case O_CONC:
    if(vs_cli_parse_uint(arg, 1, 256, &o->concurrency))
      return bad("--concurrency", arg, "a whole number 1..256");
    return 0;
  case O_RETRIES:
    if(vs_cli_parse_uint(arg, 1, 100, &o->retries))
      return bad("--retries", arg, "attempts per request, 1..100");
    return 0;
  case O_RATE:
    if(parse_rate(arg, &o->rate_milli))
      return bad("--rate", arg, "tasks per second, a decimal > 0 (0.5, 20)");
    return 0;
  case 'h':
    usage(stdout);
    return -1;
  default:
    usage(stderr);
    return VS_EXIT_USAGE;
  }
}

static int parse(int argc, char **argv, submit_opts *o)
{
  int c, rc;
  const char **slot;
  memset(o, 0, sizeof(*o));
  o->url_ttl = 86400;
  o->timeout = 3600;
  o->concurrency = 4;
  o->manifest = DEFAULT_MANIFEST;
  o->data = "./vsink-data";
  optind = 1;
  while((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if((slot = task_slot(&o->task, c)))
      *slot = optarg;
    else if(c == O_CAMERA)
      o->task.camera_fixed = optarg ? optarg : "true";
    else if(c == O_NOCOST)
      o->task.include_cost = "false";
    else if((rc = other_option(c, optarg, o)))
      return rc;
  }
  if(optind < argc)
    return bad("argument", argv[optind], "submit takes options only");
  if(!o->target)
    return bad("--target", "", "required: http(s)://HOST:PORT/BUCKET/PREFIX "
               "or s3://BUCKET/PREFIX");
  return 0;
}

/* ---- jobs ------------------------------------------------------------------ */
typedef struct jobs {
  vs_submit_job *v;
  size_t n, cap;
  int errors;
} jobs;

static void print_errors(const vs_task_errors *e, int line)
{
  char where[48] = "";
  int i;
  if(line)
    snprintf(where, sizeof(where), "jobs line %d: ", line);
  for(i = 0; i < e->n; i++)
    fprintf(stderr, "vsink submit: %s%s: %s; given '%s'; allowed: %s\n",
            where, e->e[i].field, e->e[i].message, e->e[i].value,
            e->e[i].allowed);
  if(e->dropped)
    fprintf(stderr, "vsink submit: %s%d more errors not shown\n", where,
            e->dropped);
}

static int add_job(jobs *j, cJSON *task, int line)
{
  if(j->n == j->cap) {
    size_t cap = j->cap ? j->cap * 2 : 16;
    vs_submit_job *v = realloc(j->v, cap * sizeof(*v));
    if(!v)
      return VS_ERR_NOMEM;
    j->v = v;
    j->cap = cap;
  }
  j->v[j->n++] = (vs_submit_job){task, line};
  return VS_OK;
}

static int build(jobs *j, const vs_task_opts *t, int line)
{
  vs_task_errors errs;
  cJSON *task;
  int rc = vs_task_build(t, &task, &errs);
  if(rc == VS_ERR_INVALID) {
    print_errors(&errs, line);
    j->errors++;
    return VS_OK;
  }
  return rc ? rc : add_job(j, task, line);
}

static int check_only(jobs *j, const vs_task_opts *t, int line)
{
  vs_task_errors errs;
  cJSON *task;
  int rc = vs_task_build(t, &task, &errs);
  if(rc == VS_ERR_INVALID)
    print_errors(&errs, line);
  cJSON_Delete(task);
  (void)j;
  return rc == VS_ERR_NOMEM ? rc : VS_OK;
}

/* A jobs line's options override the command line's, a group at a time
 * (the prompt pair and the shape trio), so a line can switch from a
 * resolution to a width and height. */
static void merge(vs_task_opts *line, const vs_task_opts *cli)
{
  const char **l = (const char **)line, *const *c = (const char *const *)cli;
  size_t i, n = sizeof(*line) / sizeof(char *);
  int prompt = line->prompt || line->prompt_file;
  int shape = line->width || line->height || line->resolution;
  for(i = 0; i < n; i++)
    if(!l[i])
      l[i] = c[i];
  if(prompt && (line->prompt == cli->prompt && cli->prompt))
    line->prompt = NULL;
  if(prompt && (line->prompt_file == cli->prompt_file && cli->prompt_file))
    line->prompt_file = NULL;
  if(shape) {
    if(line->width == cli->width) line->width = NULL;
    if(line->height == cli->height) line->height = NULL;
    if(line->resolution == cli->resolution) line->resolution = NULL;
  }
}

static int blank(const char *s)
{
  return s[strspn(s, " \t\r\n")] == 0;
}

static int read_jobs(const char *path, const vs_task_opts *cli, jobs *j)
{
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  int line = 0, rc = VS_OK;
  if(!f) {
    fprintf(stderr, "vsink submit: --jobs %s: %m\n", path);
    return VS_ERR_IO;
  }
  while(!rc && (len = getline(&buf, &cap, f)) >= 0) {
    vs_task_opts lo;
    vs_task_errors errs;
    cJSON *obj;
    line++;
    if(blank(buf))
      continue;
    if(len > JOBS_LINE_MAX || !(obj = vs_json_parse(buf, (size_t)len))) {
      fprintf(stderr, "vsink submit: jobs line %d: not a JSON object%s\n",
              line, len > JOBS_LINE_MAX ? " (over 64 MiB)" : "");
      j->errors++;
      continue;
    }
    if(vs_task_opts_from_json(obj, &lo, &errs)) {
      /* the line's other fields are still checked: every error at once */
      int before = j->errors;
      print_errors(&errs, line);
      merge(&lo, cli);
      rc = check_only(j, &lo, line);
      j->errors = before + 1;
    }
    else {
      merge(&lo, cli);
      rc = build(j, &lo, line);
    }
    cJSON_Delete(obj);
  }
  free(buf);
  fclose(f);
  if(!rc && !line) {
    fprintf(stderr, "vsink submit: --jobs %s holds no tasks\n", path);
    j->errors++;
  }
  return rc;
}

/* ---- cost ------------------------------------------------------------------ */
static int check_cost(const jobs *j, const char *max_cost)
{
  vs_dec total = 0, one, max;
  char a[VS_DEC_STRLEN], b[VS_DEC_STRLEN];
  const char *note = NULL;
  size_t i;
  for(i = 0; i < j->n; i++) {
    if(vs_task_estimate(j->v[i].task, &one) || vs_dec_add(total, one, &total))
      return bad("--max-cost", max_cost ? max_cost : "", "the estimate "
                 "could not be computed");
    if(!note)
      note = vs_task_estimate_note(j->v[i].task);
  }
  if(note)
    fprintf(stderr, "vsink submit: note: %s\n", note);
  if(!max_cost)
    return 0;
  if(vs_dec_parse(max_cost, strlen(max_cost), &max) || max < 0)
    return bad("--max-cost", max_cost, "USD as a decimal, like 1.50");
  if(total <= max)
    return 0;
  vs_dec_format(total, 2, a);
  vs_dec_format(max, 2, b);
  fprintf(stderr, "vsink submit: refused: the estimate for %zu task%s is "
          "%s USD, over --max-cost %s USD; nothing sent\n", j->n,
          j->n == 1 ? "" : "s", a, b);
  return VS_EXIT_USAGE;
}

/* ---- the run ---------------------------------------------------------------- */
static int target_cfg(submit_opts *o, vs_submit_cfg *c,
                      vs_keyring **kr)
{
  vs_err err = {0};
  if(vs_target_parse(o->target, &c->target, &err))
    return bad("--target", o->target, err.msg);
  if(c->target.kind == VS_TARGET_S3) {
    if(!o->s3_endpoint)
      return bad("--target", o->target, "an s3:// target needs --s3-endpoint");
    if(vs_endpoint_parse(o->s3_endpoint, c->target.endpoint,
                         sizeof(c->target.endpoint), &err))
      return bad("--s3-endpoint", o->s3_endpoint, err.msg);
    c->s3_key_id = getenv("VSINK_S3_ACCESS_KEY_ID");
    c->s3_secret = getenv("VSINK_S3_SECRET_ACCESS_KEY");
    if(!c->s3_key_id || !c->s3_secret) {
      fprintf(stderr, "vsink submit: an s3:// target needs "
              "VSINK_S3_ACCESS_KEY_ID and VSINK_S3_SECRET_ACCESS_KEY in the "
              "environment\n");
      return VS_EXIT_USAGE;
    }
  }
  else if(o->s3_endpoint && strncmp(o->manifest, "s3://", 5))
    return bad("--s3-endpoint", o->s3_endpoint, "only for an s3:// target "
               "or manifest");
  c->s3_region = o->s3_region ? o->s3_region : "us-east-1";
  c->sink_region = o->region ? o->region : "us-east-1";
  c->webhook_base = o->webhook_base ? o->webhook_base
                    : c->target.kind == VS_TARGET_SINK ? c->target.endpoint
                    : NULL;
  if(o->webhook_base) {
    if(vs_endpoint_parse(o->webhook_base, o->webhook_buf,
                         sizeof(o->webhook_buf), &err))
      return bad("--webhook-base", o->webhook_base, err.msg);
    c->webhook_base = o->webhook_buf;
  }
  if(!c->webhook_base)
    fprintf(stderr, "vsink submit: no --webhook-base: the API will not call "
            "a sink back; --wait records the results by polling\n");
  if(c->target.kind == VS_TARGET_SINK || c->webhook_base) {
    if(vs_cli_keys(o->credentials, o->data, 0, kr))
      return VS_EXIT_FAIL;
    c->sink_keys = *kr;
  }
  return 0;
}

/* --manifest s3://: written locally, shipped when the run ends. */
static int manifest_where(const submit_opts *o, const char **dir)
{
  int s3 = !strncmp(o->manifest, "s3://", 5);
  *dir = s3 ? (o->manifest_extra ? o->manifest_extra : DEFAULT_MANIFEST)
            : o->manifest;
  if(!s3 && o->manifest_extra)
    return bad("--manifest-extra", o->manifest_extra,
               "only with an s3:// --manifest");
  if(s3 && !o->s3_endpoint)
    return bad("--manifest", o->manifest, "an s3:// manifest needs "
               "--s3-endpoint");
  return 0;
}

static int open_manifest(const char *dir, vs_manifest **m)
{
  char host[64] = "", node[80];
  vs_err err = {0};
  gethostname(host, sizeof(host) - 1);
  snprintf(node, sizeof(node), "submit-%.50s", *host ? host : "local");
  vs_manifest_opts mo = {.dir = dir, .node = node};
  if(vs_manifest_open(m, &mo, &err)) {
    fprintf(stderr, "vsink submit: manifest %s: %s\n", dir, err.msg);
    return VS_EXIT_FAIL;
  }
  return 0;
}

static int execute(const submit_opts *o, vs_submit_cfg *c, jobs *j)
{
  vs_submit_stats st;
  vs_err err = {0};
  const char *mdir = NULL;
  char node[80] = "";
  int rc;
  c->api.api_url = o->api_url;
  c->api.api_key = getenv("RUNWARE_API_KEY");
  if(!o->dry_run && (!c->api.api_key || !*c->api.api_key)) {
    fprintf(stderr, "vsink submit: set RUNWARE_API_KEY (the API key is "
            "never taken from the command line)\n");
    return VS_EXIT_USAGE;
  }
  if(!c->api.api_key)
    c->api.api_key = "dry-run";
  if((rc = manifest_where(o, &mdir)))
    return rc;
  if(!o->dry_run && (rc = open_manifest(mdir, &c->manifest)))
    return rc;
  if(c->manifest)
    snprintf(node, sizeof(node), "%s", vs_manifest_node(c->manifest));
  if(vs_rw_global_init(&err)) {
    vs_manifest_close(c->manifest);
    fprintf(stderr, "vsink submit: %s\n", err.msg);
    return VS_EXIT_FAIL;
  }
  c->url_ttl_s = o->url_ttl;
  c->concurrency = (int)o->concurrency;
  c->api.retry.max_attempts = (int)o->retries;
  c->rate_milli = o->rate_milli;
  c->wait = o->wait;
  vs_rw_wait_defaults(&c->wait_opts);
  c->wait_opts.timeout_ms = o->timeout * 1000;
  c->dry_run = o->dry_run;
  c->out = stdout;
  c->msg = stderr;
  c->progress = isatty(2);
  rc = vs_submit_run(c, j->v, j->n, &st, &err);
  j->n = 0;
  vs_manifest_close(c->manifest);
  /* A failed shipping leaves the events local, for a later run: said,
   * but the tasks' outcome decides the exit status. */
  if(*node && !strncmp(o->manifest, "s3://", 5))
    vs_cli_mloc_ship("submit", o->manifest, mdir, node, o->s3_endpoint,
                     o->s3_region);
  if(rc) {
    fprintf(stderr, "vsink submit: %s\n", err.msg);
    return rc == VS_ERR_INVALID ? VS_EXIT_USAGE : VS_EXIT_FAIL;
  }
  if(o->dry_run)
    return VS_EXIT_OK;
  return (o->wait ? st.complete : st.accepted) == st.tasks ? VS_EXIT_OK
                                                          : VS_EXIT_PROBLEM;
}

int vs_cli_submit(int argc, char **argv)
{
  submit_opts o;
  vs_submit_cfg c;
  vs_keyring *kr = NULL;
  jobs j = {0};
  size_t i;
  int rc = parse(argc, argv, &o);
  if(rc)
    return rc < 0 ? VS_EXIT_OK : rc;
  memset(&c, 0, sizeof(c));
  if(o.jobs)
    rc = read_jobs(o.jobs, &o.task, &j);
  else
    rc = build(&j, &o.task, 0);
  if(rc) {
    if(rc == VS_ERR_NOMEM)
      fprintf(stderr, "vsink submit: out of memory\n");
    rc = VS_EXIT_FAIL;
  }
  else if(j.errors) {
    fprintf(stderr, "vsink submit: %d task%s with errors; nothing sent\n",
            j.errors, j.errors == 1 ? "" : "s");
    rc = VS_EXIT_USAGE;
  }
  if(!rc)
    rc = check_cost(&j, o.max_cost);
  if(!rc)
    rc = target_cfg(&o, &c, &kr);
  if(!rc)
    rc = execute(&o, &c, &j);
  for(i = 0; i < j.n; i++)
    cJSON_Delete(j.v[i].task);
  free(j.v);
  vs_keyring_free(kr);
  return rc;
}
