/* AWS Signature Version 2 for S3 (the "AWS KEYID:SIGNATURE" header and the
 * AWSAccessKeyId/Expires/Signature query form), verified and presigned.
 *
 * SigV2 is what botocore's generate_presigned_url still produces by
 * default for a custom endpoint, and what s3cmd and older SDKs send; Ceph
 * RGW and MinIO accept it. The string to sign follows the S3 developer
 * guide ("Signing and authenticating REST requests"):
 *
 *   VERB \n Content-MD5 \n Content-Type \n Date-or-Expires \n
 *   CanonicalizedAmzHeaders CanonicalizedResource
 *
 * signed with HMAC-SHA1 and sent in base64. The canonical resource is the
 * path as sent (prefixed with /bucket for a virtual-hosted request), then
 * the sub-resources S3 and botocore list, sorted, values decoded. */
#include "vsink/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "sigv4/sigv4_int.h"

#define MAX_SKEW 900       /* seconds: S3 accepts 15 minutes either way */
#define MAX_AMZ 256        /* x-amz-* headers we are willing to sort */
#define SIG_LEN 20         /* HMAC-SHA1 */

/* The sub-resources that take part in the canonical resource: the S3
 * developer guide's list, botocore's (HmacV1Auth.QSAOfInterest) and
 * MinIO's, which agree on every one a client would sign. Sorted. */
