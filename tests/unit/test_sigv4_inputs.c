/* sigv4: what the signers refuse, and presigning with extra query
 * parameters (versionId and the like). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "vsink/sigv4.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static const vs_sigv4_creds creds = {"VSKEY", "Zq9xSECRETx9qZ", "us-east-1", "s3"};

static void presign_refused(const vs_sigv4_creds *c, const vs_presign_req *r,
                            const char *words)
{
  char *url = (char *)"untouched";
  vs_err err = {0};
  assert_int_equal(vs_sigv4_presign(c, r, &url, &err), VS_ERR_INVALID);
  assert_null(url);
  if(!strstr(err.msg, words))
    fail_msg("message '%s' lacks '%s'", err.msg, words);
  assert_null(strstr(err.msg, "Zq9xSECRETx9qZ"));
}

static void test_presign_refusals(void **state)
{
  vs_presign_req ok = {"PUT", "http://127.0.0.1:9000", "/b/k", NULL, T0,
                       3600};
  vs_presign_req r;
  vs_sigv4_creds c;
  (void)state;
  r = ok, r.method = "PATCH";
  presign_refused(&creds, &r, "method 'PATCH' is not one of");
  r = ok, r.method = "put";
  presign_refused(&creds, &r, "method 'put'");
  r = ok, r.expires = 0;
  presign_refused(&creds, &r, "expires 0 is outside 1..604800");
  r = ok, r.expires = 604801;
  presign_refused(&creds, &r, "expires 604801");
  r = ok, r.path = "b/k";
  presign_refused(&creds, &r, "path must start with '/'");
  r = ok, r.endpoint = "127.0.0.1:9000";
  presign_refused(&creds, &r, "must start with http:// or https://");
  r = ok, r.endpoint = "http://127.0.0.1:9000/prefix";
  presign_refused(&creds, &r, "no path");
  r = ok, r.endpoint = "http://127.0.0.1:9000?x=1";
  presign_refused(&creds, &r, "no path");
  r = ok, r.endpoint = "http://:9000";
  presign_refused(&creds, &r, "needs a host");
  r = ok, r.endpoint = "http://h:0";
  presign_refused(&creds, &r, "bad port");
  r = ok, r.endpoint = "http://h:x";
  presign_refused(&creds, &r, "bad port");
  r = ok, r.endpoint = "http://[::1";
  presign_refused(&creds, &r, "unterminated IPv6");
  r = ok, r.query = "versionId=%zz";
  presign_refused(&creds, &r, "malformed %-escape in query parameter 1");
  r = ok, r.query = "X-Amz-Signature=abc";
  presign_refused(&creds, &r, "'X-Amz-Signature' is reserved for signing");
  r = ok, r.time = -1;
  presign_refused(&creds, &r, "time -1 out of range");
  c = creds, c.key_id = "a/b";
  presign_refused(&c, &ok, "bad access key id");
  c = creds, c.key_id = "";
  presign_refused(&c, &ok, "bad access key id");
  c = creds, c.secret = "";
  presign_refused(&c, &ok, "empty secret access key");
  c = creds, c.region = NULL;
  presign_refused(&c, &ok, "bad region");
  c = creds, c.service = "s3/x";
  presign_refused(&c, &ok, "bad service");
}

static const char *host_only(void *ctx, const char *name)
{
  return strcasecmp(name, "host") ? NULL : ctx;
}

/* Extra parameters come first, as botocore puts them, and are signed. */
static void test_presign_extra_query(void **state)
{
  vs_presign_req r = {"GET", "http://[::1]:9000", "/b/k", "versionId=v%201",
                      T0, 60};
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req = {"GET", NULL, host_only, (void *)"[::1]:9000"};
  char *url = NULL, *changed;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_keyring_add(kr, "VSKEY", "Zq9xSECRETx9qZ", NULL), 0);
  assert_int_equal(vs_sigv4_presign(&creds, &r, &url, &err), 0);
  assert_memory_equal(url, "http://[::1]:9000/b/k?versionId=v%201&X-Amz-"
                      "Algorithm=", 52);
  req.raw_uri = strstr(url, "/b/");
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", T0, NULL, &err), 0);
  changed = strdup(req.raw_uri);
  strstr(changed, "v%201")[4] = '2';
  req.raw_uri = changed;
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", T0, NULL, &err),
                   VS_SIGV4_BAD_SIGNATURE);
  free(changed);
  free(url);
  vs_keyring_free(kr);
}

