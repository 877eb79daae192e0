/* vsink-s3tool: a test-only command over the S3 client's store calls
 * (include/vsink/s3.h), so that tests/integration/test_rgw_s3client.py can
 * prove each against a real S3 server before the S3 store uses them.
 *
 *   vsink-s3tool --endpoint URL [options] COMMAND BUCKET [ARGS]
 *     put BUCKET KEY FILE          [--if-none-match] [--mem] [--type T]
 *                                  [--header name:value]...
 *     mpu-create BUCKET KEY        [--type T] [--header name:value]...
 *     mpu-part BUCKET KEY ID N FILE OFF LEN             prints etag=
 *     mpu-complete BUCKET KEY ID N:ETAG...              prints etag=, version_id=
 *     mpu-abort BUCKET KEY ID
 *     mpu-list BUCKET [--prefix P] [--key-marker K --upload-marker U]
 *     mpu BUCKET KEY FILE PART_SIZE   all of it: create, parts, complete
 *     get BUCKET KEY OUT [--range FIRST-[LAST]] [--version V]
 *     head BUCKET KEY [--version V]    (kept headers: "header\tname:value")
 *     delete BUCKET KEY [--version V]
 *     list BUCKET / versions BUCKET [--prefix P] [--delimiter D]
 *          [--token T] [--key-marker K] [--version-marker V] [--max-keys N]
 *     versioning BUCKET              prints status=never|enabled|suspended
 *
 * Credentials: VSINK_ACCESS_KEY_ID and VSINK_SECRET_ACCESS_KEY. Output:
 * name=value lines, peak_rss_kib= (VmHWM) last; listing entries one per line, tab-separated. On failure
 * the exit status is the vs_code and stderr says "<code name>: <message>". */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vsink/s3.h"

typedef struct tool {
  vs_s3_target t;
  int if_none_match, mem;
  char headers[8192];         /* --header lines, "name:value\n" each */
  vs_s3_write_opts w;
  const char *type, *prefix, *delimiter, *token, *key_marker;
  const char *version_marker, *upload_marker, *version, *range;
  unsigned max_keys;
  int argc;
  char **argv;
} tool;

static int usage(void)
{
  fprintf(stderr, "usage: vsink-s3tool --endpoint URL [options] COMMAND "
                  "BUCKET [ARGS] (see the source)\n");
  return 64;
}

