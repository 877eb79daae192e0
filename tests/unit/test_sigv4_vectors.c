/* sigv4: AWS's published examples, to the byte. The presign vector is in
 * /work/shared/reference/videoinference-api.md; the header examples are
 * those of AWS's "Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk" page (GET Object with Range, PUT
 * Object, GET Bucket Lifecycle, GET Bucket list objects). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "vsink/sigv4.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T20130524 1369353600
#define EMPTY_SHA \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CRED_PREFIX \
  "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/" \
  "20130524/us-east-1/s3/aws4_request, SignedHeaders="

static const vs_sigv4_creds creds = {KEY_ID, SECRET, "us-east-1", "s3"};

/* AWS's page lists the parameters sorted; botocore (and so vsink, which
 * copies botocore byte for byte) puts SignedHeaders before Expires. Same
 * parameters, same values, same signature. */
#define AWS_URL \
  "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-" \
  "HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-" \
  "1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&" \
  "X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d868" \
  "35f995330da4c265957d157751f604d404"
#define BOTO_ORDER_URL \
  "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-" \
  "HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-" \
  "1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=" \
  "host&X-Amz-Expires=86400&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d868" \
  "35f995330da4c265957d157751f604d404"

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The URL's parameters, sorted, joined by '&'. */
static char *sorted_params(const char *url)
{
  char *q = strdup(strchr(url, '?') + 1), *parts[16], *save = NULL, *p;
  char *out = calloc(1, strlen(url) + 1);
  size_t n = 0, i;
  for(p = strtok_r(q, "&", &save); p && n < 16; p = strtok_r(NULL, "&", &save))
    parts[n++] = p;
  qsort(parts, n, sizeof(parts[0]), cmp_str);
  for(i = 0; i < n; i++) {
    if(i)
      strcat(out, "&");
    strcat(out, parts[i]);
  }
  free(q);
  return out;
}

static void test_presign_aws_vector(void **state)
{
  vs_presign_req r = {"GET", "https://examplebucket.s3.amazonaws.com",
                      "/test.txt", NULL, T20130524, 86400};
  char *url = NULL, *mine, *theirs;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_sigv4_presign(&creds, &r, &url, &err), 0);
  assert_string_equal(url, BOTO_ORDER_URL);
  mine = sorted_params(url);
  theirs = sorted_params(AWS_URL);
  assert_string_equal(mine, theirs);
  assert_memory_equal(url, AWS_URL, strchr(AWS_URL, '?') - AWS_URL);
  free(mine);
  free(theirs);
  free(url);
}

/* The service defaults to s3 and a trailing '/' on the endpoint is
 * tolerated; a default port is written in the URL but not signed. */
static void test_presign_defaults(void **state)
{
  vs_sigv4_creds c = {KEY_ID, SECRET, "us-east-1", NULL};
  vs_presign_req r = {"GET", "https://examplebucket.s3.amazonaws.com/",
                      "/test.txt", NULL, T20130524, 86400};
  char *url = NULL;
  (void)state;
  assert_int_equal(vs_sigv4_presign(&c, &r, &url, NULL), 0);
  assert_string_equal(url, BOTO_ORDER_URL);
  free(url);
  r.endpoint = "https://examplebucket.s3.amazonaws.com:443";
  assert_int_equal(vs_sigv4_presign(&c, &r, &url, NULL), 0);
  assert_non_null(strstr(url, "amazonaws.com:443/test.txt?"));
  assert_non_null(strstr(url, "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d8"
                              "6835f995330da4c265957d157751f604d404"));
  free(url);
}

static void sign(const char *method, const char *url, const char *const *extra,
                 size_t n, const char *payload, vs_signed_headers *h)
{
  vs_err err = {0};
  int rc = vs_sigv4_sign_headers(&creds, method, url, extra, n, payload,
                                 T20130524, h, &err);
  if(rc)
    fail_msg("sign_headers: %s", err.msg);
}

