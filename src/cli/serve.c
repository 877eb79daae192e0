/* vsink serve: options, start-up, signals. The sink itself is
 * vs_server_* in the library. */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "cli/opts.h"
#include "util/log.h"
#include "vsink/s3.h"
#include "vsink/server.h"
#include "vsink/sigv4.h"

#define MAX_BUCKETS 64

/* ---- manifest shipping (issue 10): options ------------------------------ */
typedef struct ship_cli {
  const char *url;               /* --manifest-bucket s3://BUCKET[/PREFIX] */
  unsigned long long rotate_sec; /* --manifest-rotate-sec; 0: default */
  unsigned long long rotate_events; /* --manifest-rotate-events */
  const char *keep;              /* --manifest-keep-shipped as given */
  int64_t keep_s;                /* ... in seconds; 0: forever */
  char *bucket, *prefix;
} ship_cli;
#define SHIP_ROTATE_SEC 60
#define SHIP_ROTATE_EVENTS 10000
/* With --store s3:// a node keeps no objects: its manifest folder should
 * not grow without end either. A day of segments stays for people
 * looking at a node's own log. */
#define SHIP_KEEP_S3_S (24 * 3600)
enum { OPT_MANIFEST_BUCKET = 1501, OPT_MANIFEST_ROTATE_SEC,
       OPT_MANIFEST_ROTATE_EVENTS, OPT_MANIFEST_KEEP_SHIPPED };
/* ---- end of manifest shipping options ----------------------------------- */

typedef struct serve_opts {
  const char *listen, *data, *region, *manifest, *credentials, *node;
  const char *s3_endpoint, *s3_region;
  const char *store_url;   /* --store s3://BUCKET[/PREFIX]; NULL: --data */
  const char *buckets[MAX_BUCKETS];
  size_t n_buckets;
  uint64_t max_object_size;
  unsigned threads, shutdown_timeout, idle_timeout, max_conn, max_conn_ip;
  unsigned header_timeout, rate_window;
  uint64_t min_rate;
  vs_on_existing on_existing;
  int allow_bucket_create; /* --allow-bucket-create */
  const char *domain;   /* --domain: virtual-hosted-style BUCKET.NAME */
  int no_sigv2;         /* --no-sigv2 */
  int etag_sha256;      /* --etag sha256 */
  int allow_purge;      /* --allow-purge */
  unsigned retention_days; /* --retention DAYS */
  int64_t mpu_expiry_s;    /* --multipart-expiry */
  ship_cli ship;           /* --manifest-bucket and its rotation */
} serve_opts;

