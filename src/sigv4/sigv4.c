/* AWS Signature Version 4 for S3: presigning, header signing and
 * verification of both forms. Signing and verifying share one canonical
 * request builder, and a presigned URL is canonicalised by parsing it back
 * exactly as the verifier does, so the two can never drift apart. */
#include "vsink/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"
#include "sigv4/sigv4_int.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINAL "aws4_request"
#define STREAMING_PREFIX "STREAMING-"
#define MAX_SKEW 900      /* seconds: S3 accepts 15 minutes either way */
#define MAX_PARAMS 1000   /* query parameters we are willing to sort */
#define MAX_HEADERS 64    /* signed headers in one request */

/* ---- encoding ----------------------------------------------------------- */

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static int buf_encode(vs_buf *b, const char *s, size_t n, int keep_slash)
{
  static const char digits[] = "0123456789ABCDEF";
  size_t i;
  for(i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if(unreserved(c) || (c == '/' && keep_slash)) {
      vs_buf_addc(b, (char)c);
    }
    else {
      char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
      vs_buf_add(b, esc, 3);
    }
  }
  return b->failed ? VS_ERR_NOMEM : VS_OK;
}

char *vs_sigv4_uri_encode(const char *s, size_t n, int keep_slash)
{
  vs_buf b = VS_BUF_INIT;
  if(buf_encode(&b, s, n, keep_slash)) {
    vs_buf_free(&b);
    return NULL;
  }
  return vs_buf_steal(&b);
}

char *vs_sigv4_uri_decode(const char *s, size_t n, size_t *out_len)
{
  char *out = malloc(n + 1);
  size_t i, o = 0;
  if(!out)
    return NULL;
  for(i = 0; i < n; i++) {
    int hi, lo;
    if(s[i] != '%') {
      out[o++] = s[i];
      continue;
    }
    if(n - i < 3 || (hi = vs_hexval((unsigned char)s[i + 1])) < 0 ||
       (lo = vs_hexval((unsigned char)s[i + 2])) < 0) {
      free(out);
      return NULL;
    }
    out[o++] = (char)(hi << 4 | lo);
    i += 2;
  }
  out[o] = 0;
  if(out_len)
    *out_len = o;
  return out;
}

/* The canonical form of an encoded path: decode, then encode the AWS way,
 * so that every client's choice of escapes leads to one string. */
static int canon_path(vs_buf *b, const char *raw, size_t n)
{
  size_t len;
  char *dec = vs_sigv4_uri_decode(raw, n, &len);
  int rc;
  if(!dec)
    return VS_ERR_INVALID;
  rc = buf_encode(b, dec, len, 1);
  free(dec);
  return rc;
}

/* ---- query strings ------------------------------------------------------ */

typedef struct qparam {
  char *name, *value;   /* decoded; may hold NUL bytes, hence the lengths */
  size_t name_len, value_len;
  char *ename, *evalue; /* canonical encoding of the decoded bytes */
} qparam;

typedef struct qlist {
  qparam *p;
  size_t n;
} qlist;

static void qlist_free(qlist *q)
{
  size_t i;
  for(i = 0; i < q->n; i++) {
    free(q->p[i].name);
    free(q->p[i].value);
    free(q->p[i].ename);
    free(q->p[i].evalue);
  }
  free(q->p);
  q->p = NULL;
  q->n = 0;
}

static int qparam_set(qparam *p, const char *s, size_t n)
{
  const char *eq = memchr(s, '=', n);
  size_t nlen = eq ? (size_t)(eq - s) : n;
  p->name = vs_sigv4_uri_decode(s, nlen, &p->name_len);
  p->value = eq ? vs_sigv4_uri_decode(eq + 1, n - nlen - 1, &p->value_len)
                : vs_sigv4_uri_decode("", 0, &p->value_len);
  if(!p->name || !p->value)
    return VS_ERR_INVALID;
  p->ename = vs_sigv4_uri_encode(p->name, p->name_len, 0);
  p->evalue = vs_sigv4_uri_encode(p->value, p->value_len, 0);
  return p->ename && p->evalue ? VS_OK : VS_ERR_NOMEM;
}

/* Splits "a=1&b&c=%20" into parameters. Empty segments ("a=1&&b") carry
 * nothing and are skipped, as every client's parser does. */
