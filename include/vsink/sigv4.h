/* AWS Signature Version 4 for S3: presigned URLs (query form), header
 * signing for requests vsink sends, and verification of both forms for the
 * requests the sink receives. One implementation serves vsink's own sink and
 * any S3-compatible bucket, so it follows AWS's rules to the byte. */
#ifndef VSINK_SIGV4_H
#define VSINK_SIGV4_H

#include <stdint.h>

#include "vsink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_SIGV4_MAX_EXPIRES 604800 /* 7 days, AWS's limit */
#define VS_SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

/* ---- keys ---------------------------------------------------------------
 * A keyring holds one or more access keys (several while a key is being
 * rotated). Secrets never leave it except into an HMAC. */
typedef struct vs_keyring vs_keyring;

/* From VSINK_ACCESS_KEY_ID + VSINK_SECRET_ACCESS_KEY when file is NULL,
 * otherwise from file: one "KEYID SECRET" per line, '#' comments and blank
 * lines allowed. VS_ERR_NOTFOUND when file is NULL and the environment holds
 * no key. */
int vs_keyring_load(vs_keyring **out, const char *file, vs_err *err);
/* Creates file (mode 0600, O_EXCL) holding a fresh random key pair and
 * loads it; VS_ERR_EXISTS if it is already there. */
int vs_keyring_generate(vs_keyring **out, const char *file, vs_err *err);
/* An empty keyring to fill with vs_keyring_add (tests, embedding). */
vs_keyring *vs_keyring_new(void);
int vs_keyring_add(vs_keyring *kr, const char *key_id, const char *secret,
                   vs_err *err);
/* The secret of key_id, or NULL. */
const char *vs_keyring_secret(const vs_keyring *kr, const char *key_id);
/* The first key's id and secret (the one vsink signs with). */
int vs_keyring_first(const vs_keyring *kr, const char **key_id,
                     const char **secret);
size_t vs_keyring_count(const vs_keyring *kr);
void vs_keyring_free(vs_keyring *kr);

/* ---- signing ------------------------------------------------------------ */
typedef struct vs_sigv4_creds {
  const char *key_id;
  const char *secret;
  const char *region;  /* "us-east-1" */
  const char *service; /* "s3" when NULL */
} vs_sigv4_creds;

/* A URL to presign: scheme://host[:port] + path. path is the decoded object
 * path ("/bucket/my key.mp4"); it is URI-encoded here, '/' kept. query holds
 * extra parameters already in "name=value&..." form with values URI-encoded
 * (may be NULL), e.g. "versionId=abc"; they come before the X-Amz-* ones,
 * which follow in botocore's order, so the URL is byte-identical to
 * generate_presigned_url's. */
typedef struct vs_presign_req {
  const char *method;   /* PUT GET HEAD POST DELETE */
  const char *endpoint; /* "http://127.0.0.1:9000", no trailing slash */
  const char *path;
  const char *query;
  int64_t time;         /* Unix seconds of X-Amz-Date */
  int64_t expires;      /* 1..604800 */
} vs_presign_req;

/* Writes the presigned URL (NUL-terminated, malloc'd) into *url. */
int vs_sigv4_presign(const vs_sigv4_creds *c, const vs_presign_req *r,
                     char **url, vs_err *err);

/* Header signing for a request vsink sends to a bucket. Produces the three
 * headers to add: "Authorization: ...", "x-amz-date: ...",
 * "x-amz-content-sha256: ..." (full header lines, no CRLF). payload_sha256
 * is the body's hex SHA-256 or NULL for UNSIGNED-PAYLOAD. extra_headers are
 * further "Name: value" lines to sign (may be NULL/0); host is always
 * signed. */
typedef struct vs_signed_headers {
  char authorization[512];
  char amz_date[40];
  char content_sha256[100];
} vs_signed_headers;
int vs_sigv4_sign_headers(const vs_sigv4_creds *c, const char *method,
                          const char *url, const char *const *extra_headers,
                          size_t n_extra, const char *payload_sha256,
                          int64_t time, vs_signed_headers *out, vs_err *err);

/* ---- verifying ----------------------------------------------------------
 * Why a request was refused; the sink maps each to S3's code and status. */