static const char *const SUBRESOURCES[] = {
  "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete",
  "encryption", "inventory", "legal-hold", "lifecycle", "location",
  "logging", "metrics", "notification", "object-lock", "partNumber",
  "policy", "replication", "requestPayment", "response-cache-control",
  "response-content-disposition", "response-content-encoding",
  "response-content-language", "response-content-type", "response-expires",
  "restore", "retention", "select", "select-type", "storageClass", "tagging",
  "torrent", "uploadId", "uploads", "versionId", "versioning", "versions",
  "website",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the query ---------------------------------------------------------- */

typedef struct v2param {
  char *name, *value;   /* decoded; value NULL when there was no '=' */
  size_t value_len;
} v2param;

typedef struct v2query {
  v2param *p;
  size_t n;
} v2query;

static void query_free(v2query *q)
{
  size_t i;
  for(i = 0; i < q->n; i++) {
    free(q->p[i].name);
    free(q->p[i].value);
  }
  free(q->p);
  q->p = NULL;
  q->n = 0;
}

/* -1: malformed %-escape; -2: out of memory. */
static int query_parse(v2query *q, const char *s)
{
  size_t cap = 0, len;
  while(s && *s) {
    const char *end = strchr(s, '&'), *eq;
    len = end ? (size_t)(end - s) : strlen(s);
    if(len) {
      v2param *p;
      size_t nl;
      if(q->n == cap) {
        v2param *np = realloc(q->p, (cap = cap ? 2 * cap : 8) * sizeof(*np));
        if(!np)
          return -2;
        q->p = np;
      }
      p = &q->p[q->n];
      memset(p, 0, sizeof(*p));
      eq = memchr(s, '=', len);
      p->name = vs_sigv4_uri_decode(s, eq ? (size_t)(eq - s) : len, &nl);
      if(p->name && eq)
        p->value = vs_sigv4_uri_decode(eq + 1, len - (size_t)(eq + 1 - s),
                                       &p->value_len);
      q->n++;
      if(!p->name || (eq && !p->value))
        return -1;
    }
    s = end ? end + 1 : NULL;
  }
  return 0;
}

/* The parameter's value (NULL: absent); *dups counts repeats. */
static const v2param *query_get(const v2query *q, const char *name,
                                int *dups)
{
  const v2param *found = NULL;
  size_t i;
  *dups = 0;
  for(i = 0; i < q->n; i++)
    if(!strcmp(q->p[i].name, name)) {
      if(found)
        (*dups)++;
      else
        found = &q->p[i];
    }
  return found;
}

static int is_subresource(const char *name)
{
  size_t lo = 0, hi = NELEM(SUBRESOURCES);
  while(lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(name, SUBRESOURCES[mid]);
    if(!c)
      return 1;
    if(c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

/* ---- the string to sign --------------------------------------------------- */

typedef struct amz_hdr {
  char *name;    /* lowercased */
  char *value;   /* trimmed, folding replaced by one space */
  size_t order;  /* arrival, to keep repeated headers in order */
} amz_hdr;

typedef struct amz_list {
  amz_hdr *h;
  size_t n, cap;
  int failed;    /* out of memory, or more than MAX_AMZ */
} amz_list;

static void amz_free(amz_list *l)
{
  size_t i;
  for(i = 0; i < l->n; i++) {
    free(l->h[i].name);
    free(l->h[i].value);
  }
  free(l->h);
}

static int is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A value as S3 signs it: outer whitespace trimmed, a folded line break
 * (CR/LF and the whitespace around it) one space. */
static char *clean_value(const char *v)
{
  size_t n = strlen(v), i, o = 0;
  char *out;
  while(n && is_ws(v[n - 1]))
    n--;
  while(n && is_ws(*v))
    v++, n--;
  if(!(out = malloc(n + 1)))
    return NULL;
  for(i = 0; i < n; i++) {
    if(v[i] == '\r' || v[i] == '\n') {
      while(o && (out[o - 1] == ' ' || out[o - 1] == '\t'))
        o--;
      while(i + 1 < n && is_ws(v[i + 1]))
        i++;
      out[o++] = ' ';
      continue;
    }
    out[o++] = v[i];
  }
  out[o] = 0;
  return out;
}

static void amz_add(amz_list *l, const char *name, const char *value)
{
  amz_hdr *h;
  size_t i;
  if(l->failed || strncasecmp(name, "x-amz-", 6))
    return;
  if(l->n == MAX_AMZ) {
    l->failed = 1;
    return;
  }
  if(l->n == l->cap) {
    amz_hdr *nh = realloc(l->h, (l->cap = l->cap ? 2 * l->cap : 8) *
                                  sizeof(*nh));
    if(!nh) {
      l->failed = 1;
      return;
    }
    l->h = nh;
  }
  h = &l->h[l->n];
  h->name = strdup(name);
  h->value = clean_value(value ? value : "");
  h->order = l->n;
  if(!h->name || !h->value) {
    free(h->name);
    free(h->value);
    l->failed = 1;
    return;
  }
  for(i = 0; h->name[i]; i++)
    if(h->name[i] >= 'A' && h->name[i] <= 'Z')
      h->name[i] = (char)(h->name[i] - 'A' + 'a');
  l->n++;
}

static void amz_visit(void *arg, const char *name, const char *value)
{
  if(name)
    amz_add(arg, name, value);
}

static int amz_cmp(const void *a, const void *b)
{
  const amz_hdr *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* "name:v1,v2\n" per distinct name, sorted by name; skip: a name left
 * out. */
static void amz_canon(amz_list *l, const char *skip, vs_buf *b)
{
  const char *prev = NULL;
  size_t i;
  if(l->n > 1) /* qsort(NULL, 0, ...) is undefined */
    qsort(l->h, l->n, sizeof(*l->h), amz_cmp);
  for(i = 0; i < l->n; i++) {
    if(skip && !strcmp(l->h[i].name, skip))
      continue;
    if(prev && !strcmp(l->h[i].name, prev)) {
      vs_buf_addc(b, ',');
    }
    else {
      if(prev)
        vs_buf_addc(b, '\n');
      vs_buf_adds(b, l->h[i].name);
      vs_buf_addc(b, ':');
    }
    vs_buf_adds(b, l->h[i].value);
    prev = l->h[i].name;
  }
  if(prev)
    vs_buf_addc(b, '\n');
}

static int sub_cmp(const void *a, const void *b)
{
  const v2param *const *x = a, *const *y = b;
  int c = strcmp((*x)->name, (*y)->name);
  return c ? c : (*x > *y) - (*x < *y); /* stable: query order */
}

/* "?a&b=v" of the sub-resources, sorted by name, values decoded. */
static int resource_query(const v2query *q, vs_buf *b)
{
  const v2param **subs;
  size_t i, n = 0;
  if(!q->n)
    return 0;
  if(!(subs = malloc(q->n * sizeof(*subs))))
    return -1;
  for(i = 0; i < q->n; i++)
    if(is_subresource(q->p[i].name))
      subs[n++] = &q->p[i];
  qsort(subs, n, sizeof(*subs), sub_cmp);
  for(i = 0; i < n; i++) {
    vs_buf_addc(b, i ? '&' : '?');
    vs_buf_adds(b, subs[i]->name);
    if(subs[i]->value) {
      vs_buf_addc(b, '=');
      vs_buf_add(b, subs[i]->value, subs[i]->value_len);
    }
  }
  free(subs);
  return 0;
}

static const char *hdr(const vs_sigv2_request *r, const char *name)
{
  return r->header ? r->header(r->header_ctx, name) : NULL;
}

/* What the string to sign is made of, gathered once per request. */
typedef struct sts_parts {
  const vs_sigv2_request *req;
  const v2query *q;
  const char *date;       /* the date line: Expires, Date or "" */
  const char *skip;       /* an x-amz-* header left out, or NULL */
  amz_list amz;
} sts_parts;

static void add_trimmed(vs_buf *b, const char *v)
{
  size_t n;
  if(!v)
    return;
  while(is_ws(*v))
    v++;
  n = strlen(v);
  while(n && is_ws(v[n - 1]))
    n--;
  vs_buf_add(b, v, n);
}

/* The x-amz-* headers, then the x-amz-* query parameters: a presigner
 * moves headers there (botocore does; Ceph RGW signs them so), and the sink
 * reads x-amz-meta-* from the query, so none may ride along unsigned, in
 * either form. A name in both is signed with both values. */
static int gather_amz(sts_parts *sp)
{
  size_t i;
  if(sp->req->each_header)
    sp->req->each_header(sp->req->header_ctx, amz_visit, &sp->amz);
  for(i = 0; i < sp->q->n && !sp->amz.failed; i++)
    if(!strncasecmp(sp->q->p[i].name, "x-amz-", 6))
      amz_add(&sp->amz, sp->q->p[i].name,
              sp->q->p[i].value ? sp->q->p[i].value : "");
  return sp->amz.failed ? -1 : 0;
}

/* The string to sign, with the canonical resource's path given. */
static int build_sts(sts_parts *sp, const char *path, size_t plen, vs_buf *b)
{
  const vs_sigv2_request *r = sp->req;
  vs_buf_reset(b);
  vs_buf_adds(b, r->method);
  vs_buf_addc(b, '\n');
  add_trimmed(b, hdr(r, "Content-MD5"));
  vs_buf_addc(b, '\n');
  add_trimmed(b, hdr(r, "Content-Type"));
  vs_buf_addc(b, '\n');
  vs_buf_adds(b, sp->date);
  vs_buf_addc(b, '\n');
  amz_canon(&sp->amz, sp->skip, b);
  if(r->host_bucket && *r->host_bucket) {
    vs_buf_addc(b, '/');
    vs_buf_adds(b, r->host_bucket);
  }
  vs_buf_add(b, path, plen);
  if(resource_query(sp->q, b))
    return -1;
  return b->failed ? -1 : 0;
}

/* ---- HMAC-SHA1 -------------------------------------------------------------- */

static int hmac_sha1(const char *secret, const char *msg, size_t n,
                     unsigned char out[SIG_LEN])
{
  unsigned int len = SIG_LEN;
  return HMAC(EVP_sha1(), secret, (int)strlen(secret),
              (const unsigned char *)msg, n, out, &len) && len == SIG_LEN
           ? 0 : -1;
}

int vs_sigv2_sign(const char *secret, const char *sts, size_t n,
                  char sig[VS_SIGV2_SIG_B64])
{
  unsigned char mac[SIG_LEN];
  if(!secret || !sts || hmac_sha1(secret, sts, n, mac))
    return VS_ERR_NOMEM;
  vs_b64(mac, SIG_LEN, sig);
  OPENSSL_cleanse(mac, sizeof(mac));
  return VS_OK;
}

/* ---- verifying -------------------------------------------------------------- */

typedef struct v2ctx {
  const vs_sigv2_request *req;
  const vs_keyring *keys;
  int64_t now;
  vs_sigv4_result *out;
  vs_err *err;
  v2query q;
  char key_id[129];
  unsigned char sig[SIG_LEN + 4]; /* the client's, decoded */
  const char *secret;
  const char *date;      /* the date line */
  const char *alt_date;  /* x-amz-date's value, header form only */
} v2ctx;


/* An HTTP-date, zone GMT, UTC, +0000 or -0000 ("Tue, 27 Mar 2007 19:36:42
 * +0000" in AWS's examples), or SigV4's basic ISO 8601 form, which some
 * clients put in x-amz-date. */
static int parse_date(const char *s, int64_t *t)
{
  return vs_time_parse_amz(s, t) ? vs_time_parse_http(s, 1, t) : 0;
}

/* The client's base64 signature; a malformed one cannot match. */
static vs_sigv4_status take_signature(v2ctx *v, const char *sig)
{
  size_t n = strlen(sig);
  if(n != VS_SIGV2_SIG_B64 - 1 ||
     vs_unb64(sig, n, v->sig, sizeof(v->sig)) != SIG_LEN)
    return vs__refuse(v->err, VS_SIGV4_BAD_SIGNATURE, "the signature is not "
                      "the base64 of an HMAC-SHA1 (28 characters)");
  return VS_SIGV4_OK;
}

static vs_sigv4_status find_key(v2ctx *v)
{
  v->secret = v->keys ? vs_keyring_secret(v->keys, v->key_id) : NULL;
  if(!v->secret)
    return vs__refuse(v->err, VS_SIGV4_UNKNOWN_KEY,
                      "access key id '%s' is not known here", v->key_id);
  snprintf(v->out->key_id, sizeof(v->out->key_id), "%s", v->key_id);
  return VS_SIGV4_OK;
}

static int sig_matches(v2ctx *v, const vs_buf *sts)
{
  unsigned char mine[SIG_LEN];
  int same;
  if(hmac_sha1(v->secret, sts->data, sts->len, mine))
    return -1;
  same = !CRYPTO_memcmp(mine, v->sig, SIG_LEN);
  OPENSSL_cleanse(mine, sizeof(mine));
  return same;
}

/* 1: the signature matches the resource path given, with the date rule of
 * the S3 guide (x-amz-date signed among the x-amz-* headers, an empty
 * date line) or else, when x-amz-date is sent, the guide's own Delete
 * example's reading (its value as the date line, not among the headers);
 * both sign the same request. 0: no match; -1: out of memory. */
static int match_path(v2ctx *v, sts_parts *sp, const char *path, size_t plen,
                      vs_buf *sts)
{
  int same;
  if(build_sts(sp, path, plen, sts))
    return -1;
  same = sig_matches(v, sts);
  if(same || !v->alt_date)
    return same;
  sp->date = v->alt_date;
  sp->skip = "x-amz-date";
  same = build_sts(sp, path, plen, sts) ? -1 : sig_matches(v, sts);
  sp->date = v->date;
  sp->skip = NULL;
  return same;
}

/* The path as sent; then, if that does not verify and a client escaped
 * it differently from the way it signed it, the path decoded and
 * re-encoded the AWS way (MinIO verifies that form). */
static vs_sigv4_status check_signature(v2ctx *v)
{
  const char *uri = v->req->raw_uri, *qm = strchr(uri, '?');
  size_t plen = qm ? (size_t)(qm - uri) : strlen(uri), dlen;
  sts_parts sp = {v->req, &v->q, v->date, NULL, {0}};
  vs_buf sts = VS_BUF_INIT;
  char *dec = NULL, *enc = NULL;
  int same = -1, too_many;
  if(!gather_amz(&sp)) {
    same = match_path(v, &sp, uri, plen, &sts);
    if(same == 0 && (dec = vs_sigv4_uri_decode(uri, plen, &dlen)) &&
       (enc = vs_sigv4_uri_encode(dec, dlen, 1)) &&
       (strlen(enc) != plen || memcmp(enc, uri, plen)))
      same = match_path(v, &sp, enc, strlen(enc), &sts);
  }
  too_many = sp.amz.failed && sp.amz.n == MAX_AMZ;
  if(sts.data)
    OPENSSL_cleanse(sts.data, sts.len);
  vs_buf_free(&sts);
  amz_free(&sp.amz);
  free(dec);
  free(enc);
  if(same < 0)
    return too_many
             ? vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "more than %d x-amz-* "
                          "headers", MAX_AMZ)
             : vs__refuse_oom(v->err);
  if(!same)
    return vs__refuse(v->err, VS_SIGV4_BAD_SIGNATURE, "the signature does not "
                      "match: check the secret key and that the request was "
                      "sent as signed");
  return VS_SIGV4_OK;
}

static vs_sigv4_status need(v2ctx *v, const char *name, const char **val)
{
  int dups;
  const v2param *p = query_get(&v->q, name, &dups);
  if(!p || !p->value || !*p->value)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "Query-string "
                      "authentication requires the Signature, Expires and "
                      "AWSAccessKeyId parameters (%s is missing)", name);
  if(dups)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "query parameter %s is "
                      "given more than once", name);
  if(strlen(p->value) != p->value_len)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "query parameter %s "
                      "contains a NUL byte", name);
  *val = p->value;
  return VS_SIGV4_OK;
}

static vs_sigv4_status parse_expires(v2ctx *v, const char *s, int64_t *t)
{
  size_t i, n = strlen(s);
  *t = 0;
  for(i = 0; i < n && i < 12 && s[i] >= '0' && s[i] <= '9'; i++)
    *t = *t * 10 + (s[i] - '0');
  if(i != n)
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "Expires must be the "
                      "Unix time (seconds since the epoch, up to 12 digits) "
                      "at which the URL stops working");
  return VS_SIGV4_OK;
}

