/* The sink's internals, shared by its route files. Not a public header. */
#ifndef VS_SERVER_INTERNAL_H
#define VS_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>

#include "server/conns.h"
#include "util/cksum.h"
#include "vsink/server.h"

/* S3 error codes the sink answers with (s3err.c holds status and text). */
typedef enum vs__s3code {
  VS__S3_NONE = 0,
  VS__S3_ACCESS_DENIED,
  VS__S3_EXPIRED,
  VS__S3_NOT_YET_VALID,
  VS__S3_SIGNATURE,
  VS__S3_INVALID_KEY_ID,
  VS__S3_QUERY_PARAMS,
  VS__S3_HEADER_MALFORMED,
  VS__S3_SKEWED,
  VS__S3_NO_SUCH_BUCKET,
  VS__S3_NO_SUCH_KEY,
  VS__S3_NO_SUCH_VERSION,
  VS__S3_TOO_LARGE,
  VS__S3_INCOMPLETE_BODY,
  VS__S3_BAD_DIGEST,
  VS__S3_INVALID_DIGEST,
  VS__S3_SHA256_MISMATCH,
  VS__S3_KEY_TOO_LONG,
  VS__S3_INVALID_ARGUMENT,
  VS__S3_PRECONDITION,
  VS__S3_METHOD,
  VS__S3_NOT_IMPLEMENTED,
  VS__S3_INVALID_RANGE,
  VS__S3_STORAGE,
  VS__S3_MISSING_LENGTH,
  VS__S3_INTERNAL,
  VS__S3_UNAVAILABLE,
  VS__S3_MALFORMED_JSON,
  VS__S3_INVALID_REQUEST,
  VS__S3_INVALID_BUCKET_NAME,
  VS__S3_ILLEGAL_LOCATION,
  VS__S3_MALFORMED_XML,
  VS__S3_METADATA_TOO_LARGE,
  VS__S3_INVALID_PART_NUMBER,
  VS__S3_NO_SUCH_UPLOAD,
  VS__S3_INVALID_PART,
  VS__S3_INVALID_PART_ORDER,
  VS__S3_ENTITY_TOO_SMALL,
  VS__S3_COUNT
} vs__s3code;

/* Reconciliation reads a segment only if it was last written after an
 * intent was made, less this much for the clock stepping back in between;
 * pruning shipped segments (ship.c) keeps every segment it could read. */
#define VS__RECONCILE_SLACK_MS (15LL * 60 * 1000)

/* What an upload's pump lane does (pump.h's kind): /metrics counts the
 * waits on each, so a reader sees whether the store or a hash holds the
 * uploads back. */
enum vs__lane_kind { VS__LANE_SHA256, VS__LANE_MD5, VS__LANE_STORE };

/* Histogram of upload durations, seconds. */
#define VS__HIST_N 12
extern const double vs__hist_bounds[VS__HIST_N];

typedef struct vs__metrics {
  atomic_ullong requests;
  atomic_ullong uploads_ok, uploads_rejected, uploads_failed, uploads_aborted;
  atomic_ullong bytes_in, bytes_out;
  atomic_uint in_flight, uploads_in_flight;
  atomic_ullong hist[VS__HIST_N + 1];
  atomic_ullong hist_sum_ms;
  atomic_ullong hooks_ok, hooks_rejected, hooks_duplicate;
  atomic_ullong aborted_at_stop; /* requests a shutdown cut short */
  atomic_ullong mpu_created, mpu_completed, mpu_aborted, mpu_expired;
  atomic_ullong parts_ok;
} vs__metrics;

/* bucket_list.c: the buckets served, configured or created at run time. */
typedef struct vs__bucket {
  char *name;
  int64_t created_ms;
  int created;  /* by CreateBucket (else configured) */
  int served;   /* configured now, or created */
} vs__bucket;

typedef struct vs__buckets {
  pthread_rwlock_t lock;  /* shared: every request; exclusive: a creation */
  pthread_mutex_t write;  /* one creation persists the list at a time */
  vs__bucket *v;
  size_t n, cap;
  int ready;
} vs__buckets;

