/* The S3 client: HEAD an object and presign a PUT, path-style. vsink signs
 * with its own SigV4 code because libcurl's CURLOPT_AWS_SIGV4 neither sorts
 * the query nor sends x-amz-content-sha256 (see reference/s3-test-server.md);
 * libcurl only carries the request. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/buf.h"
#include "util/enc.h"
#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 30000L
#define ERROR_BODY_MAX 8192
#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One request and what came back. */
typedef struct s3_req {
  const vs_s3_target *t;
  const char *url;
  const char *what;      /* "bucket/key", for messages */
  long status;
  vs_object_info *info;  /* headers land here (HEAD) */
  int have_length;
  const char *bad_header; /* the first header that did not parse */
  vs_buf body;           /* error document (GET), at most ERROR_BODY_MAX */
} s3_req;

/* ---- checks and the URL ------------------------------------------------- */

/* The endpoint without its optional trailing '/', into out. */
static int check_target(const vs_s3_target *t, char *out, size_t cap,
                        vs_err *err)
{
  const char *e = t ? t->endpoint : NULL, *auth;
  size_t n;
  if(!e || (strncasecmp(e, "http://", 7) && strncasecmp(e, "https://", 8)))
    return vs_fail(err, VS_ERR_INVALID,
                   "S3 endpoint '%.100s' must start with http:// or https://",
                   e ? e : "");
  n = strlen(e);
  if(n > 1 && e[n - 1] == '/')
    n--;
  auth = e + (e[4] == ':' ? 7 : 8);
  if(auth == e + n || strcspn(auth, "/?#") < (size_t)(e + n - auth) ||
     n >= cap)
    return vs_fail(err, VS_ERR_INVALID,
                   "S3 endpoint '%.100s' must be scheme://host[:port], "
                   "no path", e);
  memcpy(out, e, n);
  out[n] = 0;
  if(!t->key_id || !*t->key_id || !t->secret || !*t->secret)
    return vs_fail(err, VS_ERR_INVALID, "S3 access key id or secret is empty");
  return VS_OK;
}

static int check_names(const char *bucket, const char *key, vs_err *err)
{
  int rc = vs_store_check_bucket(bucket ? bucket : "", err);
  if(!rc)
    rc = vs_store_check_key(key ? key : "", key ? strlen(key) : 0, err);
  return rc;
}

static vs_sigv4_creds creds_of(const vs_s3_target *t)
{
  vs_sigv4_creds c = {t->key_id, t->secret,
                      t->region && *t->region ? t->region : "us-east-1",
                      "s3"};
  return c;
}

/* endpoint/bucket/key with the key URI-encoded ('/' kept). */
static char *object_url(const char *endpoint, const char *bucket,
                        const char *key)
{
  vs_buf b = VS_BUF_INIT;
  char *ekey = vs_sigv4_uri_encode(key, strlen(key), 1);
  if(!ekey)
    return NULL;
  vs_buf_addf(&b, "%s/%s/%s", endpoint, bucket, ekey);
  free(ekey);
  if(b.failed) {
    vs_buf_free(&b);
    return NULL;
  }
  return vs_buf_steal(&b);
}

/* ---- the answer --------------------------------------------------------- */

static int copy_value(char *dst, size_t cap, const char *v, size_t n)
{
  if(n >= cap)
    return -1;
  memcpy(dst, v, n);
  dst[n] = 0;
  return 0;
}

static int parse_length(const char *v, size_t n, uint64_t *out)
{
  size_t i;
  *out = 0;
  if(!n || n > 20)
    return -1;
  for(i = 0; i < n; i++) {
    unsigned d = (unsigned)(v[i] - '0');
    if(d > 9 || *out > (UINT64_MAX - d) / 10)
      return -1;
    *out = *out * 10 + d;
  }
  return 0;
}

static int parse_etag(vs_object_info *info, const char *v, size_t n)
{
  if(n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    v++;
    n -= 2;
  }
  return n ? copy_value(info->etag, sizeof(info->etag), v, n) : -1;
}

static int parse_mtime(vs_object_info *info, const char *v, size_t n)
{
  char date[64];
  time_t s;
  if(copy_value(date, sizeof(date), v, n))
    return -1;
  s = curl_getdate(date, NULL);
  if(s < 0)
    return -1;
  info->mtime_ms = (int64_t)s * 1000;
  return 0;
}

static int parse_checksum(vs_object_info *info, const char *v, size_t n)
{
  uint8_t sum[33];
  if(vs_unb64(v, n, sum, sizeof(sum)) != 32)
    return -1;
  vs_hex(sum, 32, info->sha256);
  return 0;
}

