/* A PUT with an aws-chunked body: its headers checked before a body byte
 * is read (which STREAMING- form, x-amz-decoded-content-length against the
 * size limit, the x-amz-trailer checksum), then the decoder (chunked.c)
 * set up to hand the payload to the PUT's own data path. The trailing
 * checksum lands where a header checksum would (r->want_cksum), so
 * objects.c verifies, stores and echoes it the same way. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "server/internal.h"
#include "util/enc.h"

/* Content-Encoding lists aws-chunked (a comma-separated list). */
static int lists_aws_chunked(const char *ce)
{
  while(ce && *ce) {
    size_t n;
    while(*ce == ' ' || *ce == '\t' || *ce == ',')
      ce++;
    n = strcspn(ce, ",");
    while(n && (ce[n - 1] == ' ' || ce[n - 1] == '\t'))
      n--;
    if(n == 11 && !strncasecmp(ce, "aws-chunked", 11))
      return 1;
    ce += strcspn(ce, ",");
  }
  return 0;
}

static int refuse(vs__s3code *code, vs__s3code c, char *msg, size_t cap,
                  const char *why)
{
  *code = c;
  snprintf(msg, cap, "%s", why);
  return -1;
}

/* The trailing checksum's value: the digest objects.c compares at the
 * end. -1 (BadDigest) when it is not the base64 of one. */
static int on_trailer(void *arg, const char *name, const char *value)
{
  vs__req *r = arg;
  size_t len = vs_cksum_len(r->cksum_alg);
  (void)name; /* the decoder took only the announced one */
  if(strlen(value) >= sizeof(r->cksum_b64) ||
     vs_unb64(value, strlen(value), r->want_cksum, sizeof(r->want_cksum)) !=
       (long)len)
    return -1;
  vs_b64(r->want_cksum, len, r->cksum_b64);
  return 0;
}

static int parse_mode(vs__req *r, const char *sha, vs__awsc_mode *mode,
                      vs__s3code *code, char *msg, size_t cap)
{
  if(!strcmp(sha, VS_SIGV4_STREAMING_UNSIGNED))
    *mode = VS__AWSC_UNSIGNED_TRAILER;
  else if(!strcmp(sha, VS_SIGV4_STREAMING))
    *mode = VS__AWSC_SIGNED;
  else if(!strcmp(sha, VS_SIGV4_STREAMING_TRAILER))
    *mode = VS__AWSC_SIGNED_TRAILER;
  else
    return refuse(code, VS__S3_NOT_IMPLEMENTED, msg, cap, "x-amz-content-"
                  "sha256: only STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] "
                  "and STREAMING-UNSIGNED-PAYLOAD-TRAILER are decoded");
  /* the chain's seed is the signature of a header-signed SigV4 request */
  if(*mode != VS__AWSC_UNSIGNED_TRAILER && !r->chain.amzdate[0])
    return refuse(code, VS__S3_INVALID_REQUEST, msg, cap, "a signed "
                  "aws-chunked body needs a request signed with an "
                  "AWS4-HMAC-SHA256 Authorization header");
  return 0;
}

static int parse_decoded_length(vs__req *r, uint64_t *out, vs__s3code *code,
                                char *msg, size_t cap)
{
  const char *dl = vs__header(r->conn, "x-amz-decoded-content-length");
  char *end;
  unsigned long long v;
  if(!dl)
    return refuse(code, VS__S3_MISSING_LENGTH, msg, cap, "an aws-chunked "
                  "body needs x-amz-decoded-content-length");
  errno = 0;
  v = strtoull(dl, &end, 10);
  if(errno || *end || end == dl || dl[0] < '0' || dl[0] > '9')
    return refuse(code, VS__S3_INVALID_ARGUMENT, msg, cap,
                  "x-amz-decoded-content-length is not a number");
  if(v > r->srv->cfg.max_object_size) {
    *code = VS__S3_TOO_LARGE;
    snprintf(msg, cap, "x-amz-decoded-content-length %llu is over the %"
             PRIu64 "-byte limit", v, r->srv->cfg.max_object_size);
    return -1;
  }
  *out = v;
  return 0;
}

/* x-amz-trailer names the one checksum the trailer will carry; it takes
 * the place of an x-amz-checksum-* header (r->cksum_alg). */
static int parse_trailer(vs__req *r, vs__awsc_mode mode, const char **name,
                         vs__s3code *code, char *msg, size_t cap)
{
  const char *tr = vs__header(r->conn, "x-amz-trailer");
  const char *sdk = vs__header(r->conn, "x-amz-sdk-checksum-algorithm");
  vs_cksum_alg alg;
  *name = NULL;
  if(!tr)
    return 0;
  if(mode == VS__AWSC_SIGNED)
    return refuse(code, VS__S3_INVALID_REQUEST, msg, cap, "x-amz-trailer "
                  "needs x-amz-content-sha256 STREAMING-AWS4-HMAC-SHA256-"
                  "PAYLOAD-TRAILER");
  if(strncasecmp(tr, "x-amz-checksum-", 15) ||
     (alg = vs_cksum_parse(tr + 15)) == VS_CKSUM_NONE)
    return refuse(code, VS__S3_NOT_IMPLEMENTED, msg, cap, "x-amz-trailer: "
                  "only x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} "
                  "are verified by vsink");
  if(r->cksum_alg)
    return refuse(code, VS__S3_INVALID_REQUEST, msg, cap, "Expecting a "
                  "single x-amz-checksum- header. Multiple checksum Types "
                  "are not allowed.");
  if(sdk && vs_cksum_parse(sdk) != alg)
    return refuse(code, VS__S3_INVALID_REQUEST, msg, cap, "Value for "
                  "x-amz-sdk-checksum-algorithm header is invalid.");
  r->cksum_alg = alg;
  *name = tr;
  return 0;
}

int vs__awsc_begin(vs__req *r, vs__awsc_data_fn data, vs__s3code *code,
                   char *msg, size_t cap)
{
  const char *sha = vs__header(r->conn, "x-amz-content-sha256");
  vs__awsc_mode mode;
  uint64_t len;
  const char *tname;
  if(!sha || strncmp(sha, "STREAMING-", 10)) {
    if(lists_aws_chunked(vs__header(r->conn, "Content-Encoding")) ||
       vs__header(r->conn, "x-amz-decoded-content-length") ||
       vs__header(r->conn, "x-amz-trailer"))
      return refuse(code, VS__S3_INVALID_ARGUMENT, msg, cap, "aws-chunked "
                    "bodies (Content-Encoding: aws-chunked, x-amz-decoded-"
                    "content-length, x-amz-trailer) need x-amz-content-"
                    "sha256: STREAMING-...");
    return 0; /* a plain body */
  }
  if(parse_mode(r, sha, &mode, code, msg, cap) ||
     parse_decoded_length(r, &len, code, msg, cap) ||
     parse_trailer(r, mode, &tname, code, msg, cap))
    return -1;
  r->awsc = vs__awsc_new(mode, &r->chain, len, tname, data, on_trailer, r);
  OPENSSL_cleanse(&r->chain, sizeof(r->chain)); /* the decoder has it */
  if(!r->awsc)
    return refuse(code, VS__S3_INTERNAL, msg, cap, "out of memory");
  /* the object is the decoded payload; the chunks carry its signatures */
  r->content_length = (int64_t)len;
  r->payload_sha256[0] = 0;
  return 0;
}

void vs__awsc_done(vs__req *r)
{
  vs__awsc_free(r->awsc);
  r->awsc = NULL;
  OPENSSL_cleanse(&r->chain, sizeof(r->chain));
}
