/* Fuzz target: SigV4 query and header parsing and verification
 * (vs_sigv4_verify with a fixed keyring and clock) and vs_sigv4_uri_decode.
 *
 * The first byte picks a mode; the rest is read as lines:
 *   0  raw request:    method \n raw-uri \n "Name: value" header lines...
 *      whatever arrives, verify must answer without a memory error, never
 *      quote the secret, and accept only with our key and a sane payload;
 *   1  presign round trip: method \n path \n query \n expires \n extra
 *      whatever path and query (encoded here), a URL vs_sigv4_presign made
 *      verifies at T0, has expired at T0 + expires, and with the raw
 *      parameter extra appended does not verify;
 *   2  header round trip: method \n path \n query \n payload \n headers...
 *      a request vs_sigv4_sign_headers signed (extra headers signed too)
 *      verifies at T0 and is skewed at T0 + 16 min.
 * Modes 1 and 2 find any disagreement between the signer and the verifier
 * about what a URL or a header means. */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_input.h"
#include "vsink/sigv4.h"

#define KEY_ID "VSFUZZKEY0000000001"
#define SECRET "fuzz/Secret+Key0123456789abcdefghijklmno"
#define REGION "us-east-1"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define ENDPOINT "http://127.0.0.1:9000"
#define HOST "127.0.0.1:9000"
#define MAX_HDRS 40

typedef struct fake {
  const char *name[MAX_HDRS];
  const char *value[MAX_HDRS];
  size_t n;
} fake;

static const char *lookup(void *ctx, const char *name)
{
  const fake *f = ctx;
  size_t i;
  for(i = 0; i < f->n; i++)
    if(!strcasecmp(f->name[i], name))
      return f->value[i];
  return NULL;
}

static void add_hdr(fake *f, const char *name, const char *value)
{
  if(f->n < MAX_HDRS) {
    f->name[f->n] = name;
    f->value[f->n++] = value;
  }
}

static const vs_keyring *keyring(void)
{
  static vs_keyring *kr;
  if(!kr) {
    kr = vs_keyring_new();
    if(!kr || vs_keyring_add(kr, "VSOTHERKEY", "other-secret", NULL) ||
       vs_keyring_add(kr, KEY_ID, SECRET, NULL))
      abort();
  }
  return kr;
}

/* The input being run, to tell a leak from an echo. */
static const uint8_t *g_data;
static size_t g_size;

/* In the input as sent or %-decoded (a query value reaches a message
 * decoded). */
static int input_has(const char *s)
{
  size_t n = 0;
  char *dec = vs_sigv4_uri_decode((const char *)g_data, g_size, &n);
  int has = memmem(g_data, g_size, s, strlen(s)) ||
            (dec && memmem(dec, n, s, strlen(s)));
  free(dec);
  return has;
}

static vs_sigv4_status verify(const char *method, const char *uri, fake *f,
                              int64_t now, vs_sigv4_result *res, vs_err *err)
{
  vs_sigv4_request req = {method, uri, lookup, f};
  vs_sigv4_status st = vs_sigv4_verify(&req, keyring(), REGION, now, res, err);
  /* (A client may send a secret itself; then the echo is no leak.) */
  FZ_ASSERT(!strstr(err->msg, "ecret+Key0123") || input_has("ecret+Key0123"),
            "a refusal quotes a secret: %s", err->msg);
  FZ_ASSERT(!strstr(err->msg, "her-secr") || input_has("her-secr"),
            "a refusal quotes a secret: %s", err->msg);
  if(st == VS_SIGV4_OK) {
    size_t n = strlen(res->payload_sha256);
    FZ_ASSERT(!strcmp(res->key_id, KEY_ID) ||
                !strcmp(res->key_id, "VSOTHERKEY"), "key '%s'", res->key_id);
    FZ_ASSERT(!strcmp(res->payload_sha256, VS_SIGV4_UNSIGNED) ||
                (n == 64 && strspn(res->payload_sha256,
                                   "0123456789abcdef") == 64),
              "payload '%s'", res->payload_sha256);
  }
  return st;
}

