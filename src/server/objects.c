/* PUT of /<bucket>/<key> (GET and HEAD: get.c).
 *
 * A PUT is checked completely (signature, bucket, key, sizes, digests'
 * form, preconditions) on the first call, before a body byte is read. The
 * body then streams into the store through a fixed MHD buffer while it is
 * hashed; only after the store has made it durable and the manifest holds
 * its `stored` event does the client get its 200. Anything that goes wrong
 * leaves no file and no event. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "server/internal.h"
#include "server/objmeta.h"
#include "server/put_headers.h"
#include "server/precond.h"
#include "server/pump.h"
#include "server/waker.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/log.h"
#include "util/uuid.h"

/* After an error found mid-body the rest of the body is read and dropped so
 * that the client gets its answer; past this much, the connection is closed
 * instead (S3 does the same with a client that will not stop). */
#define DRAIN_LIMIT (16ULL << 20)

/* An upload that has sent its first MiB at PIPE_MIN_RATE or faster goes
 * through the pump (pump.h): the SHA-256 (with any x-amz-checksum-*), the
 * MD5 and the writes each on a thread of their own, so that it costs about
 * the time of the slowest of them, and the writes go in aligned MiBs the
 * store writes with O_DIRECT. Smaller or slower bodies are hashed and
 * written inline: a pipe would cost them more than it saves, and a slow
 * client would hold its buffers for long. An upload that finds no pipe
 * free asks again with its next piece. */
#ifndef PIPE_AFTER /* -DPIPE_AFTER=UINT64_MAX: inline only (bench_etag.sh) */
#define PIPE_AFTER (1ULL << 20)
#endif
#define PIPE_MIN_RATE (1ULL << 20) /* bytes per second */

static int sha_lane(void *ctx, const void *p, size_t n, vs_err *err)
{
  vs__req *r = ctx;
  (void)err;
  EVP_DigestUpdate(r->sha, p, n);
  vs_cksum_update(&r->cksum, p, n);
  return 0;
}

static int md5_lane(void *ctx, const void *p, size_t n, vs_err *err)
{
  vs__req *r = ctx;
  (void)err;
  EVP_DigestUpdate(r->md5, p, n);
  return 0;
}

static int write_lane(void *ctx, const void *p, size_t n, vs_err *err)
{
  vs__req *r = ctx;
  return vs_store_write(r->srv->cfg.store, r->up, p, n, err);
}

static void pipe_try(vs__req *r)
{
  vs__lane_def lanes[3] = {{sha_lane, r, VS__LANE_SHA256},
                           {write_lane, r, VS__LANE_STORE},
                           {md5_lane, r, VS__LANE_MD5}};
  uint64_t ms = (uint64_t)(vs_now_ms(NULL, NULL) - r->start_ms);
  if(r->bytes_in < PIPE_AFTER || !r->srv->pump ||
     ms * PIPE_MIN_RATE > r->bytes_in * 1000)
    return;
  r->pipe = vs__pipe_open(r->srv->pump, lanes, r->md5 ? 3 : 2, r->bytes_in);
}

/* Resumed, or before the upload (and the fd it gave the waker) is gone. */
static void store_forget(vs__req *r)
{
  r->store_parked = 0;
  vs__waker_forget(r->srv->waker, &r->store_slot);
}

static void drop_upload(vs__req *r)
{
  store_forget(r);
  /* a lane waiting in the store's write (a cluster's part slots) returns */
  vs_store_cancel(r->srv->cfg.store, r->up);
  vs__pipe_free(r->pipe); /* first: its lanes use what follows */
  r->pipe = NULL;
  if(r->up) {
    vs_store_abort(r->srv->cfg.store, r->up);
    r->up = NULL;
  }
  EVP_MD_CTX_free(r->sha);
  EVP_MD_CTX_free(r->md5);
  r->sha = r->md5 = NULL;
  vs_cksum_release(&r->cksum);
}

