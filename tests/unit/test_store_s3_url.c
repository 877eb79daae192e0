/* store: s3://BUCKET[/PREFIX] as --manifest-bucket and the reading commands
 * take it, and --store (vs_store_s3_url_parse): bucket and prefix split,
 * trailing slashes dropped, and what is refused (another scheme, no
 * bucket, a bucket S3 would not name so, an empty path segment) refused
 * with VS_ERR_INVALID and nothing allocated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vsink/s3.h"

static void ok(const char *url, const char *bucket, const char *prefix)
{
  char *b = NULL, *p = NULL;
  vs_err err = {0};
  assert_int_equal(vs_store_s3_url_parse(url, &b, &p, &err), VS_OK);
  assert_string_equal(b, bucket);
  assert_string_equal(p, prefix);
  free(b);
  free(p);
}

static void refused(const char *url)
{
  char *b = (char *)"x", *p = (char *)"y";
  vs_err err = {0};
  assert_int_equal(vs_store_s3_url_parse(url, &b, &p, &err), VS_ERR_INVALID);
  assert_null(b);
  assert_null(p);
  assert_true(err.msg[0] != 0);
}

static void test_split(void **state)
{
  (void)state;
  ok("s3://bkt", "bkt", "");
  ok("s3://bkt/", "bkt", "");
  ok("s3://cluster-1/prod", "cluster-1", "prod");
  ok("s3://cluster-1/prod/eu/", "cluster-1", "prod/eu");
  ok("s3://cluster-1/prod/eu///", "cluster-1", "prod/eu");
}

static void test_refused(void **state)
{
  (void)state;
  refused(NULL);
  refused("");
  refused("http://b/p");
  refused("S3://b/p");
  refused("s3://");
  refused("s3:///p");
  refused("s3://bkt//p");
  refused("s3://bkt/p//q");
  refused("s3://b/p");
  refused("s3://Bucket/p");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_split),
    cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
