/* store_s3: vs_s3_presign_put makes the URL vsink's presigner makes for the
 * same object, which vsink's verifier accepts as a presigned PUT; bad
 * targets, buckets, keys and expiries are refused before anything is
 * signed, by vs_s3_head too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define KEY_ID "AKIDUNITS3PRESIGN001"
#define SECRET "unitS3PresignSecret/0123456789abcdefghi"
#define NOW 1700000000 /* 20231114T221320Z */

static const char *host_of(void *ctx, const char *name)
{
  return !strcasecmp(name, "host") ? ctx : NULL;
}

static void test_same_as_presigner(void **state)
{
  vs_s3_target t = {"http://127.0.0.1:9000/", NULL, KEY_ID, SECRET};
  vs_sigv4_creds c = {KEY_ID, SECRET, "us-east-1", "s3"};
  vs_presign_req r = {"PUT", "http://127.0.0.1:9000", "/videos/a b/ü+~.mp4",
                      NULL, NOW, 900};
  char *url = NULL, *want = NULL;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_s3_presign_put(&t, "videos", "a b/ü+~.mp4", NOW, 900,
                                     &url, &err), VS_OK);
  assert_int_equal(vs_sigv4_presign(&c, &r, &want, &err), VS_OK);
  assert_string_equal(url, want);
  assert_non_null(strstr(url, "http://127.0.0.1:9000/videos/a%20b/"
                              "%C3%BC%2B~.mp4?X-Amz-Algorithm="));
  assert_non_null(strstr(url, "X-Amz-Credential=" KEY_ID "%2F20231114%2F"
                              "us-east-1%2Fs3%2Faws4_request"));
  assert_non_null(strstr(url, "&X-Amz-Expires=900&"));
  free(url);
  free(want);
}

static void test_verifies(void **state)
{
  vs_s3_target t = {"https://s3.example.com", "eu-west-3", KEY_ID, SECRET};
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_result res;
  vs_sigv4_request req;
  vs_err err = {0};
  char *url = NULL;
  (void)state;
  assert_int_equal(vs_s3_presign_put(&t, "my.bucket-1", "out/2023/x.mp4", NOW,
                                     604800, &url, &err), VS_OK);
  assert_non_null(kr);
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), VS_OK);
  assert_true(!strncmp(url, "https://s3.example.com/my.bucket-1/out/", 39));
  req = (vs_sigv4_request){"PUT", url + strlen("https://s3.example.com"),
                           host_of, "s3.example.com"};
  assert_int_equal(vs_sigv4_verify(&req, kr, "eu-west-3", NOW + 60, &res,
                                   &err), VS_SIGV4_OK);
  assert_int_equal(res.presigned, 1);
  assert_true(res.expires_at == NOW + 604800);
  /* another method with the same URL is another signature */
  req.method = "GET";
  assert_int_equal(vs_sigv4_verify(&req, kr, "eu-west-3", NOW + 60, &res,
                                   &err), VS_SIGV4_BAD_SIGNATURE);
  vs_keyring_free(kr);
  free(url);
}

typedef struct bad_case {
  const char *endpoint, *key_id, *secret, *bucket, *key;
  int64_t expires;
  int code;
  const char *text;
} bad_case;

static void test_bad_input(void **state)
{
  static char long_key[1100];
  const bad_case cases[] = {
    {NULL, KEY_ID, SECRET, "videos", "k", 60, VS_ERR_INVALID, "http://"},
    {"ftp://h", KEY_ID, SECRET, "videos", "k", 60, VS_ERR_INVALID, "http://"},
    {"http://", KEY_ID, SECRET, "videos", "k", 60, VS_ERR_INVALID, "no path"},
    {"http://h:1/base", KEY_ID, SECRET, "videos", "k", 60, VS_ERR_INVALID,
     "'http://h:1/base' must be scheme://host[:port], no path"},
    {"http://h?x=1", KEY_ID, SECRET, "videos", "k", 60, VS_ERR_INVALID,
     "no path"},
    {"http://h", "", SECRET, "videos", "k", 60, VS_ERR_INVALID, "empty"},
    {"http://h", KEY_ID, NULL, "videos", "k", 60, VS_ERR_INVALID, "empty"},
    {"http://h", KEY_ID, SECRET, "Videos", "k", 60, VS_ERR_INVALID, "bucket"},
    {"http://h", KEY_ID, SECRET, "vi", "k", 60, VS_ERR_INVALID, "bucket"},
    {"http://h", KEY_ID, SECRET, NULL, "k", 60, VS_ERR_INVALID, "bucket"},
    {"http://h", KEY_ID, SECRET, "videos", "", 60, VS_ERR_INVALID, "empty"},
    {"http://h", KEY_ID, SECRET, "videos", NULL, 60, VS_ERR_INVALID, "empty"},
    {"http://h", KEY_ID, SECRET, "videos", "a\xff", 60, VS_ERR_INVALID,
     "UTF-8"},
    {"http://h", KEY_ID, SECRET, "videos", long_key, 60, VS_ERR_TOOLARGE,
     "1024"},
  };
  size_t i;
  (void)state;
  memset(long_key, 'k', 1025);
  for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const bad_case *b = &cases[i];
    vs_s3_target t = {b->endpoint, NULL, b->key_id, b->secret};
    vs_object_info info;
    vs_err err = {0};
    char *url = (char *)"untouched";
    assert_int_equal(vs_s3_presign_put(&t, b->bucket, b->key, NOW, b->expires,
                                       &url, &err), b->code);
    assert_null(url);
    if(!strstr(err.msg, b->text))
      fail_msg("case %zu: '%s' not in '%s'", i, b->text, err.msg);
    memset(&err, 0, sizeof(err));
    assert_int_equal(vs_s3_head(&t, b->bucket, b->key, &info, &err), b->code);
    if(!strstr(err.msg, b->text))
      fail_msg("case %zu (head): '%s' not in '%s'", i, b->text, err.msg);
    assert_null(strstr(err.msg, SECRET));
  }
}

static void test_bad_expires(void **state)
{
  vs_s3_target t = {"http://h", "us-east-1", KEY_ID, SECRET};
  const int64_t bad[] = {0, -1, 604801};
  size_t i;
  (void)state;
  for(i = 0; i < 3; i++) {
    vs_err err = {0};
    char *url = NULL;
    assert_int_equal(vs_s3_presign_put(&t, "videos", "k", NOW, bad[i], &url,
                                       &err), VS_ERR_INVALID);
    assert_null(url);
    assert_non_null(strstr(err.msg, "expires"));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_same_as_presigner),
    cmocka_unit_test(test_verifies),
    cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_bad_expires),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