static void test_get_object_range(void **state)
{
  const char *extra[] = {"Range: bytes=0-9"};
  vs_signed_headers h;
  (void)state;
  sign("GET", "https://examplebucket.s3.amazonaws.com/test.txt", extra, 1,
       EMPTY_SHA, &h);
  assert_string_equal(h.authorization, CRED_PREFIX
    "host;range;x-amz-content-sha256;x-amz-date, Signature="
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  assert_string_equal(h.amz_date, "x-amz-date: 20130524T000000Z");
  assert_string_equal(h.content_sha256, "x-amz-content-sha256: " EMPTY_SHA);
}

static void test_put_object(void **state)
{
  const char *extra[] = {"Date: Fri, 24 May 2013 00:00:00 GMT",
                         "x-amz-storage-class:   REDUCED_REDUNDANCY  "};
  const char *sig = "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0"
                    "ece108bd";
  const char *body_sha = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e4203"
                         "4a8b803f8b072"; /* "Welcome to Amazon S3." */
  vs_signed_headers h;
  (void)state;
  /* '$' is legal in a URL; the canonical URI encodes it either way. */
  sign("PUT", "https://examplebucket.s3.amazonaws.com/test$file.text", extra,
       2, body_sha, &h);
  assert_string_equal(h.authorization, CRED_PREFIX
    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
    "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece1"
    "08bd");
  sign("PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text",
       extra, 2, body_sha, &h);
  assert_non_null(strstr(h.authorization, sig));
}

static void test_get_lifecycle(void **state)
{
  vs_signed_headers h;
  (void)state;
  sign("GET", "https://examplebucket.s3.amazonaws.com/?lifecycle", NULL, 0,
       EMPTY_SHA, &h);
  assert_string_equal(h.authorization, CRED_PREFIX
    "host;x-amz-content-sha256;x-amz-date, Signature="
    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  sign("GET", "https://examplebucket.s3.amazonaws.com/?lifecycle=", NULL, 0,
       EMPTY_SHA, &h);
  assert_non_null(strstr(h.authorization, "fea454ca298b7da1c68078a5d1bdbfbbe"
                                          "0d65c699e0f91ac7a200a0136783543"));
}

static void test_list_objects(void **state)
{
  const char *sig = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711e"
                    "f69dc6f7";
  vs_signed_headers h;
  (void)state;
  sign("GET", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
       NULL, 0, EMPTY_SHA, &h);
  assert_non_null(strstr(h.authorization, sig));
  /* The query is sorted, and escapes of unreserved bytes normalised. */
  sign("GET", "https://examplebucket.s3.amazonaws.com?prefix=%4a&max-keys=2",
       NULL, 0, EMPTY_SHA, &h);
  assert_non_null(strstr(h.authorization, sig));
  sign("GET", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=K",
       NULL, 0, EMPTY_SHA, &h);
  assert_null(strstr(h.authorization, sig));
}

/* The headers of an AWS example, for vs_sigv4_verify. */
typedef struct table {
  const char *const *kv; /* name, value, name, value, ..., NULL */
} table;

static const char *lookup(void *ctx, const char *name)
{
  const table *t = ctx;
  size_t i;
  for(i = 0; t->kv[i]; i += 2)
    if(!strcasecmp(t->kv[i], name))
      return t->kv[i + 1];
  return NULL;
}

/* Verifying AWS's own signed requests proves the verifier independently of
 * our signer. */
static void test_verify_aws_examples(void **state)
{
  const char *get[] = {
    "Host", "examplebucket.s3.amazonaws.com", "Range", "bytes=0-9",
    "x-amz-content-sha256", EMPTY_SHA, "x-amz-date", "20130524T000000Z",
    "Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130"
    "524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sh"
    "a256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba"
    "48dd91039c6036bdb41", NULL};
  const char *list[] = {
    "Host", "examplebucket.s3.amazonaws.com",
    "x-amz-content-sha256", EMPTY_SHA, "x-amz-date", "20130524T000000Z",
    "Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130"
    "524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;"
    "x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670"
    "ed5711ef69dc6f7", NULL};
  const char *pre[] = {"Host", "examplebucket.s3.amazonaws.com", NULL};
  table tg = {get}, tl = {list}, tp = {pre};
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request rg = {"GET", "/test.txt", lookup, &tg};
  vs_sigv4_request rl = {"GET", "/?prefix=J&max-keys=2", lookup, &tl};
  vs_sigv4_request rp = {"GET", strchr(strstr(AWS_URL, "//") + 2, '/'),
                         lookup, &tp};
  vs_sigv4_result res;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  assert_int_equal(vs_sigv4_verify(&rg, kr, "us-east-1", T20130524, &res,
                                   &err), VS_SIGV4_OK);
  assert_int_equal(res.presigned, 0);
  assert_string_equal(res.key_id, KEY_ID);
  assert_string_equal(res.payload_sha256, EMPTY_SHA);
  assert_int_equal(vs_sigv4_verify(&rl, kr, "us-east-1", T20130524 + 60,
                                   &res, &err), VS_SIGV4_OK);
  assert_int_equal(vs_sigv4_verify(&rp, kr, "us-east-1", T20130524 + 5,
                                   &res, &err), VS_SIGV4_OK);
  assert_int_equal(res.presigned, 1);
  assert_int_equal(res.expires_at, T20130524 + 86400);
  assert_string_equal(res.payload_sha256, VS_SIGV4_UNSIGNED);
  vs_keyring_free(kr);
}

static void enc_is(const char *in, int keep_slash, const char *want)
{
  char *got = vs_sigv4_uri_encode(in, strlen(in), keep_slash);
  assert_string_equal(got, want);
  free(got);
}

static void test_uri_encode(void **state)
{
  char *got;
  (void)state;
  enc_is("A-Za-z0-9-._~", 0, "A-Za-z0-9-._~");
  enc_is("a b", 0, "a%20b");
  enc_is("a+b", 0, "a%2Bb");
  enc_is("100%", 0, "100%25");
  enc_is("a/b", 1, "a/b");
  enc_is("a/b", 0, "a%2Fb");
  enc_is("!'()*", 1, "%21%27%28%29%2A");
  enc_is("=&?#$@:,;", 1, "%3D%26%3F%23%24%40%3A%2C%3B");
  enc_is("\xc3\xa9t\xc3\xa9", 1, "%C3%A9t%C3%A9");       /* été */
  enc_is("\xe4\xba\xa4.bin", 1, "%E4%BA%A4.bin");
  enc_is("\x7f\x01", 0, "%7F%01");
  got = vs_sigv4_uri_encode("a\0b", 3, 0);
  assert_string_equal(got, "a%00b");
  free(got);
}

static void test_uri_decode(void **state)
{
  size_t n;
  char *got;
  (void)state;
  got = vs_sigv4_uri_decode("a%20b%2fc+d%C3%A9", 17, &n);
  assert_string_equal(got, "a b/c+d\xc3\xa9");
  assert_int_equal(n, 9);
  free(got);
  got = vs_sigv4_uri_decode("%00x", 4, &n);
  assert_int_equal(n, 2);
  assert_memory_equal(got, "\0x", 2);
  free(got);
  assert_null(vs_sigv4_uri_decode("%", 1, &n));
  assert_null(vs_sigv4_uri_decode("%2", 2, &n));
  assert_null(vs_sigv4_uri_decode("%zz", 3, &n));
  assert_null(vs_sigv4_uri_decode("a%2gb", 5, &n));
  /* Only the first n bytes count. */
  got = vs_sigv4_uri_decode("ab%41", 2, &n);
  assert_string_equal(got, "ab");
  free(got);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_presign_aws_vector),
    cmocka_unit_test(test_presign_defaults),
    cmocka_unit_test(test_get_object_range),
    cmocka_unit_test(test_put_object),
    cmocka_unit_test(test_get_lifecycle),
    cmocka_unit_test(test_list_objects),
    cmocka_unit_test(test_verify_aws_examples),
    cmocka_unit_test(test_uri_encode),
    cmocka_unit_test(test_uri_decode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