static int qlist_parse(qlist *q, const char *s, size_t n, vs_err *err)
{
  size_t i = 0, count = 1, k;
  for(k = 0; k < n; k++)
    count += s[k] == '&';
  if(count > MAX_PARAMS)
    return vs_fail(err, VS_ERR_INVALID, "more than %d query parameters",
                   MAX_PARAMS);
  q->p = calloc(count, sizeof(*q->p));
  q->n = 0;
  if(!q->p)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  while(i < n) {
    const char *amp = memchr(s + i, '&', n - i);
    size_t len = amp ? (size_t)(amp - (s + i)) : n - i;
    if(len) {
      int rc = qparam_set(&q->p[q->n++], s + i, len);
      if(rc == VS_ERR_INVALID)
        return vs_fail(err, rc, "malformed %%-escape in query parameter %zu",
                       q->n);
      if(rc)
        return vs_fail(err, rc, "out of memory");
    }
    i += len + 1;
  }
  return VS_OK;
}

static int qparam_cmp(const void *a, const void *b)
{
  const qparam *x = *(const qparam *const *)a, *y = *(const qparam *const *)b;
  int c = strcmp(x->ename, y->ename);
  return c ? c : strcmp(x->evalue, y->evalue);
}

/* The decoded name is exactly name: a decoded name may hold a NUL
 * ("X-Amz-Signature%00x"), which strcmp alone would stop at. */
static int is_name(const qparam *p, const char *name)
{
  return p->name_len == strlen(name) && !memcmp(p->name, name, p->name_len);
}

/* The canonical query: encoded names and values sorted by name, then
 * value; a name without a value becomes "name=". */
static int qlist_canon(const qlist *q, int skip_signature, vs_buf *out)
{
  const qparam **v = malloc((q->n + 1) * sizeof(*v));
  size_t i, n = 0;
  if(!v)
    return VS_ERR_NOMEM;
  for(i = 0; i < q->n; i++)
    if(!skip_signature || !is_name(&q->p[i], "X-Amz-Signature"))
      v[n++] = &q->p[i];
  qsort(v, n, sizeof(*v), qparam_cmp);
  for(i = 0; i < n; i++)
    vs_buf_addf(out, "%s%s=%s", i ? "&" : "", v[i]->ename, v[i]->evalue);
  free(v);
  return out->failed ? VS_ERR_NOMEM : VS_OK;
}

/* The parameter called name (exact case, as S3 wants), or NULL; *dups
 * counts further occurrences. */
static const qparam *qlist_get(const qlist *q, const char *name, int *dups)
{
  const qparam *found = NULL;
  size_t i;
  *dups = 0;
  for(i = 0; i < q->n; i++) {
    if(!is_name(&q->p[i], name))
      continue;
    if(found)
      (*dups)++;
    else
      found = &q->p[i];
  }
  return found;
}

/* ---- the signature itself ---------------------------------------------- */

typedef struct scope {
  char key_id[129];
  char date[9];     /* YYYYMMDD */
  char region[64];
  char service[32];
} scope;

static int hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                unsigned char out[32])
{
  unsigned int len = 32;
  return HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len) ? 0 : -1;
}

static int signing_key(const char *secret, const scope *s,
                       unsigned char key[32])
{
  size_t slen = strlen(secret);
  char *k = malloc(slen + 5);
  int rc;
  if(!k)
    return VS_ERR_NOMEM;
  memcpy(k, "AWS4", 4);
  memcpy(k + 4, secret, slen + 1);
  rc = hmac(k, slen + 4, s->date, strlen(s->date), key) ||
       hmac(key, 32, s->region, strlen(s->region), key) ||
       hmac(key, 32, s->service, strlen(s->service), key) ||
       hmac(key, 32, TERMINAL, strlen(TERMINAL), key);
  OPENSSL_cleanse(k, slen + 4);
  free(k);
  return rc ? VS_ERR_NOMEM : VS_OK;
}

