/* sigv4: verification of presigned URLs and Authorization headers: round
 * trips, every refusal with its message, and tampering of any one
 * character of what the server receives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include "test_sigv4_hdrs.h"
#include "vsink/sigv4.h"

#define KEY_ID "VSTESTKEY0000000001"
#define SECRET "s3cr3t/Secret+Key0123456789abcdefghijklm"
#define REGION "us-east-1"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define ENDPOINT "http://127.0.0.1:9000"
#define HOST "127.0.0.1:9000"
/* A key whose URL holds escapes with hex letters, '~' kept raw, and deep
 * paths: "été 1+1=2 ~(x)*!/deep/ü.mp4". */
#define OBJ "/bucket/\xc3\xa9t\xc3\xa9 1+1=2 ~(x)*!/deep/\xc3\xbc.mp4"
#define SHA_A "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

/* ---- a request as the server sees it ------------------------------------- */

typedef hd_set fake;

static vs_keyring *keys(void)
{
  vs_keyring *kr = vs_keyring_new();
  assert_int_equal(vs_keyring_add(kr, "VSOTHERKEY", "other-secret", NULL), 0);
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, NULL), 0);
  return kr;
}

/* The URL comes back through a heap cell, not a local's address: once this
 * is inlined, GCC 12's -Wdangling-pointer (at -O2 and above) takes a pointer
 * stored through &local for one that may point at the local itself. */
static char *presign(const char *method, const char *path, int64_t expires)
{
  vs_sigv4_creds c = {KEY_ID, SECRET, REGION, "s3"};
  vs_presign_req r = {method, ENDPOINT, path, NULL, T0, expires};
  char **cell = calloc(1, sizeof(*cell)), *url;
  vs_err err = {0};
  assert_non_null(cell);
  if(vs_sigv4_presign(&c, &r, cell, &err))
    fail_msg("presign: %s", err.msg);
  url = *cell;
  free(cell);
  return url;
}

/* The raw request-line URI of a URL made for ENDPOINT. */
static const char *target(const char *url)
{
  return url + strlen(ENDPOINT);
}

static vs_sigv4_status check(const char *method, const char *uri, fake *f,
                             const vs_keyring *kr, const char *region,
                             int64_t now, vs_err *err)
{
  vs_sigv4_request req = {method, uri, hd_get, f};
  vs_sigv4_result res;
  vs_err local = {0};
  vs_sigv4_status st;
  err = err ? err : &local;
  st = vs_sigv4_verify(&req, kr, region, now, &res, err);
  /* No refusal may quote a secret. */
  if(st != VS_SIGV4_OK) {
    assert_null(strstr(err->msg, SECRET));
    assert_null(strstr(err->msg, "other-secret"));
  }
  return st;
}

/* Expects the refusal st with a message that contains words. */
static void refused(vs_sigv4_status want, const char *words,
                    const char *method, const char *uri, fake *f,
                    const vs_keyring *kr, int64_t now)
{
  vs_err err = {0};
  vs_sigv4_status st = check(method, uri, f, kr, REGION, now, &err);
  if(st != want || !strstr(err.msg, words))
    fail_msg("%s: got status %d (want %d), message '%s' (want '%s')", uri,
             st, want, err.msg, words);
}

/* ---- presigned ----------------------------------------------------------- */

