/* GET and HEAD of /<bucket>/<key>: conditions, Range or partNumber, the
 * headers S3 sends, and the body from the version's file (sendfile) or,
 * for a store without local files, from its stream; such a store's open
 * (a HEAD on its cluster) is done on the commit pool. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/internal.h"
#include "server/objmeta.h"
#include "server/precond.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/log.h"

static void object_headers(vs__req *r, struct MHD_Response *resp,
                           const vs_object_info *info)
{
  char etag[70], date[30];
  snprintf(etag, sizeof(etag), "\"%s\"", info->etag);
  vs_time_http(info->mtime_ms / 1000, date);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
  MHD_add_response_header(resp, "x-vsink-sha256", info->sha256);
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION)
    MHD_add_response_header(resp, "x-amz-version-id", info->version_id);
}

/* x-amz-checksum-mode: ENABLED asks for the checksum stored with the
 * object. It describes the whole object: a range gets none (as from S3),
 * or a client that checks it would check a part against the whole. */
static void checksum_headers(vs__req *r, struct MHD_Response *resp,
                             const vs_object_info *info)
{
  const char *mode = vs__header(r->conn, "x-amz-checksum-mode");
  char name[40];
  if(!mode || strcasecmp(mode, "ENABLED") || !info->checksum_alg[0] ||
     !info->checksum[0])
    return;
  snprintf(name, sizeof(name), "x-amz-checksum-%s", info->checksum_alg);
  MHD_add_response_header(resp, name, info->checksum);
  MHD_add_response_header(resp, "x-amz-checksum-type", "FULL_OBJECT");
}

/* 304 carries what identifies the object (RFC 9110 §15.4.5), no body */
static enum MHD_Result not_modified(vs__req *r, const vs_object_info *info,
                                    int fd)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  close(fd);
  if(!resp)
    return MHD_NO;
  object_headers(r, resp, info);
  vs__meta_add_cache(resp, info);
  return vs__send(r, MHD_HTTP_NOT_MODIFIED, resp);
}

/* 416 says how large the object is (RFC 9110 §15.5.17), so the client
 * can ask again for a range that exists. */
static enum MHD_Result range_unsatisfiable(vs__req *r, uint64_t size)
{
  char cr[40];
  snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
  r->extra_header = "Content-Range";
  snprintf(r->extra_value, sizeof(r->extra_value), "%s", cr);
  return vs__reject(r, VS__S3_INVALID_RANGE, NULL);
}

/* partNumber=N: 0 when absent, else 1..10000 (S3's bounds); -1 with the
 * error in code/msg. It stands for a range, so not beside a Range. */
static int parse_part_number(vs__req *r, unsigned *part, vs__s3code *code,
                             char *msg, size_t cap)
{
  char *v = vs__query_get(r->raw_uri, "partNumber"), *end;
  unsigned long n;
  *part = 0;
  if(!v)
    return 0;
  n = strtoul(v, &end, 10);
  if(!*v || *end || v[0] == '-' || v[0] == '+' || n < 1 || n > 10000) {
    free(v);
    *code = VS__S3_INVALID_ARGUMENT;
    snprintf(msg, cap, "Part number must be an integer between 1 and "
             "10000, inclusive");
    return -1;
  }
  free(v);
  if(vs__header(r->conn, MHD_HTTP_HEADER_RANGE)) {
    *code = VS__S3_INVALID_REQUEST;
    snprintf(msg, cap, "Cannot specify both Range header and partNumber "
             "query parameter");
    return -1;
  }
  *part = (unsigned)n;
  return 0;
}

/* The bytes of part `part` of the object, and how many parts it has (0:
 * none to announce). An object stored by one PUT is its own part 1, the
 * whole object, and S3 announces no x-amz-mp-parts-count for it; an
 * object completed from parts answers with its part's range (the store
 * keeps the parts' sizes) and their count. Any other part number is 416
 * InvalidPartNumber (-1); a store that keeps no part sizes, -2 (501). */
static int part_range(vs__req *r, const vs_object_info *info, unsigned part,
                      uint64_t *off, uint64_t *len, unsigned *count)
{
  const vs_store *st = r->srv->cfg.store;
  *count = 0;
  if(info->parts_count) {
    if(!st->ops->mpu || !st->ops->mpu->part_range)
      return -2; /* the store keeps no part sizes (S3): not a guess */
    *count = info->parts_count;
    return vs_store_part_range(r->srv->cfg.store, r->bucket, r->key,
                               info->version_id, part, off, len, NULL)
             ? -1 : 0;
  }
  if(part != 1)
    return -1;
  *off = 0;
  *len = info->bytes;
  return 0;
}

