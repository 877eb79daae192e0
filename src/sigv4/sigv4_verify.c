/* AWS Signature Version 4 for S3: verification of both forms (query
 * parameters and the Authorization header), over the canonical request
 * sigv4.c builds for signing, so the two can never drift apart. */
#include "vsink/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "sigv4/sigv4_int.h"

#define STREAMING_PREFIX "STREAMING-"
#define MAX_SKEW 900      /* seconds: S3 accepts 15 minutes either way */

/* ---- verifying ---------------------------------------------------------- */

typedef struct vctx {
  const vs_sigv4_request *req;
  const vs_keyring *keys;
  const char *region;
  int64_t now;
  vs_sigv4_result *out;
  vs_err *err;
  qlist q;
  vs_buf curi;
  scope s;
  const char *secret;
  int64_t t;           /* the request's time */
  char amzdate[17];
  char sig[65];        /* the client's signature */
  char *auth;          /* a copy of the Authorization header, cut in pieces */
  char signed_list[1024];
  hdrs h;
} vctx;


static const char *hdr(const vctx *v, const char *name)
{
  return v->req->header ? v->req->header(v->req->header_ctx, name) : NULL;
}

static vs_sigv4_status need_param(vctx *v, const char *name, const char **val)
{
  int dups;
  const qparam *p = vs__qlist_get(&v->q, name, &dups);
  if(!p)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "query parameter %s is missing", name);
  if(dups)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "query parameter %s is given more than once", name);
  if(strlen(p->value) != p->value_len)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "query parameter %s contains a NUL byte", name);
  *val = p->value;
  return VS_SIGV4_OK;
}

static size_t copy_part(char *dst, size_t cap, const char *src, size_t n)
{
  if(n >= cap)
    return 0;
  memcpy(dst, src, n);
  dst[n] = 0;
  return n;
}

/* KEYID/YYYYMMDD/REGION/s3/aws4_request */
static vs_sigv4_status parse_scope(vctx *v, const char *cred, const char *what)
{
  const char *part[5], *c = cred;
  size_t len[5], i;
  for(i = 0; i < 5; i++) {
    const char *sl = strchr(c, '/');
    part[i] = c;
    len[i] = sl ? (size_t)(sl - c) : strlen(c);
    if((i < 4 && !sl) || (i == 4 && sl))
      return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s must be "
                        "KEYID/YYYYMMDD/REGION/s3/aws4_request", what);
    if(sl) /* NULL after the last part: NULL + 1 is undefined */
      c = sl + 1;
  }
  if(!copy_part(v->s.key_id, sizeof(v->s.key_id), part[0], len[0]))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "%s: the access key id must be 1 to 128 characters",
                      what);
  if(len[1] != 8 || strspn(part[1], "0123456789") < 8)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "%s: the date must be YYYYMMDD", what);
  copy_part(v->s.date, sizeof(v->s.date), part[1], 8);
  if(len[3] != 2 || memcmp(part[3], "s3", 2))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "%s: the service is '%.*s'; it must be s3", what,
                      (int)(len[3] > 32 ? 32 : len[3]), part[3]);
  if(strcmp(part[4], TERMINAL))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s must end with /"
                      TERMINAL, what);
  if(!copy_part(v->s.region, sizeof(v->s.region), part[2], len[2]) ||
     strcmp(v->s.region, v->region))
    return vs__refuse(v->err, VS_SIGV4_WRONG_REGION,
                      "%s is for region '%.*s'; this server's region is '%s'",
                      what, (int)(len[2] > 63 ? 63 : len[2]), part[2],
                      v->region);
  strcpy(v->s.service, "s3");
  return VS_SIGV4_OK;
}

static vs_sigv4_status check_sig_syntax(vctx *v, const char *sig,
                                        const char *what)
{
  if(strlen(sig) != 64 || !vs__is_lower_hex64(sig))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "%s must be 64 lowercase hex digits", what);
  memcpy(v->sig, sig, 65);
  return VS_SIGV4_OK;
}

/* "host;range;x-amz-date": lowercase names, each once, host among them. */
static vs_sigv4_status parse_signed(vctx *v, const char *list,
                                    const char *what)
{
  char *p = v->signed_list, *semi;
  size_t i, have_host = 0;
  if(!copy_part(v->signed_list, sizeof(v->signed_list), list, strlen(list)))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s is empty or too long",
                      what);
  for(v->h.n = 0; p; p = semi ? semi + 1 : NULL) {
    semi = strchr(p, ';');
    if(semi)
      *semi = 0;
    if(!*p || strspn(p, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")
       != strlen(p) || v->h.n == MAX_HEADERS)
      return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s must be up to %d "
                        "lowercase header names separated by ';'", what,
                        MAX_HEADERS);
    for(i = 0; i < v->h.n; i++)
      if(!strcmp(v->h.name[i], p))
        return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s lists %.64s twice",
                          what, p);
    have_host |= !strcmp(p, "host");
    v->h.name[v->h.n++] = p;
  }
  if(!have_host)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s must include host",
                      what);
  return VS_SIGV4_OK;
}