static vs_sigv4_status verify_query(v2ctx *v)
{
  const char *key, *sig, *exp;
  char when[17], now[17];
  int64_t t;
  vs_sigv4_status st;
  v->out->presigned = 1;
  if((st = need(v, "AWSAccessKeyId", &key)) ||
     (st = need(v, "Signature", &sig)) || (st = need(v, "Expires", &exp)) ||
     (st = parse_expires(v, exp, &t)))
    return st;
  if(strlen(key) >= sizeof(v->key_id))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "AWSAccessKeyId must be 1 "
                      "to 128 characters");
  strcpy(v->key_id, key);
  if((st = take_signature(v, sig)) || (st = find_key(v)))
    return st;
  if(v->now > t) {
    vs_time_amz(t, when);
    vs_time_amz(v->now, now);
    return vs__refuse(v->err, VS_SIGV4_EXPIRED, "Request has expired: Expires "
                      "%s (%s) is before the server time %s", exp, when, now);
  }
  v->out->expires_at = t;
  v->date = exp;
  return check_signature(v);
}

/* "AWS KEYID:SIGNATURE" */
static vs_sigv4_status parse_authorization(v2ctx *v, const char *auth)
{
  const char *p = auth, *colon;
  char sig[VS_SIGV2_SIG_B64 + 8];
  size_t klen, slen;
  while(is_ws(*p))
    p++;
  if(strncmp(p, "AWS ", 4))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "a Signature Version 2 "
                      "Authorization header is 'AWS KEYID:SIGNATURE'");
  p += 4;
  while(*p == ' ')
    p++;
  colon = strchr(p, ':');
  klen = colon ? (size_t)(colon - p) : 0;
  if(!colon || !klen || klen >= sizeof(v->key_id) || memchr(p, ' ', klen))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "the Authorization header "
                      "must be 'AWS KEYID:SIGNATURE' with a key id of 1 to 128 "
                      "characters");
  memcpy(v->key_id, p, klen);
  v->key_id[klen] = 0;
  slen = strlen(colon + 1);
  while(slen && is_ws(colon[slen]))
    slen--;
  if(slen >= sizeof(sig))
    slen = sizeof(sig) - 1;
  memcpy(sig, colon + 1, slen);
  sig[slen] = 0;
  return take_signature(v, sig);
}