typedef enum vs_sigv4_status {
  VS_SIGV4_OK = 0,
  VS_SIGV4_MISSING,        /* no authentication at all: AccessDenied 403 */
  VS_SIGV4_BAD_PARAMS,     /* malformed/missing X-Amz-*, wrong algorithm,
                              expires out of range, wrong service/scope:
                              AuthorizationQueryParametersError 400 (query)
                              or AuthorizationHeaderMalformed 400 (header) */
  VS_SIGV4_WRONG_REGION,   /* scope region != ours: the same 400s */
  VS_SIGV4_UNKNOWN_KEY,    /* InvalidAccessKeyId 403 */
  VS_SIGV4_EXPIRED,        /* AccessDenied 403 "Request has expired" */
  VS_SIGV4_NOT_YET_VALID,  /* AccessDenied 403 (X-Amz-Date in the future) */
  VS_SIGV4_SKEWED,         /* header form: date too far from now:
                              RequestTimeTooSkewed 403 */
  VS_SIGV4_BAD_SIGNATURE   /* SignatureDoesNotMatch 403 */
} vs_sigv4_status;

/* Case-insensitive header lookup supplied by the caller (the server wraps
 * libmicrohttpd's). Returns NULL when absent. */
typedef const char *(*vs_header_fn)(void *ctx, const char *name);

typedef struct vs_sigv4_request {
  const char *method;
  const char *raw_uri;  /* exactly as on the request line: /path?query */
  vs_header_fn header;
  void *header_ctx;
} vs_sigv4_request;

/* ---- aws-chunked signatures (src/sigv4/sigv4_chunk.c) ------------------------
 * A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body signs each chunk with a
 * signature chained from the previous one, starting from the seed: the
 * request's own (header-form) signature. The chain keeps what the next
 * link needs; it holds the day's signing key, so cleanse it when done. */
#define VS_SIGV4_STREAMING "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define VS_SIGV4_STREAMING_TRAILER "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
#define VS_SIGV4_STREAMING_UNSIGNED "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

typedef struct vs_sigv4_chain {
  unsigned char key[32]; /* signing key of the request's scope */
  char amzdate[17];      /* the request's x-amz-date */
  char scope[160];       /* DATE/REGION/SERVICE/aws4_request */
  char prev[65];         /* the previous signature (the seed at first) */
} vs_sigv4_chain;

typedef struct vs_sigv4_result {
  int presigned;            /* 1: query form, 0: Authorization header */
  char key_id[129];
  /* The payload hash the client signed: "UNSIGNED-PAYLOAD" or 64 lowercase
   * hex digits that the body must then match (header form only). */
  char payload_sha256[65 + 20];
  int64_t expires_at;       /* presigned: Unix seconds when it stops working */
  /* Header form with x-amz-content-sha256 STREAMING-AWS4-HMAC-SHA256-*:
   * the chain seeded with the request's signature; else all zero. */
  vs_sigv4_chain chain;
} vs_sigv4_result;

/* Checks the request's signature (either form) against the keyring, our
 * region and service "s3", at time now (Unix seconds). Header-form requests
 * may be at most 15 minutes from now, as S3 allows. Reads no body. On a
 * refusal, err->msg says precisely why (never a secret nor the expected
 * signature). out may be NULL. The path and query are %-decoded and
 * re-encoded before signing, so any client's escaping of the same bytes
 * verifies. */
vs_sigv4_status vs_sigv4_verify(const vs_sigv4_request *req,
                                const vs_keyring *keys, const char *region,
                                int64_t now, vs_sigv4_result *out,
                                vs_err *err);

/* ---- Signature Version 2 (src/sigv4/sigv2.c) ----------------------------------
 * "Authorization: AWS KEYID:SIGNATURE" and the query form
 * (?AWSAccessKeyId=&Expires=&Signature=, what botocore's
 * generate_presigned_url makes by default for a custom endpoint): HMAC-SHA1
 * over VERB, Content-MD5, Content-Type, Date (Expires in the query form,
 * "" when x-amz-date is sent), the x-amz-* headers and the resource. The
 * statuses are SigV4's, so callers map both the same way. */
#define VS_SIGV2_SIG_B64 29   /* base64 of an HMAC-SHA1 and a NUL */
#define VS_SIGV2_HEADER 1
#define VS_SIGV2_QUERY 2

/* Every header of a request: visit(arg, name, value) once per header. */
typedef void (*vs_header_visit_fn)(void *arg, const char *name,
                                   const char *value);
typedef void (*vs_header_each_fn)(void *ctx, vs_header_visit_fn visit,
                                  void *arg);

