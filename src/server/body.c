/* Small request bodies read whole (DeleteObjects, CreateBucket's
 * configuration, CompleteMultipartUpload): bounded accumulation, and the
 * body checked against every digest its headers promise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "util/enc.h"

enum MHD_Result vs__body_piece(vs__req *r, const char *data, size_t n,
                               size_t max, const char *too_large)
{
  char *p;
  if(r->body_len + n > max)
    return vs__reject(r, VS__S3_TOO_LARGE, too_large);
  if(!(p = realloc(r->body, r->body_len + n + 1)))
    return MHD_NO;
  memcpy(p + r->body_len, data, n);
  r->body = p;
  r->body_len += n;
  r->body[r->body_len] = 0;
  r->bytes_in += n;
  return MHD_YES;
}

static vs__s3code checksum_header(vs__req *r, char *msg, size_t cap)
{
  int a;
  for(a = VS_CKSUM_NONE + 1; a < VS_CKSUM__COUNT; a++) {
    char name[40];
    const char *v;
    snprintf(name, sizeof(name), "x-amz-checksum-%s",
             vs_cksum_name((vs_cksum_alg)a));
    if(!(v = vs__header(r->conn, name)))
      continue;
    if(r->cksum_alg) {
      snprintf(msg, cap, "Expecting a single x-amz-checksum- header. "
               "Multiple checksum Types are not allowed.");
      return VS__S3_INVALID_REQUEST;
    }
    r->cksum_alg = (vs_cksum_alg)a;
    if(vs_unb64(v, strlen(v), r->want_cksum, sizeof(r->want_cksum)) !=
       (long)vs_cksum_len(r->cksum_alg)) {
      snprintf(msg, cap, "Value for x-amz-checksum-%s header is invalid.",
               vs_cksum_name(r->cksum_alg));
      return VS__S3_INVALID_REQUEST;
    }
  }
  return VS__S3_NONE;
}

vs__s3code vs__body_digests(vs__req *r, unsigned flags, char *msg,
                            size_t cap)
{
  const char *md5 = vs__header(r->conn, "Content-MD5");
  int required = !!(flags & VS__BODY_REQUIRED);
  vs__s3code code;
  r->has_md5 = 0;
  if(md5) {
    if(vs_unb64(md5, strlen(md5), r->want_md5, sizeof(r->want_md5)) != 16) {
      snprintf(msg, cap, "The Content-MD5 you specified was invalid.");
      return VS__S3_INVALID_DIGEST;
    }
    r->has_md5 = 1;
  }
  r->cksum_alg = VS_CKSUM_NONE;
  if(!(flags & VS__BODY_MD5_ONLY) && (code = checksum_header(r, msg, cap)))
    return code;
  if(required && !r->has_md5 && !r->cksum_alg) {
    snprintf(msg, cap, "Missing required header for this request: "
             "Content-MD5");
    return VS__S3_INVALID_REQUEST;
  }
  return VS__S3_NONE;
}

static vs__s3code sha256_matches(vs__req *r, const char *p, char *msg,
                                 size_t cap)
{
  unsigned char md[32];
  unsigned len;
  char hex[65];
  if(!r->payload_sha256[0])
    return VS__S3_NONE;
  if(!EVP_Digest(p, r->body_len, md, &len, EVP_sha256(), NULL))
    return VS__S3_INTERNAL;
  vs_hex(md, 32, hex);
  if(!strcmp(hex, r->payload_sha256))
    return VS__S3_NONE;
  snprintf(msg, cap, "x-amz-content-sha256 is %s but the body received "
           "hashes to %s", r->payload_sha256, hex);
  return VS__S3_SHA256_MISMATCH;
}

vs__s3code vs__body_matches(vs__req *r, char *msg, size_t cap)
{
  const char *p = r->body ? r->body : "";
  unsigned char md[VS_CKSUM_MAX];
  unsigned len;
  vs__s3code code = sha256_matches(r, p, msg, cap);
  if(code)
    return code;
  if(r->has_md5 && (!EVP_Digest(p, r->body_len, md, &len, EVP_md5(), NULL)
                    || memcmp(md, r->want_md5, 16)))
    return VS__S3_BAD_DIGEST;
  if(r->cksum_alg) {
    vs_cksum c;
    size_t n;
    if(vs_cksum_init(&c, r->cksum_alg))
      return VS__S3_INTERNAL;
    vs_cksum_update(&c, p, r->body_len);
    n = vs_cksum_final(&c, md);
    if(!n || memcmp(md, r->want_cksum, n)) {
      snprintf(msg, cap, "The %s you specified did not match the "
               "calculated checksum.", vs_cksum_label(r->cksum_alg));
      return VS__S3_BAD_DIGEST;
    }
  }
  return VS__S3_NONE;
}
