/* One signed S3 request, carried by libcurl: the URL, the SigV4 headers
 * (vsink's own signer: libcurl's CURLOPT_AWS_SIGV4 neither sorts the query
 * nor sends x-amz-content-sha256, see reference/s3-test-server.md), a body
 * from memory or a file region, the answer's headers into a
 * vs_object_info, its body to a receiver or a bounded buffer, retries with
 * back-off for the calls that ask for them. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "store/s3/s3_int.h"
#include "util/enc.h"
#include "vsink/sigv4.h"

#define CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 30000L
#define ERROR_BODY_MAX 8192
#define BACKOFF_MAX_MS 10000L

/* What one transfer needs besides the call. */
typedef struct xfer {
  vs__s3_call *c;
  uint64_t sent;       /* body bytes handed to libcurl */
  int read_errno;      /* pread failed */
  int overflow;        /* the answer outgrew its buffer */
  long stall_ms;       /* bodies: the longest time without a byte moving */
  int64_t last_move_ms;
  int64_t alive_ms;    /* when c->alive was last asked */
  curl_off_t last_dl, last_ul;
  int stalled;
} xfer;

/* libcurl calls the progress function for every buffer it moves; asking
 * c->alive (a poll() on the reader's pipe) a few times a second is enough
 * to stop a transfer nobody reads. */
#define ALIVE_EVERY_MS 100

/* ---- checks and the URL ------------------------------------------------- */