struct vs_server {
  struct MHD_Daemon *mhd;
  int listen_fd;                /* accepted by our thread (daemon.c) */
  pthread_t acceptor;
  int acceptor_running;
  vs_server_config cfg;
  vs__buckets buckets;          /* bucket_list.c */
  char *region;
  pthread_rwlock_t keys_lock;
  vs_keyring *keys;
  atomic_int stopping;
  pthread_mutex_t hooks_lock;   /* one hook delivery recorded at a time */
  /* the commit pool (commit.c) */
  pthread_t *committers;
  size_t n_committers;
  pthread_mutex_t q_lock;
  pthread_cond_t q_cond;
  struct vs__req *q_head, *q_tail;
  int q_stop;
  int q_closed;                 /* shutting down: no new suspensions */
  unsigned q_parked;            /* connections suspended now */
  atomic_uint q_unanswered;     /* committed or committing, not yet
                                 * answered */
  pthread_cond_t q_idle;        /* q_parked fell to 0 */
  vs__conns conns;              /* limits and deadlines (conns.c) */
  struct vs__pump *pump;        /* uploads' hashing and writing (pump.h) */
  struct vs__waker *waker;      /* waits on a remote store (waker.h) */
  /* the multipart sweeper (mpu.c) */
  pthread_t mpu_sweeper;
  int mpu_sweeper_running;
  pthread_mutex_t mpu_lock;
  pthread_cond_t mpu_wake;
  int mpu_stop;
  vs__metrics m;
  uint16_t port;
};

enum vs__route { VS__R_NONE, VS__R_OBJECT, VS__R_HOOK, VS__R_HEALTH,
                 VS__R_METRICS };

/* The operations of the route table (router.c); VS__OP_REFUSED when no row
 * matches the request exactly. */
typedef enum vs__op {
  VS__OP_REFUSED = 0,
  VS__OP_HEALTH,
  VS__OP_METRICS,
  VS__OP_HOOK,
  VS__OP_HEAD_BUCKET,
  VS__OP_GET_OBJECT,
  VS__OP_HEAD_OBJECT,
  VS__OP_PUT_OBJECT,
  VS__OP_LIST_BUCKETS,
  VS__OP_CREATE_BUCKET,
  VS__OP_GET_BUCKET_LOCATION,
  VS__OP_GET_BUCKET_VERSIONING,
  VS__OP_LIST_OBJECTS_V2,
  VS__OP_LIST_OBJECTS,
  VS__OP_LIST_VERSIONS,
  VS__OP_COPY_OBJECT,
  VS__OP_DELETE_OBJECT,
  VS__OP_DELETE_OBJECTS,
  VS__OP_CREATE_MPU,
  VS__OP_UPLOAD_PART,
  VS__OP_UPLOAD_PART_COPY,
  VS__OP_COMPLETE_MPU,
  VS__OP_ABORT_MPU,
  VS__OP_LIST_PARTS,
  VS__OP_LIST_MPUS,
  VS__OP_GET_OBJECT_TAGGING,
  VS__OP_COUNT
} vs__op;

/* What the route table made of a request (router.h). */
typedef struct vs__route_result {
  vs__op op;
  vs__s3code code;   /* refused: the answer */
  int before_auth;   /* refused: answered without authenticating first */
  char msg[200];     /* refused: names the parameter, header or method */
} vs__route_result;

struct vs__req;
/* An operation's handler: called on every access call of its request
 * from the first (authenticated, bucket and key checked) on. */
typedef enum MHD_Result (*vs__handler)(struct vs__req *r, const char *data,
                                       size_t *size);