static enum MHD_Result reject(vs__req *r, vs__s3code code, const char *msg)
{
  drop_upload(r);
  return vs__reject(r, code, msg);
}

/* ---- PUT: the first call ------------------------------------------------ */

/* Whether the key's current object matters: a condition, or REJECT. */
static int needs_current(const vs__req *r)
{
  return r->if_none_match || r->if_match[0] ||
         r->srv->cfg.on_existing == VS_ON_EXISTING_REJECT;
}

/* The preconditions against what the key holds now (the store checks them
 * again at commit, under its lock); a current delete marker (delete.c) is
 * no object. A failed look is no object but for an unreachable cluster:
 * the commit would fail the same way after the whole body. */
static int put_check_key(vs__req *r, vs__s3code *code, char *msg,
                         size_t cap)
{
  vs_object_info *cur;
  vs_err err = {0};
  int exists, rc;
  if(!needs_current(r))
    return 0;
  if(!(cur = malloc(sizeof(*cur)))) {
    *code = VS__S3_INTERNAL;
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  rc = vs_store_stat(r->srv->cfg.store, r->bucket, r->key, NULL, cur, &err);
  exists = !rc && !cur->delete_marker;
  *code = VS__S3_NONE;
  msg[0] = 0;
  if(rc == VS_ERR_NET) { /* the cluster unreachable: 503 before the body */
    vs_log("warn", "PUT %s/%s: %s", r->bucket, r->key, err.msg);
    *code = VS__S3_UNAVAILABLE;
  }
  else if(exists && (r->if_none_match ||
                     r->srv->cfg.on_existing == VS_ON_EXISTING_REJECT)) {
    *code = VS__S3_PRECONDITION;
    snprintf(msg, cap, "an object already exists under this key");
  }
  else if(r->if_match[0] && !exists)
    *code = VS__S3_NO_SUCH_KEY; /* as S3 answers If-Match on no object */
  else if(r->if_match[0] && strcmp(r->if_match, "*") &&
          strcmp(r->if_match, cur->etag)) {
    *code = VS__S3_PRECONDITION;
    snprintf(msg, cap, "If-Match: the object's ETag is \"%s\"", cur->etag);
  }
  free(cur);
  return *code ? -1 : 0;
}

static int awsc_data(void *arg, const char *p, size_t n, size_t *took);

/* An UploadPart (mpu.c) is a PUT of a part: the same body checks, then
 * its upload and part number instead of the key's conditions. */
static int is_part(const vs__req *r)
{
  return r->rt.op == VS__OP_UPLOAD_PART;
}

/* What the headers alone decide. */
static int put_checks(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  if(vs__put_length(r, code, msg, cap) || vs__put_md5(r, code, msg, cap) ||
     vs__put_checksum(r, code, msg, cap) ||
     vs__awsc_begin(r, awsc_data, code, msg, cap))
    return -1;
  if(is_part(r))
    return 0;
  if(vs__put_preconditions(r, code, msg, cap) ||
     vs__put_content_type(r, code, msg, cap))
    return -1;
  if(!(r->obj_headers = malloc(VS_OBJ_HEADERS_MAX))) {
    *code = VS__S3_INTERNAL;
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  return vs__meta_collect(r, r->obj_headers, VS_OBJ_HEADERS_MAX, code, msg,
                          cap);
}

/* What the store decides: a part's upload, or the key's current object. */
static int store_checks(vs__req *r, vs__s3code *code, char *msg, size_t cap)
{
  if(is_part(r))
    return vs__part_begin(r, code, msg, cap);
  return put_check_key(r, code, msg, cap);
}

/* store_checks on a commit thread, for a store whose calls wait on the
 * network: the event thread's other connections do not wait with it. */
static void check_work(vs__req *r)
{
  vs__s3code code = VS__S3_NONE;
  char msg[200] = "";
  if(store_checks(r, &code, msg, sizeof(msg)))
    vs__done(r, code, msg);
}

/* The bytes the object will hold, as far as the headers tell: an
 * aws-chunked body's decoded length (chunked_put.c refuses a malformed
 * one), else Content-Length, else (chunked: *told 0) the most it may be. */
static uint64_t body_size(const vs__req *r, int *told)
{
  const char *sha = vs__header(r->conn, "x-amz-content-sha256");
  const char *dl = vs__header(r->conn, "x-amz-decoded-content-length");
  *told = 1;
  if(sha && !strncmp(sha, "STREAMING-", 10) && dl && *dl >= '0' &&
     *dl <= '9')
    return strtoull(dl, NULL, 10);
  if(r->content_length >= 0)
    return (uint64_t)r->content_length;
  *told = 0;
  return r->srv->cfg.max_object_size;
}

/* The store's upload, told what a store that sends the object before its
 * end needs at the start: its size and how it is described (a part is
 * sized by its upload). *parted: the object's ETag will be made of its
 * parts' MD5s, which the store computes. */
static int upload_start(vs__req *r, int *parted, vs_err *err)
{
  vs_store *st = r->srv->cfg.store;
  uint64_t size;
  int told;
  *parted = 0;
  if(!r->up && vs_store_begin(st, r->bucket, r->key, &r->up, err))
    return -1;
  if(is_part(r))
    return 0;
  size = body_size(r, &told);
  if(vs_store_expect(st, r->up, size, err) ||
     vs_store_describe(st, r->up, r->content_type, r->obj_headers, err))
    return -1;
  *parted = told && vs_store_parted(st, r->up);
  return 0;
}

/* Checked: the store's upload, the digests, the body next. */
static enum MHD_Result put_start(vs__req *r)
{
  vs_err err = {0};
  int want_md5, parted;
  if(upload_start(r, &parted, &err))
    return reject(r, vs__s3_of_store(err.code, VS__S3_NO_SUCH_KEY), err.msg);
  /* the ETag is the MD5, as S3's, unless --etag sha256 saves the time or
   * the store makes it of its parts' (then the MD5 would be thrown away);
   * a part's always is (the object's ETag is made of them); a Content-MD5
   * is always checked */
  want_md5 = r->has_md5 || is_part(r) ||
             (!r->srv->cfg.etag_sha256 && !parted);
  r->sha = EVP_MD_CTX_new();
  if(want_md5)
    r->md5 = EVP_MD_CTX_new();
  if(!r->sha || (want_md5 && !r->md5) ||
     !EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) ||
     (r->md5 && !EVP_DigestInit_ex(r->md5, EVP_md5(), NULL)))
    return reject(r, VS__S3_INTERNAL, "out of memory");
  /* SHA-256 is r->sha's digest: the body is not hashed twice */
  if(r->cksum_alg && r->cksum_alg != VS_CKSUM_SHA256 &&
     vs_cksum_init(&r->cksum, r->cksum_alg))
    return reject(r, VS__S3_INTERNAL, "out of memory");
  atomic_fetch_add(&r->srv->m.uploads_in_flight, 1);
  r->counted_upload = 1;
  r->phase = 1;
  return MHD_YES;
}

/* The first call: what the headers decide, then what the store does, here
 * or (phase 4) on the pool before any body byte is read. */
static enum MHD_Result put_begin(vs__req *r)
{
  vs__s3code code = VS__S3_NONE;
  char msg[200] = "";
  if(put_checks(r, &code, msg, sizeof(msg)))
    return reject(r, code, msg);
  if(vs_store_is_remote(r->srv->cfg.store) &&
     (is_part(r) || needs_current(r))) {
    r->phase = 4;
    if(vs__commit_submit(r, check_work))
      return reject(r, VS__S3_UNAVAILABLE, NULL);
    return MHD_YES;
  }
  if(store_checks(r, &code, msg, sizeof(msg)))
    return reject(r, code, msg);
  return put_start(r);
}

/* Resumed after check_work: called as on the first call (no body read
 * yet), so a refusal is still answered before the body. */
static enum MHD_Result put_checked(vs__req *r)
{
  vs__s3code code = vs__checked(r);
  if(code)
    return reject(r, code, r->done_msg[0] ? r->done_msg : NULL);
  return put_start(r);
}

/* ---- PUT: the body ------------------------------------------------------ */

static void fail_mid_body(vs__req *r, vs__s3code code, const char *msg)
{
  drop_upload(r);
  r->pending = code;
  /* NULL keeps the code's stock message */
  snprintf(r->pending_msg, sizeof(r->pending_msg), "%s", msg ? msg : "");
}

static void write_failed(vs__req *r, const vs_err *err)
{
  vs_log("error", "store write %s/%s: %s", r->bucket, r->key, err->msg);
  fail_mid_body(r, vs__s3_of_store(err->code, VS__S3_NO_SUCH_KEY),
                err->code == VS_ERR_NOSPACE
                  ? NULL : "the object could not be written");
}

/* A slow upload (written inline) that the store would keep waiting (the
 * S3 store's part slots all on their way to a slower cluster): its
 * connection parks in the waker until the store has room, instead of its
 * event thread waiting in the write. 0: not parked (write on; where the
 * waker cannot take it, the write waits as it must). */
static int park_for_store(vs__req *r, size_t n)
{
  int fd = vs_store_wait_fd(r->srv->cfg.store, r->up, n);
  if(fd < 0 || !r->srv->waker ||
     vs__waker_park(r->srv->waker, &r->store_slot, fd, r->conn,
                    VS__WAKE_BODY))
    return 0;
  r->store_parked = 1;
  vs__conn_enter(r->cn, VS__C_PARKED, vs_now_ms(NULL, NULL));
  return 1;
}

static int put_inline(vs__req *r, const char *data, size_t n, vs_err *err)
{
  if(r->md5)
    EVP_DigestUpdate(r->md5, data, n);
  sha_lane(r, data, n, err);
  return vs_store_write(r->srv->cfg.store, r->up, data, n, err);
}

/* The pipe is full (its lanes wait on the store: a slow cluster, a disk's
 * flush): the connection is suspended, not its thread, which serves
 * others meanwhile; a pump thread resumes it once there is room. */
static void park_conn(void *arg)
{
  vs__req *r = arg;
  MHD_suspend_connection(r->conn);
  r->pipe_parked = 1;
  vs__conn_enter(r->cn, VS__C_PARKED, vs_now_ms(NULL, NULL));
}

static void wake_conn(void *arg)
{
  MHD_resume_connection(((vs__req *)arg)->conn);
}

/* n bytes into the pipe: 0 when all went or the rest waits parked (*left
 * says how many), -1 when a lane failed (err). */
static int pipe_take(vs__req *r, const char *data, size_t n, size_t *left,
                     vs_err *err)
{
  size_t took = 0;
  *left = 0;
  if(vs__pipe_offer(r->pipe, data, n, &took, err))
    return -1;
  if(took < n &&
     vs__pipe_park(r->pipe, 0, park_conn, wake_conn, r)) {
    *left = n - took;
    return 0;
  }
  /* not parked: room came meanwhile, or the server is stopping */
  return took < n ? vs__pipe_put(r->pipe, data + took, n - took, err) : 0;
}

/* What the pipe has no room for (*size) waits in libmicrohttpd's buffer,
 * or the aws-chunked decoder's input, while the connection is parked. */
static enum MHD_Result put_plain(vs__req *r, const char *data, size_t *size)
{
  size_t n = *size, left = 0;
  vs_err err = {0};
  *size = 0;
  if(r->pipe_parked || r->store_parked) { /* resumed: the body goes on */
    r->pipe_parked = 0;
    store_forget(r);
    vs__conn_enter(r->cn, VS__C_BODY, vs_now_ms(NULL, NULL));
  }
  if(r->pending) {
    r->discarded += n;
    if(r->discarded > DRAIN_LIMIT)
      return MHD_NO;
    return MHD_YES;
  }
  if(r->bytes_in + n > r->srv->cfg.max_object_size) {
    fail_mid_body(r, VS__S3_TOO_LARGE, "the body is over the size limit");
    r->discarded = n;
    return MHD_YES;
  }
  if(!r->pipe)
    pipe_try(r);
  if(!r->pipe && park_for_store(r, n)) {
    *size = n; /* waits in libmicrohttpd's buffer */
    return MHD_YES;
  }
  if(!r->pipe ? put_inline(r, data, n, &err)
              : pipe_take(r, data, n, &left, &err)) {
    write_failed(r, &err);
    return MHD_YES;
  }
  *size = left;
  r->bytes_in += n - left;
  atomic_fetch_add(&r->srv->m.bytes_in, n - left);
  return MHD_YES;
}

/* The decoder's payload: 0 while the upload takes it (*took of it: less
 * when the connection parked on a full pipe). */
static int awsc_data(void *arg, const char *p, size_t n, size_t *took)
{
  vs__req *r = arg;
  size_t left = n;
  put_plain(r, p, &left);
  *took = n - left;
  return r->pending ? -1 : 0;
}

/* aws-chunked (chunked_put.c): the decoder hands the payload to put_plain;
 * a refusal of the framing or a signature drops the upload like any other
 * mid-body error, and the rest of the body is drained */
static enum MHD_Result put_data(vs__req *r, const char *data, size_t *size)
{
  size_t n = *size, used = n;
  if(!r->awsc || r->pending)
    return put_plain(r, data, size);
  if(vs__awsc_feed(r->awsc, data, n, &used)) {
    used = n;
    if(!r->pending)
      fail_mid_body(r, vs__awsc_code(r->awsc), vs__awsc_msg(r->awsc));
  }
  *size = n - used; /* what is left waits in libmicrohttpd while parked */
  return MHD_YES;
}

/* ---- PUT: the end ------------------------------------------------------- */

/* The x-amz-checksum-* sent, against what the body gave; 0 when it
 * differs. SHA-256 is the digest the sink computes anyway. */
static int checksum_matches(vs__req *r, const unsigned char sha[32],
                            vs__s3code *code, char *msg, size_t cap)
{
  unsigned char got[VS_CKSUM_MAX];
  size_t len = vs_cksum_len(r->cksum_alg);
  if(r->cksum_alg == VS_CKSUM_NONE)
    return 1;
  if(r->cksum_alg == VS_CKSUM_SHA256)
    memcpy(got, sha, 32);
  else if(vs_cksum_final(&r->cksum, got) != len) {
    *code = VS__S3_INTERNAL;
    return 0;
  }
  if(!memcmp(got, r->want_cksum, len))
    return 1;
  *code = VS__S3_BAD_DIGEST;
  snprintf(msg, cap, "The %s you specified did not match the calculated "
           "checksum.", vs_cksum_label(r->cksum_alg));
  return 0;
}

/* msg: a message for *code, or "" for its stock one. */
static int digests_match(vs__req *r, char sha_hex[65], char md5_hex[33],
                         vs__s3code *code, char *msg, size_t cap)
{
  unsigned char sha[32], md5[16];
  unsigned len;
  EVP_DigestFinal_ex(r->sha, sha, &len);
  vs_hex(sha, 32, sha_hex);
  md5_hex[0] = msg[0] = 0;
  if(r->md5) {
    EVP_DigestFinal_ex(r->md5, md5, &len);
    vs_hex(md5, 16, md5_hex);
  }
  if(r->payload_sha256[0] && strcmp(r->payload_sha256, sha_hex))
    *code = VS__S3_SHA256_MISMATCH;
  else if(r->has_md5 && memcmp(md5, r->want_md5, 16))
    *code = VS__S3_BAD_DIGEST;
  else
    return checksum_matches(r, sha, code, msg, cap);
  return 0;
}

/* info with the verified checksum, for a store that did not keep it */
static void with_checksum(const vs__req *r, vs_object_info *info)
{
  if(r->cksum_alg && !info->checksum_alg[0]) {
    snprintf(info->checksum_alg, sizeof(info->checksum_alg), "%s",
             vs_cksum_name(r->cksum_alg));
    snprintf(info->checksum, sizeof(info->checksum), "%s", r->cksum_b64);
  }
}

static cJSON *stored_event(vs__req *r, const vs_object_info *stored)
{
  char uuid[37], remote[64];
  vs_object_info copy = *stored, *info = &copy;
  cJSON *ev;
  with_checksum(r, info);
  ev = vs_store_event_fields(r->bucket, r->key, info,
                                    vs_uuid_find_v4(r->key, uuid) ? uuid
                                                                  : NULL,
                                    "put");
  if(ev)
    cJSON_AddStringToObject(ev, "remote",
                            vs__remote(r->conn, remote, sizeof(remote)));
  return ev;
}

static enum MHD_Result put_ok(vs__req *r, const vs_object_info *info)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  char etag[70];
  if(!resp)
    return MHD_NO;
  snprintf(etag, sizeof(etag), "\"%s\"", info->etag);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
  if(r->srv->cfg.on_existing == VS_ON_EXISTING_VERSION)
    MHD_add_response_header(resp, "x-amz-version-id", info->version_id);
  if(r->cksum_alg) { /* S3 echoes the checksum it verified */
    char name[40];
    snprintf(name, sizeof(name), "x-amz-checksum-%s",
             vs_cksum_name(r->cksum_alg));
    MHD_add_response_header(resp, name, r->cksum_b64);
    MHD_add_response_header(resp, "x-amz-checksum-type", "FULL_OBJECT");
  }
  return vs__send(r, MHD_HTTP_OK, resp);
}