static void usage(FILE *f)
{
  fprintf(f,
    "usage: vsink serve [options]\n"
    "  --listen ADDR:PORT         [127.0.0.1:9000]\n"
    "  --data DIR                 objects and generated keys [./vsink-data]\n"
    "  --store s3://BUCKET[/PREFIX]  keep objects in that bucket of the\n"
    "                             --s3-endpoint cluster (versioning on),\n"
    "                             DATA keeping only spool and state\n"
    "                             [objects in DATA]\n"
    "  --bucket NAME              a bucket to serve, repeatable [videos]\n"
    "  --allow-bucket-create      CreateBucket of another bucket creates it\n"
    "                             (kept in DATA/state/buckets) [refused]\n"
    "  --allow-purge              DELETE ?versionId= removes that version\n"
    "                             for good [refused: 403]\n"
    "  --retention DAYS           with --allow-purge: no version younger\n"
    "                             than DAYS is purged [0]\n"
    "  --multipart-expiry DUR     abort multipart uploads not completed\n"
    "                             within DUR of their start (90s, 2h, 7d)\n"
    "                             [24h]\n"
    "  --region R                 SigV4 region [us-east-1]\n"
    "  --manifest DIR             [DATA/manifest]\n"
    "  --node NAME                this writer's name in the manifest [host]\n"
    "  --max-object-size BYTES    e.g. 5GiB, 200MiB [5GiB]\n"
    "  --threads N                [number of cores]\n"
    "  --shutdown-timeout S       let uploads finish on SIGTERM [30]\n"
    "  --on-existing version|reject|overwrite   [version]\n"
    "  --etag md5|sha256          an object's ETag: its MD5, as S3's [md5];\n"
    "                             sha256 skips MD5 unless Content-MD5 is sent\n"
    "  --idle-timeout S           close idle connections [30]\n"
    "  --max-connections N        [1024]\n"
    "  --max-connections-per-ip N [256]\n"
    "  --header-timeout S         a request's line and headers, and an idle\n"
    "                             keep-alive connection, within S [10]\n"
    "  --min-body-rate BYTES      an upload's slowest average per second,\n"
    "                             0 for none [1KiB]\n"
    "  --body-rate-window S       averaged over S seconds [30]\n"
    "  --credentials FILE         'KEYID SECRET' lines; SIGHUP re-reads it\n"
    "  --s3-endpoint URL          the S3 cluster of --store s3://, and the\n"
    "                             bucket server that hooks for s3:// targets\n"
    "                             HEAD after a result\n"
    "  --s3-region R              its region [--region]\n"
    "  --domain NAME              also address buckets as BUCKET.NAME in the\n"
    "                             Host header (virtual-hosted style)\n"
    "  --no-sigv2                 refuse Signature Version 2 (accepted by\n"
    "                             default, as Ceph RGW and MinIO do)\n"
    "Shipping the manifest to a cluster bucket:\n"
    "  --manifest-bucket s3://BUCKET[/PREFIX]  put every closed segment to\n"
    "                             PREFIX/manifest/NODE/ at --s3-endpoint\n"
    "                             (needs it and the bucket's keys below)\n"
    "  --manifest-rotate-sec N    close a segment N s after it opened\n"
    "                             [60 with --manifest-bucket, else 3600]\n"
    "  --manifest-rotate-events N ... or after N events [10000 with\n"
    "                             --manifest-bucket, else no limit]\n"
    "  --manifest-keep-shipped DUR|forever  remove a shipped segment from\n"
    "                             the local folder DUR after its last\n"
    "                             write (never while a commit still open\n"
    "                             may need it) [24h with --store s3://,\n"
    "                             else forever]\n"
    "Credentials otherwise come from VSINK_ACCESS_KEY_ID and\n"
    "VSINK_SECRET_ACCESS_KEY, or DATA/credentials (made on first start).\n"
    "The bucket's keys: VSINK_S3_ACCESS_KEY_ID and VSINK_S3_SECRET_ACCESS_KEY.\n");
}

static int bad(const char *opt, const char *val, const char *allowed)
{
  fprintf(stderr, "vsink serve: %s '%s': %s\n", opt, val, allowed);
  return VS_EXIT_USAGE;
}

/* Long options without a short letter. */
enum { OPT_DOMAIN = 1001, OPT_NO_SIGV2 };
enum { OPT_ETAG = 1201 };
enum { OPT_ALLOW_PURGE = 1301, OPT_RETENTION };
enum { OPT_MPU_EXPIRY = 1401 };
enum { OPT_STORE = 1601 };

static int domain_ok(const char *d)
{
  size_t n = strlen(d);
  return n && n < 200 && d[0] != '.' && d[n - 1] != '.' &&
         !strstr(d, "..") &&
         strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789-.") == n;
}

/* Long options without a short letter. */
enum { OPT_ALLOW_BUCKET_CREATE = 1101 };

/* --store s3://: what the cluster store needs, and what it cannot do yet
 * (a created bucket lives in one node's DATA, which no other node sees). */