/* Signs a canonical request: hex signature into sig[65]. */
static int sign_canon(const char *secret, const scope *s, const char *amzdate,
                      const vs_buf *canon, char sig[65])
{
  unsigned char key[32], h[32];
  char hh[65], sts[256];
  int n, rc;
  SHA256((const unsigned char *)canon->data, canon->len, h);
  vs_hex(h, 32, hh);
  n = snprintf(sts, sizeof(sts), "%s\n%s\n%s/%s/%s/%s\n%s", ALGORITHM,
               amzdate, s->date, s->region, s->service, TERMINAL, hh);
  if(n < 0 || (size_t)n >= sizeof(sts))
    return VS_ERR_INVALID;
  rc = signing_key(secret, s, key);
  if(!rc)
    rc = hmac(key, 32, sts, (size_t)n, h) ? VS_ERR_NOMEM : VS_OK;
  OPENSSL_cleanse(key, sizeof(key));
  if(!rc)
    vs_hex(h, 32, sig);
  return rc;
}

/* Trimall: leading and trailing whitespace dropped, inner runs of it
 * collapsed to one space. */
static int is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static void add_trimmed(vs_buf *b, const char *v)
{
  int pending = 0, started = 0;
  for(; *v; v++) {
    if(is_ws(*v)) {
      pending = started;
      continue;
    }
    if(pending)
      vs_buf_addc(b, ' ');
    pending = 0;
    started = 1;
    vs_buf_addc(b, *v);
  }
}

typedef struct hdrs {
  size_t n;
  const char *name[MAX_HEADERS]; /* lowercase, in signing order */
  const char *value[MAX_HEADERS];
} hdrs;

static int canon_request(vs_buf *b, const char *method, const char *curi,
                         const char *cquery, const hdrs *h,
                         const char *payload)
{
  size_t i;
  vs_buf_addf(b, "%s\n%s\n%s\n", method, curi, cquery);
  for(i = 0; i < h->n; i++) {
    vs_buf_addf(b, "%s:", h->name[i]);
    add_trimmed(b, h->value[i]);
    vs_buf_addc(b, '\n');
  }
  vs_buf_addc(b, '\n');
  for(i = 0; i < h->n; i++)
    vs_buf_addf(b, "%s%s", i ? ";" : "", h->name[i]);
  vs_buf_addf(b, "\n%s", payload);
  return b->failed ? VS_ERR_NOMEM : VS_OK;
}

/* ---- URLs we sign -------------------------------------------------------- */

typedef struct url_parts {
  const char *authority; /* as written, for the URL we print */
  size_t authority_len;
  char host[300];        /* the Host header value botocore would send */
  const char *rest;      /* path, query and fragment */
} url_parts;

static int parse_port(const char *p, size_t n, long *port)
{
  size_t i;
  *port = 0;
  if(!n || n > 5)
    return -1;
  for(i = 0; i < n; i++) {
    if(p[i] < '0' || p[i] > '9')
      return -1;
    *port = *port * 10 + (p[i] - '0');
  }
  return *port >= 1 && *port <= 65535 ? 0 : -1;
}

/* The Host header for an authority: the host lowercased and the port
 * dropped when it is the scheme's default (botocore's _host_from_url). */
static int host_header(url_parts *u, int https, vs_err *err)
{
  const char *a = u->authority, *end = a + u->authority_len, *colon;
  size_t hlen, i;
  long port = 0;
  if(*a == '[') {
    const char *rb = memchr(a, ']', u->authority_len);
    if(!rb)
      return vs_fail(err, VS_ERR_INVALID, "unterminated IPv6 address");
    colon = rb + 1 < end ? rb + 1 : NULL;
    if(colon && *colon != ':')
      return vs_fail(err, VS_ERR_INVALID, "junk after the IPv6 address");
  }
  else {
    colon = memchr(a, ':', u->authority_len);
  }
  hlen = colon ? (size_t)(colon - a) : u->authority_len;
  if(!hlen || memchr(a, '@', u->authority_len))
    return vs_fail(err, VS_ERR_INVALID, "the URL needs a host (no user@)");
  if(colon && parse_port(colon + 1, (size_t)(end - colon - 1), &port))
    return vs_fail(err, VS_ERR_INVALID, "bad port in the URL");
  if(hlen + 7 > sizeof(u->host))
    return vs_fail(err, VS_ERR_INVALID, "host name too long");
  for(i = 0; i < hlen; i++)
    u->host[i] = (a[i] >= 'A' && a[i] <= 'Z') ? (char)(a[i] + 32) : a[i];
  u->host[hlen] = 0;
  if(port && port != (https ? 443 : 80))
    snprintf(u->host + hlen, sizeof(u->host) - hlen, ":%ld", port);
  return VS_OK;
}