/* Returns the header's name when its value does not parse, else NULL. */
static const char *take_header(s3_req *r, const char *name, size_t nlen,
                               const char *v, size_t n)
{
  vs_object_info *i = r->info;
#define IS(h) (nlen == sizeof(h) - 1 && !strncasecmp(name, h, nlen))
  if(IS("content-length")) {
    r->have_length = 1;
    return parse_length(v, n, &i->bytes) ? "Content-Length" : NULL;
  }
  if(IS("etag"))
    return parse_etag(i, v, n) ? "ETag" : NULL;
  if(IS("content-type"))
    return copy_value(i->content_type, sizeof(i->content_type), v, n)
             ? "Content-Type" : NULL;
  if(IS("last-modified"))
    return parse_mtime(i, v, n) ? "Last-Modified" : NULL;
  if(IS("x-amz-version-id"))
    return copy_value(i->version_id, sizeof(i->version_id), v, n)
             ? "x-amz-version-id" : NULL;
  if(IS("x-amz-checksum-sha256"))
    return parse_checksum(i, v, n) ? "x-amz-checksum-sha256" : NULL;
#undef IS
  return NULL;
}

static void info_reset(s3_req *r)
{
  memset(r->info, 0, sizeof(*r->info));
  strcpy(r->info->version_id, "null");
  r->have_length = 0;
  r->bad_header = NULL;
}

static size_t on_header(char *p, size_t size, size_t nitems, void *ctx)
{
  s3_req *r = ctx;
  size_t n = size * nitems, nlen, vlen;
  const char *colon = memchr(p, ':', n), *v;
  if(!r->info)
    return n;
  if(n >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response begins */
    info_reset(r);
    return n;
  }
  if(!colon)
    return n;
  nlen = (size_t)(colon - p);
  v = colon + 1;
  vlen = n - nlen - 1;
  while(vlen && (*v == ' ' || *v == '\t'))
    v++, vlen--;
  while(vlen && strchr(" \t\r\n", v[vlen - 1]))
    vlen--;
  if(!r->bad_header)
    r->bad_header = take_header(r, p, nlen, v, vlen);
  return n;
}

static size_t on_body(char *p, size_t size, size_t nitems, void *ctx)
{
  s3_req *r = ctx;
  size_t n = size * nitems;
  if(r->body.len + n > ERROR_BODY_MAX)
    return 0; /* not an error document: stop reading */
  return vs_buf_add(&r->body, p, n) ? 0 : n;
}

/* ---- sending ------------------------------------------------------------ */

static int setup(CURL *c, s3_req *r, const char *method,
                 struct curl_slist *hdrs, char *errbuf)
{
  long total = r->t->timeout_ms > 0 ? r->t->timeout_ms : DEFAULT_TIMEOUT_MS;
  CURLcode e = CURLE_OK;
#define SET(opt, val) if(!e) e = curl_easy_setopt(c, opt, val)
  SET(CURLOPT_URL, r->url);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_PATH_AS_IS, 1L); /* the signed path is the path sent */
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_CONNECTTIMEOUT_MS,
      total < CONNECT_TIMEOUT_MS ? total : CONNECT_TIMEOUT_MS);
  SET(CURLOPT_TIMEOUT_MS, total);
  SET(CURLOPT_HTTPHEADER, hdrs);
  SET(CURLOPT_USERAGENT, "vsink/0.1");
  SET(CURLOPT_ERRORBUFFER, errbuf);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, r);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, r);
  if(!strcmp(method, "HEAD"))
    SET(CURLOPT_NOBODY, 1L);
#undef SET
  return e == CURLE_OK ? 0 : -1;
}

static int sign(s3_req *r, const char *method, struct curl_slist **hdrs,
                vs_err *err)
{
  vs_sigv4_creds c = creds_of(r->t);
  vs_signed_headers sh;
  int64_t now = vs_now_ms(r->t->now, r->t->now_ctx) / 1000;
  struct curl_slist *l = NULL, *n;
  int rc = vs_sigv4_sign_headers(&c, method, r->url, NULL, 0, EMPTY_SHA256,
                                 now, &sh, err);
  const char *lines[] = {sh.authorization, sh.amz_date, sh.content_sha256};
  size_t i;
  if(rc)
    return rc;
  for(i = 0; i < 3; i++) {
    if(!(n = curl_slist_append(l, lines[i]))) {
      curl_slist_free_all(l);
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    }
    l = n;
  }
  *hdrs = l;
  return VS_OK;
}