/* One request, from the raw URI (MHD's URI log callback) to completion. */
typedef struct vs__req {
  vs_server *srv;
  struct MHD_Connection *conn;
  vs__conn *cn;             /* the connection's record (conns.c) */
  char *raw_uri;
  int64_t start_ms;
  char id[17];              /* x-amz-request-id */
  int started;              /* the first access call has run */
  int phase;                /* 0 headers, 1 body, 2 answered, 3 committing,
                             * 4 checked on the pool before the body */
  int rejected;             /* an error is queued: drop any further body */
  int route;
  vs__route_result rt;      /* router.c: the operation, or why refused */
  vs__handler handler;      /* s3api.c: the operation's handler */
  char method[8];
  char *bucket;             /* decoded */
  char *key;                /* decoded; may hold any UTF-8 */
  size_t key_len;
  unsigned status;          /* what was answered, for the log */
  uint64_t bytes_in, bytes_out;
  /* PUT state */
  vs_upload *up;
  EVP_MD_CTX *sha, *md5;
  int64_t content_length;   /* -1 when chunked */
  char payload_sha256[65];  /* "" for UNSIGNED-PAYLOAD */
  unsigned char want_md5[16], want_cksum[VS_CKSUM_MAX];
  int has_md5, if_none_match;
  vs_cksum_alg cksum_alg;   /* the x-amz-checksum-* sent; NONE: none */
  char cksum_b64[VS_CKSUM_B64_MAX]; /* its value, canonical base64 */
  vs_cksum cksum;           /* computing it (SHA-256: r->sha does) */
  char *content_type;
  char *obj_headers;        /* objmeta.c: the headers kept with it */
  char if_match[70];        /* PUT If-Match, unquoted; "" when none */
  struct vs__pipe *pipe;    /* objects.c: the body through the pump */
  int pipe_parked;          /* suspended until the pipe has room */
  int store_parked;         /* suspended until the store has room */
  int store_slot;           /* objects.c: its wait_fd in the waker; -1 */
  struct vs__awsc *awsc;    /* chunked.c: an aws-chunked body's decoder */
  vs_sigv4_chain chain;     /* auth.c: a signed aws-chunked body's seed */
  vs__s3code pending;       /* an error found mid-body, answered at the end */
  char pending_msg[200];
  const char *extra_header;  /* one more header for the answer (416's */
  char extra_value[64];      /* Content-Range), set before it is sent */
  int marker_answer;         /* x-amz-delete-marker: true (delete.c) */
  uint64_t discarded;
  int counted_upload;
  /* blocking work done on a commit thread (phase 3), the connection
   * suspended; its outcome waits here for the resumed handler */
  struct vs__req *q_next;
  void (*work)(struct vs__req *r);
  char done_msg[sizeof(((vs_err *)0)->msg)];
  int hook_fresh;           /* hooks: items recorded (not duplicates) */
  char sha_hex[65], md5_hex[33];
  vs__s3code done_code;     /* VS__S3_NONE: stored */
  vs_object_info *done_info; /* commit.c allocates it as the work starts */
  struct vs__copy *copy;     /* copy.c: the source (one allocation) */
  /* multipart (mpu.c): the upload named by uploadId, and the part */
  struct vs_mpu *mpu;
  unsigned part_number;
  struct vs__mpu_part *parts; /* Complete's list (mpu_xml.h) */
  size_t n_parts;
  uint64_t copy_off, copy_len; /* UploadPartCopy's source range */
  /* hooks: the body, bounded */
  char *body;
  size_t body_len;
} vs__req;

/* daemon.c */
const char *vs__header(struct MHD_Connection *c, const char *name);
/* The client's numeric address. */
const char *vs__remote(struct MHD_Connection *conn, char *buf, size_t cap);
vs_keyring *vs__keys_acquire(vs_server *s);
void vs__keys_release(vs_server *s);
/* Queues resp with the headers every answer carries; drops resp. */
enum MHD_Result vs__send(vs__req *r, unsigned status,
                         struct MHD_Response *resp);
/* Sends b's contents (taking them; b is left empty) as an uncacheable
 * body of the given type. */
struct vs_buf;
enum MHD_Result vs__send_buf(vs__req *r, unsigned status, struct vs_buf *b,
                             const char *type);

/* s3err.c */
enum MHD_Result vs__s3_error(vs__req *r, vs__s3code code, const char *detail);
/* A store's error as S3's: NOSPACE 507 InsufficientStorage, EXISTS 412
 * (a policy or a precondition), NOTFOUND the caller's code (NoSuchKey,
 * NoSuchUpload, ...), TOOLARGE KeyTooLongError, INVALID InvalidArgument,
 * DIGEST BadDigest, anything else 500. */
vs__s3code vs__s3_of_store(int rc, vs__s3code notfound);
/* A refusal on its way to the answer: S3's code and why ("" for the
 * code's stock message). vs__failed fills it and returns -1. */
typedef struct vs__fail {
  vs__s3code code;
  char msg[256];
} vs__fail;
int vs__failed(vs__fail *f, vs__s3code code, const char *msg);
unsigned vs__s3_status(vs__s3code code);
const char *vs__s3_name(vs__s3code code);

/* auth.c: verifies SigV4 for r; 0 or the S3 error already sent. */
int vs__authenticate(vs__req *r, char *payload_sha256_out);

/* range.c: a Range header against an object of size bytes. 0: serve
 * [*off, *off + *len), *len > 0; 1: no usable Range (absent, invalid or
 * several ranges): serve everything; -1: unsatisfiable (416). */
int vs__range_parse(const char *h, uint64_t size, uint64_t *off,
                    uint64_t *len);

