/* vsink verify: every stored object of the manifest re-read from the data
 * folder and re-hashed; a `verified` event per object. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/mloc.h"
#include "cli/opts.h"
#include "vsink/manifest.h"
#include "vsink/report.h"
#include "vsink/s3.h"
#include "vsink/store.h"

typedef struct verify_opts {
  const char *manifest, *data, *node;
  const char *store_url; /* --store s3://: objects read from the cluster */
  int jobs;
  vs_cli_mloc loc; /* s3:// manifests: --manifest-extra, --s3-endpoint */
} verify_opts;

typedef struct progress {
  int tty;
  double start, last;
} progress;

static void usage(FILE *f)
{
  fprintf(f,
    "usage: vsink verify [OPTIONS]\n"
    "Re-reads every object the manifest says the sink stored, re-hashes it\n"
    "(SHA-256) and compares bytes and hash with the manifest. Prints each\n"
    "problem (checksum-mismatch, size-mismatch, missing-object, read-error)\n"
    "and writes a `verified` event per object into the manifest, so that\n"
    "`vsink report` shows when each object was last proven intact.\n\n"
    "  --data DIR       the sink's data folder (default ./vsink-data); read\n"
    "                   only, so a running `vsink serve` may hold it\n"
    "  --store s3://BUCKET[/PREFIX]  the objects of sinks that store into a\n"
    "                   cluster (vsink serve --store), streamed from\n"
    "                   --s3-endpoint with VSINK_S3_* keys\n"
    "  --manifest DIR|s3://BUCKET[/PREFIX]  the manifest (default\n"
    "                   DATA/manifest); with s3://, `verified` events go to\n"
    "                   --manifest-extra DIR (also read), else DATA/manifest\n"
    "  --manifest-extra DIR   --s3-endpoint URL   --s3-region R\n"
    "  --jobs N         objects read at once, 1..64 (default 1)\n"
    "  --node NAME      this writer's name in the manifest (default: host)\n\n"
    "Objects recorded by a HEAD of a bucket (no local bytes) are skipped and\n"
    "counted, and so are versions purged for good (vsink serve --allow-purge).\n"
    "A deleted key's versions are kept and checked by versionId as before.\n"
    VS_CLI_MLOC_HELP
    "Progress goes to stderr when it is a terminal.\n"
    "exit status: 0 every object intact, 1 some object is not, 2 bad usage,\n"
    "3 the manifest or the data folder could not be read, or an event not\n"
    "written\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "vsink verify: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n'vsink verify --help' lists the options.\n");
  return VS_EXIT_USAGE;
}

/* 0 to run, -1 after --help, else an exit status. */
static int parse(int argc, char **argv, verify_opts *o)
{
  static const struct option longopts[] = {
    {"manifest", 1, 0, 'm'}, {"data", 1, 0, 'd'}, {"jobs", 1, 0, 'j'},
    {"node", 1, 0, 'n'},     {"help", 0, 0, 'h'},
    {"manifest-extra", 1, 0, 'X'}, {"s3-endpoint", 1, 0, 'E'},
    {"s3-region", 1, 0, 'r'}, {"store", 1, 0, 'S'}, {0, 0, 0, 0}};
  unsigned long long n;
  int c;
  opterr = 0;
  optind = 1;
  while((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch(c) {
    case 'h': usage(stdout); return -1;
    case 'm': o->manifest = optarg; break;
    case 'd': o->data = optarg; break;
    case 'S': o->store_url = optarg; break;
    case 'n': o->node = optarg; break;
    case 'X': o->loc.extra = optarg; break;
    case 'E': o->loc.endpoint = optarg; break;
    case 'r': o->loc.region = optarg; break;
    case 'j':
      if(vs_cli_parse_uint(optarg, 1, 64, &n))
        return bad("--jobs '%s': must be a whole number from 1 to 64",
                   optarg);
      o->jobs = (int)n;
      break;
    case ':': return bad("option '%s' needs a value", argv[optind - 1]);
    default: return bad("unknown option '%s'", argv[optind - 1]);
    }
  }
  if(optind < argc)
    return bad("unexpected argument '%s'", argv[optind]);
  return 0;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_item(void *ctx, const vs_verify_item *it, uint64_t done,
                    uint64_t total, uint64_t bytes)
{
  progress *p = ctx;
  double t = now_s();
  if(p->tty)
    fprintf(stderr, "\r\033[K");
  if(!it->ok) {
    printf("%s\t%s/%s\t%s\t%s\n", it->problem, it->bucket, it->key,
           it->version_id, it->detail);
    fflush(stdout);
  }
  if(p->tty && (t - p->last > 0.2 || done == total)) {
    p->last = t;
    fprintf(stderr, "verify: %llu/%llu objects, %.1f MiB, %.0f MB/s",
            (unsigned long long)done, (unsigned long long)total,
            (double)bytes / 1048576.0,
            t > p->start ? (double)bytes / 1e6 / (t - p->start) : 0.0);
    if(done == total)
      fprintf(stderr, "\r\033[K");
    fflush(stderr);
  }
}

static void summary(const vs_verify_stats *st, double secs)
{
  printf("verified %llu object(s), %llu bytes in %.2f s (%.1f MB/s): "
         "%llu ok, %llu problem(s)",
         (unsigned long long)st->objects, (unsigned long long)st->bytes,
         secs, secs > 0 ? (double)st->bytes / 1e6 / secs : 0.0,
         (unsigned long long)st->ok, (unsigned long long)st->problems);
  if(st->problems)
    printf(" (%llu checksum-mismatch, %llu size-mismatch, %llu "
           "missing-object, %llu read-error)",
           (unsigned long long)st->checksum_mismatch,
           (unsigned long long)st->size_mismatch,
           (unsigned long long)st->missing,
           (unsigned long long)st->read_errors);
  printf("; %llu skipped (no local object)", (unsigned long long)st->skipped);
  if(st->purged)
    printf("; %llu purged (removed for good, not read)",
           (unsigned long long)st->purged);
  printf("\n");
  if(st->torn || st->malformed)
    fprintf(stderr, "vsink verify: skipped %llu torn and %llu malformed "
            "manifest line(s)\n", (unsigned long long)st->torn,
            (unsigned long long)st->malformed);
}

/* The private folder of open_s3: the store leaves only its empty intent
 * folder there (spool files are unlinked as they are made). */
static void drop_tmp(const char *tmp)
{
  char p[64];
  snprintf(p, sizeof(p), "%s/intent", tmp);
  rmdir(p);
  rmdir(tmp);
}

/* The cluster store, read only: its spool and state in a private folder
 * (nothing is written to the sinks' DATA), no versioning demanded. */
static int open_s3(const verify_opts *o, char *tmp, vs_store **store,
                   char **bucket)
{
  vs_store_s3_opts so;
  vs_err err = {0};
  char *prefix = NULL;
  int rc;
  memset(&so, 0, sizeof(so));
  so.t.endpoint = o->loc.endpoint ? o->loc.endpoint
                                  : getenv("VSINK_S3_ENDPOINT");
  so.t.region = o->loc.region;
  so.t.key_id = getenv("VSINK_S3_ACCESS_KEY_ID");
  so.t.secret = getenv("VSINK_S3_SECRET_ACCESS_KEY");
  if(!mkdtemp(tmp)) {
    fprintf(stderr, "vsink verify: %s: %m\n", tmp);
    return VS_EXIT_FAIL;
  }
  if((rc = vs_store_s3_url_parse(o->store_url, bucket, &prefix, &err)))
    fprintf(stderr, "vsink verify: --store %s: %s\n", o->store_url, err.msg);
  else {
    so.bucket = *bucket;
    so.prefix = prefix;
    so.spool_dir = so.state_dir = tmp;
    if((rc = vs_store_s3_open(store, &so, &err)))
      fprintf(stderr, "vsink verify: --store %s at %s: %s\n", o->store_url,
              so.t.endpoint ? so.t.endpoint : "(no --s3-endpoint)",
              err.msg);
  }
  free(prefix); /* copied by the store; the bucket is not (s3.h) */
  return rc ? (rc == VS_ERR_INVALID ? VS_EXIT_USAGE : VS_EXIT_FAIL) : 0;
}

static int open_parts(const verify_opts *o, const char *mdir, char *tmp,
                      char **bucket, vs_store **store, vs_manifest **man)
{
  vs_store_fs_opts so = {0};
  vs_manifest_opts mo = {0};
  vs_err err = {0};
  int rc;
  so.dir = o->data;
  so.read_only = 1;
  if(o->store_url) {
    if((rc = open_s3(o, tmp, store, bucket)))
      return rc;
  }
  else if(vs_store_fs_open(store, &so, NULL, &err)) {
    fprintf(stderr, "vsink verify: data folder %s: %s\n", o->data, err.msg);
    return VS_EXIT_FAIL;
  }
  if(access(mdir, F_OK)) {
    fprintf(stderr, "vsink verify: manifest %s: %m\n", mdir);
    return VS_EXIT_FAIL;
  }
  mo.dir = mdir;
  mo.node = o->node;
  if(vs_manifest_open(man, &mo, &err)) {
    fprintf(stderr, "vsink verify: manifest %s: %s\n", mdir, err.msg);
    return VS_EXIT_FAIL;
  }
  return 0;
}

int vs_cli_verify(int argc, char **argv)
{
  verify_opts o = {NULL, "./vsink-data", NULL, NULL, 1, {0}};
  vs_verify_opts vo = {0};
  vs_verify_stats st;
  vs_store *store = NULL;
  vs_manifest *man = NULL;
  progress pr = {0};
  vs_err err = {0};
  char mdir[4096], tmp[] = "/tmp/vsink-verify-XXXXXX", *bucket = NULL;
  const char *rdir = NULL, *wdir;
  int rc = parse(argc, argv, &o);
  if(rc)
    return rc < 0 ? VS_EXIT_OK : rc;
  snprintf(mdir, sizeof(mdir), "%s/manifest", o.data);
  if(!o.manifest)
    o.manifest = mdir;
  o.loc.loc = o.manifest;
  if((rc = vs_cli_mloc_open(&o.loc, "verify", &rdir)))
    return rc;
  /* A bucket is read, never written: the events go to a local folder,
   * which a shipping sink sends on. */
  wdir = !o.loc.staged ? o.manifest : o.loc.extra ? o.loc.extra : mdir;
  rc = open_parts(&o, wdir, tmp, &bucket, &store, &man);
  if(!rc) {
    pr.tty = isatty(STDERR_FILENO);
    pr.start = now_s();
    vo.manifest_dir = rdir;
    vo.store = store;
    vo.events = man;
    vo.jobs = o.jobs;
    vo.on_item = on_item;
    vo.ctx = &pr;
    if(vs_report_verify(&vo, &st, &err)) {
      fprintf(stderr, "vsink verify: %s\n", err.msg);
      rc = VS_EXIT_FAIL;
    } else {
      summary(&st, now_s() - pr.start);
      rc = st.problems ? VS_EXIT_PROBLEM : VS_EXIT_OK;
    }
  }
  vs_manifest_close(man);
  vs_store_close(store);
  free(bucket);
  if(o.store_url && strcmp(tmp, "/tmp/vsink-verify-XXXXXX"))
    drop_tmp(tmp);
  vs_cli_mloc_close(&o.loc);
  return rc;
}
