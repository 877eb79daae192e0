/* vsink-fakeapi: options, start, wait for SIGTERM/SIGINT, stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "fakeapi.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"

static const char usage[] =
  "usage: vsink-fakeapi --listen HOST:PORT [--port-file F] --api-key KEY\n"
  "         [--delay-ms MS] [--size BYTES] [--workers N]\n"
  "         [--webhook-attempts N] [--webhook-backoff-ms MS]\n"
  "         [--upload-attempts N] [--slow-upload-ms MS]\n"
  "         [--fault-429 N] [--fault-500 N] [--fault-lost-ack N]\n"
  "         [--fault-402[=N]] [--fail-task[=N]] [--drop-webhook]\n"
  "         [--drop-upload] [--truncate-upload] [--duplicate-webhook]\n"
  "       vsink-fakeapi --print-sha256 TASKUUID INDEX SIZE FORMAT\n"
  "See tests/fakeapi/README.md.\n";

void fa_log_event(const char *event, const cJSON *fields)
{
  char *s = cJSON_PrintUnformatted(fields);
  vs_buf b = VS_BUF_INIT;
  size_t n = s ? strlen(s) : 0;
  vs_buf_addf(&b, ",\"event\":\"%s\"", event);
  if(n > 2) {
    vs_buf_addc(&b, ',');
    vs_buf_add(&b, s + 1, n - 2);
  }
  vs_log_fields(vs_buf_str(&b), b.len);
  vs_buf_free(&b);
  free(s);
}

static int num(const char *opt, const char *s, long long min, long long max,
               long long *out)
{
  char *end;
  errno = 0;
  *out = s ? strtoll(s, &end, 10) : 0;
  if(!s || !*s || errno || *end || *out < min || *out > max) {
    fprintf(stderr, "vsink-fakeapi: %s needs an integer from %lld to %lld,"
            " got %s\n", opt, min, max, s ? s : "nothing");
    return -1;
  }
  return 0;
}

static int parse_listen(fa_opts *o, const char *s)
{
  const char *colon = s ? strrchr(s, ':') : NULL;
  long long port;
  if(!colon || colon == s || (size_t)(colon - s) >= sizeof(o->host)) {
    fprintf(stderr, "vsink-fakeapi: --listen needs HOST:PORT\n");
    return -1;
  }
  if(num("--listen port", colon + 1, 0, 65535, &port))
    return -1;
  snprintf(o->host, sizeof(o->host), "%.*s", (int)(colon - s), s);
  o->port = (int)port;
  return 0;
}

/* "--x V", "--x=V", and for optional values "--x" alone. */
static const char *value(int argc, char **argv, int *i, const char *name,
                         int optional, int *matched)
{
  const char *a = argv[*i];
  size_t n = strlen(name);
  *matched = !strncmp(a, name, n) && (a[n] == 0 || a[n] == '=');
  if(!*matched)
    return NULL;
  if(a[n] == '=')
    return a + n + 1;
  if(optional)
    return NULL;
  return *i + 1 < argc ? argv[++*i] : NULL;
}

static int set_fault(fa_fault *f, const char *opt, const char *v,
                     int optional)
{
  long long n = -1;
  if((v || !optional) && num(opt, v, 0, 1000000000, &n))
    return -1;
  f->count = (long)n;
  return 0;
}

static int parse_one(fa_opts *o, int argc, char **argv, int *i)
{
  static const struct {
    const char *name;
    long long min, max;
    size_t off;
  } nums[] = {
    {"--delay-ms", 0, 3600000, offsetof(fa_opts, delay_ms)},
    {"--webhook-backoff-ms", 0, 600000, offsetof(fa_opts, webhook_backoff_ms)},
    {"--slow-upload-ms", 0, 600000, offsetof(fa_opts, slow_upload_ms)},
  };
  const char *a = argv[*i], *v;
  long long n;
  size_t k;
  int m;
  for(k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
    v = value(argc, argv, i, nums[k].name, 0, &m);
    if(m) {
      if(num(nums[k].name, v, nums[k].min, nums[k].max, &n))
        return -1;
      *(long *)((char *)o + nums[k].off) = (long)n;
      return 0;
    }
  }
#define INT_OPT(NAME, MIN, MAX, FIELD)                                       \
  v = value(argc, argv, i, NAME, 0, &m);                                     \
  if(m) {                                                                    \
    if(num(NAME, v, MIN, MAX, &n))                                           \
      return -1;                                                             \
    o->FIELD = (int)n;                                                       \
    return 0;                                                                \
  }
  INT_OPT("--workers", 1, 64, workers)
  INT_OPT("--webhook-attempts", 1, 100, webhook_attempts)
  INT_OPT("--upload-attempts", 1, 100, upload_attempts)
#undef INT_OPT
#define FAULT(NAME, FIELD, OPTIONAL)                                         \
  v = value(argc, argv, i, NAME, OPTIONAL, &m);                              \
  if(m)                                                                      \
    return set_fault(&o->FIELD, NAME, v, OPTIONAL);
  FAULT("--fault-429", fault_429, 0)
  FAULT("--fault-500", fault_500, 0)
  FAULT("--fault-lost-ack", fault_lost_ack, 0)
  FAULT("--fault-402", fault_402, 1)
  FAULT("--fail-task", fail_task, 1)
#undef FAULT
  v = value(argc, argv, i, "--size", 0, &m);
  if(m) {
    if(num("--size", v, 0, 1LL << 40, &n))
      return -1;
    o->size = (uint64_t)n;
    return 0;
  }
  v = value(argc, argv, i, "--listen", 0, &m);
  if(m)
    return parse_listen(o, v);
  v = value(argc, argv, i, "--port-file", 0, &m);
  if(m)
    return (o->port_file = v) ? 0 : -1;
  v = value(argc, argv, i, "--api-key", 0, &m);
  if(m)
    return (o->api_key = v) && *v ? 0 : -1;
  if(!strcmp(a, "--drop-webhook"))
    return o->drop_webhook = 1, 0;
  if(!strcmp(a, "--drop-upload"))
    return o->drop_upload = 1, 0;
  if(!strcmp(a, "--truncate-upload"))
    return o->truncate_upload = 1, 0;
  if(!strcmp(a, "--duplicate-webhook"))
    return o->duplicate_webhook = 1, 0;
  fprintf(stderr, "vsink-fakeapi: unknown option %s\n%s", a, usage);
  return -1;
}