/* The conditional headers, evaluated against the version served: 200 to
 * go on, or 304/412 (precond.c). If-Range (RFC 9110 §13.1.5) is a
 * condition on the Range only: an ETag or a date that no longer describes
 * the object turns the ranged answer into the whole object. */
static unsigned conditions(vs__req *r, const vs_object_info *info,
                           int *range_ok)
{
  const char *ir = vs__header(r->conn, "If-Range");
  int64_t t;
  vs__conds c = {vs__header(r->conn, MHD_HTTP_HEADER_IF_MATCH),
                 vs__header(r->conn, MHD_HTTP_HEADER_IF_NONE_MATCH),
                 vs__header(r->conn, MHD_HTTP_HEADER_IF_MODIFIED_SINCE),
                 vs__header(r->conn, MHD_HTTP_HEADER_IF_UNMODIFIED_SINCE)};
  *range_ok = 1;
  if(ir)
    *range_ok = !vs__http_date_parse(ir, &t)
                  ? t == info->mtime_ms / 1000
                  : strncmp(ir, "W/", 2) && vs__etag_listed(ir, info->etag, 1);
  return vs__precond_eval(&c, info->etag, info->mtime_ms / 1000);
}

/* What of the object is served: ranged 0 for [*off, *off + *len) (206),
 * 1 for all of it (200); -1 when the answer is already queued (416). */
static int choose_bytes(vs__req *r, const vs_object_info *info,
                        unsigned part, int range_ok, uint64_t *off,
                        uint64_t *len, unsigned *parts)
{
  int ranged;
  *off = 0;
  *len = info->bytes;
  *parts = 0;
  if(part) {
    int rc = part_range(r, info, part, off, len, parts);
    if(rc) {
      vs__reject(r, rc == -2 ? VS__S3_NOT_IMPLEMENTED
                         : VS__S3_INVALID_PART_NUMBER,
             rc == -2 ? "partNumber of an object stored in parts: not "
                        "served by this sink's store" : NULL);
      return -1;
    }
    /* a part is a range, even the whole object (S3: 206) but in an
     * empty object, where no byte range exists */
    return info->bytes ? 0 : 1;
  }
  if(!range_ok)
    return 1;
  ranged = vs__range_parse(vs__header(r->conn, MHD_HTTP_HEADER_RANGE),
                           info->bytes, off, len);
  if(ranged < 0) {
    range_unsatisfiable(r, info->bytes);
    return -1;
  }
  if(ranged > 0) {
    *off = 0;
    *len = info->bytes;
  }
  return ranged;
}

/* The answer's body: [off, off + len) of the version's file, or of the
 * store's stream when it has no file (fd < 0); -1 when a failure was
 * answered instead. */
static int open_body(vs__req *r, const vs_object_info *info, int fd,
                     uint64_t off, uint64_t len, struct MHD_Response **resp)
{
  vs_err err = {0};
  int rc;
  if(fd < 0) {
    rc = vs__stream_response(r, info, r->key, off, len, resp, &err);
    if(rc) {
      vs_log("error", "GET %s/%s: %s", r->bucket, r->key, err.msg);
      vs__reject(r, vs__s3_of_store(rc, VS__S3_NO_SUCH_KEY), NULL);
      return -1;
    }
    return 0;
  }
  /* the kernel's read-ahead doubles for a sequential reader: a cold GET
   * waits less on the disk between libmicrohttpd's 128 KiB sendfiles */
  posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_SEQUENTIAL);
  if(!(*resp = MHD_create_response_from_fd_at_offset64(len, fd, off))) {
    close(fd);
    vs__reject(r, VS__S3_INTERNAL, "out of memory");
    return -1;
  }
  return 0;
}

/* The version asked for (versionId), opened: its info, and its file (fd)
 * or -1 for a store that streams. 0 or the store's code. */
static int open_version(vs__req *r, vs_object_info *info, int *fd,
                        int *by_version)
{
  vs_err err = {0};
  char *vid = vs__query_get(r->raw_uri, "versionId");
  const char *want = vid && strcmp(vid, "null") ? vid : NULL;
  int rc = vs_store_open(r->srv->cfg.store, r->bucket, r->key, want, fd,
                         info, &err);
  *by_version = want != NULL;
  free(vid);
  return rc;
}

/* A store without local files opens a version by asking its cluster (a
 * HEAD): on the pool, so that the event thread's other connections do not
 * wait on the cluster. The outcome is done_info and done_code; such a
 * store has no file to hand over (it streams: vs__stream_response). */