/* Sends a signed method (HEAD or GET) to r->url; fills r->status. A status
 * is not an error here; no answer at all is VS_ERR_NET. */
static int send_signed(s3_req *r, const char *method, vs_err *err)
{
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode e;
  CURL *c;
  int rc = sign(r, method, &hdrs, err);
  if(rc)
    return rc;
  if(!(c = curl_easy_init()) || setup(c, r, method, hdrs, errbuf))
    rc = vs_fail(err, VS_ERR_NOMEM, "cannot set up libcurl");
  else if((e = curl_easy_perform(c)) != CURLE_OK &&
          !(e == CURLE_WRITE_ERROR && !r->body.failed))
    rc = vs_fail(err, VS_ERR_NET, "%s %s: %s", method, r->what,
                 *errbuf ? errbuf : curl_easy_strerror(e));
  else
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_cleanup(c);
  curl_slist_free_all(hdrs);
  return rc;
}

/* S3's <Code> from an error document, or "" when there is none. */
static void error_code(const vs_buf *body, char *out, size_t cap)
{
  const char *s = strstr(vs_buf_str(body), "<Code>"), *end;
  size_t n;
  *out = 0;
  if(!s || !(end = strstr(s + 6, "</Code>")))
    return;
  n = (size_t)(end - s - 6);
  if(n < cap && strspn(s + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz0123456789.") >= n) {
    memcpy(out, s + 6, n);
    out[n] = 0;
  }
}

/* An error status of the HEAD: a HEAD answer has no body, so GET the same
 * object once to learn S3's error code for the message. */
static int status_error(s3_req *head, vs_err *err)
{
  s3_req get = {head->t, head->url, head->what, 0, NULL, 0, NULL,
                VS_BUF_INIT};
  char code[64] = "";
  vs_err ignored;
  int rc;
  if(!send_signed(&get, "GET", &ignored) && get.status == head->status)
    error_code(&get.body, code, sizeof(code));
  vs_buf_free(&get.body);
  rc = head->status == 404   ? VS_ERR_NOTFOUND
       : head->status == 403 ? VS_ERR_AUTH
       : head->status == 400 ? VS_ERR_INVALID
                             : VS_ERR_NET;
  return vs_fail(err, rc, "HEAD %s: HTTP %ld %s", head->what, head->status,
                 *code ? code : "(no S3 error code)");
}

int vs_s3_head(const vs_s3_target *t, const char *bucket, const char *key,
               vs_object_info *info, vs_err *err)
{
  char endpoint[512], what[200];
  s3_req r = {t, NULL, what, 0, info, 0, NULL, VS_BUF_INIT};
  char *url;
  int rc;
  if((rc = check_target(t, endpoint, sizeof(endpoint), err)) ||
     (rc = check_names(bucket, key, err)))
    return rc;
  snprintf(what, sizeof(what), "%s/%.96s%s", bucket, key,
           strlen(key) > 96 ? "..." : "");
  if(!(url = object_url(endpoint, bucket, key)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  r.url = url;
  info_reset(&r);
  rc = send_signed(&r, "HEAD", err);
  if(!rc && (r.status < 200 || r.status > 299))
    rc = status_error(&r, err);
  else if(!rc && r.bad_header)
    rc = vs_fail(err, VS_ERR_NET, "HEAD %s: malformed %s in the answer",
                 what, r.bad_header);
  else if(!rc && !r.have_length)
    rc = vs_fail(err, VS_ERR_NET, "HEAD %s: no Content-Length in the answer",
                 what);
  vs_buf_free(&r.body);
  free(url);
  return rc;
}

int vs_s3_presign_put(const vs_s3_target *t, const char *bucket,
                      const char *key, int64_t now, int64_t expires,
                      char **url, vs_err *err)
{
  char endpoint[512];
  vs_buf path = VS_BUF_INIT;
  vs_sigv4_creds c;
  vs_presign_req req;
  int rc;
  *url = NULL;
  if((rc = check_target(t, endpoint, sizeof(endpoint), err)) ||
     (rc = check_names(bucket, key, err)))
    return rc;
  if(vs_buf_addf(&path, "/%s/%s", bucket, key))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  c = creds_of(t);
  req = (vs_presign_req){"PUT", endpoint, path.data, NULL, now, expires};
  rc = vs_sigv4_presign(&c, &req, url, err);
  vs_buf_free(&path);
  return rc;
}
