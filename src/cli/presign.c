/* vsink presign: prints a SigV4 (--sigv2: SigV2) presigned URL for BUCKET/KEY,
 * the same URL botocore's generate_presigned_url makes, path-style. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/utf8.h"
#include "vsink/store.h"
#include "vsink/sigv4.h"

#define MAX_KEY 1024 /* bytes, S3's limit */

typedef struct presign_opts {
  const char *method;
  const char *endpoint;
  const char *region;
  const char *credentials;
  const char *data;
  const char *target; /* BUCKET/KEY */
  int64_t expires;
  int64_t time;
  int sigv2;          /* --sigv2: Signature Version 2's query form */
} presign_opts;

static void usage(FILE *f)
{
  fprintf(f,
    "usage: vsink presign [OPTIONS] BUCKET/KEY\n"
    "Prints a presigned URL (AWS Signature V4, query form, path-style).\n\n"
    "  --method M         PUT, GET, HEAD or POST (default PUT)\n"
    "  --expires SECONDS  1..604800 (default 3600)\n"
    "  --endpoint URL     http(s)://host[:port] (default "
    "http://127.0.0.1:9000)\n"
    "  --region R         default us-east-1\n"
    "  --credentials FILE 'KEYID SECRET' lines (default: the environment's\n"
    "                     VSINK_ACCESS_KEY_ID/VSINK_SECRET_ACCESS_KEY, then\n"
    "                     DATA_DIR/credentials)\n"
    "  --data DIR         data folder (default ./vsink-data)\n"
    "  --date YYYYMMDDTHHMMSSZ  signing time, for reproducible URLs "
    "(default now)\n"
    "  --sigv2            Signature Version 2 instead (AWSAccessKeyId, "
    "Expires,\n"
    "                     Signature: botocore's default for a custom "
    "endpoint)\n\n"
    "KEY is the object key as is (spaces, unicode, '+', '%%' are encoded "
    "here).\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "vsink presign: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n'vsink presign --help' lists the options.\n");
  return VS_EXIT_USAGE;
}

static int parse_expires(const char *s, int64_t *out)
{
  size_t i, n = strlen(s);
  *out = 0;
  for(i = 0; i < n && i < 7; i++) {
    if(s[i] < '0' || s[i] > '9')
      break;
    *out = *out * 10 + (s[i] - '0');
  }
  return n && i == n && *out >= 1 && *out <= VS_SIGV4_MAX_EXPIRES ? 0 : -1;
}

static int parse_method(const char *s, const char **out)
{
  static const char *const methods[] = {"PUT", "GET", "HEAD", "POST"};
  size_t i;
  for(i = 0; i < 4; i++)
    if(!strcasecmp(s, methods[i])) {
      *out = methods[i];
      return 0;
    }
  return -1;
}

static int parse_region(const char *s)
{
  size_t n = strlen(s);
  return n && n < 64 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n ? 0 : -1;
}

static int parse_option(int c, const char *arg, presign_opts *o)
{
  switch(c) {
  case 'm':
    if(parse_method(arg, &o->method))
      return bad("--method '%s': use PUT, GET, HEAD or POST", arg);
    return 0;
  case 'e':
    if(parse_expires(arg, &o->expires))
      return bad("--expires '%s': a whole number of seconds from 1 to %d",
                 arg, VS_SIGV4_MAX_EXPIRES);
    return 0;
  case 'E':
    o->endpoint = arg;
    return 0;
  case 'r':
    if(parse_region(arg))
      return bad("--region '%s': lowercase letters, digits and '-', like "
                 "us-east-1", arg);
    o->region = arg;
    return 0;
  case 'c':
    o->credentials = arg;
    return 0;
  case 'd':
    o->data = arg;
    return 0;
  case 'V':
    o->sigv2 = 1;
    return 0;
  case 't':
    if(vs_time_parse_amz(arg, &o->time))
      return bad("--date '%s': use YYYYMMDDTHHMMSSZ (UTC), like "
                 "20260101T120000Z", arg);
    return 0;
  }
  return bad("unexpected option");
}

/* 0, -1 for help, or an exit status. */
static int parse(int argc, char **argv, presign_opts *o)
{
  static const struct option longopts[] = {
    {"method", 1, 0, 'm'}, {"expires", 1, 0, 'e'}, {"endpoint", 1, 0, 'E'},
    {"region", 1, 0, 'r'}, {"credentials", 1, 0, 'c'}, {"data", 1, 0, 'd'},
    {"date", 1, 0, 't'}, {"help", 0, 0, 'h'}, {"sigv2", 0, 0, 'V'},
    {0, 0, 0, 0}};
  int c, rc;
  *o = (presign_opts){"PUT", "http://127.0.0.1:9000", "us-east-1", NULL,
                      "./vsink-data", NULL, 3600,
                      vs_now_ms(NULL, NULL) / 1000, 0};
  opterr = 0;
  optind = 1;
  while((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    if(c == 'h') {
      usage(stdout);
      return -1;
    }
    if(c == ':')
      return bad("%s needs a value", argv[optind - 1]);
    if(c == '?')
      return bad("unknown option '%s'", argv[optind - 1]);
    if((rc = parse_option(c, optarg, o)))
      return rc;
  }
  if(optind != argc - 1)
    return bad(optind == argc ? "which object? give BUCKET/KEY"
                              : "give exactly one BUCKET/KEY");
  o->target = argv[optind];
  return 0;
}

static int object_path(const char *target, vs_buf *path)
{
  const char *slash = strchr(target, '/');
  size_t blen = slash ? (size_t)(slash - target) : 0;
  if(!slash || !slash[1])
    return bad("'%s': give BUCKET/KEY, like videos/clip.mp4", target);
  {
    char bucket[64];
    vs_err err = {0};
    snprintf(bucket, sizeof(bucket), "%.*s", (int)(blen < 63 ? blen : 63),
             target);
    if(blen > 63 || vs_store_check_bucket(bucket, &err))
      return bad("bucket '%.*s': %s", (int)blen, target,
                 blen > 63 ? "at most 63 characters" : err.msg);
  }
  if(strlen(slash + 1) > MAX_KEY)
    return bad("key is %zu bytes; S3 allows at most %d", strlen(slash + 1),
               MAX_KEY);
  if(!vs_utf8_valid(slash + 1, strlen(slash + 1)))
    return bad("key is not valid UTF-8");
  vs_buf_addf(path, "/%s", target);
  return path->failed ? VS_EXIT_FAIL : 0;
}

static int sign(const presign_opts *o, const char *path, const char *key_id,
                const char *secret, char **url)
{
  vs_sigv4_creds c = {key_id, secret, o->region, "s3"};
  vs_presign_req r = {o->method, o->endpoint, path, NULL, o->time,
                      o->expires};
  vs_err err = {0};
  int rc = o->sigv2 ? vs_sigv2_presign(&c, &r, url, &err)
                    : vs_sigv4_presign(&c, &r, url, &err);
  if(rc == VS_ERR_INVALID)
    return bad("%s", err.msg);
  if(rc) {
    fprintf(stderr, "vsink presign: %s\n", err.msg);
    return VS_EXIT_FAIL;
  }
  return 0;
}

int vs_cli_presign(int argc, char **argv)
{
  presign_opts o;
  vs_buf path = VS_BUF_INIT;
  vs_keyring *kr = NULL;
  const char *id, *secret;
  char *url = NULL;
  int rc = parse(argc, argv, &o);
  if(rc)
    return rc < 0 ? VS_EXIT_OK : rc;
  if((rc = object_path(o.target, &path)))
    goto out;
  /* Check the options with a stand-in key first, so that a bad option is
   * reported as one whether or not credentials are set up. */
  if((rc = sign(&o, path.data, "CHECK", "CHECK", &url)))
    goto out;
  free(url);
  url = NULL;
  if(vs_cli_keys(o.credentials, o.data, 0, &kr) ||
     vs_keyring_first(kr, &id, &secret)) {
    rc = VS_EXIT_FAIL;
    goto out;
  }
  if(!(rc = sign(&o, path.data, id, secret, &url)))
    printf("%s\n", url);
out:
  free(url);
  vs_buf_free(&path);
  vs_keyring_free(kr);
  return rc;
}