static vs_sigv4_status verify_header(v2ctx *v, const char *auth)
{
  const char *amz = hdr(v->req, "x-amz-date"), *date = hdr(v->req, "Date");
  const char *used = amz ? amz : date;
  int64_t t;
  long long skew;
  vs_sigv4_status st;
  int dups;
  if(query_get(&v->q, "Signature", &dups) ||
     query_get(&v->q, "AWSAccessKeyId", &dups) ||
     query_get(&v->q, "X-Amz-Signature", &dups) ||
     query_get(&v->q, "X-Amz-Credential", &dups))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "use either the "
                      "Authorization header or signature query parameters, "
                      "not both");
  if((st = parse_authorization(v, auth)))
    return st;
  if(!used || parse_date(used, &t))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "AWS authentication "
                      "requires a valid Date or x-amz-date header%s",
                      used ? " (RFC 1123, e.g. 'Tue, 27 Mar 2007 19:36:42 "
                             "+0000')" : "");
  if((st = find_key(v)))
    return st;
  skew = (long long)(t - v->now);
  if(skew > MAX_SKEW || skew < -MAX_SKEW)
    return vs__refuse(v->err, VS_SIGV4_SKEWED, "the request time '%.40s' is "
                      "%lld s from the server's clock; at most %d s allowed",
                      used, skew, MAX_SKEW);
  /* x-amz-date is signed among the x-amz-* headers; the Date line is then
   * empty (S3 ignores Date when x-amz-date is present) */
  v->date = amz ? "" : date;
  v->alt_date = amz;
  return check_signature(v);
}