/* decode(encode(decode(s))) == decode(s): the canonical form is stable. */
static void decode_round_trip(const char *s)
{
  size_t n1 = 0, n2 = 0;
  char *d1 = vs_sigv4_uri_decode(s, strlen(s), &n1), *e, *d2;
  if(!d1)
    return;
  FZ_ASSERT(n1 <= strlen(s), "decoded %zu bytes from %zu", n1, strlen(s));
  e = vs_sigv4_uri_encode(d1, n1, 0);
  FZ_ASSERT(e != NULL, "encode failed");
  FZ_ASSERT(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789-._~%") == strlen(e), "encoded '%s'", e);
  d2 = vs_sigv4_uri_decode(e, strlen(e), &n2);
  FZ_ASSERT(d2 && n2 == n1 && !memcmp(d1, d2, n1), "round trip of '%s'", s);
  free(d1);
  free(e);
  free(d2);
}

static void raw_request(const fz_lines *l)
{
  fake f = {{0}, {0}, 0};
  char *hdrs[MAX_HDRS];
  size_t i;
  vs_sigv4_result res;
  vs_err err = {0};
  for(i = 2; i < l->n && f.n < MAX_HDRS; i++) {
    char *colon = strchr(l->line[i], ':');
    if(!colon)
      continue;
    hdrs[f.n] = l->line[i];
    *colon = 0;
    colon++;
    while(*colon == ' ' || *colon == '\t')
      colon++;
    add_hdr(&f, hdrs[f.n], colon);
  }
  decode_round_trip(fz_line(l, 1));
  verify(fz_line(l, 0), fz_line(l, 1), &f, T0, &res, &err);
}

/* "a=b&c" (raw bytes) -> each name and value URI-encoded. */
static char *encode_query(const char *raw)
{
  size_t n = strlen(raw), cap = 3 * n + 1, o = 0;
  char *out = malloc(cap), *copy = strdup(raw), *save = NULL, *tok;
  if(!out || !copy)
    abort();
  out[0] = 0;
  for(tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(tok, '='), *en, *ev = NULL;
    if(eq)
      *eq = 0;
    en = vs_sigv4_uri_encode(tok, strlen(tok), 0);
    if(eq)
      ev = vs_sigv4_uri_encode(eq + 1, strlen(eq + 1), 0);
    o += (size_t)snprintf(out + o, cap - o, "%s%s%s%s", o ? "&" : "", en,
                          eq ? "=" : "", ev ? ev : "");
    free(en);
    free(ev);
  }
  free(copy);
  return out;
}

static const char *method_of(const char *s)
{
  static const char *const m[] = {"PUT", "GET", "HEAD", "POST", "DELETE"};
  return m[(unsigned char)s[0] % 5];
}

/* A parameter appended to a presigned URL (raw, as a client could send
 * it) is never accepted: it is either signed (it is not) or refused. Only
 * an empty segment ("&&") carries nothing. */
static void tamper(const char *method, const char *target, const char *extra,
                   fake *f)
{
  char *u;
  vs_sigv4_result res;
  vs_err err = {0};
  vs_sigv4_status st;
  if(!*extra || strchr(extra, '&') || strchr(extra, '#'))
    return;
  u = malloc(strlen(target) + strlen(extra) + 2);
  if(!u)
    abort();
  sprintf(u, "%s&%s", target, extra);
  st = verify(method, u, f, T0, &res, &err);
  FZ_ASSERT(st != VS_SIGV4_OK, "accepted an unsigned parameter: %s", u);
  free(u);
}

static void presign_round_trip(const fz_lines *l)
{
  const char *method = method_of(fz_line(l, 0));
  char *path = malloc(strlen(fz_line(l, 1)) + 2), *query, *url = NULL;
  vs_sigv4_creds c = {KEY_ID, SECRET, REGION, "s3"};
  vs_presign_req r = {method, ENDPOINT, NULL, NULL, T0, 0};
  fake f = {{"Host"}, {HOST}, 1};
  vs_sigv4_result res;
  vs_err err = {0};
  vs_sigv4_status st;
  if(!path)
    abort();
  sprintf(path, "/%s", fz_line(l, 1));
  query = encode_query(fz_line(l, 2));
  r.path = path;
  r.query = *query ? query : NULL;
  r.expires = 1 + (int64_t)(strtoull(fz_line(l, 3), NULL, 10) %
                            VS_SIGV4_MAX_EXPIRES);
  if(!vs_sigv4_presign(&c, &r, &url, &err)) {
    const char *target = url + strlen(ENDPOINT);
    st = verify(method, target, &f, T0, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_OK, "presigned %s %s refused (%d): %s", method,
              target, st, err.msg);
    FZ_ASSERT(res.presigned && res.expires_at == T0 + r.expires,
              "expires_at %lld", (long long)res.expires_at);
    st = verify(method, target, &f, T0 + r.expires, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_EXPIRED, "expired URL answered %d", st);
    decode_round_trip(target);
    tamper(method, target, fz_line(l, 4), &f);
  }
  free(url);
  free(query);
  free(path);
}

static void header_round_trip(const fz_lines *l)
{
  const char *method = method_of(fz_line(l, 0)), *payload = fz_line(l, 3);
  const char *extra[MAX_HDRS];
  char *epath = vs_sigv4_uri_encode(fz_line(l, 1), strlen(fz_line(l, 1)), 1);
  char *query = encode_query(fz_line(l, 2)), *url, *target;
  vs_sigv4_creds c = {KEY_ID, SECRET, REGION, "s3"};
  vs_signed_headers sh;
  fake f = {{0}, {0}, 0};
  vs_sigv4_result res;
  vs_err err = {0};
  vs_sigv4_status st;
  size_t i, n = 0;
  if(!epath || !(url = malloc(strlen(epath) + strlen(query) + 64)))
    abort();
  sprintf(url, ENDPOINT "/%s%s%s", epath, *query ? "?" : "", query);
  target = url + strlen(ENDPOINT);
  /* The request's own Authorization header cannot also be a signed one. */
  for(i = 4; i < l->n && n < MAX_HDRS - 8; i++)
    if(strncasecmp(l->line[i], "authorization:", 14))
      extra[n++] = l->line[i];
  if(!vs_sigv4_sign_headers(&c, method, url, extra, n,
                            *payload ? payload : NULL, T0, &sh, &err)) {
    char *copies[MAX_HDRS];
    size_t k = 0;
    add_hdr(&f, "Host", HOST);
    add_hdr(&f, "Authorization", sh.authorization + strlen("Authorization: "));
    add_hdr(&f, "x-amz-date", sh.amz_date + strlen("x-amz-date: "));
    add_hdr(&f, "x-amz-content-sha256",
            sh.content_sha256 + strlen("x-amz-content-sha256: "));
    for(i = 0; i < n; i++) { /* as the server would see them */
      char *colon;
      copies[k] = strdup(extra[i]);
      colon = strchr(copies[k], ':');
      *colon++ = 0;
      add_hdr(&f, copies[k++], colon);
    }
    st = verify(method, target, &f, T0, &res, &err);
    /* X-Amz-* parameters next to an Authorization header are refused
     * whatever the signature: two forms at once. */
    if(st == VS_SIGV4_BAD_PARAMS && strstr(err.msg, "not both") &&
       strstr(query, "X-Amz-"))
      goto done;
    FZ_ASSERT(st == VS_SIGV4_OK, "signed %s %s refused (%d): %s", method,
              target, st, err.msg);
    FZ_ASSERT(!res.presigned, "header form reported as presigned");
    st = verify(method, target, &f, T0 + 16 * 60, &res, &err);
    FZ_ASSERT(st == VS_SIGV4_SKEWED, "16 min late answered %d", st);
  done:
    for(i = 0; i < k; i++)
      free(copies[i]);
  }
  free(url);
  free(query);
  free(epath);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz_lines l;
  g_data = data;
  g_size = size;
  if(size < 1 || fz_split(&l, data + 1, size - 1))
    return 0;
  switch(data[0] % 3) {
  case 0:
    raw_request(&l);
    break;
  case 1:
    presign_round_trip(&l);
    break;
  default:
    header_round_trip(&l);
  }
  fz_free(&l);
  return 0;
}