/* headers.c: -1 (and why, in msg) when a header that must come once comes
 * twice. */
int vs__headers_check(struct MHD_Connection *conn, char *msg, size_t cap);

/* query.c: the decoded value of a query parameter of the raw URI. */
char *vs__query_get(const char *raw_uri, const char *name);
/* A count parameter (max-uploads, part-number-marker, ...): 0 absent (out
 * untouched), 1 its value (at most max) in *out, -1 not a number of 0 to
 * 2^31 - 1. */
int vs__query_count(const char *raw_uri, const char *name, long max,
                    long *out);

/* s3api.c: every S3 request (everything but health, metrics and hooks):
 * authentication, the route table's refusals, bucket and key checks, then
 * the operation's handler. */
enum MHD_Result vs__s3_request(vs__req *r, const char *data, size_t *size);
/* Answers an S3 error and drops whatever the request still sends. */
enum MHD_Result vs__reject(vs__req *r, vs__s3code code, const char *msg);

/* bucket_list.c. init: the configured buckets and those the state's list
 * holds (writing the list when a configured bucket is new to it). */
int vs__buckets_init(vs_server *s, vs_err *err);
void vs__buckets_free(vs_server *s);
int vs__bucket_known(const vs_server *s, const char *bucket);
/* A copy of the buckets served, by name (free: vs__buckets_served_free). */
int vs__buckets_served(vs_server *s, vs__bucket **out, size_t *n);
void vs__buckets_served_free(vs__bucket *v, size_t n);
/* Makes the bucket's folder and persists the list, then serves it:
 * VS_ERR_EXISTS when it is served already, VS_ERR_INVALID for a bad name. */
int vs__bucket_create(vs_server *s, const char *name, vs_err *err);

/* The owner S3 names in listings: every key of a sink is one account. The
 * ID has the form of S3's canonical user IDs: SHA-256("vsink-owner"). */
#define VS__OWNER_ID \
  "7e7089f95bf7b7211a28a530c014e1cf88ca9dee8d80c820ea40cc70f44cdaf3"
#define VS__OWNER_NAME "vsink"

/* Handlers, a file per family of operations. */
enum MHD_Result vs__head_bucket(vs__req *r, const char *data, size_t *size);
/* buckets.c */
enum MHD_Result vs__list_buckets(vs__req *r, const char *data, size_t *size);
enum MHD_Result vs__create_bucket(vs__req *r, const char *data,
                                  size_t *size);
enum MHD_Result vs__get_bucket_location(vs__req *r, const char *data,
                                        size_t *size);
enum MHD_Result vs__get_bucket_versioning(vs__req *r, const char *data,
                                          size_t *size);
/* A CreateBucketConfiguration body: 0 and its LocationConstraint in loc
 * ("" when none); -1 malformed XML; -2 an element vsink does not
 * implement (named in what). Pure: a fuzzing entry point. */
int vs__create_bucket_parse(const char *body, size_t n, char *loc,
                            size_t cap, char *what, size_t wcap);
/* list.c: ListObjectsV2, ListObjects and ListObjectVersions */
enum MHD_Result vs__list_objects(vs__req *r, const char *data, size_t *size);
enum MHD_Result vs__get_object(vs__req *r, const char *data, size_t *size);
/* get_stream.c: the answer to a GET or HEAD of [off, off + len) of an
 * object its store streams (open gave no fd); a HEAD reads nothing. */
int vs__stream_response(vs__req *r, const vs_object_info *info,
                        const char *key, uint64_t off, uint64_t len,
                        struct MHD_Response **resp, vs_err *err);
/* delete.c: DeleteObject (a delete marker, or a purge) and DeleteObjects */
enum MHD_Result vs__delete_object(vs__req *r, const char *data, size_t *size);
enum MHD_Result vs__delete_objects(vs__req *r, const char *data,
                                   size_t *size);
/* GET/HEAD found a delete marker (fd open on its empty data, info
 * malloc'd: both taken): 404 NoSuchKey, or 405 when it was asked for by
 * its versionId, with x-amz-delete-marker: true. */
enum MHD_Result vs__delete_marker_read(vs__req *r, vs_object_info *info,
                                       int fd, int by_version);
enum MHD_Result vs__put_object(vs__req *r, const char *data, size_t *size);
/* copy.c: CopyObject. A copy's source, decoded and checked, kept with the
 * request (r->copy; UploadPartCopy's too). */