int vs__s3_check_target(const vs_s3_target *t, char *out, size_t cap,
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

char *vs__s3_qenc(const char *s)
{
  return vs_sigv4_uri_encode(s, strlen(s), 0);
}

/* endpoint/bucket[/key][?query], the key URI-encoded ('/' kept). */
static char *call_url(const char *endpoint, const vs__s3_call *c)
{
  vs_buf b = VS_BUF_INIT;
  vs_buf_addf(&b, "%s/%s", endpoint, c->bucket);
  if(c->key) {
    char *ekey = vs_sigv4_uri_encode(c->key, strlen(c->key), 1);
    if(!ekey) {
      vs_buf_free(&b);
      return NULL;
    }
    vs_buf_addf(&b, "/%s", ekey);
    free(ekey);
  }
  if(c->query && *c->query)
    vs_buf_addf(&b, "?%s", c->query);
  if(b.failed) {
    vs_buf_free(&b);
    return NULL;
  }
  return vs_buf_steal(&b);
}

static int check_call(vs__s3_call *c, char *endpoint, size_t cap, vs_err *err)
{
  int rc = vs__s3_check_target(c->t, endpoint, cap, err);
  if(!rc)
    rc = vs_store_check_bucket(c->bucket ? c->bucket : "", err);
  if(!rc && c->key)
    rc = vs_store_check_key(c->key, strlen(c->key), err);
  if(!rc && c->has_body && !c->mem && c->fd < 0)
    rc = vs_fail(err, VS_ERR_INVALID, "S3 request body: no file");
  if(rc)
    return rc;
  snprintf(c->what, sizeof(c->what), "%s %s%s%.96s%s", c->method, c->bucket,
           c->key ? "/" : "", c->key ? c->key : "",
           c->key && strlen(c->key) > 96 ? "..." : "");
  return VS_OK;
}

/* ---- the answer's headers ----------------------------------------------- */

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

int vs__s3_kept_header(const char *name, size_t n)
{
  static const char *const kept[] = {"cache-control", "content-disposition",
                                     "content-encoding", "content-language",
                                     "expires"};
  size_t i;
  if(n > 11 && !strncasecmp(name, "x-amz-meta-", 11))
    return 1;
  for(i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
    if(n == strlen(kept[i]) && !strncasecmp(name, kept[i], n))
      return 1;
  return 0;
}

/* "name:value\n" (name lower-case) onto info->headers: 0, or -1 when it
 * does not fit. */
static int add_kept(vs_object_info *i, const char *name, size_t nlen,
                    const char *v, size_t n)
{
  size_t at = strlen(i->headers), k;
  if(at + nlen + n + 3 > sizeof(i->headers))
    return -1;
  for(k = 0; k < nlen; k++)
    i->headers[at++] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32
                                                                : name[k]);
  i->headers[at++] = ':';
  memcpy(i->headers + at, v, n);
  at += n;
  i->headers[at++] = '\n';
  i->headers[at] = 0;
  return 0;
}

/* Returns the header's name when its value does not parse, else NULL. */
static const char *take_header(vs__s3_call *c, const char *name, size_t nlen,
                               const char *v, size_t n)
{
  vs_object_info *i = &c->info;
#define IS(h) (nlen == sizeof(h) - 1 && !strncasecmp(name, h, nlen))
  if(IS("content-length")) {
    c->have_length = 1;
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
  if(IS("x-amz-delete-marker"))
    i->delete_marker = n == 4 && !strncasecmp(v, "true", 4);
  if(vs__s3_kept_header(name, nlen))
    return add_kept(i, name, nlen, v, n) ? "headers (over 8 KiB)" : NULL;
#undef IS
  return NULL;
}

static void answer_reset(vs__s3_call *c)
{
  memset(&c->info, 0, sizeof(c->info));
  strcpy(c->info.version_id, "null");
  c->have_length = 0;
  c->bad_header = NULL;
  c->status = 0;
  c->sink_failed = 0;
  vs_buf_reset(&c->body);
  c->body.failed = 0;
}

/* "HTTP/1.1 200 OK": 200, or 0. */
static long status_of(const char *p, size_t n)
{
  const char *sp = memchr(p, ' ', n);
  long s = 0;
  size_t i;
  if(!sp)
    return 0;
  for(i = (size_t)(sp - p) + 1; i < n && i < (size_t)(sp - p) + 4; i++) {
    if(p[i] < '0' || p[i] > '9')
      return 0;
    s = s * 10 + (p[i] - '0');
  }
  return s;
}

static size_t on_header(char *p, size_t size, size_t nitems, void *ctx)
{
  vs__s3_call *c = ((xfer *)ctx)->c;
  size_t n = size * nitems, nlen, vlen;
  const char *colon = memchr(p, ':', n), *v;
  if(n >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response begins */
    answer_reset(c);
    c->status = status_of(p, n);
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
  if(!c->bad_header)
    c->bad_header = take_header(c, p, nlen, v, vlen);
  return n;
}

static size_t on_body(char *p, size_t size, size_t nitems, void *ctx)
{
  xfer *x = ctx;
  vs__s3_call *c = x->c;
  size_t n = size * nitems;
  int ok = c->status >= 200 && c->status <= 299;
  if(ok && c->sink) {
    if(c->sink(c->sink_ctx, p, n)) {
      c->sink_failed = 1;
      return 0;
    }
    return n;
  }
  if(c->body.len + n > (ok ? VS__S3_ANSWER_MAX : ERROR_BODY_MAX)) {
    x->overflow = 1;
    return 0; /* stop reading: not an answer we could use */
  }
  return vs_buf_add(&c->body, p, n) ? 0 : n;
}

/* ---- the body sent ------------------------------------------------------ */

static size_t on_read(char *p, size_t size, size_t nitems, void *ctx)
{
  xfer *x = ctx;
  vs__s3_call *c = x->c;
  uint64_t left = c->len - x->sent;
  size_t n = size * nitems < left ? size * nitems : (size_t)left;
  ssize_t r;
  if(!n)
    return 0;
  if(c->mem) {
    memcpy(p, (const char *)c->mem + x->sent, n);
    x->sent += n;
    return n;
  }
  do
    r = pread(c->fd, p, n, (off_t)(c->off + x->sent));
  while(r < 0 && errno == EINTR);
  if(r <= 0) { /* a file that shrank under us is an error too */
    x->read_errno = r < 0 ? errno : EIO;
    return CURL_READFUNC_ABORT;
  }
  x->sent += (uint64_t)r;
  return (size_t)r;
}

static int on_seek(void *ctx, curl_off_t offset, int origin)
{
  xfer *x = ctx;
  if(origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->c->len)
    return CURL_SEEKFUNC_CANTSEEK;
  x->sent = (uint64_t)offset;
  return CURL_SEEKFUNC_OK;
}

/* ---- sending ------------------------------------------------------------ */

static int64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Aborts a transfer in which no byte moved for stall_ms. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  xfer *x = ctx;
  int64_t now = mono_ms();
  (void)dltotal;
  (void)ultotal;
  if(x->c->alive && now - x->alive_ms >= ALIVE_EVERY_MS) {
    x->alive_ms = now;
    if(!x->c->alive(x->c->sink_ctx)) {
      x->c->sink_failed = 1;
      return 1;
    }
  }
  if(dlnow != x->last_dl || ulnow != x->last_ul) {
    x->last_dl = dlnow;
    x->last_ul = ulnow;
    x->last_move_ms = now;
    return 0;
  }
  x->stalled = now - x->last_move_ms >= x->stall_ms;
  return x->stalled;
}

static int setup(CURL *h, xfer *x, const char *url, struct curl_slist *hdrs,
                 char *errbuf)
{
  vs__s3_call *c = x->c;
  long total = c->t->timeout_ms > 0 ? c->t->timeout_ms : DEFAULT_TIMEOUT_MS;
  CURLcode e = CURLE_OK;
#define SET(opt, val) if(!e) e = curl_easy_setopt(h, opt, val)
  SET(CURLOPT_URL, url);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_PATH_AS_IS, 1L); /* the signed path is the path sent */
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_CONNECTTIMEOUT_MS,
      total < CONNECT_TIMEOUT_MS ? total : CONNECT_TIMEOUT_MS);
  if(c->has_body || c->sink) {
    /* a body's transfer takes as long as its size needs: what must not
     * last is a stall (no byte either way, the answer not coming). Not
     * CURLOPT_LOW_SPEED_*: libcurl averages the speed over ~5 s. */
    x->stall_ms = total;
    x->last_move_ms = mono_ms();
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, x);
  }
  else {
    SET(CURLOPT_TIMEOUT_MS, total);
  }
  SET(CURLOPT_HTTPHEADER, hdrs);
  SET(CURLOPT_USERAGENT, "vsink/0.1");
  SET(CURLOPT_ERRORBUFFER, errbuf);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, x);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, x);
  if(!strcmp(c->method, "HEAD")) {
    SET(CURLOPT_NOBODY, 1L);
  }
  else if(strcmp(c->method, "GET")) {
    SET(CURLOPT_CUSTOMREQUEST, c->method);
  }
  if(c->has_body || !strcmp(c->method, "PUT") || !strcmp(c->method, "POST")) {
    SET(CURLOPT_UPLOAD, 1L); /* with the method above: PUT or POST */
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, x);
    SET(CURLOPT_SEEKFUNCTION, on_seek);
    SET(CURLOPT_SEEKDATA, x);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)(c->has_body ? c->len : 0));
  }
