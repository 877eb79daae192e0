/* runware: --target and --webhook-base parsing, and the signature-less
 * URL the manifest keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vsink/runware.h"

static void test_sink_targets(void **state)
{
  vs_target t;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_target_parse("http://127.0.0.1:9000/videos/out/a/",
                                   &t, &err), VS_OK);
  assert_int_equal(t.kind, VS_TARGET_SINK);
  assert_string_equal(t.endpoint, "http://127.0.0.1:9000");
  assert_string_equal(t.bucket, "videos");
  assert_string_equal(t.prefix, "out/a");
  assert_int_equal(vs_target_parse("https://sink.example:8443/clips", &t,
                                   &err), VS_OK);
  assert_string_equal(t.endpoint, "https://sink.example:8443");
  assert_string_equal(t.bucket, "clips");
  assert_string_equal(t.prefix, "");
  assert_int_equal(vs_target_parse("s3://my-bucket/runs/2026", &t, &err),
                   VS_OK);
  assert_int_equal(t.kind, VS_TARGET_S3);
  assert_string_equal(t.endpoint, "");
  assert_string_equal(t.bucket, "my-bucket");
  assert_string_equal(t.prefix, "runs/2026");
}

static void test_bad_targets(void **state)
{
  static const struct { const char *in, *says; } bad[] = {
    {"", "required"},
    {"ftp://h/b/p", "s3://BUCKET"},
    {"http://127.0.0.1:9000", "HOST:PORT/BUCKET"},
    {"http://127.0.0.1:9000/", "no bucket"},
    {"s3://", "no bucket"},
    {"s3://AB/x", "bucket"},
    {"http://h:1/videos/a//b", "empty"},
    {"http://h:1/videos/../etc", ".."},
    {"http://h:1/videos/p?x=1", "no query"},
  };
  vs_target t;
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    vs_err err = {0};
    assert_int_equal(vs_target_parse(bad[i].in, &t, &err), VS_ERR_INVALID);
    if(!strstr(err.msg, bad[i].says))
      fail_msg("target %s: '%s' lacks '%s'", bad[i].in, err.msg,
               bad[i].says);
  }
}

static void test_endpoints(void **state)
{
  char out[64];
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_endpoint_parse("http://127.0.0.1:8080/", out,
                                     sizeof(out), &err), VS_OK);
  assert_string_equal(out, "http://127.0.0.1:8080");
  assert_int_equal(vs_endpoint_parse("https://h", out, sizeof(out), &err),
                   VS_OK);
  assert_string_equal(out, "https://h");
  assert_int_equal(vs_endpoint_parse("http://h/base", out, sizeof(out),
                                     &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "no path"));
  assert_int_equal(vs_endpoint_parse("h:80", out, sizeof(out), &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_endpoint_parse("http://", out, sizeof(out), &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_endpoint_parse("http://user@h", out, sizeof(out),
                                     &err), VS_ERR_INVALID);
  assert_int_equal(vs_endpoint_parse("http://a-very-long-host-name.example",
                                     out, 10, &err), VS_ERR_INVALID);
}

static void test_strip_signature(void **state)
{
  static const char *const cases[][2] = {
    {"http://h/b/k?X-Amz-Algorithm=A&X-Amz-Signature=abc&X-Amz-Date=D",
     "http://h/b/k?X-Amz-Algorithm=A&X-Amz-Date=D"},
    {"http://h/b/k?X-Amz-Algorithm=A&X-Amz-SignedHeaders=host&"
     "X-Amz-Signature=0123", "http://h/b/k?X-Amz-Algorithm=A&"
     "X-Amz-SignedHeaders=host"},
    {"http://h/b/k?X-Amz-Signature=1", "http://h/b/k"},
    {"http://h/b/k", "http://h/b/k"},
    {"http://h/hooks/u?a=1&&b=2", "http://h/hooks/u?a=1&b=2"},
  };
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *s = vs_url_strip_signature(cases[i][0]);
    assert_non_null(s);
    assert_string_equal(s, cases[i][1]);
    free(s);
  }
  assert_null(vs_url_strip_signature(NULL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sink_targets),
    cmocka_unit_test(test_bad_targets),
    cmocka_unit_test(test_endpoints),
    cmocka_unit_test(test_strip_signature),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