static int check_s3_store(const serve_opts *o)
{
  char *bucket = NULL, *prefix = NULL;
  vs_err err = {0};
  size_t i;
  if(vs_store_s3_url_parse(o->store_url, &bucket, &prefix, &err))
    return bad("--store", o->store_url, err.msg);
  free(bucket);
  free(prefix);
  if(!o->s3_endpoint)
    return bad("--store", o->store_url, "needs --s3-endpoint URL (the "
               "cluster)");
  if(o->allow_bucket_create)
    return bad("--allow-bucket-create", "", "not with --store s3:// (a "
               "bucket created on one node would be unknown to the others)");
  for(i = 0; i < o->n_buckets; i++)
    if(!strcmp(o->buckets[i], "manifest"))
      return bad("--bucket", "manifest", "with --store s3://, PREFIX/"
                 "manifest/ holds the shipped manifests");
  return 0;
}

/* ---- manifest shipping (issue 10): parsing ------------------------------ */
static int ship_option(ship_cli *sc, int c, const char *arg)
{
  vs_err err = {0};
  if(c == OPT_MANIFEST_BUCKET) {
    free(sc->bucket);
    free(sc->prefix);
    if(vs_store_s3_url_parse(arg, &sc->bucket, &sc->prefix, &err) ||
       vs_store_check_bucket(sc->bucket, &err))
      return bad("--manifest-bucket", arg, err.msg);
    sc->url = arg;
  } else if(c == OPT_MANIFEST_KEEP_SHIPPED) {
    sc->keep = arg;
    if(!strcmp(arg, "forever"))
      sc->keep_s = 0;
    else if(vs_cli_parse_duration(arg, &sc->keep_s) || sc->keep_s < 1 ||
            sc->keep_s > 3650LL * 86400)
      return bad("--manifest-keep-shipped", arg, "a duration of 1s to "
                 "3650d (e.g. 90s, 2h, 7d) or forever");
  } else if(c == OPT_MANIFEST_ROTATE_SEC) {
    if(vs_cli_parse_uint(arg, 1, 86400 * 366ULL, &sc->rotate_sec))
      return bad("--manifest-rotate-sec", arg, "1..31622400 seconds");
  } else if(vs_cli_parse_uint(arg, 1, 1000000000ULL, &sc->rotate_events))
    return bad("--manifest-rotate-events", arg, "1..1000000000");
  return 0;
}

/* The writer's rotation: frequent when segments are shipped. */
static void ship_rotation(const ship_cli *sc, vs_manifest_opts *mo)
{
  if(sc->rotate_sec)
    mo->max_age_ms = (int64_t)sc->rotate_sec * 1000;
  else if(sc->url)
    mo->max_age_ms = SHIP_ROTATE_SEC * 1000LL;
  if(sc->rotate_events)
    mo->max_events = sc->rotate_events;
  else if(sc->url)
    mo->max_events = SHIP_ROTATE_EVENTS;
}

/* The shipping thread, started before the sink serves so that what an
 * earlier run left goes first. */
static int ship_begin(const serve_opts *o, const vs_s3_target *s3,
                      vs_manifest *man, vs_store *store, const char *dir,
                      vs_ship **ship)
{
  vs_s3_target t = *s3;
  vs_ship_opts so = {.dir = dir, .node = vs_manifest_node(man),
                     .target = &t, .bucket = o->ship.bucket,
                     .prefix = o->ship.prefix, .manifest = man,
                     .keep_ms = o->ship.keep_s * 1000, .store = store};
  vs_err err = {0};
  *ship = NULL;
  if(!o->ship.url)
    return 0;
  t.timeout_ms = 10000; /* a dead cluster must not hold up a stop long */
  if(vs_ship_open(ship, &so, &err) || vs_ship_start(*ship, &err)) {
    fprintf(stderr, "vsink serve: --manifest-bucket: %s\n", err.msg);
    vs_ship_free(*ship);
    *ship = NULL;
    return VS_EXIT_FAIL;
  }
  vs_log("info", "manifest: shipping closed segments of %s to %s, keeping "
         "them locally %s%s", dir, o->ship.url,
         o->ship.keep_s ? "for " : "", o->ship.keep_s ? o->ship.keep
                                                       : "forever");
  return 0;
}