#undef SET
  return e == CURLE_OK ? 0 : -1;
}

static int sign(vs__s3_call *c, const char *url, struct curl_slist **hdrs,
                vs_err *err)
{
  vs_sigv4_creds cr = {c->t->key_id, c->t->secret,
                       c->t->region && *c->t->region ? c->t->region
                                                     : "us-east-1", "s3"};
  vs_signed_headers sh;
  int64_t now = vs_now_ms(c->t->now, c->t->now_ctx) / 1000;
  struct curl_slist *l = NULL, *n;
  const char *payload = c->payload_sha256 ? c->payload_sha256
                                          : VS__S3_EMPTY_SHA256;
  int rc = vs_sigv4_sign_headers(&cr, c->method, url, c->headers,
                                 c->n_headers, payload, now, &sh, err);
  const char *lines[3 + VS__S3_MAX_HEADERS] = {sh.authorization, sh.amz_date,
                                               sh.content_sha256};
  size_t i;
  if(rc)
    return rc;
  for(i = 0; i < c->n_headers; i++)
    lines[3 + i] = c->headers[i];
  for(i = 0; i < 3 + c->n_headers; i++) {
    if(!(n = curl_slist_append(l, lines[i]))) {
      curl_slist_free_all(l);
      return vs_fail(err, VS_ERR_NOMEM, "out of memory");
    }
    l = n;
  }
  *hdrs = l;
  return VS_OK;
}

/* libcurl's global set-up, once, before any handle: done implicitly by
 * curl_easy_init it is not thread-safe in every libcurl. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;
/* Each thread keeps one easy handle, and with it libcurl's cache of open
 * connections: a request reuses the connection the last one left alive
 * instead of a new TCP connection per part, HEAD or intent. A handle
 * belongs to one thread at a time, so no lock and no CURLSH. */