static void open_work(vs__req *r)
{
  int fd = -1, by_version;
  int rc = open_version(r, r->done_info, &fd, &by_version);
  if(fd >= 0)
    close(fd);
  r->done_code = rc ? vs__s3_of_store(rc, by_version ? VS__S3_NO_SUCH_VERSION
                                                     : VS__S3_NO_SUCH_KEY)
                    : VS__S3_NONE;
}

static enum MHD_Result get_opened(vs__req *r, vs_object_info *info, int fd,
                                  unsigned part, int by_version);

/* Checked first; then opened here, or on the pool (open_work) for a
 * store that has no local files. */
static enum MHD_Result get_object(vs__req *r)
{
  vs_object_info *info;
  vs__s3code code = VS__S3_NONE;
  char msg[200];
  unsigned part;
  int fd = -1, rc, by_version;
  if(vs__meta_overrides_check(r, &code, msg, sizeof(msg)) ||
     parse_part_number(r, &part, &code, msg, sizeof(msg)))
    return vs__reject(r, code, msg);
  if(vs_store_is_remote(r->srv->cfg.store)) {
    r->part_number = part; /* a GET's partNumber, checked: kept for later */
    r->phase = 3;
    if(vs__commit_submit(r, open_work))
      return vs__reject(r, VS__S3_UNAVAILABLE, NULL);
    return MHD_YES;
  }
  if(!(info = malloc(sizeof(*info))))
    return vs__reject(r, VS__S3_INTERNAL, "out of memory");
  rc = open_version(r, info, &fd, &by_version);
  if(rc) {
    free(info);
    return vs__reject(r, vs__s3_of_store(rc, by_version
                                                 ? VS__S3_NO_SUCH_VERSION
                                                 : VS__S3_NO_SUCH_KEY),
                      NULL);
  }
  return get_opened(r, info, fd, part, by_version);
}

/* The pool opened it (open_work): the answer, on the event thread. */
static enum MHD_Result get_pooled(vs__req *r)
{
  vs_object_info *info = r->done_info;
  char *vid;
  int by_version;
  r->phase = 2;
  if(!info || r->done_code)
    return vs__reject(r, info ? r->done_code : VS__S3_INTERNAL, NULL);
  r->done_info = NULL; /* get_opened's now */
  vid = vs__query_get(r->raw_uri, "versionId");
  by_version = vid && strcmp(vid, "null");
  free(vid);
  return get_opened(r, info, -1, r->part_number, by_version);
}

/* info (freed here) and fd (-1: the store streams) of the version: the
 * conditions, the range or part, the headers and the body. */
static enum MHD_Result get_opened(vs__req *r, vs_object_info *info, int fd,
                                  unsigned part, int by_version)
{
  struct MHD_Response *resp;
  uint64_t off, len;
  unsigned parts, status;
  int ranged, range_ok;
  if(info->delete_marker) /* delete.c: S3's answers for a marker */
    return vs__delete_marker_read(r, info, fd, by_version);
  status = conditions(r, info, &range_ok);
  if(status != 200) {
    enum MHD_Result ret;
    if(status == 304)
      ret = not_modified(r, info, fd);
    else {
      close(fd);
      ret = vs__reject(r, VS__S3_PRECONDITION, NULL);
    }
    free(info);
    return ret;
  }
  ranged = choose_bytes(r, info, part, range_ok, &off, &len, &parts);
  if(ranged < 0 && fd >= 0)
    close(fd);
  if(ranged < 0 || open_body(r, info, fd, off, len, &resp)) {
    free(info);
    return MHD_YES; /* answered: the range's 416 or the store's error */
  }
  object_headers(r, resp, info);
  vs__meta_add(r, resp, info);
  if(ranged != 0 || (part && off == 0 && len == info->bytes))
    checksum_headers(r, resp, info);
  if(parts) {
    char n[12];
    snprintf(n, sizeof(n), "%u", parts);
    MHD_add_response_header(resp, "x-amz-mp-parts-count", n);
  }
  if(ranged == 0) {
    char cr[80];
    snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
             off + len - 1, info->bytes);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
  }
  free(info);
  if(strcmp(r->method, "HEAD"))
    r->bytes_out += len;
  return vs__send(r, ranged == 0 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK,
                  resp);
}

/* ---- the handler (s3api.c) --------------------------------------------- */

enum MHD_Result vs__get_object(vs__req *r, const char *data, size_t *size)
{
  (void)data;
  *size = 0;
  if(r->phase == 3)
    return get_pooled(r);
  if(r->phase)
    return MHD_YES; /* answered on the first call */
  r->phase = 2;
  return get_object(r);
}