int vs_sigv2_present(const char *raw_uri, const char *authorization)
{
  static const char *const v4[] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                   "X-Amz-Signature", "X-Amz-SignedHeaders"};
  const char *p = raw_uri ? strchr(raw_uri, '?') : NULL;
  int v2 = 0;
  size_t i;
  if(authorization) {
    while(is_ws(*authorization))
      authorization++;
    return !strncmp(authorization, "AWS ", 4) ? VS_SIGV2_HEADER : 0;
  }
  while(p && *p) {
    const char *s = p + 1;
    size_t len = strcspn(s, "&=");
    v2 |= (len == 9 && !strncmp(s, "Signature", 9)) ||
          (len == 14 && !strncmp(s, "AWSAccessKeyId", 14));
    for(i = 0; i < NELEM(v4); i++)
      if(len == strlen(v4[i]) && !strncmp(s, v4[i], len))
        return 0; /* SigV4's parameters: SigV4 decides */
    p = strchr(s, '&');
  }
  return v2 ? VS_SIGV2_QUERY : 0;
}

vs_sigv4_status vs_sigv2_verify(const vs_sigv2_request *req,
                                const vs_keyring *keys, int64_t now,
                                vs_sigv4_result *out, vs_err *err)
{
  vs_sigv4_result local;
  v2ctx v;
  const char *auth, *qm;
  vs_sigv4_status st;
  int rc;
  memset(&v, 0, sizeof(v));
  v.req = req;
  v.keys = keys;
  v.now = now;
  v.out = out ? out : &local;
  v.err = err;
  memset(v.out, 0, sizeof(*v.out));
  strcpy(v.out->payload_sha256, VS_SIGV4_UNSIGNED); /* SigV2 signs none */
  if(!req || !req->method || !req->raw_uri || req->raw_uri[0] != '/')
    return vs__refuse(err, VS_SIGV4_BAD_PARAMS,
                      "the request target must start with '/'");
  qm = strchr(req->raw_uri, '?');
  rc = qm ? query_parse(&v.q, qm + 1) : 0;
  auth = hdr(req, "Authorization");
  if(rc)
    st = rc == -2 ? vs__refuse_oom(err)
                  : vs__refuse(err, VS_SIGV4_BAD_PARAMS, "malformed "
                               "%%-escape in the query string");
  else if(auth)
    st = verify_header(&v, auth);
  else if(vs_sigv2_present(req->raw_uri, NULL))
    st = verify_query(&v);
  else
    st = vs__refuse(err, VS_SIGV4_MISSING, "the request is not signed: no "
                    "Authorization header and no Signature parameter");
  query_free(&v.q);
  return st;
}