typedef struct vs_sigv2_request {
  const char *method;
  const char *raw_uri;          /* exactly as on the request line */
  vs_header_fn header;          /* Authorization, Content-*, Date, ... */
  vs_header_each_fn each_header;/* for the x-amz-* ones; NULL: none */
  void *header_ctx;             /* for both */
  /* Virtual-hosted-style: the bucket named by the Host header, which
   * prefixes the canonical resource ("/bucket/key"); NULL: path style. */
  const char *host_bucket;
} vs_sigv2_request;

/* VS_SIGV2_HEADER when authorization (may be NULL) is "AWS ...",
 * VS_SIGV2_QUERY when there is none and the query carries Signature or
 * AWSAccessKeyId (and no SigV4 parameter), else 0: SigV4 decides. */
int vs_sigv2_present(const char *raw_uri, const char *authorization);

/* Checks a SigV2 request (either form) against the keyring at time now:
 * the query form until Expires, the header form within 15 minutes of its
 * Date or x-amz-date. Reads no body; a SigV2 request signs no payload
 * hash (out->payload_sha256 is UNSIGNED-PAYLOAD; Content-MD5 is signed
 * and the body must still match it). The client's escaping of the path is
 * tried first, then the AWS escaping of the same bytes. Signatures are
 * compared in constant time. Same contract as vs_sigv4_verify. */
vs_sigv4_status vs_sigv2_verify(const vs_sigv2_request *req,
                                const vs_keyring *keys, int64_t now,
                                vs_sigv4_result *out, vs_err *err);

/* The string to sign of req (malloc'd into *out) with date as its date
 * line. x-amz-* query parameters are signed as headers (a presigner moves
 * them there; and unsigned, they would change the object's metadata).
 * For tests and presigning. */
int vs_sigv2_string_to_sign(const vs_sigv2_request *req, const char *date,
                            char **out, vs_err *err);
/* base64(HMAC-SHA1(secret, sts[0..n))) into sig. */
int vs_sigv2_sign(const char *secret, const char *sts, size_t n,
                  char sig[VS_SIGV2_SIG_B64]);
/* A SigV2 presigned URL, byte-identical to botocore's
 * generate_presigned_url with signature_version "s3": endpoint + encoded
 * path + "?" + [query&] AWSAccessKeyId=..&Signature=..&Expires=
 * (r->time + r->expires). c->region is not used. */
int vs_sigv2_presign(const vs_sigv4_creds *c, const vs_presign_req *r,
                     char **url, vs_err *err);

/* ---- building blocks (exposed for tests and the S3 client) -------------- */
/* AWS UriEncode: unreserved A-Za-z0-9-._~ kept, every other byte %XX
 * uppercase; '/' kept when keep_slash. Returns a malloc'd string. */
char *vs_sigv4_uri_encode(const char *s, size_t n, int keep_slash);
/* Decodes %XX; returns malloc'd string and its length, or NULL
 * when an escape is malformed. '+' is kept as '+' (S3 rule). */
char *vs_sigv4_uri_decode(const char *s, size_t n, size_t *out_len);

/* ---- aws-chunked chains (src/sigv4/sigv4_chunk.c) ---------------------------- */
/* A chain from its parts: the secret, the request's x-amz-date
 * (YYYYMMDDTHHMMSSZ), region, service ("s3" when NULL) and the seed
 * signature (64 hex digits). 0, or VS_ERR_INVALID / VS_ERR_NOMEM. */
int vs_sigv4_chain_init(vs_sigv4_chain *c, const char *secret,
                        const char *amzdate, const char *region,
                        const char *service, const char *seed);
/* The next link's signature into sig: of a chunk whose data hashes to sha
 * (trailer 0: "AWS4-HMAC-SHA256-PAYLOAD"), or of the trailing headers'
 * bytes hashing to sha (trailer 1: "AWS4-HMAC-SHA256-TRAILER"). The chain
 * moves on to it. 0, or VS_ERR_NOMEM. */
int vs_sigv4_chunk_sign(vs_sigv4_chain *c, int trailer,
                        const unsigned char sha[32], char sig[65]);
/* 1 when sig (64 hex digits, any case) is the next link's signature, the
 * chain then moving on; 0 otherwise (the chain unchanged). Constant time. */
int vs_sigv4_chunk_check(vs_sigv4_chain *c, int trailer,
                         const unsigned char sha[32], const char *sig);

#ifdef __cplusplus
}
#endif
#endif