static void sign_refused(const char *method, const char *url,
                         const char *const *extra, size_t n,
                         const char *payload, int code, const char *words)
{
  vs_signed_headers out;
  vs_err err = {0};
  assert_int_equal(vs_sigv4_sign_headers(&creds, method, url, extra, n,
                                         payload, T0, &out, &err), code);
  if(!strstr(err.msg, words))
    fail_msg("message '%s' lacks '%s'", err.msg, words);
}

static void test_sign_headers_refusals(void **state)
{
  const char *dup[] = {"X-Amz-Date: 20260101T000000Z"};
  const char *dup2[] = {"Range: bytes=0-1", "range: bytes=2-3"};
  const char *noname[] = {": value"};
  const char *nocolon[] = {"Range bytes=0-1"};
  const char *badname[] = {"Ran ge: x"};
  const char *many[64];
  const char *u = "http://127.0.0.1:9000/b/k";
  size_t i;
  (void)state;
  sign_refused("GET", u, dup, 1, NULL, VS_ERR_INVALID,
               "header x-amz-date given twice");
  sign_refused("GET", u, dup2, 2, NULL, VS_ERR_INVALID,
               "header range given twice");
  sign_refused("GET", u, noname, 1, NULL, VS_ERR_INVALID,
               "is not 'Name: value'");
  sign_refused("GET", u, nocolon, 1, NULL, VS_ERR_INVALID,
               "is not 'Name: value'");
  sign_refused("GET", u, badname, 1, NULL, VS_ERR_INVALID,
               "bad header name 'Ran ge'");
  for(i = 0; i < 64; i++)
    many[i] = "X-Many: 1";
  sign_refused("GET", u, many, 64, NULL, VS_ERR_TOOLARGE,
               "more than 61 headers");
  sign_refused("GET", u, NULL, 0, "ABCDEF", VS_ERR_INVALID,
               "payload hash must be 64 lowercase hex digits");
  sign_refused("G T", u, NULL, 0, NULL, VS_ERR_INVALID, "bad method");
  sign_refused("GET", "ftp://h/b/k", NULL, 0, NULL, VS_ERR_INVALID,
               "must start with http:// or https://");
  sign_refused("GET", "http://h/b/%zz", NULL, 0, NULL, VS_ERR_INVALID,
               "malformed path in the URL");
  sign_refused("GET", "http://h/b/k?a=%z1", NULL, 0, NULL, VS_ERR_INVALID,
               "malformed %-escape in query parameter 1");
}

/* A fragment is not sent and so not signed; a URL without a path signs
 * "/". */
static void test_sign_headers_url_forms(void **state)
{
  vs_signed_headers a, b;
  (void)state;
  assert_int_equal(vs_sigv4_sign_headers(&creds, "GET", "http://h/b/k?x=1",
                                         NULL, 0, NULL, T0, &a, NULL), 0);
  assert_int_equal(vs_sigv4_sign_headers(&creds, "GET",
                                         "http://h/b/k?x=1#frag", NULL, 0,
                                         NULL, T0, &b, NULL), 0);
  assert_string_equal(a.authorization, b.authorization);
  assert_int_equal(vs_sigv4_sign_headers(&creds, "GET", "http://H:80", NULL,
                                         0, NULL, T0, &a, NULL), 0);
  assert_int_equal(vs_sigv4_sign_headers(&creds, "GET", "http://h/", NULL, 0,
                                         NULL, T0, &b, NULL), 0);
  assert_string_equal(a.authorization, b.authorization);
  assert_string_equal(a.content_sha256,
                      "x-amz-content-sha256: UNSIGNED-PAYLOAD");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_presign_refusals),
    cmocka_unit_test(test_presign_extra_query),
    cmocka_unit_test(test_sign_headers_refusals),
    cmocka_unit_test(test_sign_headers_url_forms),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
