/* server: the route table takes SigV2's query parameters wherever it takes
 * SigV4's (and nothing else because of them), and virtual-hosted-style
 * Host headers name their bucket under --domain and nothing else does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/router.h"

#define V2 "AWSAccessKeyId=AKID&Signature=abc%2Bdef%3D&Expires=1796191625"

static vs__op classify(const char *method, const char *uri,
                       vs__route_result *out)
{
  vs__op op = vs__route_classify(method, uri, NULL, NULL, out);
  assert_int_equal(op, out->op);
  return op;
}

static void expect_op(const char *method, const char *uri, vs__op want)
{
  vs__route_result rt;
  vs__op op = classify(method, uri, &rt);
  if(op != want)
    fail_msg("%s %s: %s (%s), want %s", method, uri, vs__op_name(op),
             rt.msg, vs__op_name(want));
}

static void expect_refused(const char *method, const char *uri,
                           const char *names)
{
  vs__route_result rt;
  vs__op op = classify(method, uri, &rt);
  if(op != VS__OP_REFUSED)
    fail_msg("%s %s: taken for %s", method, uri, vs__op_name(op));
  if(names && !strstr(rt.msg, names))
    fail_msg("%s %s: message '%s' does not name '%s'", method, uri, rt.msg,
             names);
}

static void sigv2_query_is_accepted(void **state)
{
  (void)state;
  expect_op("PUT", "/videos/clip.mp4?" V2, VS__OP_PUT_OBJECT);
  expect_op("GET", "/videos/clip.mp4?" V2, VS__OP_GET_OBJECT);
  expect_op("HEAD", "/videos/clip.mp4?" V2, VS__OP_HEAD_OBJECT);
  expect_op("HEAD", "/videos?" V2, VS__OP_HEAD_BUCKET);
  expect_op("GET", "/videos/clip.mp4?versionId=v1&" V2, VS__OP_GET_OBJECT);
  /* botocore moves Content-Type and Content-MD5 into a SigV2 URL */
  expect_op("PUT", "/videos/clip.mp4?AWSAccessKeyId=AKID&Signature=s&"
            "content-type=video%2Fmp4&content-md5=abc&Expires=1",
            VS__OP_PUT_OBJECT);
  expect_op("POST", "/hooks/x?" V2, VS__OP_HOOK);
}

static void sigv2_query_changes_nothing_else(void **state)
{
  (void)state;
  /* a sub-resource is still refused, and still named first */
  expect_refused("PUT", "/videos/clip.mp4?" V2 "&acl", "acl");
  expect_refused("GET", "/videos/clip.mp4?" V2 "&acl", "acl");
  expect_refused("PUT", "/videos/clip.mp4?AWSAccessKeyId=A&partNumber=2&"
                 "Signature=s&Expires=1", "partNumber");
  /* and an UploadPart is one with SigV2 too, never a PUT of the object */
  {
    vs__route_result rt;
    assert_int_equal(vs__route_classify("PUT", "/videos/clip.mp4?"
                                        "AWSAccessKeyId=A&uploadId=u&"
                                        "partNumber=2&Signature=s&Expires=1",
                                        NULL, NULL, &rt),
                     VS__OP_UPLOAD_PART);
  }
  expect_refused("POST", "/videos/clip.mp4?" V2 "&restore", "restore");
  expect_refused("DELETE", "/videos?" V2 "&policy", "policy");
  /* the names are exact: near misses are unknown parameters */
  expect_refused("PUT", "/videos/clip.mp4?Signatures=x", "Signatures");
  expect_refused("PUT", "/videos/clip.mp4?awsaccesskeyid=x",
                 "awsaccesskeyid");
  expect_refused("PUT", "/videos/clip.mp4?expires=1", "expires");
  expect_refused("PUT", "/videos/clip.mp4?Content-Type=x", "Content-Type");
}

static void host_bucket(void **state)
{
  char b[64];
  (void)state;
  assert_int_equal(vs__route_host_bucket("videos.localhost:9000", "localhost",
                                         b, sizeof(b)), 6);
  assert_string_equal(b, "videos");
  assert_int_equal(vs__route_host_bucket("Videos.S3.Example.COM",
                                         "s3.example.com", b, sizeof(b)), 6);
  assert_string_equal(b, "videos");
  assert_int_equal(vs__route_host_bucket("my.dotted.bucket.s3.example.com.",
                                         "s3.example.com", b, sizeof(b)), 16);
  assert_string_equal(b, "my.dotted.bucket");
  /* the domain itself, another name, an address: path style */
  assert_int_equal(vs__route_host_bucket("localhost:9000", "localhost", b,
                                         sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket("videos.notlocalhost", "localhost",
                                         b, sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket("videoslocalhost", "localhost", b,
                                         sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket(".localhost", "localhost", b,
                                         sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket("127.0.0.1:9000", "localhost", b,
                                         sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket("[::1]:9000", "localhost", b,
                                         sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket(NULL, "localhost", b, sizeof(b)),
                   0);
  assert_int_equal(vs__route_host_bucket("videos.localhost", NULL, b,
                                         sizeof(b)), 0);
  assert_int_equal(vs__route_host_bucket("videos.localhost", "", b,
                                         sizeof(b)), 0);
  /* a port that is not one is part of the name */
  assert_int_equal(vs__route_host_bucket("videos.localhost:x", "localhost",
                                         b, sizeof(b)), 0);
  /* too long for the buffer: none (the caller's buffer fits any bucket) */
  assert_int_equal(vs__route_host_bucket("abcdefgh.localhost", "localhost",
                                         b, 8), 0);
  assert_int_equal(vs__route_host_bucket("abcdefg.localhost", "localhost",
                                         b, 8), 7);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sigv2_query_is_accepted),
    cmocka_unit_test(sigv2_query_changes_nothing_else),
    cmocka_unit_test(host_bucket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