static pthread_key_t handle_key;

static void handle_free(void *h)
{
  curl_easy_cleanup(h);
}

static void curl_setup(void)
{
  curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK &&
               !pthread_key_create(&handle_key, handle_free);
}

/* The thread's handle, its options back to the defaults (its connections
 * kept), or a new one. NULL: out of memory. */
static CURL *handle_get(void)
{
  CURL *h = pthread_getspecific(handle_key);
  if(h) {
    curl_easy_reset(h);
    return h;
  }
  if((h = curl_easy_init()) && pthread_setspecific(handle_key, h)) {
    curl_easy_cleanup(h);
    h = NULL;
  }
  return h;
}

/* After a request. libcurl itself closes a connection left in an unknown
 * state (a body cut short, an abort from a callback, a timeout); a failed
 * try still drops the whole handle, so that the next one starts on a new
 * connection whatever went wrong (a gateway restarted, a proxy between). */
static void handle_put(CURL *h, int failed)
{
  if(!h)
    return;
  if(failed) {
    pthread_setspecific(handle_key, NULL);
    curl_easy_cleanup(h);
    return;
  }
  curl_easy_reset(h); /* no pointer into this call's stack stays in it */
}

/* One try: an answer (any status) or VS_ERR_NET / VS_ERR_IO. */
static int send_once(vs__s3_call *c, const char *url, vs_err *err)
{
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  xfer x = {.c = c};
  CURLcode e = CURLE_OK;
  CURL *h;
  int rc;
  pthread_once(&curl_once, curl_setup);
  if(!curl_ready)
    return vs_fail(err, VS_ERR_NOMEM, "cannot set up libcurl");
  if((rc = sign(c, url, &hdrs, err)))
    return rc;
  answer_reset(c);
  if(!(h = handle_get()) || setup(h, &x, url, hdrs, errbuf))
    rc = vs_fail(err, VS_ERR_NOMEM, "cannot set up libcurl");
  else if((e = curl_easy_perform(h)) == CURLE_OK)
    ;
  else if(x.read_errno)
    rc = vs_fail_errno(err, x.read_errno, "%s: reading the body", c->what);
  else if(x.stalled)
    rc = vs_fail(err, VS_ERR_NET, "%s: timed out: no byte moved for %ld ms",
                 c->what, x.stall_ms);
  else if(c->sink_failed)
    rc = vs_fail(err, VS_ERR_IO, "%s: stopped by the receiver", c->what);
  else if(e == CURLE_WRITE_ERROR && x.overflow && c->status >= 200 &&
          c->status <= 299)
    rc = vs_fail(err, VS_ERR_NET, "%s: answer over %u bytes", c->what,
                 VS__S3_ANSWER_MAX);
  else if(!(e == CURLE_WRITE_ERROR && !c->body.failed))
    rc = vs_fail(err, VS_ERR_NET, "%s: %s", c->what,
                 *errbuf ? errbuf : curl_easy_strerror(e));
  if(!rc && h)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
  handle_put(h, rc != VS_OK || e != CURLE_OK);
  curl_slist_free_all(hdrs);
  return rc;
}