struct vs__copy {
  char bucket[64];
  char vid[48];       /* the real id of the version copied */
  char ask[48];       /* ?versionId= of x-amz-copy-source; "" for none */
  int replace;        /* x-amz-metadata-directive: REPLACE */
  char key[];         /* NUL-terminated; checked by vs_store_check_key */
};
enum MHD_Result vs__copy_object(vs__req *r, const char *data, size_t *size);
/* x-amz-copy-source of a copy or an UploadPartCopy, decoded and checked:
 * no body, a served bucket, a valid key, the version there (src), the
 * x-amz-copy-source-if-* conditions holding; r->copy holds it. 0, or -1
 * with the S3 error in *code and why in msg ("": its stock message). */
int vs__copy_source(vs__req *r, vs_object_info *src, vs__s3code *code,
                    char *msg, size_t cap);
/* objects.c: a PUT's end, for the metrics and clean-up */
void vs__object_done(vs__req *r, enum MHD_RequestTerminationCode toe);

/* record.c: a version the store just committed (under an intent) gets its
 * event, durably, then the intent is settled; if the event cannot be
 * written the version is taken back, so none is visible without one.
 * Takes ev (NULL: out of memory). VS__S3_NONE or the code to answer. */
struct cJSON;
vs__s3code vs__record_version(vs__req *r, const char *key, const char *vid,
                              const char *event, struct cJSON *ev);

/* commit.c: runs work(r) on a commit thread with the connection suspended,
 * then resumes it; the handler is called again in phase 3. -1 when the
 * server is stopping and takes no more work: answer 503 at once. */
int vs__commits_start(vs_server *s, unsigned n, vs_err *err);
int vs__commit_submit(vs__req *r, void (*work)(vs__req *r));
/* A body-less request answered whole from the pool, so that nothing of it
 * waits on the store on the event thread: the handler returns this on
 * every call. work leaves an XML document in r->body (answered 200) or
 * the error in r->done_code and r->done_msg (vs__done). */
enum MHD_Result vs__pooled(vs__req *r, void (*work)(vs__req *r));
/* A request checked on the pool before its body (phase 4: the store may
 * be a cluster), resumed as on its first call, so that a refusal is still
 * answered before the body: VS__S3_NONE (the connection back to receiving
 * its body), or the refusal (r->done_msg says why, "" for the stock
 * message). */
vs__s3code vs__checked(vs__req *r);
/* b's document as vs__pooled's answer (b is emptied), or out of memory. */
struct vs_buf;
void vs__pooled_body(vs__req *r, struct vs_buf *b);
/* Sets r's error for vs__pooled's answer (msg NULL: the stock one); -1. */
int vs__done(vs__req *r, vs__s3code code, const char *msg);
/* Shutdown: takes no more work, and waits until every suspended
 * connection has been resumed (libmicrohttpd may be stopped then). */
void vs__commits_close(vs_server *s);
void vs__commits_stop(vs_server *s);

/* hooks.c */
enum MHD_Result vs__hook(vs__req *r, const char *upload_data,
                         size_t *upload_data_size);

/* chunked.c: the aws-chunked body decoder (pure, incremental, constant
 * memory). data gets the payload bytes in order (0, or -1 to stop);
 * trailer gets the trailing header x-amz-trailer announced (0, or -1 when
 * its value is not valid: BadDigest). The signed modes check every chunk
 * (and the trailer) against chain, seeded by the request's signature. */
typedef enum vs__awsc_mode {
  VS__AWSC_UNSIGNED_TRAILER = 1, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
  VS__AWSC_SIGNED,               /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
  VS__AWSC_SIGNED_TRAILER        /* ...-PAYLOAD-TRAILER */
} vs__awsc_mode;
/* *took (n on entry) may be set lower: the caller pauses, and the decoder
 * stops there (vs__awsc_feed's *used). Non-zero: refused. */
typedef int (*vs__awsc_data_fn)(void *arg, const char *p, size_t n,
                                size_t *took);
typedef int (*vs__awsc_trailer_fn)(void *arg, const char *name,
                                   const char *value);
typedef struct vs__awsc vs__awsc;
/* NULL: out of memory, or a signed mode without a chain. trailer_name:
 * x-amz-trailer's value, or NULL when none is announced. */
vs__awsc *vs__awsc_new(vs__awsc_mode mode, const vs_sigv4_chain *chain,
                       uint64_t decoded_len, const char *trailer_name,
                       vs__awsc_data_fn data, vs__awsc_trailer_fn trailer,
                       void *arg);