static void test_presigned_round_trip(void **state)
{
  vs_keyring *kr = keys();
  fake f = {{"Host"}, {HOST}, 1};
  const char *methods[] = {"PUT", "GET", "HEAD", "POST"};
  vs_sigv4_request req = {NULL, NULL, hd_get, &f};
  vs_sigv4_result res;
  vs_err err = {0};
  size_t i;
  (void)state;
  for(i = 0; i < 4; i++) {
    char *url = presign(methods[i], OBJ, 3600);
    req.method = methods[i];
    req.raw_uri = target(url);
    assert_int_equal(vs_sigv4_verify(&req, kr, REGION, T0, &res, &err),
                     VS_SIGV4_OK);
    assert_int_equal(res.presigned, 1);
    assert_string_equal(res.key_id, KEY_ID);
    assert_string_equal(res.payload_sha256, VS_SIGV4_UNSIGNED);
    assert_int_equal(res.expires_at, T0 + 3600);
    /* Signed for one method, good for no other. */
    req.method = methods[(i + 1) % 4];
    refused(VS_SIGV4_BAD_SIGNATURE, "does not match", req.method,
            req.raw_uri, &f, kr, T0);
    free(url);
  }
  vs_keyring_free(kr);
}

/* Any client's escaping that means the same bytes verifies: '~' escaped,
 * unreserved letters escaped, parameters in another order. */
static void test_presigned_equivalent_forms(void **state)
{
  vs_keyring *kr = keys();
  fake f = {{"Host"}, {HOST}, 1};
  char *url = presign("GET", "/bucket/a~b", 60), *alt, *q;
  (void)state;
  assert_int_equal(check("GET", target(url), &f, kr, REGION, T0, NULL), 0);
  alt = malloc(strlen(url) + 8);
  q = strchr(url, '?');
  sprintf(alt, "/bucket/%%61%%7Eb%s", q);
  assert_int_equal(check("GET", alt, &f, kr, REGION, T0, NULL), 0);
  /* Move X-Amz-Algorithm=... to the end. */
  q = strchr(target(url), '?');
  sprintf(alt, "/bucket/a~b?%s&X-Amz-Algorithm=AWS4-HMAC-SHA256",
          strchr(q, '&') + 1);
  assert_int_equal(check("GET", alt, &f, kr, REGION, T0, NULL), 0);
  free(alt);
  free(url);
  vs_keyring_free(kr);
}

/* The URL with parameter name's value replaced by value (NULL: removed). */
static char *with_param(const char *uri, const char *name, const char *value)
{
  char *out = malloc(strlen(uri) + (value ? strlen(value) : 0) + 64);
  const char *p = strstr(uri, name), *end;
  size_t n = strlen(name);
  assert_non_null(p);
  end = strchr(p, '&');
  end = end ? end : p + strlen(p);
  if(value)
    sprintf(out, "%.*s%.*s=%s%s", (int)(p - uri), uri, (int)n, p, value, end);
  else if(*end)
    sprintf(out, "%.*s%s", (int)(p - uri), uri, end + 1);
  else
    sprintf(out, "%.*s", (int)(p - uri - 1), uri);
  return out;
}

static void refused_param(const char *uri, const char *name,
                          const char *value, vs_sigv4_status want,
                          const char *words)
{
  vs_keyring *kr = keys();
  fake f = {{"Host"}, {HOST}, 1};
  char *u = with_param(uri, name, value);
  refused(want, words, "GET", u, &f, kr, T0);
  free(u);
  vs_keyring_free(kr);
}

static void test_presigned_missing_params(void **state)
{
  static const char *const names[] = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature"};
  char *url = presign("GET", "/b/k", 3600), msg[80];
  size_t i;
  (void)state;
  for(i = 0; i < 6; i++) {
    snprintf(msg, sizeof(msg), "query parameter %s is missing", names[i]);
    refused_param(target(url), names[i], NULL, VS_SIGV4_BAD_PARAMS, msg);
  }
  free(url);
}