static int parse(fa_opts *o, int argc, char **argv)
{
  int i;
  memset(o, 0, sizeof(*o));
  o->port = -1;
  o->delay_ms = 300;
  o->size = 65536;
  o->workers = 8;
  o->webhook_attempts = 5;
  o->webhook_backoff_ms = 200;
  o->upload_attempts = 3;
  for(i = 1; i < argc; i++)
    if(parse_one(o, argc, argv, &i))
      return -1;
  if(!o->api_key)
    o->api_key = getenv("RUNWARE_API_KEY");
  if(o->port < 0 || !o->api_key || !*o->api_key) {
    fprintf(stderr, "vsink-fakeapi: --listen and --api-key (or "
            "RUNWARE_API_KEY) are required\n%s", usage);
    return -1;
  }
  return 0;
}

static int print_sha256(int argc, char **argv)
{
  fa_content c;
  long long index, size;
  char hex[65];
  if(argc != 6 || num("INDEX", argv[3], 0, FA_MAX_RESULTS - 1, &index) ||
     num("SIZE", argv[4], 0, 1LL << 40, &size) ||
     fa_content_init(&c, argv[2], (int)index, (uint64_t)size, argv[5])) {
    fputs(usage, stderr);
    return 2;
  }
  fa_content_sha256(&c, hex);
  printf("%s\n", hex);
  return 0;
}

static int write_port_file(const char *path, int port)
{
  vs_buf tmp = VS_BUF_INIT;
  FILE *f;
  int rc = -1;
  vs_buf_addf(&tmp, "%s.tmp", path);
  f = fopen(vs_buf_str(&tmp), "w");
  if(f) {
    fprintf(f, "%d\n", port);
    rc = fclose(f) || rename(vs_buf_str(&tmp), path) ? -1 : 0;
  }
  if(rc)
    fprintf(stderr, "vsink-fakeapi: cannot write %s: %s\n", path,
            strerror(errno));
  vs_buf_free(&tmp);
  return rc;
}

static int init_server(fa_server *srv, fa_opts *o)
{
  pthread_condattr_t ca;
  memset(srv, 0, sizeof(*srv));
  srv->opts = o;
  pthread_mutex_init(&srv->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&srv->cv, &ca);
  pthread_cond_init(&srv->stop_cv, &ca);
  pthread_condattr_destroy(&ca);
  return 0;
}

static void fini_server(fa_server *srv)
{
  fa_tasks_free(srv);
  pthread_cond_destroy(&srv->cv);
  pthread_cond_destroy(&srv->stop_cv);
  pthread_mutex_destroy(&srv->mu);
}

/* Blocks until SIGTERM or SIGINT (blocked in every thread, so the signal
 * reaches this sigwait and no handler or global flag is needed). */
static int wait_signal(const sigset_t *set)
{
  int sig = 0;
  while(sigwait(set, &sig))
    ;
  return sig;
}

static int serve(fa_opts *o, const sigset_t *set)
{
  fa_server srv;
  struct MHD_Daemon *d;
  vs_err err = {0};
  int port = o->port, sig;
  init_server(&srv, o);
  if(fa_pool_start(&srv, &err)) {
    fprintf(stderr, "vsink-fakeapi: %s\n", err.msg);
    fini_server(&srv);
    return 1;
  }
  d = fa_http_start(&srv, &port, &err);
  if(!d) {
    fprintf(stderr, "vsink-fakeapi: %s\n", err.msg);
    fa_pool_stop(&srv);
    fini_server(&srv);
    return 1;
  }
  snprintf(srv.base_url, sizeof(srv.base_url), "http://%s:%d", o->host,
           port);
  if(o->port_file && write_port_file(o->port_file, port)) {
    MHD_stop_daemon(d);
    fa_pool_stop(&srv);
    fini_server(&srv);
    return 1;
  }
  printf("listening on %s\n", srv.base_url);
  fflush(stdout);
  sig = wait_signal(set);
  vs_log("info", "signal %d: stopping", sig);
  MHD_stop_daemon(d);
  fa_pool_stop(&srv);
  fini_server(&srv);
  return 0;
}

int main(int argc, char **argv)
{
  fa_opts o;
  sigset_t set;
  int rc;
  if(argc > 1 && !strcmp(argv[1], "--print-sha256"))
    return print_sha256(argc, argv);
  if(argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(usage, stdout);
    return 0;
  }
  if(parse(&o, argc, argv))
    return 2;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = serve(&o, &set);
  curl_global_cleanup();
  return rc;
}
