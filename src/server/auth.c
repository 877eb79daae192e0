/* Every object and hook request is authenticated by SigV4 (query or
 * header form) before a body byte is read. */
#include <string.h>

#include "server/internal.h"

static const char *lookup(void *ctx, const char *name)
{
  return vs__header(ctx, name);
}

static vs__s3code code_of(vs_sigv4_status st, int presigned_form)
{
  switch(st) {
  case VS_SIGV4_MISSING:
    return VS__S3_ACCESS_DENIED;
  case VS_SIGV4_BAD_PARAMS:
  case VS_SIGV4_WRONG_REGION:
    return presigned_form ? VS__S3_QUERY_PARAMS : VS__S3_HEADER_MALFORMED;
  case VS_SIGV4_UNKNOWN_KEY:
    return VS__S3_INVALID_KEY_ID;
  case VS_SIGV4_EXPIRED:
    return VS__S3_EXPIRED;
  case VS_SIGV4_NOT_YET_VALID:
    return VS__S3_NOT_YET_VALID;
  case VS_SIGV4_SKEWED:
    return VS__S3_SKEWED;
  case VS_SIGV4_BAD_SIGNATURE:
    return VS__S3_SIGNATURE;
  default:
    return VS__S3_NONE;
  }
}

int vs__authenticate(vs__req *r, char *payload_sha256_out)
{
  vs_server *s = r->srv;
  vs_sigv4_request q = {r->method, r->raw_uri, lookup, r->conn};
  vs_sigv4_result res;
  vs_err err = {0};
  vs_sigv4_status st;
  int64_t now = vs_now_ms(s->cfg.now, s->cfg.now_ctx) / 1000;
  vs_keyring *kr = vs__keys_acquire(s);
  st = vs_sigv4_verify(&q, kr, s->region, now, &res, &err);
  vs__keys_release(s);
  if(st == VS_SIGV4_OK) {
    if(payload_sha256_out) {
      if(!res.presigned && strcmp(res.payload_sha256, VS_SIGV4_UNSIGNED))
        memcpy(payload_sha256_out, res.payload_sha256, 65);
      else
        payload_sha256_out[0] = 0;
    }
    return 0;
  }
  r->rejected = 1;
  vs__s3_error(r, code_of(st, strstr(r->raw_uri, "X-Amz-") != NULL),
               st == VS_SIGV4_BAD_SIGNATURE ? NULL : err.msg);
  return -1;
}
