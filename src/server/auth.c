/* Every object and hook request is authenticated before a body byte is
 * read: SigV4 (query or header form) or, unless the server was started
 * with --no-sigv2, SigV2 (query or header form). The scheme is picked from
 * the request itself; each maps its refusals to the same S3 codes. */
#include <string.h>

#include <openssl/crypto.h>

#include "server/internal.h"
#include "server/router.h"

static const char *lookup(void *ctx, const char *name)
{
  return vs__header(ctx, name);
}

/* SigV2 signs every x-amz-* header: libmicrohttpd's list of them. */
typedef struct visit_ctx {
  vs_header_visit_fn visit;
  void *arg;
} visit_ctx;

static enum MHD_Result each_value(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
  visit_ctx *v = cls;
  (void)kind;
  if(key)
    v->visit(v->arg, key, value ? value : "");
  return MHD_YES;
}

static void each_header(void *ctx, vs_header_visit_fn visit, void *arg)
{
  visit_ctx v = {visit, arg};
  MHD_get_connection_values(ctx, MHD_HEADER_KIND, each_value, &v);
}

static vs__s3code code_of(vs_sigv4_status st, int presigned_form, int v2)
{
  switch(st) {
  case VS_SIGV4_MISSING:
    return VS__S3_ACCESS_DENIED;
  case VS_SIGV4_BAD_PARAMS:
  case VS_SIGV4_WRONG_REGION:
    /* S3 answers a malformed SigV2 request AccessDenied ("Query-string
     * authentication requires the Signature, Expires and AWSAccessKeyId
     * parameters", "AWS authentication requires a valid Date ...") */
    if(v2)
      return VS__S3_ACCESS_DENIED;
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

static vs_sigv4_status verify_v2(vs__req *r, const vs_keyring *kr,
                                 int64_t now, vs_sigv4_result *res,
                                 vs_err *err)
{
  vs_server *s = r->srv;
  char bucket[256];
  const char *host = vs__header(r->conn, "Host");
  vs_sigv2_request q = {r->method, r->raw_uri, lookup, each_header, r->conn,
                        NULL};
  /* a virtual-hosted request signs /bucket/key, as route() reads it */
  if(vs__route_host_bucket(host, s->cfg.domain, bucket, sizeof(bucket)))
    q.host_bucket = bucket;
  return vs_sigv2_verify(&q, kr, now, res, err);
}

int vs__authenticate(vs__req *r, char *payload_sha256_out)
{
  vs_server *s = r->srv;
  vs_sigv4_request q = {r->method, r->raw_uri, lookup, r->conn};
  vs_sigv4_result res = {0};
  vs_err err = {0};
  vs_sigv4_status st;
  int64_t now = vs_now_ms(s->cfg.now, s->cfg.now_ctx) / 1000;
  int v2 = vs_sigv2_present(r->raw_uri,
                            vs__header(r->conn, "Authorization"));
  vs_keyring *kr;
  if(v2 && s->cfg.no_sigv2) {
    r->rejected = 1;
    vs__s3_error(r, VS__S3_ACCESS_DENIED, "Signature Version 2 is refused "
                 "by this server (vsink serve --no-sigv2): sign the request "
                 "with AWS4-HMAC-SHA256 (boto3: signature_version='s3v4')");
    return -1;
  }
  kr = vs__keys_acquire(s);
  st = v2 ? verify_v2(r, kr, now, &res, &err)
          : vs_sigv4_verify(&q, kr, s->region, now, &res, &err);
  vs__keys_release(s);
  if(st == VS_SIGV4_OK) {
    /* a signed aws-chunked body: its chain starts from this signature */
    if(res.chain.amzdate[0])
      r->chain = res.chain;
    OPENSSL_cleanse(&res.chain, sizeof(res.chain));
    /* SigV2 signs no payload hash: UNSIGNED-PAYLOAD, nothing to match */
    if(payload_sha256_out) {
      if(!res.presigned && strcmp(res.payload_sha256, VS_SIGV4_UNSIGNED))
        memcpy(payload_sha256_out, res.payload_sha256, 65);
      else
        payload_sha256_out[0] = 0;
    }
    return 0;
  }
  r->rejected = 1;
  vs__s3_error(r, code_of(st, strstr(r->raw_uri, "X-Amz-") != NULL, v2),
               st == VS_SIGV4_BAD_SIGNATURE ? NULL : err.msg);
  return -1;
}
