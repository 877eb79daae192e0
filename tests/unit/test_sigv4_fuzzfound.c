/* sigv4: what tests/fuzz/fuzz_sigv4 found, kept as tests.
 *
 * 1. parse_scope stepped past the last part of the credential scope with
 *    strchr's NULL + 1 on every request that got that far: undefined
 *    behaviour that gcc's UBSan does not see and clang's does ("applying
 *    non-zero offset 1 to null pointer"). These requests, botocore-signed,
 *    reach it in both forms; under clang -fsanitize=undefined (the fuzz
 *    build, scripts/test.sh's third stage) the old code fails here.
 * 2. The canonical query left out every parameter whose decoded name
 *    compared equal to X-Amz-Signature with strcmp, so a parameter named
 *    "X-Amz-Signature%00x" could be added to a presigned URL unsigned.
 *    Found by the target's tamper invariant (any appended parameter must
 *    break the signature) on a reproducer written for it; gcc or clang,
 *    the old code accepts the URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "vsink/sigv4.h"

#define KEY_ID "VSFUZZKEY0000000001"
#define SECRET "fuzz/Secret+Key0123456789abcdefghijklmno"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

typedef struct hdr {
  const char *name, *value;
} hdr;

static const char *lookup(void *ctx, const char *name)
{
  const hdr *h;
  for(h = ctx; h->name; h++)
    if(!strcasecmp(h->name, name))
      return h->value;
  return NULL;
}

static vs_sigv4_status verify(const char *method, const char *uri, hdr *h,
                              vs_err *err)
{
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req = {method, uri, lookup, h};
  vs_sigv4_status st;
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, NULL), 0);
  st = vs_sigv4_verify(&req, kr, "us-east-1", T0, NULL, err);
  vs_keyring_free(kr);
  return st;
}

static void test_scope_last_part_query(void **state)
{
  hdr h[] = {{"Host", "127.0.0.1:9000"}, {NULL, NULL}};
  vs_err err = {0};
  (void)state;
  assert_int_equal(
    verify("GET",
           "/videos/k?versionId=3&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
           "X-Amz-Credential=VSFUZZKEY0000000001%2F20260101%2Fus-east-1%2F"
           "s3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&"
           "X-Amz-SignedHeaders=host&X-Amz-Signature=14a90a90313a8a44e0cfda8"
           "1935f6ccaabc3e60341b5a752330185db9121e879", h, &err),
    VS_SIGV4_OK);
}

static void test_scope_last_part_header(void **state)
{
  hdr h[] = {
    {"Host", "127.0.0.1:9000"},
    {"X-Amz-Date", "20260101T000000Z"},
    {"X-Amz-Content-SHA256",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"Authorization",
     "AWS4-HMAC-SHA256 Credential=VSFUZZKEY0000000001/20260101/us-east-1/s3/"
     "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
     "Signature=ed0f5de9d2328ed0df4488c1e8f5823ede3ee705e02717681fcd0a2c77031"
     "5c5"},
    {NULL, NULL}};
  vs_err err = {0};
  (void)state;
  assert_int_equal(verify("PUT", "/videos/x.mp4", h, &err), VS_SIGV4_OK);
  /* A scope with a sixth part still ends at the fifth. */
  h[3].value = "AWS4-HMAC-SHA256 Credential=VSFUZZKEY0000000001/20260101/"
               "us-east-1/s3/aws4_request/x, SignedHeaders=host, Signature="
               "ed0f5de9d2328ed0df4488c1e8f5823ede3ee705e02717681fcd0a2c770315c5";
  assert_int_equal(verify("PUT", "/videos/x.mp4", h, &err),
                   VS_SIGV4_BAD_PARAMS);
  assert_non_null(strstr(err.msg, "KEYID/YYYYMMDD/REGION/s3/aws4_request"));
}

static void test_unsigned_nul_parameter(void **state)
{
  static const char base[] =
    "/videos/k?versionId=3&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
    "X-Amz-Credential=VSFUZZKEY0000000001%2F20260101%2Fus-east-1%2F"
    "s3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&"
    "X-Amz-SignedHeaders=host&X-Amz-Signature=14a90a90313a8a44e0cfda8"
    "1935f6ccaabc3e60341b5a752330185db9121e879";
  hdr h[] = {{"Host", "127.0.0.1:9000"}, {NULL, NULL}};
  char uri[sizeof(base) + 64];
  vs_err err = {0};
  (void)state;
  snprintf(uri, sizeof(uri), "%s&X-Amz-Signature%%00x=1", base);
  assert_int_equal(verify("GET", uri, h, &err), VS_SIGV4_BAD_SIGNATURE);
  snprintf(uri, sizeof(uri), "%s&X-Amz-Signature%%00", base);
  assert_int_equal(verify("GET", uri, h, &err), VS_SIGV4_BAD_SIGNATURE);
  /* The real parameter twice is refused as such. */
  snprintf(uri, sizeof(uri), "%s&X-Amz-Signature=1", base);
  assert_int_equal(verify("GET", uri, h, &err), VS_SIGV4_BAD_PARAMS);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_scope_last_part_query),
    cmocka_unit_test(test_scope_last_part_header),
    cmocka_unit_test(test_unsigned_nul_parameter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