static int is_signed(const vctx *v, const char *name)
{
  size_t i;
  for(i = 0; i < v->h.n; i++)
    if(!strcmp(v->h.name[i], name))
      return 1;
  return 0;
}

static vs_sigv4_status date_matches_scope(vctx *v, const char *what)
{
  vs_time_amz(v->t, v->amzdate);
  if(memcmp(v->amzdate, v->s.date, 8))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "the credential date %s is "
                      "not the day of %s %s", v->s.date, what, v->amzdate);
  return VS_SIGV4_OK;
}

static vs_sigv4_status find_key(vctx *v)
{
  v->secret = v->keys ? vs_keyring_secret(v->keys, v->s.key_id) : NULL;
  if(!v->secret)
    return vs__refuse(v->err, VS_SIGV4_UNKNOWN_KEY,
                      "access key id '%s' is not known here", v->s.key_id);
  snprintf(v->out->key_id, sizeof(v->out->key_id), "%s", v->s.key_id);
  return VS_SIGV4_OK;
}

static vs_sigv4_status check_signature(vctx *v, const char *payload,
                                       int presigned)
{
  vs_buf cq = VS_BUF_INIT, canon = VS_BUF_INIT;
  char mine[65];
  size_t i;
  int rc, same;
  for(i = 0; i < v->h.n; i++)
    if(!(v->h.value[i] = hdr(v, v->h.name[i])))
      return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                        "signed header %s is not in the request", v->h.name[i]);
  rc = vs__qlist_canon(&v->q, presigned, &cq);
  if(!rc)
    rc = vs__canon_request(&canon, v->req->method, vs_buf_str(&v->curi),
                           vs_buf_str(&cq), &v->h, payload);
  if(!rc)
    rc = vs__sign_canon(v->secret, &v->s, v->amzdate, &canon, mine);
  vs_buf_free(&cq);
  vs_buf_free(&canon);
  if(rc)
    return vs__refuse_oom(v->err);
  same = !CRYPTO_memcmp(mine, v->sig, 64);
  OPENSSL_cleanse(mine, sizeof(mine));
  if(!same)
    return vs__refuse(v->err, VS_SIGV4_BAD_SIGNATURE, "the signature does not "
                      "match: check the secret key and that the request was "
                      "sent as signed");
  return VS_SIGV4_OK;
}

static vs_sigv4_status parse_expires(vctx *v, const char *s, int64_t *out)
{
  size_t n = strlen(s), i;
  *out = 0;
  for(i = 0; i < n && i < 7; i++) {
    if(s[i] < '0' || s[i] > '9')
      break;
    *out = *out * 10 + (s[i] - '0');
  }
  if(!n || i != n || *out < 1 || *out > VS_SIGV4_MAX_EXPIRES)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "X-Amz-Expires must be an "
                      "integer from 1 to %d (seconds)", VS_SIGV4_MAX_EXPIRES);
  return VS_SIGV4_OK;
}

static vs_sigv4_status query_time(vctx *v, int64_t expires)
{
  char end[17];
  if(v->now >= v->t + expires) {
    vs_time_amz(v->t + expires, end);
    return vs__refuse(v->err, VS_SIGV4_EXPIRED, "Request has expired: "
                      "X-Amz-Date %s + X-Amz-Expires %lld s ended at %s",
                      v->amzdate, (long long)expires, end);
  }
  if(v->t > v->now + MAX_SKEW)
    return vs__refuse(v->err, VS_SIGV4_NOT_YET_VALID, "X-Amz-Date %s is more "
                      "than 15 minutes in the future", v->amzdate);
  v->out->expires_at = v->t + expires;
  return VS_SIGV4_OK;
}