static int parse_url(const char *url, url_parts *u, vs_err *err)
{
  int https;
  const char *a;
  if(!url)
    return vs_fail(err, VS_ERR_INVALID, "no URL");
  if(!strncasecmp(url, "http://", 7))
    https = 0;
  else if(!strncasecmp(url, "https://", 8))
    https = 1;
  else
    return vs_fail(err, VS_ERR_INVALID,
                   "URL must start with http:// or https://");
  a = url + 7 + https;
  u->authority = a;
  u->authority_len = strcspn(a, "/?#");
  u->rest = a + u->authority_len;
  return host_header(u, https, err);
}

/* ---- presigning --------------------------------------------------------- */

static int check_creds(const vs_sigv4_creds *c, scope *s, int64_t t,
                       char amzdate[17], vs_err *err)
{
  const char *service = c->service ? c->service : "s3";
  if(!c->key_id || !*c->key_id || strchr(c->key_id, '/') ||
     strlen(c->key_id) >= sizeof(s->key_id))
    return vs_fail(err, VS_ERR_INVALID, "bad access key id");
  if(!c->secret || !*c->secret)
    return vs_fail(err, VS_ERR_INVALID, "empty secret access key");
  if(!c->region || !*c->region || strchr(c->region, '/') ||
     strlen(c->region) >= sizeof(s->region))
    return vs_fail(err, VS_ERR_INVALID, "bad region '%.64s'",
                   c->region ? c->region : "");
  if(!*service || strchr(service, '/') || strlen(service) >= sizeof(s->service))
    return vs_fail(err, VS_ERR_INVALID, "bad service '%.32s'", service);
  if(t < 0 || t > 253402300799LL) /* 9999-12-31T23:59:59Z */
    return vs_fail(err, VS_ERR_INVALID, "time %lld out of range",
                   (long long)t);
  vs_time_amz(t, amzdate);
  snprintf(s->key_id, sizeof(s->key_id), "%s", c->key_id);
  memcpy(s->date, amzdate, 8);
  s->date[8] = 0;
  snprintf(s->region, sizeof(s->region), "%s", c->region);
  snprintf(s->service, sizeof(s->service), "%s", service);
  return VS_OK;
}