/* On a commit thread, the connection suspended: durable, then visible,
 * then recorded; on any failure nothing stays. The outcome waits in r for
 * put_answer. */
static void put_commit(vs__req *r)
{
  vs_server *s = r->srv;
  /* defer_overwrite: an object replaced under --on-existing overwrite goes
   * only once its replacement's event is durable (at settle below). */
  vs_commit c = {r->bytes_in, r->sha_hex, r->md5 ? r->md5_hex : NULL,
                 r->content_type, s->cfg.on_existing, r->if_none_match, 1,
                 vs_cksum_name(r->cksum_alg), r->cksum_b64};
  vs_err err = {0};
  int rc;
  store_forget(r);
  if(is_part(r)) {
    vs__part_commit(r);
    return;
  }
  c.headers = r->obj_headers;
  c.if_match = r->if_match[0] ? r->if_match : NULL;
  rc = vs_store_commit(s->cfg.store, r->up, &c, r->done_info, &err);
  r->up = NULL; /* committed or gone: the store cleaned up either way */
  if(rc) {
    if(rc != VS_ERR_EXISTS && rc != VS_ERR_NOTFOUND) /* preconditions */
      vs_log("error", "commit %s/%s: %s", r->bucket, r->key, err.msg);
    r->done_code = vs__s3_of_store(rc, VS__S3_NO_SUCH_KEY);
    return;
  }
  r->done_code = vs__record_version(r, r->key, r->done_info->version_id,
                                    "stored",
                                    stored_event(r, r->done_info));
}