/* ---- signing ---------------------------------------------------------------- */

int vs_sigv2_string_to_sign(const vs_sigv2_request *req, const char *date,
                            char **out, vs_err *err)
{
  v2query q = {0};
  const char *qm = req->raw_uri ? strchr(req->raw_uri, '?') : NULL;
  size_t plen;
  sts_parts sp = {req, &q, date ? date : "", NULL, {0}};
  vs_buf b = VS_BUF_INIT;
  int rc;
  *out = NULL;
  if(!req->method || !req->raw_uri)
    return vs_fail(err, VS_ERR_INVALID, "a method and a URI are needed");
  plen = qm ? (size_t)(qm - req->raw_uri) : strlen(req->raw_uri);
  rc = qm ? query_parse(&q, qm + 1) : 0;
  if(!rc && (gather_amz(&sp) || build_sts(&sp, req->raw_uri, plen, &b)))
    rc = -2;
  amz_free(&sp.amz);
  query_free(&q);
  if(rc) {
    vs_buf_free(&b);
    return rc == -1 ? vs_fail(err, VS_ERR_INVALID, "malformed %%-escape in "
                              "the query string")
                    : vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  *out = vs_buf_steal(&b);
  return *out ? VS_OK : vs_fail(err, VS_ERR_NOMEM, "out of memory");
}

int vs_sigv2_presign(const vs_sigv4_creds *c, const vs_presign_req *r,
                     char **url, vs_err *err)
{
  vs_sigv2_request req = {0};
  vs_buf uri = VS_BUF_INIT, u = VS_BUF_INIT;
  char *path = NULL, *sts = NULL, *kid = NULL, *sigenc = NULL;
  char sig[VS_SIGV2_SIG_B64], expires[24];
  int rc;
  *url = NULL;
  if(!c || !c->key_id || !*c->key_id || !c->secret || !r || !r->method ||
     !r->endpoint || !r->path || r->path[0] != '/')
    return vs_fail(err, VS_ERR_INVALID, "presign needs a key, a method, an "
                   "endpoint and a path starting with '/'");
  if(r->expires < 1)
    return vs_fail(err, VS_ERR_INVALID, "expires must be at least 1 s");
  snprintf(expires, sizeof(expires), "%lld",
           (long long)(r->time + r->expires));
  path = vs_sigv4_uri_encode(r->path, strlen(r->path), 1);
  if(!path)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  /* the string to sign sees Expires as the query form's date */
  vs_buf_addf(&uri, "%s?%s%sExpires=%s", path, r->query ? r->query : "",
              r->query && *r->query ? "&" : "", expires);
  req.method = r->method;
  req.raw_uri = vs_buf_str(&uri);
  rc = uri.failed ? vs_fail(err, VS_ERR_NOMEM, "out of memory")
                  : vs_sigv2_string_to_sign(&req, expires, &sts, err);
  if(!rc)
    rc = vs_sigv2_sign(c->secret, sts, strlen(sts), sig);
  kid = rc ? NULL : vs_sigv4_uri_encode(c->key_id, strlen(c->key_id), 0);
  sigenc = rc ? NULL : vs_sigv4_uri_encode(sig, strlen(sig), 0);
  if(!rc && kid && sigenc) {
    /* botocore's order: the caller's parameters, then AWSAccessKeyId,
     * Signature, Expires */
    vs_buf_addf(&u, "%s%s?%s%sAWSAccessKeyId=%s&Signature=%s&Expires=%s",
                r->endpoint, path, r->query ? r->query : "",
                r->query && *r->query ? "&" : "", kid, sigenc, expires);
    *url = vs_buf_steal(&u);
  }
  if(!rc && !*url)
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  OPENSSL_cleanse(sig, sizeof(sig));
  free(path);
  free(sts);
  free(kid);
  free(sigenc);
  vs_buf_free(&uri);
  vs_buf_free(&u);
  return rc;
}
