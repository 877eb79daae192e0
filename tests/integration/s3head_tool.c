/* vsink-s3head: a test-only command over the S3 client (include/vsink/s3.h),
 * so that the integration tests can prove vs_s3_head and vs_s3_presign_put
 * against a real S3 server before the CLI exposes them.
 *
 *   vsink-s3head --endpoint URL [--region R] [--skew S] [--timeout-ms N]
 *                BUCKET KEY
 *     prints bytes=, etag=, content_type=, mtime_ms=, version_id=, sha256=
 *   vsink-s3head --endpoint URL --presign-put [--date UNIX] [--expires S]
 *                BUCKET KEY
 *     prints the URL
 *
 * Credentials: VSINK_ACCESS_KEY_ID and VSINK_SECRET_ACCESS_KEY. On failure
 * the exit status is the vs_code and stderr says "<code name>: <message>". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsink/s3.h"

typedef struct tool_opts {
  vs_s3_target t;
  int64_t skew_ms;
  int presign;
  int64_t date;
  int64_t expires;
} tool_opts;

static int64_t skewed_now(void *ctx)
{
  const tool_opts *o = ctx;
  return vs_now_ms(NULL, NULL) + o->skew_ms;
}

static int usage(void)
{
  fprintf(stderr, "usage: vsink-s3head --endpoint URL [--region R] "
                  "[--skew SECONDS] [--timeout-ms N] [--presign-put "
                  "[--date UNIX] [--expires SECONDS]] BUCKET KEY\n");
  return 64;
}

static int parse(int argc, char **argv, tool_opts *o)
{
  static const struct option longopts[] = {
    {"endpoint", required_argument, NULL, 'E'},
    {"region", required_argument, NULL, 'r'},
    {"skew", required_argument, NULL, 's'},
    {"timeout-ms", required_argument, NULL, 'T'},
    {"presign-put", no_argument, NULL, 'p'},
    {"date", required_argument, NULL, 'd'},
    {"expires", required_argument, NULL, 'e'},
    {NULL, 0, NULL, 0}};
  int c;
  while((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch(c) {
    case 'E': o->t.endpoint = optarg; break;
    case 'r': o->t.region = optarg; break;
    case 's': o->skew_ms = strtoll(optarg, NULL, 10) * 1000; break;
    case 'T': o->t.timeout_ms = strtol(optarg, NULL, 10); break;
    case 'p': o->presign = 1; break;
    case 'd': o->date = strtoll(optarg, NULL, 10); break;
    case 'e': o->expires = strtoll(optarg, NULL, 10); break;
    default: return -1;
    }
  }
  return argc - optind == 2 ? 0 : -1;
}

static void print_info(const vs_object_info *i)
{
  printf("bytes=%llu\netag=%s\ncontent_type=%s\nmtime_ms=%lld\n"
         "version_id=%s\nsha256=%s\n", (unsigned long long)i->bytes, i->etag,
         i->content_type, (long long)i->mtime_ms, i->version_id, i->sha256);
}

int main(int argc, char **argv)
{
  tool_opts o = {{0}, 0, 0, 0, 3600};
  vs_object_info info;
  vs_err err = {0};
  char *url = NULL;
  int rc;
  if(parse(argc, argv, &o))
    return usage();
  o.t.key_id = getenv("VSINK_ACCESS_KEY_ID");
  o.t.secret = getenv("VSINK_SECRET_ACCESS_KEY");
  o.t.now = skewed_now;
  o.t.now_ctx = &o;
  if(o.presign) {
    rc = vs_s3_presign_put(&o.t, argv[optind], argv[optind + 1],
                           o.date ? o.date : (int64_t)time(NULL), o.expires,
                           &url, &err);
    if(!rc)
      printf("%s\n", url);
    free(url);
  }
  else {
    rc = vs_s3_head(&o.t, argv[optind], argv[optind + 1], &info, &err);
    if(!rc)
      print_info(&info);
  }
  if(rc)
    fprintf(stderr, "%s: %s\n", vs_code_name(rc), err.msg);
  return rc;
}