static void backoff(const vs_s3_target *t, int attempt)
{
  long ms = t->retry_base_ms > 0 ? t->retry_base_ms : 200;
  struct timespec ts;
  while(--attempt > 0 && ms < BACKOFF_MAX_MS)
    ms *= 2;
  if(ms > BACKOFF_MAX_MS)
    ms = BACKOFF_MAX_MS;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while(nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

/* The S3 error code of an error answer, for the retry decision. */
static int retryable_answer(const vs__s3_call *c)
{
  char code[64] = "", msg[8];
  if(c->status >= 200 && c->status <= 299)
    return 0;
  vs__s3_parse_error(c->body.data ? c->body.data : "", c->body.len, code,
                     sizeof(code), msg, sizeof(msg));
  return vs__s3_code_of(c->status, code) == VS_ERR_NET;
}

int vs__s3_send(vs__s3_call *c, vs_err *err)
{
  char endpoint[512], *url;
  int rc, attempt, attempts = c->attempts > 1 ? c->attempts : 1;
  if(attempts > 10)
    attempts = 10;
  if((rc = check_call(c, endpoint, sizeof(endpoint), err)))
    return rc;
  if(!(url = call_url(endpoint, c)))
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(attempt = 1;; attempt++) {
    rc = send_once(c, url, err);
    if(attempt >= attempts || c->sink ||
       (rc ? rc != VS_ERR_NET : !retryable_answer(c)))
      break; /* a streamed body already went to the receiver: no retry */
    backoff(c->t, attempt);
  }
  free(url);
  return rc;
}

void vs__s3_call_free(vs__s3_call *c)
{
  vs_buf_free(&c->body);
  vs_buf_free(&c->hbuf);
}

/* S3 codes whose meaning holds whatever the status (CompleteMultipartUpload
 * sends them with a 200). */
static const struct { const char *code; int rc; } CODES[] = {
  {"SlowDown", VS_ERR_NET}, {"RequestTimeout", VS_ERR_NET},
  {"InternalError", VS_ERR_NET}, {"ServiceUnavailable", VS_ERR_NET},
  {"BadDigest", VS_ERR_DIGEST}, {"EntityTooLarge", VS_ERR_TOOLARGE},
  {"NoSuchKey", VS_ERR_NOTFOUND}, {"NoSuchUpload", VS_ERR_NOTFOUND},
  {"NoSuchBucket", VS_ERR_NOTFOUND}, {"NoSuchVersion", VS_ERR_NOTFOUND},
  {"AccessDenied", VS_ERR_AUTH}, {"SignatureDoesNotMatch", VS_ERR_AUTH},
  {"InvalidAccessKeyId", VS_ERR_AUTH},
  {"PreconditionFailed", VS_ERR_EXISTS},
  {"InvalidPart", VS_ERR_INVALID}, {"InvalidPartOrder", VS_ERR_INVALID},
  {"EntityTooSmall", VS_ERR_INVALID}, {"MalformedXML", VS_ERR_INVALID},
  {"InvalidArgument", VS_ERR_INVALID}};

int vs__s3_code_of(long status, const char *s3code)
{
  size_t i;
  for(i = 0; i < sizeof(CODES) / sizeof(CODES[0]); i++)
    if(!strcmp(s3code, CODES[i].code))
      return CODES[i].rc;
  switch(status) {
  case 400: return VS_ERR_INVALID;
  case 403: return VS_ERR_AUTH;
  case 404: return VS_ERR_NOTFOUND;
  case 409: return VS_ERR_BUSY;
  case 412: return VS_ERR_EXISTS;
  case 416: return VS_ERR_INVALID;
  default: return VS_ERR_NET; /* 5xx, 429, redirects: worth another try */
  }
}

int vs__s3_status_error(vs__s3_call *c, vs_err *err)
{
  char code[64] = "", msg[160] = "";
  vs__s3_parse_error(c->body.data ? c->body.data : "", c->body.len, code,
                     sizeof(code), msg, sizeof(msg));
  return vs_fail(err, vs__s3_code_of(c->status, code), "%s: HTTP %ld %s%s%s",
                 c->what, c->status, *code ? code : "(no S3 error code)",
                 *msg ? ": " : "", msg);
}

int vs__s3_do(vs__s3_call *c, vs_err *err)
{
  int rc = vs__s3_send(c, err);
  if(!rc && (c->status < 200 || c->status > 299))
    rc = vs__s3_status_error(c, err);
  return rc;
}

void vs__s3_qadd(vs_buf *q, const char *name, const char *value)
{
  char *v;
  if(!value || !*value)
    return;
  if(!(v = vs__s3_qenc(value))) {
    q->failed = 1;
    return;
  }
  vs_buf_addf(q, "%s%s=%s", q->len ? "&" : "", name, v);
  free(v);
}

void vs__s3_set_body(vs__s3_call *c, const vs_s3_body *b)
{
  c->has_body = 1;
  c->mem = b->mem;
  c->fd = b->mem ? -1 : b->fd;
  c->off = b->off;
  c->len = b->len;
}

void vs__s3_result(const vs__s3_call *c, vs_s3_put_result *out)
{
  snprintf(out->etag, sizeof(out->etag), "%s", c->info.etag);
  snprintf(out->version_id, sizeof(out->version_id), "%s",
           strcmp(c->info.version_id, "null") ? c->info.version_id : "");
}