/* The pipe's last buffer hashed and written: 0, or r->pending says why not */
static int pipe_end(vs__req *r)
{
  vs_err err = {0};
  int rc = vs__pipe_end(r->pipe, &err);
  vs__pipe_free(r->pipe);
  r->pipe = NULL;
  if(rc)
    write_failed(r, &err);
  return rc;
}

/* The body is complete: check what the client promised, then hand the
 * commit to the pool (commit.c). */
static enum MHD_Result put_finish(vs__req *r)
{
  vs__s3code code = VS__S3_NONE;
  char msg[120];
  /* the lanes finish their last buffers with the connection parked; this
   * final call comes again once they are done */
  if(r->pipe && !r->pending &&
     vs__pipe_park(r->pipe, 1, park_conn, wake_conn, r))
    return MHD_YES;
  r->pipe_parked = 0;
  r->phase = 2;
  if(r->pending)
    return reject(r, r->pending, r->pending_msg);
  if(r->awsc && vs__awsc_end(r->awsc))
    return reject(r, vs__awsc_code(r->awsc), vs__awsc_msg(r->awsc));
  if(r->content_length >= 0 && r->bytes_in != (uint64_t)r->content_length)
    return reject(r, VS__S3_INCOMPLETE_BODY, NULL);
  if(r->pipe && pipe_end(r))
    return reject(r, r->pending, r->pending_msg);
  if(!digests_match(r, r->sha_hex, r->md5_hex, &code, msg, sizeof(msg)))
    return reject(r, code, msg);
  r->phase = 3;
  if(vs__commit_submit(r, put_commit))
    return reject(r, VS__S3_UNAVAILABLE, NULL); /* stopping: nothing kept */
  return MHD_YES;
}