static int parse(int argc, char **argv, tool *o)
{
  static const struct option lo[] = {
    {"endpoint", required_argument, NULL, 'E'},
    {"region", required_argument, NULL, 'r'},
    {"timeout-ms", required_argument, NULL, 'T'},
    {"attempts", required_argument, NULL, 'a'},
    {"if-none-match", no_argument, NULL, 'i'},
    {"mem", no_argument, NULL, 'm'},
    {"type", required_argument, NULL, 't'},
    {"header", required_argument, NULL, 'H'},
    {"prefix", required_argument, NULL, 'p'},
    {"delimiter", required_argument, NULL, 'd'},
    {"token", required_argument, NULL, 'k'},
    {"key-marker", required_argument, NULL, 'K'},
    {"version-marker", required_argument, NULL, 'V'},
    {"upload-marker", required_argument, NULL, 'U'},
    {"version", required_argument, NULL, 'v'},
    {"range", required_argument, NULL, 'R'},
    {"max-keys", required_argument, NULL, 'n'},
    {NULL, 0, NULL, 0}};
  int c;
  while((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch(c) {
    case 'E': o->t.endpoint = optarg; break;
    case 'r': o->t.region = optarg; break;
    case 'T': o->t.timeout_ms = strtol(optarg, NULL, 10); break;
    case 'a': o->t.part_attempts = atoi(optarg); break;
    case 'i': o->if_none_match = 1; break;
    case 'm': o->mem = 1; break;
    case 't': o->type = optarg; break;
    case 'H':
      snprintf(o->headers + strlen(o->headers),
               sizeof(o->headers) - strlen(o->headers), "%s\n", optarg);
      break;
    case 'p': o->prefix = optarg; break;
    case 'd': o->delimiter = optarg; break;
    case 'k': o->token = optarg; break;
    case 'K': o->key_marker = optarg; break;
    case 'V': o->version_marker = optarg; break;
    case 'U': o->upload_marker = optarg; break;
    case 'v': o->version = optarg; break;
    case 'R': o->range = optarg; break;
    case 'n': o->max_keys = (unsigned)strtoul(optarg, NULL, 10); break;
    default: return -1;
    }
  }
  o->argc = argc - optind;
  o->argv = argv + optind;
  o->w.content_type = o->type;
  o->w.headers = o->headers;
  o->w.if_none_match = o->if_none_match;
  return o->argc >= 2 ? 0 : -1;
}

static int need(const tool *o, int n, vs_err *err)
{
  return o->argc == n ? 0 : vs_fail(err, VS_ERR_INVALID, "%s takes %d "
                                    "arguments", o->argv[0], n - 1);
}

static void print_result(const vs_s3_put_result *r)
{
  printf("etag=%s\nversion_id=%s\n", r->etag, r->version_id);
}

/* put: from the file (pread) or, with --mem, from a copy in memory. */
static int cmd_put(tool *o, vs_err *err)
{
  vs_s3_body b = {NULL, -1, 0, 0, NULL};
  vs_s3_put_result r;
  struct stat st;
  char *mem = NULL;
  int rc;
  if((rc = need(o, 4, err)))
    return rc;
  if((b.fd = open(o->argv[3], O_RDONLY)) < 0 || fstat(b.fd, &st))
    return vs_fail_errno(err, errno, "%s", o->argv[3]);
  b.len = (uint64_t)st.st_size;
  if(o->mem) {
    mem = malloc(b.len + 1);
    if(!mem || pread(b.fd, mem, b.len, 0) != (ssize_t)b.len)
      return vs_fail(err, VS_ERR_IO, "reading %s", o->argv[3]);
    b.mem = mem;
  }
  rc = vs_s3_put(&o->t, o->argv[1], o->argv[2], &b, &o->w, &r, err);
  if(!rc)
    print_result(&r);
  free(mem);
  close(b.fd);
  return rc;
}

static int cmd_mpu_part(tool *o, vs_err *err)
{
  vs_s3_body b = {NULL, -1, 0, 0, NULL};
  char etag[VS_S3_ETAG_MAX];
  int rc;
  if((rc = need(o, 8, err)))
    return rc;
  if((b.fd = open(o->argv[5], O_RDONLY)) < 0)
    return vs_fail_errno(err, errno, "%s", o->argv[5]);
  b.off = strtoull(o->argv[6], NULL, 10);
  b.len = strtoull(o->argv[7], NULL, 10);
  rc = vs_s3_mpu_part(&o->t, o->argv[1], o->argv[2], o->argv[3],
                      (unsigned)strtoul(o->argv[4], NULL, 10), &b, etag, err);
  if(!rc)
    printf("etag=%s\n", etag);
  close(b.fd);
  return rc;
}

static int cmd_mpu_complete(tool *o, vs_err *err)
{
  size_t n = o->argc > 4 ? (size_t)o->argc - 4 : 0, i;
  vs_s3_part *parts = calloc(n + 1, sizeof(*parts));
  vs_s3_put_result r;
  int rc = VS_OK;
  for(i = 0; parts && i < n; i++) {
    const char *a = o->argv[4 + i], *colon = strchr(a, ':');
    parts[i].number = (unsigned)strtoul(a, NULL, 10);
    snprintf(parts[i].etag, sizeof(parts[i].etag), "%s",
             colon ? colon + 1 : "");
  }
  if(!parts)
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  else if(!(rc = vs_s3_mpu_complete(&o->t, o->argv[1], o->argv[2],
                                    o->argv[3], parts, n, &r, err)))
    print_result(&r);
  free(parts);
  return rc;
}

/* mpu: the whole upload of FILE in parts of PART_SIZE. */
static int cmd_mpu(tool *o, vs_err *err)
{
  char id[VS_S3_UPLOAD_ID_MAX];
  vs_s3_body b = {NULL, -1, 0, 0, NULL};
  vs_s3_part *parts = NULL;
  vs_s3_put_result r;
  uint64_t size, psize;
  struct stat st;
  size_t n = 0, i;
  int rc;
  if((rc = need(o, 5, err)))
    return rc;
  psize = strtoull(o->argv[4], NULL, 10);
  if((b.fd = open(o->argv[3], O_RDONLY)) < 0 || fstat(b.fd, &st) || !psize)
    return vs_fail_errno(err, errno, "%s", o->argv[3]);
  size = (uint64_t)st.st_size;
  n = (size_t)((size + psize - 1) / psize);
  if(!(parts = calloc(n ? n : 1, sizeof(*parts)))) {
    close(b.fd);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  rc = vs_s3_mpu_create(&o->t, o->argv[1], o->argv[2], &o->w, id, err);
  for(i = 0; !rc && i < n; i++) {
    b.off = i * psize;
    b.len = size - b.off < psize ? size - b.off : psize;
    parts[i].number = (unsigned)i + 1;
    rc = vs_s3_mpu_part(&o->t, o->argv[1], o->argv[2], id, parts[i].number,
                        &b, parts[i].etag, err);
  }
  if(!rc)
    rc = vs_s3_mpu_complete(&o->t, o->argv[1], o->argv[2], id, parts, n, &r,
                            err);
  if(!rc) {
    printf("upload_id=%s\nparts=%zu\n", id, n);
    print_result(&r);
  }
  free(parts);
  close(b.fd);
  return rc;
}

static int cmd_mpu_list(tool *o, vs_err *err)
{
  vs_s3_uploads_page p;
  size_t i;
  int rc = vs_s3_mpu_list(&o->t, o->argv[1], o->prefix, o->key_marker,
                          o->upload_marker, &p, err);
  if(rc)
    return rc;
  for(i = 0; i < p.n; i++)
    printf("upload\t%s\t%s\t%" PRId64 "\n", p.uploads[i].key,
           p.uploads[i].upload_id, p.uploads[i].initiated_ms);
  printf("truncated=%d\nnext_key_marker=%s\nnext_upload_marker=%s\n",
         p.truncated, p.next_key_marker ? p.next_key_marker : "",
         p.next_upload_id_marker ? p.next_upload_id_marker : "");
  vs_s3_uploads_page_free(&p);
  return VS_OK;
}

/* ListParts, every page: "part NUMBER SIZE ETAG" lines. */
static int cmd_mpu_parts(tool *o, vs_err *err)
{
  vs_s3_parts_page p;
  unsigned marker = 0, pages = 0;
  size_t i;
  int rc;
  if((rc = need(o, 4, err)))
    return rc;
  do {
    rc = vs_s3_mpu_parts(&o->t, o->argv[1], o->argv[2], o->argv[3], marker,
                         &p, err);
    if(rc)
      return rc;
    for(i = 0; i < p.n; i++)
      printf("part\t%u\t%" PRIu64 "\t%s\n", p.parts[i].number,
             p.parts[i].size, p.parts[i].etag);
    marker = p.truncated ? p.next_marker : 0;
    pages++;
    vs_s3_parts_page_free(&p);
  } while(marker);
  printf("pages=%u\n", pages);
  return VS_OK;
}

static void print_info(const vs_object_info *i)
{
  const char *p, *nl;
  printf("bytes=%" PRIu64 "\netag=%s\ncontent_type=%s\nmtime_ms=%" PRId64
         "\nversion_id=%s\ndelete_marker=%d\n", i->bytes, i->etag,
         i->content_type, i->mtime_ms, i->version_id, i->delete_marker);
  for(p = i->headers; (nl = strchr(p, '\n')); p = nl + 1)
    printf("header\t%.*s\n", (int)(nl - p), p);
}

static int to_file(void *ctx, const void *p, size_t n)
{
  return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

static int cmd_get(tool *o, vs_err *err)
{
  vs_s3_get_opts g = {o->version, 0, 0, -1};
  vs_object_info info;
  FILE *f;
  int rc;
  if((rc = need(o, 4, err)))
    return rc;
  if(o->range) {
    char *end;
    g.range = 1;
    g.first = strtoull(o->range, &end, 10);
    g.last = end[0] == '-' && end[1] ? strtoll(end + 1, NULL, 10) : -1;
  }
  if(!(f = fopen(o->argv[3], "wb")))
    return vs_fail_errno(err, errno, "%s", o->argv[3]);
  rc = vs_s3_get(&o->t, o->argv[1], o->argv[2], &g, to_file, f, &info, err);
  if(fclose(f) && !rc)
    rc = vs_fail(err, VS_ERR_IO, "writing %s", o->argv[3]);
  if(!rc)
    print_info(&info);
  return rc;
}

static int cmd_head(tool *o, vs_err *err)
{
  vs_object_info info;
  int rc = need(o, 3, err);
  if(!rc)
    rc = vs_s3_head_version(&o->t, o->argv[1], o->argv[2], o->version, &info,
                            err);
  if(!rc)
    print_info(&info);
  else if(rc == VS_ERR_NOTFOUND)
    printf("delete_marker=%d\n", info.delete_marker);
  return rc;
}

static int cmd_delete(tool *o, vs_err *err)
{
  vs_s3_delete_result d;
  int rc = need(o, 3, err);
  if(!rc)
    rc = vs_s3_delete(&o->t, o->argv[1], o->argv[2], o->version, &d, err);
  if(!rc)
    printf("delete_marker=%d\nversion_id=%s\n", d.delete_marker,
           d.version_id);
  return rc;
}

static int cmd_list(tool *o, int versions, vs_err *err)
{
  vs_s3_list_opts lo = {o->prefix, o->delimiter, o->token, o->key_marker,
                        o->version_marker, o->max_keys};
  vs_s3_list_page p;
  size_t i;
  int rc = versions ? vs_s3_list_versions(&o->t, o->argv[1], &lo, &p, err)
                    : vs_s3_list(&o->t, o->argv[1], &lo, &p, err);
  if(rc)
    return rc;
  for(i = 0; i < p.n; i++) {
    const vs_s3_entry *e = &p.entries[i];
    printf("entry\t%s\t%" PRIu64 "\t%s\t%s\t%d\t%d\t%" PRId64 "\n", e->key,
           e->size, e->etag, e->version_id, e->is_latest, e->delete_marker,
           e->mtime_ms);
  }
  for(i = 0; i < p.n_prefixes; i++)
    printf("prefix\t%s\n", p.prefixes[i]);
  printf("truncated=%d\nnext_token=%s\nnext_key_marker=%s\n"
         "next_version_marker=%s\n", p.truncated,
         p.next_token ? p.next_token : "",
         p.next_key_marker ? p.next_key_marker : "",
         p.next_version_marker ? p.next_version_marker : "");
  vs_s3_list_page_free(&p);
  return VS_OK;
}

static int cmd_versioning(tool *o, vs_err *err)
{
  static const char *const names[] = {"never", "enabled", "suspended"};
  int state, rc = vs_s3_bucket_versioning(&o->t, o->argv[1], &state, err);
  if(!rc)
    printf("status=%s\n", names[state]);
  return rc;
}

static int run(tool *o, vs_err *err)
{
  const char *c = o->argv[0];
  char id[VS_S3_UPLOAD_ID_MAX];
  int rc;
  if(!strcmp(c, "put"))
    return cmd_put(o, err);
  if(!strcmp(c, "mpu-create")) {
    if(!(rc = need(o, 3, err)) &&
       !(rc = vs_s3_mpu_create(&o->t, o->argv[1], o->argv[2], &o->w, id,
                               err)))
      printf("upload_id=%s\n", id);
    return rc;
  }
  if(!strcmp(c, "mpu-part"))
    return cmd_mpu_part(o, err);
  if(!strcmp(c, "mpu-complete"))
    return cmd_mpu_complete(o, err);
  if(!strcmp(c, "mpu-abort"))
    return need(o, 4, err) ? err->code
           : vs_s3_mpu_abort(&o->t, o->argv[1], o->argv[2], o->argv[3], err);
  if(!strcmp(c, "mpu-list"))
    return cmd_mpu_list(o, err);
  if(!strcmp(c, "mpu-parts"))
    return cmd_mpu_parts(o, err);
  if(!strcmp(c, "mpu"))
    return cmd_mpu(o, err);
  if(!strcmp(c, "get"))
    return cmd_get(o, err);
  if(!strcmp(c, "head"))
    return cmd_head(o, err);
  if(!strcmp(c, "delete"))
    return cmd_delete(o, err);
  if(!strcmp(c, "list") || !strcmp(c, "versions"))
    return cmd_list(o, c[0] == 'v', err);
  if(!strcmp(c, "versioning"))
    return cmd_versioning(o, err);
  return vs_fail(err, VS_ERR_INVALID, "unknown command %s", c);
}

/* VmHWM, the peak resident set since exec (the tests check memory stays
 * constant however big the object). */
static void print_peak_rss(void)
{
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  while(f && fgets(line, sizeof(line), f))
    if(!strncmp(line, "VmHWM:", 6))
      printf("peak_rss_kib=%ld\n", strtol(line + 6, NULL, 10));
  if(f)
    fclose(f);
}

int main(int argc, char **argv)
{
  tool o;
  vs_err err = {0};
  int rc;
  memset(&o, 0, sizeof(o));
  if(parse(argc, argv, &o))
    return usage();
  o.t.key_id = getenv("VSINK_ACCESS_KEY_ID");
  o.t.secret = getenv("VSINK_SECRET_ACCESS_KEY");
  o.t.retry_base_ms = 50;
  if((rc = run(&o, &err)))
    fprintf(stderr, "%s: %s\n", vs_code_name(rc), err.msg);
  else
    print_peak_rss();
  return rc;
}
