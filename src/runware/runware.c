/* The API client: the retry policy, one libcurl easy handle per client
 * (kept alive between requests), and POST with retries. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "util/fs.h"
#include "vsink/runware.h"

struct vs_rw_client {
  char *url;
  struct curl_slist *headers; /* holds the Authorization line */
  CURL *curl;
  long timeout_ms;
  size_t max_body;
  vs_rw_retry retry;
  vs_now_fn now;
  void *now_ctx;
  vs_sleep_fn sleep;
  void *sleep_ctx;
  vs_rand_fn rand;
  void *rand_ctx;
  vs_rw_send_fn send;
  void *send_ctx;
  uint64_t rng; /* xorshift state when no rand_fn is given */
};

/* ---- policy ----------------------------------------------------------------- */
int vs_rw_retryable(long status)
{
  return status == 0 || status == 408 || status == 429 ||
         (status >= 500 && status <= 599);
}

int64_t vs_rw_backoff_ms(const vs_rw_retry *p, int attempt,
                         int64_t retry_after_ms, uint64_t rnd)
{
  int64_t base = p->base_ms > 0 ? p->base_ms : 500;
  int64_t cap = p->cap_ms > 0 ? p->cap_ms : 30000;
  int64_t max_ra = p->max_retry_after_ms > 0 ? p->max_retry_after_ms : 300000;
  int64_t d = base;
  int i;
  if(retry_after_ms >= 0)
    return retry_after_ms < max_ra ? retry_after_ms : max_ra;
  for(i = 1; i < attempt && d < cap; i++)
    d *= 2;
  if(d > cap)
    d = cap;
  return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

/* ---- the world ---------------------------------------------------------------- */
static void real_sleep(int64_t ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while(nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

int64_t vs_rw_now(vs_rw_client *c)
{
  return vs_now_ms(c->now, c->now_ctx);
}

void vs_rw_sleep(vs_rw_client *c, int64_t ms)
{
  if(ms <= 0)
    return;
  if(c->sleep)
    c->sleep(c->sleep_ctx, ms);
  else
    real_sleep(ms);
}

static uint64_t next_rand(vs_rw_client *c)
{
  if(c->rand)
    return c->rand(c->rand_ctx);
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 7;
  c->rng ^= c->rng << 17;
  return c->rng;
}

void vs_rw_http_init(vs_rw_http *h)
{
  memset(h, 0, sizeof(*h));
  h->retry_after_ms = -1;
  vs_buf_init(&h->body);
}

void vs_rw_http_free(vs_rw_http *h)
{
  vs_buf_free(&h->body);
}

static void http_reset(vs_rw_http *h)
{
  h->status = 0;
  h->retry_after_ms = -1;
  h->error[0] = 0;
  vs_buf_reset(&h->body);
  h->body.failed = 0;
}

/* ---- libcurl transport ------------------------------------------------------ */
typedef struct recv_ctx {
  vs_rw_http *h;
  size_t max;
} recv_ctx;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
  recv_ctx *r = ud;
  size_t len = size * n;
  if(r->h->body.len + len > r->max)
    return 0; /* CURLE_WRITE_ERROR: an answer this large is not the API's */
  return vs_buf_add(&r->h->body, p, len) ? 0 : len;
}

/* Retry-After: delay-seconds only; an HTTP-date falls back to back-off. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
  recv_ctx *r = ud;
  size_t len = size * n, i = 12;
  int64_t v = 0;
  if(len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
    while(i < len && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if(i < len && p[i] >= '0' && p[i] <= '9') {
      for(; i < len && p[i] >= '0' && p[i] <= '9' && v < 1000000; i++)
        v = v * 10 + (p[i] - '0');
      r->h->retry_after_ms = v * 1000;
    }
  }
  return len;
}

#define SET(opt, val)                                                     \
  do {                                                                    \
    if(curl_easy_setopt(c->curl, opt, val) != CURLE_OK)                   \
      return vs_fail(err, VS_ERR_INVALID, "libcurl refused " #opt);       \
  } while(0)

static int curl_setup(vs_rw_client *c, vs_err *err)
{
  SET(CURLOPT_URL, c->url);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_HTTPHEADER, c->headers);
  SET(CURLOPT_USERAGENT, "vsink/0.1");
  SET(CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 10000 ? c->timeout_ms
                                                       : 10000L);
  SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_POST, 1L);
  return VS_OK;
}

static int curl_send(void *ctx, const char *body, size_t len, vs_rw_http *h)
{
  vs_rw_client *c = ctx;
  char errbuf[CURL_ERROR_SIZE] = "";
  recv_ctx r = {h, c->max_body};
  CURLcode cc;
  curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  cc = curl_easy_perform(c->curl);
  curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
  if(cc != CURLE_OK) {
    h->status = 0;
    snprintf(h->error, sizeof(h->error), "%s", *errbuf ? errbuf
                                                       : curl_easy_strerror(cc));
    return 0;
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &h->status);
  if(h->status == 0)
    snprintf(h->error, sizeof(h->error), "no HTTP status");
  return h->body.failed ? VS_ERR_NOMEM : 0;
}

/* ---- client ------------------------------------------------------------------- */
int vs_rw_global_init(vs_err *err)
{
  if(curl_global_init(CURL_GLOBAL_DEFAULT))
    return vs_fail(err, VS_ERR_NOMEM, "libcurl could not initialise");
  return VS_OK;
}

static int auth_header(vs_rw_client *c, const char *key, vs_err *err)
{
  static const char *const fixed[] = {"Content-Type: application/json",
                                      "Accept: application/json",
                                      "Expect:"};
  struct curl_slist *l = NULL, *t;
  char *line = NULL;
  size_t i;
  if(asprintf(&line, "Authorization: Bearer %s", key) < 0)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  for(i = 0; i < 3; i++) {
    if(!(t = curl_slist_append(l, fixed[i])))
      goto nomem;
    l = t;
  }
  if(!(t = curl_slist_append(l, line)))
    goto nomem;
  c->headers = t;
  explicit_bzero(line, strlen(line));
  free(line);
  return VS_OK;
nomem:
  explicit_bzero(line, strlen(line));
  free(line);
  curl_slist_free_all(l);
  return vs_fail(err, VS_ERR_NOMEM, "out of memory");
}

static int check_key(const char *key, vs_err *err)
{
  size_t i;
  if(!key || !*key)
    return vs_fail(err, VS_ERR_AUTH, "no API key: set RUNWARE_API_KEY");
  for(i = 0; key[i]; i++)
    if((unsigned char)key[i] <= ' ' || key[i] == 0x7f)
      return vs_fail(err, VS_ERR_INVALID, "the API key holds a space or "
                     "a control character");
  return VS_OK;
}

int vs_rw_client_new(vs_rw_client **out, const vs_rw_opts *o, vs_err *err)
{
  vs_rw_client *c;
  int rc;
  *out = NULL;
  if((rc = check_key(o->api_key, err)))
    return rc;
  if(!(c = calloc(1, sizeof(*c))) ||
     !(c->url = strdup(o->api_url ? o->api_url : VS_RW_API_URL))) {
    free(c);
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  }
  c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
  c->max_body = o->max_body ? o->max_body : (size_t)64 << 20;
  c->retry = o->retry;
  c->now = o->now;
  c->now_ctx = o->now_ctx;
  c->sleep = o->sleep;
  c->sleep_ctx = o->sleep_ctx;
  c->rand = o->rand;
  c->rand_ctx = o->rand_ctx;
  c->send = o->send;
  c->send_ctx = o->send_ctx;
  if(!c->rand && vs_random(&c->rng, sizeof(c->rng), err))
    goto fail;
  c->rng |= 1;
  if(auth_header(c, o->api_key, err))
    goto fail;
  if(!c->send) {
    if(!(c->curl = curl_easy_init())) {
      vs_fail(err, VS_ERR_NOMEM, "libcurl could not make a handle");
      goto fail;
    }
    if(curl_setup(c, err))
      goto fail;
    c->send = curl_send;
    c->send_ctx = c;
  }
  *out = c;
  return VS_OK;
fail:
  vs_rw_client_free(c);
  return err && err->code ? err->code : VS_ERR_NOMEM;
}

void vs_rw_client_free(vs_rw_client *c)
{
  struct curl_slist *l;
  if(!c)
    return;
  if(c->curl)
    curl_easy_cleanup(c->curl);
  for(l = c->headers; l; l = l->next)
    explicit_bzero(l->data, strlen(l->data)); /* the key */
  curl_slist_free_all(c->headers);
  free(c->url);
  free(c);
}

/* ---- POST with retries ----------------------------------------------------------- */
int vs_rw_post(vs_rw_client *c, const char *body, size_t len,
               vs_rw_http *out, int *attempts, vs_err *err)
{
  int max = c->retry.max_attempts > 0 ? c->retry.max_attempts : 8;
  int n;
  for(n = 1;; n++) {
    http_reset(out);
    if(c->send(c->send_ctx, body, len, out))
      return vs_fail(err, VS_ERR_NOMEM, "out of memory reading the answer");
    if(attempts)
      *attempts = n;
    if(!vs_rw_retryable(out->status))
      return VS_OK;
    if(n >= max)
      break;
    vs_rw_sleep(c, vs_rw_backoff_ms(&c->retry, n, out->status == 429 ||
                                    out->status == 503 ? out->retry_after_ms
                                                       : -1,
                                    next_rand(c)));
  }
  if(out->status)
    return vs_fail(err, VS_ERR_NET, "the API answered HTTP %ld %d times",
                   out->status, n);
  return vs_fail(err, VS_ERR_NET, "the API could not be reached (%d "
                 "attempts): %s", n, out->error);
}