static vs_sigv4_status verify_query(vctx *v)
{
  const char *alg, *cred, *date, *exp, *sh, *sig;
  int64_t expires;
  vs_sigv4_status st;
  v->out->presigned = 1;
  if((st = need_param(v, "X-Amz-Algorithm", &alg)))
    return st;
  if(strcmp(alg, ALGORITHM))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "X-Amz-Algorithm must be " ALGORITHM);
  if((st = need_param(v, "X-Amz-Credential", &cred)) ||
     (st = need_param(v, "X-Amz-Date", &date)) ||
     (st = need_param(v, "X-Amz-Expires", &exp)) ||
     (st = need_param(v, "X-Amz-SignedHeaders", &sh)) ||
     (st = need_param(v, "X-Amz-Signature", &sig)) ||
     (st = check_sig_syntax(v, sig, "X-Amz-Signature")) ||
     (st = parse_scope(v, cred, "X-Amz-Credential")))
    return st;
  if(vs_time_parse_amz(date, &v->t))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
  if((st = date_matches_scope(v, "X-Amz-Date")) ||
     (st = parse_expires(v, exp, &expires)) ||
     (st = parse_signed(v, sh, "X-Amz-SignedHeaders")) ||
     (st = find_key(v)) || (st = query_time(v, expires)))
    return st;
  strcpy(v->out->payload_sha256, VS_SIGV4_UNSIGNED);
  return check_signature(v, VS_SIGV4_UNSIGNED, 1);
}

/* ---- the Authorization header ------------------------------------------- */

static vs_sigv4_status auth_component(vctx *v, char *key, char *val,
                                      const char **cred, const char **sh,
                                      const char **sig)
{
  static const char *const names[] = {"Credential", "SignedHeaders",
                                      "Signature"};
  const char **slot[] = {cred, sh, sig};
  size_t i;
  for(i = 0; i < 3; i++) {
    if(strcmp(key, names[i]))
      continue;
    if(*slot[i])
      return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                        "the Authorization header gives %s twice", names[i]);
    *slot[i] = val;
    return VS_SIGV4_OK;
  }
  return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                    "unknown Authorization header component '%.32s'", key);
}

/* Cuts "Key=value" components separated by commas (spaces optional). */
static vs_sigv4_status auth_components(vctx *v, char *p, const char **cred,
                                       const char **sh, const char **sig)
{
  vs_sigv4_status st;
  while(*p) {
    char *key, *eq, *end, *next;
    while(vs__is_ws(*p) || *p == ',')
      p++;
    if(!*p)
      break;
    key = p;
    eq = strchr(p, '=');
    end = strchr(p, ',');
    if(!eq || (end && end < eq))
      return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "malformed Authorization "
                        "header: expected Credential=..., SignedHeaders=..., "
                        "Signature=...");
    next = end ? end + 1 : eq + strlen(eq);
    end = end ? end : next;
    while(end > eq + 1 && vs__is_ws(end[-1]))
      end--;
    *end = 0;
    *eq = 0;
    if((st = auth_component(v, key, eq + 1, cred, sh, sig)))
      return st;
    p = next;
  }
  return VS_SIGV4_OK;
}

static vs_sigv4_status parse_authorization(vctx *v, const char *auth,
                                           const char **cred, const char **sh,
                                           const char **sig)
{
  const char *alg = ALGORITHM;
  size_t n = strlen(alg);
  vs_sigv4_status st;
  char *p;
  while(vs__is_ws(*auth))
    auth++;
  if(strncmp(auth, alg, n) || !vs__is_ws(auth[n]))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, !strncmp(auth, "AWS ", 4)
                      ? "Signature Version 2 is not supported; sign with "
                    ALGORITHM
                      : "the Authorization header must start with " ALGORITHM);
  if(!(p = v->auth = strdup(auth + n)))
    return vs__refuse_oom(v->err);
  *cred = *sh = *sig = NULL;
  if((st = auth_components(v, p, cred, sh, sig)))
    return st;
  if(!*cred || !*sh || !*sig)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "the Authorization header "
                      "has no %s=", !*cred ? "Credential"
                      : !*sh ? "SignedHeaders" : "Signature");
  return VS_SIGV4_OK;
}

static vs_sigv4_status header_date(vctx *v)
{
  const char *d = hdr(v, "x-amz-date"), *what = "x-amz-date";
  if(!d) {
    d = hdr(v, "date");
    what = "Date";
  }
  if(!d)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "the request has neither "
                      "an x-amz-date nor a Date header");
  /* an HTTP-date's zone as botocore writes it too: -0000 */
  if(vs_time_parse_amz(d, &v->t) &&
     (*what == 'x' || vs_time_parse_http(d, 1, &v->t)))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "the %s header '%.40s' is not a valid date", what, d);
  return date_matches_scope(v, what);
}

