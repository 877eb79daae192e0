/* AWS Signature Version 4 for S3: presigning, header signing and
 * the canonical request both build on; verification (sigv4_verify.c) uses
 * the same builder, and a presigned URL is canonicalised by parsing it back
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

#define MAX_PARAMS 1000   /* query parameters we are willing to sort */

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
int vs__canon_path(vs_buf *b, const char *raw, size_t n)
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

void vs__qlist_free(qlist *q)
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
int vs__qlist_parse(qlist *q, const char *s, size_t n, vs_err *err)
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
int vs__qlist_canon(const qlist *q, int skip_signature, vs_buf *out)
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
const qparam *vs__qlist_get(const qlist *q, const char *name, int *dups)
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
int vs__sign_canon(const char *secret, const scope *s, const char *amzdate,
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
int vs__is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static void add_trimmed(vs_buf *b, const char *v)
{
  int pending = 0, started = 0;
  for(; *v; v++) {
    if(vs__is_ws(*v)) {
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

int vs__canon_request(vs_buf *b, const char *method, const char *curi,
                      const char *cquery, const hdrs *h, const char *payload)
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
  int rc = vs__qlist_parse(&q, query, strlen(query), err);
  for(i = 0; !rc && i < q.n; i++)
    if(!strncasecmp(q.p[i].name, "X-Amz-", 6))
      rc = vs_fail(err, VS_ERR_INVALID,
                   "extra query parameter '%.64s' is reserved for signing",
                   q.p[i].name);
  vs__qlist_free(&q);
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
  int rc = vs__qlist_parse(&q, qs + 1, strlen(qs + 1), err);
  if(!rc) {
    vs_buf cq = VS_BUF_INIT;
    char *curi = strndup(url->data + path_at, (size_t)(qs - url->data) - path_at);
    rc = curi ? vs__qlist_canon(&q, 1, &cq) : VS_ERR_NOMEM;
    if(!rc)
      rc = vs__canon_request(&canon, r->method, curi, vs_buf_str(&cq), &h,
                             VS_SIGV4_UNSIGNED);
    if(!rc)
      rc = vs__sign_canon(c->secret, s, amzdate, &canon, sig);
    if(rc)
      vs_fail(err, rc, "cannot sign");
    free(curi);
    vs_buf_free(&cq);
  }
  if(!rc)
    vs_buf_addf(url, "&X-Amz-Signature=%s", sig);
  vs__qlist_free(&q);
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

int vs__is_lower_hex64(const char *s)
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
  else if(rest[0] != '/' || vs__canon_path(curi, rest, plen))
    return vs_fail(err, VS_ERR_INVALID, "malformed path in the URL");
  if(rest[plen] == '?') {
    size_t qlen = strcspn(rest + plen + 1, "#");
    rc = vs__qlist_parse(&q, rest + plen + 1, qlen, err);
    if(!rc)
      rc = vs__qlist_canon(&q, 0, cquery);
    vs__qlist_free(&q);
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
  if(strcmp(payload, VS_SIGV4_UNSIGNED) && !vs__is_lower_hex64(payload))
    return vs_fail(err, VS_ERR_INVALID,
                   "payload hash must be 64 lowercase hex digits");
  if((rc = check_creds(c, &s, time, amzdate, err)) ||
     (rc = parse_url(url, &u, err)) ||
     (rc = collect_headers(&h, names, extra_headers, n_extra, u.host,
                           amzdate, payload, err)) ||
     (rc = canon_url_rest(u.rest, &curi, &cquery, err)))
    goto out;
  rc = vs__canon_request(&canon, method, vs_buf_str(&curi), vs_buf_str(&cquery),
                         &h, payload);
  if(!rc)
    rc = vs__sign_canon(c->secret, &s, amzdate, &canon, sig);
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