/* Resumed after the commit: the answer. */
static enum MHD_Result put_answer(vs__req *r)
{
  r->phase = 2;
  if(is_part(r)) {
    if(r->done_code)
      return reject(r, r->done_code, NULL);
    drop_upload(r);
    return vs__part_ok(r);
  }
  if(r->done_code == VS__S3_PRECONDITION && r->if_match[0])
    return reject(r, r->done_code, "If-Match: the object changed during "
                  "the upload");
  if(r->done_code)
    return reject(r, r->done_code, r->done_code == VS__S3_PRECONDITION
                  ? "an object already exists under this key" : NULL);
  drop_upload(r);
  return put_ok(r, r->done_info);
}

/* ---- the handler (s3api.c) --------------------------------------------- */

/* Checked and begun on the first call; then the body; then the commit on
 * the pool; then the answer. */
enum MHD_Result vs__put_object(vs__req *r, const char *data, size_t *size)
{
  if(r->phase == 0)
    return put_begin(r);
  if(r->phase == 4)
    return put_checked(r);
  if(r->phase == 1 && *size)
    return put_data(r, data, size);
  if(r->phase == 1)
    return put_finish(r);
  if(r->phase == 3)
    return put_answer(r);
  *size = 0;
  return MHD_YES;
}

void vs__object_done(vs__req *r, enum MHD_RequestTerminationCode toe)
{
  vs__metrics *m = &r->srv->m;
  int aborted = r->up != NULL || (r->phase == 1 && !r->status);
  /* a commit that finished after the answer could no longer be sent (the
   * daemon stopping) still stored and recorded the object */
  int stored = (r->status == MHD_HTTP_OK && !aborted) ||
               (r->phase == 3 && !r->done_code);
  drop_upload(r);
  vs__awsc_done(r);
  free(r->obj_headers);
  r->obj_headers = NULL;
  if(r->rt.op != VS__OP_PUT_OBJECT) /* uploads only, not CreateBucket */
    return;
  if(r->counted_upload)
    atomic_fetch_sub(&m->uploads_in_flight, 1);
  if(stored && (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ||
                r->phase == 3)) {
    atomic_fetch_add(&m->uploads_ok, 1);
    vs__observe_upload(r->srv, vs_now_ms(NULL, NULL) - r->start_ms);
  }
  else if(aborted || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
    atomic_fetch_add(&m->uploads_aborted, 1);
  else if(r->status >= 500)
    atomic_fetch_add(&m->uploads_failed, 1);
  else
    atomic_fetch_add(&m->uploads_rejected, 1);
}