static vs_sigv4_status content_sha256(vctx *v)
{
  const char *p = hdr(v, "x-amz-content-sha256");
  if(!p)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "the x-amz-content-sha256 header is missing");
  /* aws-chunked: the value is signed as is; the body's chunks carry the
   * rest (src/sigv4/sigv4_chunk.c, the server's decoder) */
  if(!strncmp(p, STREAMING_PREFIX, strlen(STREAMING_PREFIX)) &&
     strcmp(p, VS_SIGV4_STREAMING) && strcmp(p, VS_SIGV4_STREAMING_TRAILER) &&
     strcmp(p, VS_SIGV4_STREAMING_UNSIGNED))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "x-amz-content-sha256 "
                      "%.48s: only the aws-chunked forms %s[-TRAILER] and %s "
                      "are supported", p, VS_SIGV4_STREAMING,
                      VS_SIGV4_STREAMING_UNSIGNED);
  if(strcmp(p, VS_SIGV4_UNSIGNED) && !vs__is_lower_hex64(p) &&
     strncmp(p, STREAMING_PREFIX, strlen(STREAMING_PREFIX)))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "x-amz-content-sha256 must "
                      "be UNSIGNED-PAYLOAD or 64 lowercase hex digits");
  if(!is_signed(v, "x-amz-content-sha256"))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "x-amz-content-sha256 must be among the SignedHeaders");
  snprintf(v->out->payload_sha256, sizeof(v->out->payload_sha256), "%s", p);
  return VS_SIGV4_OK;
}

static vs_sigv4_status verify_header(vctx *v, const char *auth)
{
  const char *cred, *sh, *sig;
  vs_sigv4_status st;
  long long skew;
  if((st = parse_authorization(v, auth, &cred, &sh, &sig)) ||
     (st = check_sig_syntax(v, sig, "Signature")) ||
     (st = parse_scope(v, cred, "Credential")) ||
     (st = parse_signed(v, sh, "SignedHeaders")) || (st = header_date(v)) ||
     (st = content_sha256(v)) || (st = find_key(v)))
    return st;
  skew = (long long)(v->t - v->now);
  if(skew > MAX_SKEW || skew < -MAX_SKEW)
    return vs__refuse(v->err, VS_SIGV4_SKEWED, "the request time %s is %lld s "
                      "from the server's clock; at most %d s allowed",
                      v->amzdate, skew, MAX_SKEW);
  if((st = check_signature(v, v->out->payload_sha256, 0)))
    return st;
  /* a signed aws-chunked body: its chain starts from this signature */
  if(!strncmp(v->out->payload_sha256, VS_SIGV4_STREAMING,
              strlen(VS_SIGV4_STREAMING)) &&
     vs_sigv4_chain_init(&v->out->chain, v->secret, v->amzdate, v->s.region,
                         v->s.service, v->sig))
    return vs__refuse_oom(v->err);
  return VS_SIGV4_OK;
}

/* ---- entry -------------------------------------------------------------- */

static int has_query_auth(const qlist *q)
{
  static const char *const names[] = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature"};
  size_t i;
  int dups;
  for(i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if(vs__qlist_get(q, names[i], &dups))
      return 1;
  return 0;
}

static vs_sigv4_status parse_uri(vctx *v)
{
  const char *uri = v->req->raw_uri, *qm;
  vs_err e = {0};
  if(!uri || uri[0] != '/')
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                      "the request target must start with '/'");
  qm = strchr(uri, '?');
  if(vs__canon_path(&v->curi, uri, qm ? (size_t)(qm - uri) : strlen(uri)))
    return v->curi.failed ? vs__refuse_oom(v->err)
                          : vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                                       "malformed %%-escape in the path");
  if(qm && vs__qlist_parse(&v->q, qm + 1, strlen(qm + 1), &e))
    return e.code == VS_ERR_NOMEM
             ? vs__refuse_oom(v->err)
             : vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "%s", e.msg);
  return VS_SIGV4_OK;
}

vs_sigv4_status vs_sigv4_verify(const vs_sigv4_request *req,
                                const vs_keyring *keys, const char *region,
                                int64_t now, vs_sigv4_result *out,
                                vs_err *err)
{
  vs_sigv4_result local;
  vctx v;
  const char *auth;
  vs_sigv4_status st;
  memset(&v, 0, sizeof(v));
  v.req = req;
  v.keys = keys;
  v.region = region ? region : "";
  v.now = now;
  v.out = out ? out : &local;
  v.err = err;
  vs_buf_init(&v.curi);
  memset(v.out, 0, sizeof(*v.out));
  st = parse_uri(&v);
  if(!st) {
    auth = hdr(&v, "authorization");
    if(auth && has_query_auth(&v.q))
      st = vs__refuse(err, VS_SIGV4_BAD_PARAMS, "use either the Authorization "
                      "header or X-Amz-* query parameters, not both");
    else if(auth)
      st = verify_header(&v, auth);
    else if(has_query_auth(&v.q))
      st = verify_query(&v);
    else
      st = vs__refuse(err, VS_SIGV4_MISSING, "the request is not signed: no "
                      "Authorization header and no X-Amz-Signature parameters");
  }
  vs__qlist_free(&v.q);
  vs_buf_free(&v.curi);
  free(v.auth);
  return st;
}