/* After the writer closed its last segment: one more pass ships it (or
 * leaves it for the next start). */
static void ship_end(vs_ship *ship)
{
  vs_err err = {0};
  if(!ship)
    return;
  if(vs_ship_pass(ship, &err))
    vs_log("warn", "manifest: segments left to ship at the next start: %s",
           err.msg);
  vs_ship_free(ship);
}
/* ---- end of manifest shipping parsing ----------------------------------- */

static int parse(int argc, char **argv, serve_opts *o)
{
  static const struct option lo[] = {
    {"listen", 1, 0, 'l'}, {"data", 1, 0, 'd'}, {"bucket", 1, 0, 'b'},
    {"region", 1, 0, 'r'}, {"manifest", 1, 0, 'm'},
    {"max-object-size", 1, 0, 'S'}, {"threads", 1, 0, 't'},
    {"shutdown-timeout", 1, 0, 'T'}, {"on-existing", 1, 0, 'e'},
    {"credentials", 1, 0, 'c'}, {"node", 1, 0, 'n'},
    {"idle-timeout", 1, 0, 'i'}, {"max-connections", 1, 0, 'C'},
    {"max-connections-per-ip", 1, 0, 'P'}, {"help", 0, 0, 'h'},
    {"s3-endpoint", 1, 0, 'E'}, {"s3-region", 1, 0, 'R'},
    {"header-timeout", 1, 0, 'H'}, {"min-body-rate", 1, 0, 'B'},
    {"body-rate-window", 1, 0, 'W'},
    {"allow-bucket-create", 0, 0, OPT_ALLOW_BUCKET_CREATE},
    {"domain", 1, 0, OPT_DOMAIN}, {"no-sigv2", 0, 0, OPT_NO_SIGV2},
    {"etag", 1, 0, OPT_ETAG},
    {"allow-purge", 0, 0, OPT_ALLOW_PURGE},
    {"retention", 1, 0, OPT_RETENTION},
    {"multipart-expiry", 1, 0, OPT_MPU_EXPIRY},
    {"store", 1, 0, OPT_STORE},
    {"manifest-bucket", 1, 0, OPT_MANIFEST_BUCKET},
    {"manifest-rotate-sec", 1, 0, OPT_MANIFEST_ROTATE_SEC},
    {"manifest-rotate-events", 1, 0, OPT_MANIFEST_ROTATE_EVENTS},
    {"manifest-keep-shipped", 1, 0, OPT_MANIFEST_KEEP_SHIPPED},
    {0, 0, 0, 0}};
  unsigned long long v;
  int c;
  *o = (serve_opts){.listen = "127.0.0.1:9000", .data = "./vsink-data",
                    .region = "us-east-1", .max_object_size = 5ULL << 30,
                    .shutdown_timeout = 30, .min_rate = 1024};
  optind = 1;
  while((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch(c) {
    case 'l': o->listen = optarg; break;
    case 'd': o->data = optarg; break;
    case 'r': o->region = optarg; break;
    case 'm': o->manifest = optarg; break;
    case 'c': o->credentials = optarg; break;
    case 'n': o->node = optarg; break;
    case 'E': o->s3_endpoint = optarg; break;
    case 'R': o->s3_region = optarg; break;
    case 'b': {
      vs_err err = {0};
      if(o->n_buckets == MAX_BUCKETS)
        return bad("--bucket", optarg, "at most 64 buckets");
      if(vs_store_check_bucket(optarg, &err))
        return bad("--bucket", optarg, err.msg);
      o->buckets[o->n_buckets++] = optarg;
      break;
    }
    case 'S':
      if(vs_cli_parse_size(optarg, &o->max_object_size) ||
         !o->max_object_size)
        return bad("--max-object-size", optarg, "a size such as 5GiB");
      break;
    case 't':
      if(vs_cli_parse_uint(optarg, 1, 1024, &v))
        return bad("--threads", optarg, "1..1024");
      o->threads = (unsigned)v;
      break;
    case 'T':
      if(vs_cli_parse_uint(optarg, 0, 86400, &v))
        return bad("--shutdown-timeout", optarg, "0..86400 seconds");
      o->shutdown_timeout = (unsigned)v;
      break;
    case 'i':
      if(vs_cli_parse_uint(optarg, 1, 86400, &v))
        return bad("--idle-timeout", optarg, "1..86400 seconds");
      o->idle_timeout = (unsigned)v;
      break;
    case 'C':
      if(vs_cli_parse_uint(optarg, 1, 1000000, &v))
        return bad("--max-connections", optarg, "1..1000000");
      o->max_conn = (unsigned)v;
      break;
    case 'P':
      if(vs_cli_parse_uint(optarg, 1, 1000000, &v))
        return bad("--max-connections-per-ip", optarg, "1..1000000");
      o->max_conn_ip = (unsigned)v;
      break;
    case 'H':
      if(vs_cli_parse_uint(optarg, 1, 86400, &v))
        return bad("--header-timeout", optarg, "1..86400 seconds");
      o->header_timeout = (unsigned)v;
      break;
    case 'B':
      if(vs_cli_parse_size(optarg, &o->min_rate))
        return bad("--min-body-rate", optarg, "bytes per second, e.g. 4KiB");
      break;
    case 'W':
      if(vs_cli_parse_uint(optarg, 1, 86400, &v))
        return bad("--body-rate-window", optarg, "1..86400 seconds");
      o->rate_window = (unsigned)v;
      break;
    case 'e':
      if(vs_on_existing_parse(optarg, &o->on_existing))
        return bad("--on-existing", optarg, "version, reject or overwrite");
      break;
    case OPT_DOMAIN:
      if(!domain_ok(optarg))
        return bad("--domain", optarg, "a DNS name such as s3.example.com "
                   "(no scheme, port or leading/trailing dot)");
      o->domain = optarg;
      break;
    case OPT_NO_SIGV2:
      o->no_sigv2 = 1;
      break;
    case OPT_ETAG:
      if(strcmp(optarg, "md5") && strcmp(optarg, "sha256"))
        return bad("--etag", optarg, "md5 or sha256");
      o->etag_sha256 = !strcmp(optarg, "sha256");
      break;
    case OPT_ALLOW_BUCKET_CREATE:
      o->allow_bucket_create = 1;
      break;
    case OPT_ALLOW_PURGE:
      o->allow_purge = 1;
      break;
    case OPT_RETENTION:
      if(vs_cli_parse_uint(optarg, 0, 36500, &v))
        return bad("--retention", optarg, "0..36500 days");
      o->retention_days = (unsigned)v;
      break;
    case OPT_MPU_EXPIRY:
      if(vs_cli_parse_duration(optarg, &o->mpu_expiry_s) ||
         o->mpu_expiry_s < 1 || o->mpu_expiry_s > 3650LL * 86400)
        return bad("--multipart-expiry", optarg, "a duration of 1s to "
                   "3650d, e.g. 90s, 2h, 7d");
      break;
    case OPT_STORE:
      o->store_url = optarg;
      break;
    case 'h':
      usage(stdout);
      return -1;
    case OPT_MANIFEST_BUCKET:
    case OPT_MANIFEST_ROTATE_SEC:
    case OPT_MANIFEST_ROTATE_EVENTS:
    case OPT_MANIFEST_KEEP_SHIPPED:
      if((c = ship_option(&o->ship, c, optarg)))
        return c;
      break;
    default:
      usage(stderr);
      return VS_EXIT_USAGE;
    }
  }
  if(optind < argc)
    return bad("argument", argv[optind], "serve takes no arguments");
  if(!o->n_buckets)
    o->buckets[o->n_buckets++] = "videos";
  if(o->s3_endpoint && strncmp(o->s3_endpoint, "http://", 7) &&
     strncmp(o->s3_endpoint, "https://", 8))
    return bad("--s3-endpoint", o->s3_endpoint, "an http(s):// URL");
  if(o->ship.url && !o->s3_endpoint)
    return bad("--manifest-bucket", o->ship.url, "needs --s3-endpoint");
  if(o->ship.keep && !o->ship.url)
    return bad("--manifest-keep-shipped", o->ship.keep, "needs "
               "--manifest-bucket (only shipped segments are removed)");
  if(!o->ship.keep && o->store_url) {
    o->ship.keep = "24h";
    o->ship.keep_s = SHIP_KEEP_S3_S;
  }
  return o->store_url ? check_s3_store(o) : 0;
}

/* The bucket hooks HEAD for s3:// targets; its keys come from the
 * environment only (never argv). */
static int s3_target(const serve_opts *o, vs_s3_target *t)
{
  memset(t, 0, sizeof(*t));
  if(!o->s3_endpoint)
    return 0;
  t->endpoint = o->s3_endpoint;
  t->region = o->s3_region ? o->s3_region : o->region;
  t->key_id = getenv("VSINK_S3_ACCESS_KEY_ID");
  t->secret = getenv("VSINK_S3_SECRET_ACCESS_KEY");
  if(!t->key_id || !t->secret) {
    fprintf(stderr, "vsink serve: --s3-endpoint needs VSINK_S3_ACCESS_KEY_ID "
            "and VSINK_S3_SECRET_ACCESS_KEY in the environment\n");
    return VS_EXIT_USAGE;
  }
  return 0;
}

/* Enough descriptors for the connection limit: raise the soft limit to the
 * hard one. */
static void raise_nofile(void)
{
  struct rlimit rl;
  if(!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Where a client on this machine reaches the sink: a wildcard listen
 * address is not an address to send requests to. */
static void client_endpoint(const char *listen, unsigned port, char *out,
                            size_t cap)
{
  const char *host = listen;
  int n = (int)(strrchr(listen, ':') - listen); /* parse_listen checked */
  if(n == 0 || !strncmp(listen, "0.0.0.0:", 8))
    host = "127.0.0.1", n = 9;
  else if(!strncmp(listen, "[::]:", 5))
    host = "[::1]", n = 5;
  snprintf(out, cap, "http://%.*s:%u", n, host, port);
}

static void print_ready(const serve_opts *o, vs_server *srv, vs_keyring *kr)
{
  const char *kid, *secret;
  char endpoint[300], path[300], *url = NULL;
  vs_sigv4_creds c = {NULL, NULL, o->region, "s3"};
  vs_presign_req pr = {"PUT", endpoint, path, NULL,
                       vs_now_ms(NULL, NULL) / 1000, 3600};
  size_t i;
  client_endpoint(o->listen, vs_server_port(srv), endpoint, sizeof(endpoint));
  snprintf(path, sizeof(path), "/%s/example.mp4", o->buckets[0]);
  printf("vsink: listening on %s (buckets:", endpoint);
  for(i = 0; i < o->n_buckets; i++)
    printf(" %s", o->buckets[i]);
  printf(")\n");
  if(!vs_keyring_first(kr, &kid, &secret)) {
    c.key_id = kid;
    c.secret = secret;
    if(!vs_sigv4_presign(&c, &pr, &url, NULL))
      printf("upload example (valid 1 h):\n  curl -T video.mp4 '%s'\n", url);
    free(url);
  }
  fflush(stdout);
}

/* The cluster store: parts spooled under DATA/spool, intents kept in
 * DATA/state/s3 (this node's own), versioning required so that nothing a
 * client sends can destroy a version on the cluster. The strings it keeps
 * live in *paths (freed by the caller) or in the options. */
static int open_s3_store(const serve_opts *o, const vs_s3_target *t,
                         vs_store **store, char **paths)
{
  vs_store_s3_opts so;
  vs_err err = {0};
  char *bucket = NULL, *prefix = NULL;
  int rc;
  memset(&so, 0, sizeof(so));
  if(vs_store_s3_url_parse(o->store_url, &bucket, &prefix, &err))
    return VS_EXIT_USAGE; /* parse() checked it */
  paths[0] = bucket;
  paths[1] = prefix;
  if(!(paths[2] = malloc(PATH_MAX)) || !(paths[3] = malloc(PATH_MAX)))
    return VS_EXIT_FAIL;
  snprintf(paths[2], PATH_MAX, "%s/spool", o->data);
  snprintf(paths[3], PATH_MAX, "%s/state/s3", o->data);
  so.t = *t;
  so.bucket = bucket;
  so.prefix = prefix;
  so.spool_dir = paths[2];
  so.state_dir = paths[3];
  so.require_versioning = 1;
  rc = vs_store_s3_open(store, &so, &err);
  if(rc)
    fprintf(stderr, "vsink serve: --store %s at %s: %s\n", o->store_url,
            o->s3_endpoint, err.msg);
  return rc ? VS_EXIT_FAIL : 0;
}

static int open_fs_store(const serve_opts *o, vs_store **store)
{
  vs_store_fs_opts so = {o->data, NULL, NULL};
  vs_err err = {0};
  int cleaned = 0;
  if(vs_store_fs_open(store, &so, &cleaned, &err)) {
    fprintf(stderr, "vsink serve: data folder %s: %s\n", o->data, err.msg);
    return VS_EXIT_FAIL;
  }
  if(cleaned)
    vs_log("warn", "removed %d temporary files left by an earlier crash",
           cleaned);
  return 0;
}

static int open_parts(const serve_opts *o, const vs_s3_target *t,
                      vs_store **store, char **paths, vs_manifest **man,
                      char mdir[PATH_MAX])
{
  vs_manifest_opts mo = {0};
  vs_err err = {0};
  int rc = o->store_url ? open_s3_store(o, t, store, paths)
                        : open_fs_store(o, store);
  if(rc)
    return rc;
  snprintf(mdir, PATH_MAX, "%s/manifest", o->data);
  if(o->manifest)
    snprintf(mdir, PATH_MAX, "%s", o->manifest);
  mo.dir = mdir;
  mo.node = o->node;
  ship_rotation(&o->ship, &mo);
  if(vs_manifest_open(man, &mo, &err)) {
    fprintf(stderr, "vsink serve: manifest %s: %s\n", mo.dir, err.msg);
    vs_store_close(*store);
    return VS_EXIT_FAIL;
  }
  /* Nothing is served until every version has its stored event. */
  if(vs_server_reconcile(*store, mo.dir, NULL, NULL, &err)) {
    fprintf(stderr, "vsink serve: reconciling %s with %s: %s\n", o->data,
            mo.dir, err.msg);
    vs_manifest_close(*man);
    vs_store_close(*store);
    return VS_EXIT_FAIL;
  }
  return 0;
}

static void reload_keys(const serve_opts *o, vs_server *srv)
{
  vs_keyring *kr = NULL;
  if(vs_cli_keys(o->credentials, o->data, 0, &kr)) {
    vs_log("error", "SIGHUP: credentials not reloaded; keeping the old ones");
    return;
  }
  vs_server_set_keys(srv, kr);
  vs_log("info", "SIGHUP: credentials reloaded (%zu keys)",
         vs_keyring_count(kr));
}

/* The main thread only waits for signals: every server thread inherits a
 * mask that blocks them, so no handler runs inside libmicrohttpd. */
static int wait_for_signals(const serve_opts *o, vs_server *srv,
                            sigset_t *set)
{
  for(;;) {
    int sig;
    if(sigwait(set, &sig))
      continue;
    if(sig == SIGHUP) {
      reload_keys(o, srv);
      continue;
    }
    vs_log("info", "%s: stopping; %u requests in flight, waiting up to %u s",
           sig == SIGTERM ? "SIGTERM" : "SIGINT", vs_server_in_flight(srv),
           o->shutdown_timeout);
    unsigned aborted = vs_server_shutdown(srv, o->shutdown_timeout);
    vs_log("info", "stopped; %u requests aborted", aborted);
    return 0;
  }
}

static int serve(serve_opts *opts);

int vs_cli_serve(int argc, char **argv)
{
  serve_opts o;
  int rc = parse(argc, argv, &o);
  if(!rc)
    rc = serve(&o);
  free(o.ship.bucket); /* parsed by --manifest-bucket */
  free(o.ship.prefix);
  return rc < 0 ? VS_EXIT_OK : rc;
}

static int serve(serve_opts *opts)
{
  serve_opts o = *opts;
  vs_store *store = NULL;
  vs_manifest *man = NULL;
  vs_keyring *kr = NULL;
  vs_server *srv = NULL;
  vs_server_config cfg;
  vs_s3_target s3;
  vs_ship *ship = NULL;
  vs_err err = {0};
  sigset_t set;
  char state[PATH_MAX], buckets_dir[PATH_MAX], mdir[PATH_MAX];
  char *store_paths[4] = {0};
  size_t i;
  int rc;
  if((rc = s3_target(&o, &s3)))
    return rc;
  snprintf(state, sizeof(state), "%s/state", o.data);
  snprintf(buckets_dir, sizeof(buckets_dir), "%s/buckets", o.data);
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  raise_nofile();
  if((rc = open_parts(&o, &s3, &store, store_paths, &man, mdir)))
    goto out;
  if((rc = ship_begin(&o, &s3, man, store, mdir, &ship)))
    goto out;
  if(vs_cli_keys(o.credentials, o.data, 1, &kr)) {
    rc = VS_EXIT_FAIL;
    goto out;
  }
  cfg = (vs_server_config){
    .listen = o.listen, .buckets = o.buckets, .n_buckets = o.n_buckets,
    .region = o.region, .max_object_size = o.max_object_size,
    .threads = o.threads, .on_existing = o.on_existing,
    .idle_timeout_s = o.idle_timeout, .max_connections = o.max_conn,
    .max_connections_per_ip = o.max_conn_ip,
    .header_timeout_s = o.header_timeout,
    .min_body_rate = o.min_rate ? o.min_rate : UINT64_MAX,
    .body_rate_window_s = o.rate_window, .store = store,
    .manifest = man, .keys = kr, .state_dir = state,
    .s3 = o.s3_endpoint ? &s3 : NULL};
  cfg.allow_bucket_create = o.allow_bucket_create;
  cfg.allow_purge = o.allow_purge;
  cfg.retention_days = o.retention_days;
  cfg.buckets_dir = buckets_dir;
  cfg.no_sigv2 = o.no_sigv2;
  cfg.domain = o.domain;
  cfg.etag_sha256 = o.etag_sha256;
  cfg.mpu_expiry_ms = (uint64_t)o.mpu_expiry_s * 1000;
  cfg.ship = ship;
  if(vs_server_start(&srv, &cfg, &err)) {
    fprintf(stderr, "vsink serve: %s\n", err.msg);
    vs_keyring_free(kr);
    rc = VS_EXIT_FAIL;
    goto out;
  }
  print_ready(&o, srv, kr);
  rc = wait_for_signals(&o, srv, &set);
out:
  vs_server_free(srv);
  vs_ship_stop(ship);
  vs_manifest_close(man);
  ship_end(ship);
  vs_store_close(store);
  for(i = 0; i < 4; i++)
    free(store_paths[i]);
  return rc;
}