static void test_presigned_bad_params(void **state)
{
  char *url = presign("GET", "/b/k", 3600), *u;
  const char *t = target(url);
  const char *sig = strstr(t, "X-Amz-Signature=") + 16;
  char up[65];
  size_t i;
  (void)state;
  refused_param(t, "X-Amz-Algorithm", "AWS4-HMAC-SHA1", VS_SIGV4_BAD_PARAMS,
                "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
  refused_param(t, "X-Amz-Credential", KEY_ID "%2F20260101%2Fus-east-1%2Fs3",
                VS_SIGV4_BAD_PARAMS, "X-Amz-Credential must be KEYID/");
  refused_param(t, "X-Amz-Credential",
                "%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
                VS_SIGV4_BAD_PARAMS, "access key id must be 1 to 128");
  refused_param(t, "X-Amz-Credential",
                KEY_ID "%2F2026011%2Fus-east-1%2Fs3%2Faws4_request",
                VS_SIGV4_BAD_PARAMS, "date must be YYYYMMDD");
  refused_param(t, "X-Amz-Credential",
                KEY_ID "%2F20260101%2Fus-east-1%2Fec2%2Faws4_request",
                VS_SIGV4_BAD_PARAMS, "the service is 'ec2'; it must be s3");
  refused_param(t, "X-Amz-Credential",
                KEY_ID "%2F20260101%2Fus-east-1%2Fs3%2Faws4_requesT",
                VS_SIGV4_BAD_PARAMS, "must end with /aws4_request");
  refused_param(t, "X-Amz-Credential",
                KEY_ID "%2F20260102%2Fus-east-1%2Fs3%2Faws4_request",
                VS_SIGV4_BAD_PARAMS,
                "credential date 20260102 is not the day of X-Amz-Date");
  refused_param(t, "X-Amz-Credential",
                KEY_ID "%2F20260101%2Feu-west-1%2Fs3%2Faws4_request",
                VS_SIGV4_WRONG_REGION, "region 'eu-west-1'");
  refused_param(t, "X-Amz-Credential",
                "VSNOSUCHKEY%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
                VS_SIGV4_UNKNOWN_KEY, "'VSNOSUCHKEY' is not known");
  refused_param(t, "X-Amz-Date", "20260101T000000", VS_SIGV4_BAD_PARAMS,
                "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
  refused_param(t, "X-Amz-Date", "20260132T000000Z", VS_SIGV4_BAD_PARAMS,
                "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
  static const char *const bad_expires[] = {"0", "604801", "-1", "", "1e3",
                                            "+60", " 60", "99999999999"};
  for(i = 0; i < sizeof(bad_expires) / sizeof(bad_expires[0]); i++)
    refused_param(t, "X-Amz-Expires", bad_expires[i], VS_SIGV4_BAD_PARAMS,
                  "X-Amz-Expires must be an integer from 1 to 604800");
  refused_param(t, "X-Amz-SignedHeaders", "range", VS_SIGV4_BAD_PARAMS,
                "X-Amz-SignedHeaders must include host");
  refused_param(t, "X-Amz-SignedHeaders", "Host", VS_SIGV4_BAD_PARAMS,
                "lowercase header names");
  refused_param(t, "X-Amz-SignedHeaders", "host%3B%3Brange",
                VS_SIGV4_BAD_PARAMS, "lowercase header names");
  refused_param(t, "X-Amz-SignedHeaders", "host%3Bhost",
                VS_SIGV4_BAD_PARAMS, "lists host twice");
  for(i = 0; i < 64; i++)
    up[i] = (char)(sig[i] >= 'a' ? sig[i] - 32 : sig[i]);
  up[64] = 0;
  refused_param(t, "X-Amz-Signature", up, VS_SIGV4_BAD_PARAMS,
                "X-Amz-Signature must be 64 lowercase hex digits");
  refused_param(t, "X-Amz-Signature", "abc", VS_SIGV4_BAD_PARAMS,
                "X-Amz-Signature must be 64 lowercase hex digits");
  /* A parameter given twice. */
  u = malloc(strlen(t) + 40);
  sprintf(u, "%s&X-Amz-Expires=60", t);
  refused_param(u, "X-Amz-Algorithm", "AWS4-HMAC-SHA256", VS_SIGV4_BAD_PARAMS,
                "X-Amz-Expires is given more than once");
  free(u);
  free(url);
}

static void test_presigned_refusals(void **state)
{
  vs_keyring *kr = keys(), *empty = vs_keyring_new(), *other;
  fake f = {{"Host"}, {HOST}, 1};
  char *url = presign("PUT", OBJ, 600), *u;
  const char *t = target(url);
  vs_err err = {0};
  (void)state;
  refused(VS_SIGV4_MISSING, "not signed", "PUT", "/bucket/x", &f, kr, T0);
  refused(VS_SIGV4_MISSING, "not signed", "PUT", "/bucket/x?versionId=3", &f,
          kr, T0);
  refused(VS_SIGV4_UNKNOWN_KEY, "is not known", "PUT", t, &f, empty, T0);
  refused(VS_SIGV4_UNKNOWN_KEY, "is not known", "PUT", t, &f, NULL, T0);
  assert_int_equal(check("PUT", t, &f, kr, "eu-west-1", T0, &err),
                   VS_SIGV4_WRONG_REGION);
  assert_non_null(strstr(err.msg, "this server's region is 'eu-west-1'"));
  /* Valid from X-Amz-Date - 15 min until X-Amz-Date + Expires, exclusive. */
  assert_int_equal(check("PUT", t, &f, kr, REGION, T0 + 599, &err), 0);
  refused(VS_SIGV4_EXPIRED, "Request has expired", "PUT", t, &f, kr, T0 + 600);
  refused(VS_SIGV4_EXPIRED, "ended at 20260101T001000Z", "PUT", t, &f, kr,
          T0 + 86400);
  assert_int_equal(check("PUT", t, &f, kr, REGION, T0 - 900, &err), 0);
  refused(VS_SIGV4_NOT_YET_VALID, "more than 15 minutes in the future", "PUT",
          t, &f, kr, T0 - 901);
  /* The wrong secret: the message must not give the right signature away. */
  other = vs_keyring_new();
  assert_int_equal(vs_keyring_add(other, KEY_ID, "another-secret", NULL), 0);
  refused(VS_SIGV4_BAD_SIGNATURE, "does not match", "PUT", t, &f, other, T0);
  assert_int_equal(check("PUT", t, &f, other, REGION, T0, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  assert_null(strstr(err.msg, "another-secret"));
  assert_null(strpbrk(err.msg, "0123456789"));
  /* Broken escapes, a missing Host, and two forms at once. */
  refused(VS_SIGV4_BAD_PARAMS, "malformed %-escape in the path", "PUT",
          "/bucket/a%zzb?X-Amz-Algorithm=AWS4-HMAC-SHA256", &f, kr, T0);
  refused(VS_SIGV4_BAD_PARAMS, "malformed %-escape in query parameter 2",
          "PUT", "/bucket/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&a=%4", &f, kr,
          T0);
  refused(VS_SIGV4_BAD_PARAMS, "must start with '/'", "PUT",
          "http://127.0.0.1:9000/bucket/a", &f, kr, T0);
  f.n = 0;
  refused(VS_SIGV4_BAD_PARAMS, "signed header host is not in the request",
          "PUT", t, &f, kr, T0);
  hd_set_to(&f, "Host", HOST);
  hd_set_to(&f, "Authorization", "AWS4-HMAC-SHA256 Credential=x");
  refused(VS_SIGV4_BAD_PARAMS, "not both", "PUT", t, &f, kr, T0);
  /* A NUL smuggled into a parameter. */
  u = with_param(t, "X-Amz-Expires", "60%00");
  hd_set_to(&f, "Authorization", NULL);
  refused(VS_SIGV4_BAD_PARAMS, "X-Amz-Expires contains a NUL byte", "PUT", u,
          &f, kr, T0);
  free(u);
  free(url);
  vs_keyring_free(kr);
  vs_keyring_free(empty);
  vs_keyring_free(other);
}

static int is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* Inside "%XX", a hex letter may change case: RFC 3986 section 6.2.2.1
 * makes "%2f" and "%2F" the same octet, and the verifier decodes before it
 * re-encodes, so a client (or a proxy) that lowercases escapes still gets
 * in. It is the one single-character change that keeps the request's
 * meaning; every other one must be refused. */
static int same_meaning(const char *uri, size_t i, char c)
{
  int in_escape = (i >= 1 && uri[i - 1] == '%' && is_hex(uri[i + 1])) ||
                  (i >= 2 && uri[i - 2] == '%' && is_hex(uri[i - 1]));
  char o = uri[i];
  return in_escape && is_hex(o) && is_hex(c) && o != c &&
         (o | 0x20) == (c | 0x20) && (o | 0x20) >= 'a';
}

static void test_every_single_character_change(void **state)
{
  static const char repl[] = "aAzZ09fF%/?&=+ ~.-_#;:";
  vs_keyring *kr = keys();
  fake f = {{"Host"}, {HOST}, 1};
  char *url = presign("PUT", OBJ, 3600);
  char *uri = strdup(target(url)), *orig = strdup(uri), host[] = HOST;
  size_t i, r, tried = 0, accepted = 0, n = strlen(uri);
  vs_err err = {0};
  (void)state;
  assert_int_equal(check("PUT", uri, &f, kr, REGION, T0, &err), 0);
  for(i = 0; i < n; i++) {
    char o = uri[i];
    for(r = 0; r < sizeof(repl); r++) {
      char c = r < sizeof(repl) - 1 ? repl[r] : (char)(o ^ 0x20);
      vs_sigv4_status st;
      if(c == o || !c)
        continue;
      uri[i] = c;
      st = check("PUT", uri, &f, kr, REGION, T0, &err);
      tried++;
      if(same_meaning(orig, i, c)) {
        if(st != VS_SIGV4_OK)
          fail_msg("equivalent escape refused at %zu: %s", i, uri);
        accepted++;
      }
      else if(st == VS_SIGV4_OK) {
        fail_msg("accepted a changed URI at %zu ('%c' -> '%c'): %s", i, o, c,
                 uri);
      }
      uri[i] = o;
    }
  }
  for(i = 0; host[i]; i++) {
    char o = host[i];
    for(r = 0; r < sizeof(repl) - 1; r++) {
      if(repl[r] == o)
        continue;
      host[i] = repl[r];
      f.value[0] = host;
      tried++;
      if(check("PUT", uri, &f, kr, REGION, T0, &err) == VS_SIGV4_OK)
        fail_msg("accepted Host '%s'", host);
      host[i] = o;
    }
  }
  print_message("single-character changes: %zu tried, %zu equivalent escapes "
                "accepted, all others refused\n", tried, accepted);
  assert_true(accepted >= 10);
  free(uri);
  free(orig);
  free(url);
  vs_keyring_free(kr);
}

/* ---- Authorization header ------------------------------------------------ */

typedef struct hreq {
  vs_signed_headers sh;
  fake f;
  char range[32];
} hreq;

/* Signs a request to http://127.0.0.1:9000<uri> and lays out the headers
 * the server would see. */
static void header_signed(hreq *h, const char *method, const char *uri,
                          const char *payload, int64_t t)
{
  vs_sigv4_creds c = {KEY_ID, SECRET, REGION, "s3"};
  const char *extra[] = {"Range: bytes=0-9"};
  char url[512];
  vs_err err = {0};
  snprintf(url, sizeof(url), "%s%s", ENDPOINT, uri);
  if(vs_sigv4_sign_headers(&c, method, url, extra, 1, payload, t, &h->sh,
                           &err))
    fail_msg("sign_headers: %s", err.msg);
  memset(&h->f, 0, sizeof(h->f));
  strcpy(h->range, "bytes=0-9");
  hd_set_to(&h->f, "Host", HOST);
  hd_set_to(&h->f, "Range", h->range);
  hd_set_to(&h->f, "Authorization", h->sh.authorization + 15);
  hd_set_to(&h->f, "X-Amz-Date", h->sh.amz_date + 12);
  hd_set_to(&h->f, "X-Amz-Content-SHA256", h->sh.content_sha256 + 22);
}

static void test_header_round_trip(void **state)
{
  vs_keyring *kr = keys();
  hreq h;
  vs_sigv4_request req = {"PUT", "/bucket/a%20b?uploads&partNumber=1",
                          hd_get, &h.f};
  vs_sigv4_result res;
  vs_err err = {0};
  (void)state;
  header_signed(&h, "PUT", req.raw_uri, SHA_A, T0);
  assert_int_equal(vs_sigv4_verify(&req, kr, REGION, T0, &res, &err), 0);
  assert_int_equal(res.presigned, 0);
  assert_string_equal(res.key_id, KEY_ID);
  assert_string_equal(res.payload_sha256, SHA_A);
  header_signed(&h, "GET", "/bucket/k", NULL, T0);
  req.method = "GET";
  req.raw_uri = "/bucket/k";
  assert_int_equal(vs_sigv4_verify(&req, kr, REGION, T0, &res, &err), 0);
  assert_string_equal(res.payload_sha256, VS_SIGV4_UNSIGNED);
  /* Whitespace in a signed value is trimmed and collapsed. */
  strcpy(h.range, "  bytes=0-9 ");
  assert_int_equal(vs_sigv4_verify(&req, kr, REGION, T0, &res, &err), 0);
  vs_keyring_free(kr);
}

/* Parameters a request carries, in any order and any escaping, sign the
 * same; a change in one does not. */
static void test_header_tampering(void **state)
{
  vs_keyring *kr = keys();
  hreq h;
  const char *uri = "/bucket/a?prefix=x%2Fy&max-keys=2";
  (void)state;
  header_signed(&h, "GET", uri, NULL, T0);
  assert_int_equal(check("GET", uri, &h.f, kr, REGION, T0, NULL), 0);
  assert_int_equal(check("GET", "/bucket/a?max-keys=2&prefix=x/y", &h.f, kr,
                         REGION, T0, NULL), 0);
  refused(VS_SIGV4_BAD_SIGNATURE, "does not match", "GET",
          "/bucket/a?prefix=x%2Fy&max-keys=3", &h.f, kr, T0);
  refused(VS_SIGV4_BAD_SIGNATURE, "does not match", "GET",
          "/bucket/b?prefix=x%2Fy&max-keys=2", &h.f, kr, T0);
  refused(VS_SIGV4_BAD_SIGNATURE, "does not match", "HEAD", uri, &h.f, kr,
          T0);
  strcpy(h.range, "bytes=0-10");
  refused(VS_SIGV4_BAD_SIGNATURE, "does not match", "GET", uri, &h.f, kr, T0);
  strcpy(h.range, "bytes=0-9");
  hd_set_to(&h.f, "X-Amz-Content-SHA256", SHA_A);
  refused(VS_SIGV4_BAD_SIGNATURE, "does not match", "GET", uri, &h.f, kr, T0);
  vs_keyring_free(kr);
}

static void with_auth(hreq *h, char *buf, const char *auth)
{
  strcpy(buf, auth);
  hd_set_to(&h->f, "Authorization", buf);
}

static void test_header_refusals(void **state)
{
  vs_keyring *kr = keys();
  hreq h;
  char auth[800], orig[512];
  const char *uri = "/bucket/k";
  (void)state;
  header_signed(&h, "PUT", uri, SHA_A, T0);
  strcpy(orig, h.sh.authorization + 15);
  /* Clock skew: 15 minutes either way. */
  assert_int_equal(check("PUT", uri, &h.f, kr, REGION, T0 + 900, NULL), 0);
  assert_int_equal(check("PUT", uri, &h.f, kr, REGION, T0 - 900, NULL), 0);
  refused(VS_SIGV4_SKEWED, "-901 s from the server's clock", "PUT", uri, &h.f,
          kr, T0 + 901);
  refused(VS_SIGV4_SKEWED, "901 s from", "PUT", uri, &h.f, kr, T0 - 901);
  /* The payload hash. */
  /* aws-chunked: the three forms vsink decodes pass (src/sigv4/sigv4_chunk.c);
   * any other STREAMING- form is refused */
  hd_set_to(&h.f, "X-Amz-Content-SHA256",
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD");
  refused(VS_SIGV4_BAD_PARAMS, "only the aws-chunked forms", "PUT",
          uri, &h.f, kr, T0);
  hd_set_to(&h.f, "X-Amz-Content-SHA256",
            "2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE");
  refused(VS_SIGV4_BAD_PARAMS, "UNSIGNED-PAYLOAD or 64 lowercase hex", "PUT",
          uri, &h.f, kr, T0);
  hd_set_to(&h.f, "X-Amz-Content-SHA256", NULL);
  refused(VS_SIGV4_BAD_PARAMS, "x-amz-content-sha256 header is missing",
          "PUT", uri, &h.f, kr, T0);
  header_signed(&h, "PUT", uri, SHA_A, T0);
  with_auth(&h, auth, "AWS4-HMAC-SHA256 Credential=" KEY_ID "/20260101/"
            "us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,"
            "Signature=" SHA_A);
  refused(VS_SIGV4_BAD_PARAMS, "x-amz-content-sha256 must be among the "
          "SignedHeaders", "PUT", uri, &h.f, kr, T0);
  /* The date. */
  header_signed(&h, "PUT", uri, SHA_A, T0);
  hd_set_to(&h.f, "X-Amz-Date", NULL);
  refused(VS_SIGV4_BAD_PARAMS, "neither an x-amz-date nor a Date header",
          "PUT", uri, &h.f, kr, T0);
  hd_set_to(&h.f, "Date", "Thu, 01 Jan 2026 00:00:00 GMT");
  refused(VS_SIGV4_BAD_PARAMS, "signed header x-amz-date is not in the "
          "request", "PUT", uri, &h.f, kr, T0);
  hd_set_to(&h.f, "Date", "Thu, 31 Dec 2025 23:59:59 GMT");
  refused(VS_SIGV4_BAD_PARAMS, "credential date 20260101 is not the day of "
          "Date 20251231T235959Z", "PUT", uri, &h.f, kr, T0);
  hd_set_to(&h.f, "Date", "Thu, 32 Dec 2025 00:00:00 GMT");
  refused(VS_SIGV4_BAD_PARAMS, "the Date header 'Thu, 32 Dec 2025 00:00:00 "
          "GMT' is not a valid date", "PUT", uri, &h.f, kr, T0);
  hd_set_to(&h.f, "X-Amz-Date", "2026-01-01T00:00:00Z");
  refused(VS_SIGV4_BAD_PARAMS, "the x-amz-date header", "PUT", uri, &h.f, kr,
          T0);
  /* The Authorization header itself. */
  header_signed(&h, "PUT", uri, SHA_A, T0);
  with_auth(&h, auth, "AWS " KEY_ID ":frJIUN8DYpKDtOLCwo//yllqDzg=");
  refused(VS_SIGV4_BAD_PARAMS, "Signature Version 2 is not supported", "PUT",
          uri, &h.f, kr, T0);
  with_auth(&h, auth, "Bearer abc");
  refused(VS_SIGV4_BAD_PARAMS, "must start with AWS4-HMAC-SHA256", "PUT", uri,
          &h.f, kr, T0);
  snprintf(auth, sizeof(auth), "%.*s", (int)(strstr(orig, ", Signature") -
           orig), orig);
  hd_set_to(&h.f, "Authorization", auth);
  refused(VS_SIGV4_BAD_PARAMS, "has no Signature=", "PUT", uri, &h.f, kr, T0);
  snprintf(auth, sizeof(auth), "%s, Signature=%s", orig, SHA_A);
  refused(VS_SIGV4_BAD_PARAMS, "gives Signature twice", "PUT", uri, &h.f, kr,
          T0);
  snprintf(auth, sizeof(auth), "%s, Nonce=1", orig);
  refused(VS_SIGV4_BAD_PARAMS, "unknown Authorization header component "
          "'Nonce'", "PUT", uri, &h.f, kr, T0);
  snprintf(auth, sizeof(auth), "%s, Junk", orig);
  refused(VS_SIGV4_BAD_PARAMS, "malformed Authorization header", "PUT", uri,
          &h.f, kr, T0);
  /* Spaces after the commas are optional, and extra ones harmless. */
  with_auth(&h, auth, orig);
  for(char *p = strstr(auth, ", "); p; p = strstr(p, ", "))
    memmove(p + 1, p + 2, strlen(p + 2) + 1);
  assert_int_equal(check("PUT", uri, &h.f, kr, REGION, T0, NULL), 0);
  snprintf(auth, sizeof(auth), "  %s  ", orig);
  assert_int_equal(check("PUT", uri, &h.f, kr, REGION, T0, NULL), 0);
  /* A signed header that is not there. */
  with_auth(&h, auth, orig);
  hd_set_to(&h.f, "Range", NULL);
  refused(VS_SIGV4_BAD_PARAMS, "signed header range is not in the request",
          "PUT", uri, &h.f, kr, T0);
  /* Scope problems are reported as for the query form. */
  header_signed(&h, "PUT", uri, SHA_A, T0);
  strcpy(auth, orig);
  memcpy(strstr(auth, "us-east-1"), "eu-east-1", 9);
  hd_set_to(&h.f, "Authorization", auth);
  refused(VS_SIGV4_WRONG_REGION, "Credential is for region 'eu-east-1'", "PUT",
          uri, &h.f, kr, T0);
  strcpy(auth, orig);
  memcpy(strstr(auth, KEY_ID), "VSUNKNOWN0000000000", strlen(KEY_ID));
  refused(VS_SIGV4_UNKNOWN_KEY, "'VSUNKNOWN0000000000' is not known", "PUT",
          uri, &h.f, kr, T0);
  vs_keyring_free(kr);
}

/* ---- how long one verify takes ------------------------------------------- */

static double seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_measure(void **state)
{
  vs_keyring *kr = keys();
  fake f = {{"Host"}, {HOST}, 1};
  char *url = presign("PUT", OBJ, 3600);
  hreq h;
  int i, n = 20000;
  double t;
  (void)state;
  t = seconds();
  for(i = 0; i < n; i++)
    assert_int_equal(check("PUT", target(url), &f, kr, REGION, T0, NULL), 0);
  t = seconds() - t;
  print_message("verify, presigned URL (%zu bytes): %.2f us each\n",
                strlen(url), t / n * 1e6);
  header_signed(&h, "PUT", "/bucket/k", SHA_A, T0);
  t = seconds();
  for(i = 0; i < n; i++)
    assert_int_equal(check("PUT", "/bucket/k", &h.f, kr, REGION, T0, NULL),
                     0);
  t = seconds() - t;
  print_message("verify, Authorization header: %.2f us each\n",
                t / n * 1e6);
  free(url);
  vs_keyring_free(kr);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_presigned_round_trip),
    cmocka_unit_test(test_presigned_equivalent_forms),
    cmocka_unit_test(test_presigned_missing_params),
    cmocka_unit_test(test_presigned_bad_params),
    cmocka_unit_test(test_presigned_refusals),
    cmocka_unit_test(test_every_single_character_change),
    cmocka_unit_test(test_header_round_trip),
    cmocka_unit_test(test_header_tampering),
    cmocka_unit_test(test_header_refusals),
    cmocka_unit_test(test_measure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