/* 0: *used bytes of p taken, all of them unless data paused (the rest is
 * to be fed again); -1: refused, vs__awsc_code/msg say why (S3's code:
 * SignatureDoesNotMatch, IncompleteBody, InvalidRequest, BadDigest). */
int vs__awsc_feed(vs__awsc *d, const char *p, size_t n, size_t *used);
/* At the body's end: 0 when it was complete, the decoded total equal to
 * decoded_len; -1 otherwise. */
int vs__awsc_end(vs__awsc *d);
vs__s3code vs__awsc_code(const vs__awsc *d);
const char *vs__awsc_msg(const vs__awsc *d);
uint64_t vs__awsc_total(const vs__awsc *d);
void vs__awsc_free(vs__awsc *d);
/* chunked_put.c: a PUT's aws-chunked headers, checked before the body;
 * r->awsc then decodes it, handing the payload to data(r, ...). 0 also
 * for a plain body (r->awsc stays NULL); -1 with S3's code and message. */
int vs__awsc_begin(vs__req *r, vs__awsc_data_fn data, vs__s3code *code,
                   char *msg, size_t cap);
/* Frees the decoder and forgets the chain (the request's end). */
void vs__awsc_done(vs__req *r);

/* body.c: small request bodies read whole. piece: appends n bytes, or
 * past max answers 400 EntityTooLarge saying too_large. digests:
 * Content-MD5 and any x-amz-checksum-* into r (REQUIRED: one of them must
 * come, as DeleteObjects requires; MD5_ONLY: x-amz-checksum-* is not the
 * body's, as Complete's is the object's). matches: the whole body against
 * them and x-amz-content-sha256. Both VS__S3_NONE or the code, why in
 * msg. */
enum { VS__BODY_REQUIRED = 1, VS__BODY_MD5_ONLY = 2 };
enum MHD_Result vs__body_piece(vs__req *r, const char *data, size_t n,
                               size_t max, const char *too_large);
vs__s3code vs__body_digests(vs__req *r, unsigned flags, char *msg,
                            size_t cap);
vs__s3code vs__body_matches(vs__req *r, char *msg, size_t cap);

/* mpu.c: multipart uploads. An UploadPart streams through objects.c's PUT
 * path; mpu.c checks it first (part_begin: the part number, the upload,
 * the part's checksum; 0 or -1 with the code and why) and ends it
 * (part_commit on a commit thread, part_ok the answer). */
enum MHD_Result vs__mpu_create(vs__req *r, const char *data, size_t *size);
enum MHD_Result vs__mpu_complete(vs__req *r, const char *data,
                                 size_t *size);
enum MHD_Result vs__mpu_abort(vs__req *r, const char *data, size_t *size);
int vs__part_begin(vs__req *r, vs__s3code *code, char *msg, size_t cap);
/* partNumber: 1 .. 10,000 into *out, else -1. */
int vs__part_number(vs__req *r, unsigned *out);
void vs__part_commit(vs__req *r);
enum MHD_Result vs__part_ok(vs__req *r);
/* tagging.c: GetObjectTagging (always an empty tag set) */
enum MHD_Result vs__get_object_tagging(vs__req *r, const char *data,
                                       size_t *size);
/* mpu_list.c: ListParts, ListMultipartUploads */
enum MHD_Result vs__mpu_list_parts(vs__req *r, const char *data,
                                   size_t *size);
enum MHD_Result vs__mpu_list(vs__req *r, const char *data, size_t *size);
/* mpu_copy.c: UploadPartCopy */
enum MHD_Result vs__mpu_part_copy(vs__req *r, const char *data,
                                  size_t *size);
/* The upload named by the request's uploadId, for its bucket and key, into
 * r->mpu: 0, or -1 with NoSuchUpload (or the store's error) answered. */
int vs__mpu_lookup(vs__req *r, vs__s3code *code, char *msg, size_t cap);
/* The sweeper: uploads older than cfg.mpu_expiry_ms are aborted. */
int vs__mpu_sweeper_start(vs_server *s, vs_err *err);
void vs__mpu_sweeper_stop(vs_server *s);

/* ops.c */
enum MHD_Result vs__health(vs__req *r);
enum MHD_Result vs__metrics_page(vs__req *r);
void vs__observe_upload(vs_server *s, int64_t ms);

#endif