static int check_presign_req(const vs_presign_req *r, url_parts *u,
                             vs_err *err)
{
  static const char *const methods[] = {"PUT", "GET", "HEAD", "POST",
                                        "DELETE"};
  vs_err e = {0};
  size_t i;
  int rc;
  for(i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
    if(r->method && !strcmp(r->method, methods[i]))
      break;
  if(i == sizeof(methods) / sizeof(methods[0]))
    return vs_fail(err, VS_ERR_INVALID,
                   "method '%.16s' is not one of PUT, GET, HEAD, POST, DELETE",
                   r->method ? r->method : "");
  if(r->expires < 1 || r->expires > VS_SIGV4_MAX_EXPIRES)
    return vs_fail(err, VS_ERR_INVALID,
                   "expires %lld is outside 1..%d seconds",
                   (long long)r->expires, VS_SIGV4_MAX_EXPIRES);
  if(!r->path || r->path[0] != '/')
    return vs_fail(err, VS_ERR_INVALID, "path must start with '/'");
  if((rc = parse_url(r->endpoint, u, &e)))
    return vs_fail(err, rc, "endpoint '%.200s': %s",
                   r->endpoint ? r->endpoint : "", e.msg);
  if(strcmp(u->rest, "") && strcmp(u->rest, "/"))
    return vs_fail(err, VS_ERR_INVALID,
                   "endpoint '%.200s' must be scheme://host[:port], no path",
                   r->endpoint);
  return VS_OK;
}

/* Extra parameters must be well formed and must not forge ours. */
static int check_extra_query(const char *query, vs_err *err)
{
  qlist q = {0};
  size_t i;
  int rc = qlist_parse(&q, query, strlen(query), err);
  for(i = 0; !rc && i < q.n; i++)
    if(!strncasecmp(q.p[i].name, "X-Amz-", 6))
      rc = vs_fail(err, VS_ERR_INVALID,
                   "extra query parameter '%.64s' is reserved for signing",
                   q.p[i].name);
  qlist_free(&q);
  return rc;
}

/* Appends the authentication parameters in botocore's order, which is not
 * the sorted one, so that our URLs are byte-identical to the SDK's. */
static void add_auth_params(vs_buf *b, const scope *s, const char *amzdate,
                            int64_t expires)
{
  char cred[300];
  snprintf(cred, sizeof(cred), "%s/%s/%s/%s/%s", s->key_id, s->date,
           s->region, s->service, TERMINAL);
  vs_buf_adds(b, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=");
  buf_encode(b, cred, strlen(cred), 0);
  vs_buf_addf(b, "&X-Amz-Date=%s&X-Amz-SignedHeaders=host&X-Amz-Expires=%lld",
              amzdate, (long long)expires);
}

static int presign_sign(const vs_sigv4_creds *c, const vs_presign_req *r,
                        const scope *s, const char *amzdate, const char *host,
                        vs_buf *url, size_t path_at, vs_err *err)
{
  vs_buf canon = VS_BUF_INIT;
  const char *qs = strchr(url->data + path_at, '?');
  qlist q = {0};
  hdrs h = {1, {"host"}, {host}};
  char sig[65];
  int rc = qlist_parse(&q, qs + 1, strlen(qs + 1), err);
  if(!rc) {
    vs_buf cq = VS_BUF_INIT;
    char *curi = strndup(url->data + path_at, (size_t)(qs - url->data) - path_at);
    rc = curi ? qlist_canon(&q, 1, &cq) : VS_ERR_NOMEM;
    if(!rc)
      rc = canon_request(&canon, r->method, curi, vs_buf_str(&cq), &h,
                         VS_SIGV4_UNSIGNED);
    if(!rc)
      rc = sign_canon(c->secret, s, amzdate, &canon, sig);
    if(rc)
      vs_fail(err, rc, "cannot sign");
    free(curi);
    vs_buf_free(&cq);
  }
  if(!rc)
    vs_buf_addf(url, "&X-Amz-Signature=%s", sig);
  qlist_free(&q);
  vs_buf_free(&canon);
  return rc ? rc : url->failed ? vs_fail(err, VS_ERR_NOMEM, "out of memory")
                               : VS_OK;
}

int vs_sigv4_presign(const vs_sigv4_creds *c, const vs_presign_req *r,
                     char **url, vs_err *err)
{
  url_parts u;
  scope s;
  char amzdate[17];
  vs_buf b = VS_BUF_INIT;
  size_t path_at;
  int rc;
  *url = NULL;
  if((rc = check_creds(c, &s, r->time, amzdate, err)) ||
     (rc = check_presign_req(r, &u, err)) ||
     (r->query && *r->query && (rc = check_extra_query(r->query, err))))
    return rc;
  vs_buf_add(&b, r->endpoint, (size_t)(u.rest - r->endpoint));
  path_at = b.len;
  buf_encode(&b, r->path, strlen(r->path), 1);
  vs_buf_addc(&b, '?');
  if(r->query && *r->query)
    vs_buf_addf(&b, "%s&", r->query);
  add_auth_params(&b, &s, amzdate, r->expires);
  rc = presign_sign(c, r, &s, amzdate, u.host, &b, path_at, err);
  if(rc) {
    vs_buf_free(&b);
    return rc;
  }
  *url = vs_buf_steal(&b);
  return VS_OK;
}

/* ---- header signing ----------------------------------------------------- */

static int is_token_char(unsigned char c)
{
  return unreserved(c) || (c && strchr("!#$%&'*+^`|", c));
}

/* "Name: value" -> lowercase name (in names, NUL-separated) and value. */
static int split_header(const char *line, char *lname, size_t cap,
                        const char **value, vs_err *err)
{
  const char *colon = strchr(line, ':');
  size_t n = colon ? (size_t)(colon - line) : 0, i;
  if(!n || n >= cap)
    return vs_fail(err, VS_ERR_INVALID, "header '%.64s' is not 'Name: value'",
                   line);
  for(i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)line[i];
    if(!is_token_char(ch))
      return vs_fail(err, VS_ERR_INVALID, "bad header name '%.*s'", (int)n,
                     line);
    lname[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : (char)ch;
  }
  lname[n] = 0;
  *value = colon + 1;
  return VS_OK;
}

static int hdr_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collects host, x-amz-date, x-amz-content-sha256 and the extra headers,
 * sorted by name. names holds the lowercase names (MAX_HEADERS x 128). */
static int collect_headers(hdrs *h, char (*names)[128],
                           const char *const *extra, size_t n_extra,
                           const char *host, const char *amzdate,
                           const char *payload, vs_err *err)
{
  const char *pairs[MAX_HEADERS][2];
  size_t i, j;
  if(n_extra > MAX_HEADERS - 3)
    return vs_fail(err, VS_ERR_TOOLARGE, "more than %d headers to sign",
                   MAX_HEADERS - 3);
  h->n = 0;
  pairs[h->n][0] = "host", pairs[h->n++][1] = host;
  pairs[h->n][0] = "x-amz-content-sha256", pairs[h->n++][1] = payload;
  pairs[h->n][0] = "x-amz-date", pairs[h->n++][1] = amzdate;
  for(i = 0; i < n_extra; i++) {
    const char *v = NULL;
    int rc = split_header(extra[i], names[i], 128, &v, err);
    if(rc)
      return rc;
    for(j = 0; j < h->n; j++)
      if(!strcmp(pairs[j][0], names[i]))
        return vs_fail(err, VS_ERR_INVALID, "header %s given twice",
                       names[i]);
    pairs[h->n][0] = names[i], pairs[h->n++][1] = v;
  }
  qsort(pairs, h->n, sizeof(pairs[0]), hdr_cmp);
  for(i = 0; i < h->n; i++)
    h->name[i] = pairs[i][0], h->value[i] = pairs[i][1];
  return VS_OK;
}

static int is_lower_hex64(const char *s)
{
  size_t i;
  for(i = 0; i < 64; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return s[64] == 0;
}

/* The canonical URI and query of a full URL's path and query. */
static int canon_url_rest(const char *rest, vs_buf *curi, vs_buf *cquery,
                          vs_err *err)
{
  size_t plen = strcspn(rest, "?#");
  qlist q = {0};
  int rc;
  if(!plen)
    vs_buf_addc(curi, '/');
  else if(rest[0] != '/' || canon_path(curi, rest, plen))
    return vs_fail(err, VS_ERR_INVALID, "malformed path in the URL");
  if(rest[plen] == '?') {
    size_t qlen = strcspn(rest + plen + 1, "#");
    rc = qlist_parse(&q, rest + plen + 1, qlen, err);
    if(!rc)
      rc = qlist_canon(&q, 0, cquery);
    qlist_free(&q);
    if(rc)
      return rc;
  }
  return curi->failed || cquery->failed
           ? vs_fail(err, VS_ERR_NOMEM, "out of memory") : VS_OK;
}

static int write_auth(const scope *s, const hdrs *h, const char *sig,
                      vs_signed_headers *out, vs_err *err)
{
  vs_buf b = VS_BUF_INIT;
  size_t i;
  int rc = VS_OK;
  vs_buf_addf(&b, "Authorization: " ALGORITHM " Credential=%s/%s/%s/%s/%s, "
              "SignedHeaders=", s->key_id, s->date, s->region, s->service,
              TERMINAL);
  for(i = 0; i < h->n; i++)
    vs_buf_addf(&b, "%s%s", i ? ";" : "", h->name[i]);
  vs_buf_addf(&b, ", Signature=%s", sig);
  if(b.failed)
    rc = vs_fail(err, VS_ERR_NOMEM, "out of memory");
  else if(b.len >= sizeof(out->authorization))
    rc = vs_fail(err, VS_ERR_TOOLARGE, "Authorization header over %zu bytes",
                 sizeof(out->authorization) - 1);
  else
    memcpy(out->authorization, b.data, b.len + 1);
  vs_buf_free(&b);
  return rc;
}

int vs_sigv4_sign_headers(const vs_sigv4_creds *c, const char *method,
                          const char *url, const char *const *extra_headers,
                          size_t n_extra, const char *payload_sha256,
                          int64_t time, vs_signed_headers *out, vs_err *err)
{
  url_parts u;
  scope s;
  hdrs h;
  char amzdate[17], sig[65], names[MAX_HEADERS][128];
  const char *payload = payload_sha256 ? payload_sha256 : VS_SIGV4_UNSIGNED;
  vs_buf curi = VS_BUF_INIT, cquery = VS_BUF_INIT, canon = VS_BUF_INIT;
  int rc;
  if(!method || !*method || strpbrk(method, " \t\r\n"))
    return vs_fail(err, VS_ERR_INVALID, "bad method");
  if(strcmp(payload, VS_SIGV4_UNSIGNED) && !is_lower_hex64(payload))
    return vs_fail(err, VS_ERR_INVALID,
                   "payload hash must be 64 lowercase hex digits");
  if((rc = check_creds(c, &s, time, amzdate, err)) ||
     (rc = parse_url(url, &u, err)) ||
     (rc = collect_headers(&h, names, extra_headers, n_extra, u.host,
                           amzdate, payload, err)) ||
     (rc = canon_url_rest(u.rest, &curi, &cquery, err)))
    goto out;
  rc = canon_request(&canon, method, vs_buf_str(&curi), vs_buf_str(&cquery),
                     &h, payload);
  if(!rc)
    rc = sign_canon(c->secret, &s, amzdate, &canon, sig);
  if(rc) {
    vs_fail(err, rc, "cannot sign");
    goto out;
  }
  if(!(rc = write_auth(&s, &h, sig, out, err))) {
    snprintf(out->amz_date, sizeof(out->amz_date), "x-amz-date: %s", amzdate);
    snprintf(out->content_sha256, sizeof(out->content_sha256),
             "x-amz-content-sha256: %s", payload);
  }
out:
  vs_buf_free(&curi);
  vs_buf_free(&cquery);
  vs_buf_free(&canon);
  return rc;
}

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
  const qparam *p = qlist_get(&v->q, name, &dups);
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
  if(strlen(sig) != 64 || !is_lower_hex64(sig))
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
  rc = qlist_canon(&v->q, presigned, &cq);
  if(!rc)
    rc = canon_request(&canon, v->req->method, vs_buf_str(&v->curi),
                       vs_buf_str(&cq), &v->h, payload);
  if(!rc)
    rc = sign_canon(v->secret, &v->s, v->amzdate, &canon, mine);
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
    while(is_ws(*p) || *p == ',')
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
    while(end > eq + 1 && is_ws(end[-1]))
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
  while(is_ws(*auth))
    auth++;
  if(strncmp(auth, alg, n) || !is_ws(auth[n]))
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
   * rest (src/sigv4/sigv4.chunk.c, the server's decoder) */
  if(!strncmp(p, STREAMING_PREFIX, strlen(STREAMING_PREFIX)) &&
     strcmp(p, VS_SIGV4_STREAMING) && strcmp(p, VS_SIGV4_STREAMING_TRAILER) &&
     strcmp(p, VS_SIGV4_STREAMING_UNSIGNED))
    return vs__refuse(v->err, VS_SIGV4_BAD_PARAMS, "x-amz-content-sha256 "
                      "%.48s: only the aws-chunked forms %s[-TRAILER] and %s "
                      "are supported", p, VS_SIGV4_STREAMING,
                      VS_SIGV4_STREAMING_UNSIGNED);
  if(strcmp(p, VS_SIGV4_UNSIGNED) && !is_lower_hex64(p) &&
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
    if(qlist_get(q, names[i], &dups))
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
  if(canon_path(&v->curi, uri, qm ? (size_t)(qm - uri) : strlen(uri)))
    return v->curi.failed ? vs__refuse_oom(v->err)
                          : vs__refuse(v->err, VS_SIGV4_BAD_PARAMS,
                                       "malformed %%-escape in the path");
  if(qm && qlist_parse(&v->q, qm + 1, strlen(qm + 1), &e))
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
  qlist_free(&v.q);
  vs_buf_free(&v.curi);
  free(v.auth);
  return st;
}
