/* store_s3: vs_s3_head against a scripted HTTP server on 127.0.0.1 that
 * sends exactly the answers a real server might (and some it should not):
 * the request is signed so that vsink's verifier accepts it, every header
 * lands in its field, malformed or missing headers and each error status
 * give their precise error, and a silent server times out. (The same calls
 * against a real Ceph RGW: tests/integration/test_rgw_presign.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define KEY_ID "AKIDUNITS3HEAD000001"
#define SECRET "unitS3HeadSecret/0123456789abcdefghijk"
#define NOW 1700000000 /* 20231114T221320Z */

/* Waits for the server and frees it. */
static void finish(vst_canned *s)
{
  vst_canned_wait(s);
  free(s);
}

static int64_t fixed_now(void *ctx)
{
  (void)ctx;
  return (int64_t)NOW * 1000 + 999;
}

/* HEAD against the canned server. */
static int head(vst_canned *s, const char *key, long timeout_ms,
                vs_object_info *info, vs_err *err)
{
  char endpoint[64];
  vs_s3_target t = {endpoint, NULL, KEY_ID, SECRET, fixed_now, NULL,
                    timeout_ms};
  snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", s->srv.port);
  return vs_s3_head(&t, "videos", key, info, err);
}

/* ---- checking the request with vsink's own verifier ------------------- */
static void assert_signed(const char *raw, const char *method,
                          const char *uri)
{
  vst_parsed p;
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req;
  vs_sigv4_result res;
  vs_err err = {0};
  assert_int_equal(vst_parse_head(raw, &p), 0);
  assert_string_equal(p.method, method);
  assert_string_equal(p.uri, uri);
  assert_string_equal(vst_lookup(&p, "x-amz-date"), "20231114T221320Z");
  assert_string_equal(vst_lookup(&p, "x-amz-content-sha256"),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                      "649b934ca495991b7852b855");
  assert_non_null(strstr(vst_lookup(&p, "authorization"),
                         "Credential=" KEY_ID "/20231114/us-east-1/s3/"
                         "aws4_request, SignedHeaders=host;"
                         "x-amz-content-sha256;x-amz-date, Signature="));
  assert_non_null(kr);
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  req = (vs_sigv4_request){p.method, p.uri, vst_lookup, &p};
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", NOW, &res, &err),
                   VS_SIGV4_OK);
  assert_int_equal(res.presigned, 0);
  vs_keyring_free(kr);
}

/* ---- tests --------------------------------------------------------------- */
static void test_fields(void **state)
{
  vst_canned *s = vst_canned_start(1,
    "HTTP/1.1 200 OK\r\nContent-Length: 12345678901\r\n"
    "ETag: \"0123456789abcdef0123456789abcdef-3\"\r\n"
    "content-type:video/mp4\r\n"
    "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
    "x-amz-version-id: 3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY\r\n"
    "x-amz-checksum-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\r\n"
    "Connection: close\r\n\r\n");
  vs_object_info info;
  vs_err err = {0};
  (void)state;
  assert_int_equal(head(s, "a b/ü+~.mp4", 0, &info, &err), VS_OK);
  finish(s);
  assert_true(info.bytes == 12345678901ULL);
  assert_string_equal(info.etag, "0123456789abcdef0123456789abcdef-3");
  assert_string_equal(info.content_type, "video/mp4");
  assert_true(info.mtime_ms == (int64_t)NOW * 1000);
  assert_string_equal(info.version_id, "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
  assert_string_equal(info.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                                   "649b934ca495991b7852b855");
  assert_string_equal(info.md5, "");
}

static void test_defaults(void **state)
{
  vst_canned *s = vst_canned_start(1, "HTTP/1.1 200 OK\r\nContent-Length: "
                                   "0\r\nConnection: close\r\n\r\n");
  vs_object_info info;
  vs_err err = {0};
  (void)state;
  assert_int_equal(head(s, "k", 0, &info, &err), VS_OK);
  finish(s);
  assert_true(info.bytes == 0);
  assert_string_equal(info.version_id, "null");
  assert_string_equal(info.etag, "");
  assert_string_equal(info.content_type, "");
  assert_string_equal(info.sha256, "");
  assert_true(info.mtime_ms == 0);
}

static void expect_bad_answer(const char *answer, int code, const char *text)
{
  vst_canned *s = vst_canned_start(1, answer);
  vs_object_info info;
  vs_err err = {0};
  assert_int_equal(head(s, "k", 0, &info, &err), code);
  finish(s);
  if(!strstr(err.msg, text))
    fail_msg("'%s' not in '%s'", text, err.msg);
}

static void test_malformed_headers(void **state)
{
  (void)state;
  expect_bad_answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                    "x-amz-version-id: 0123456789012345678901234567890123"
                    "456789012345678\r\n\r\n",
                    VS_ERR_NET, "malformed x-amz-version-id");
  expect_bad_answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                    "Last-Modified: yesterday\r\n\r\n",
                    VS_ERR_NET, "malformed Last-Modified");
  expect_bad_answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                    "ETag: \"\"\r\n\r\n", VS_ERR_NET, "malformed ETag");
  expect_bad_answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                    "x-amz-checksum-sha256: AAAA\r\n\r\n",
                    VS_ERR_NET, "malformed x-amz-checksum-sha256");
  expect_bad_answer("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
                    VS_ERR_NET, "no Content-Length");
  expect_bad_answer("HTTP/1.1 200 OK\r\n"
                    "Content-Length: 99999999999999999999999\r\n\r\n",
                    VS_ERR_NET, "HEAD videos/k: ");
  expect_bad_answer("garbage\r\n\r\n", VS_ERR_NET, "HEAD videos/k: ");
}

static void test_signed_request(void **state)
{
  vst_canned *s = vst_canned_start(1, "HTTP/1.1 200 OK\r\nContent-Length: "
                                   "5\r\nConnection: close\r\n\r\n");
  vs_object_info info;
  vs_err err = {0};
  (void)state;
  assert_int_equal(head(s, "a b/ü+~.mp4", 0, &info, &err), VS_OK);
  assert_int_equal(s->got, 1);
  assert_signed(s->req[0].head, "HEAD", "/videos/a%20b/%C3%BC%2B~.mp4");
  finish(s);
}

/* An error status: the HEAD, then one GET of the same URL for the code. */
static void expect_status(const char *status_line, const char *get_answer,
                          int code, const char *text)
{
  char head_answer[256];
  vst_canned *s;
  vs_object_info info;
  vs_err err = {0};
  snprintf(head_answer, sizeof(head_answer),
           "%s\r\nContent-Length: 200\r\nConnection: close\r\n\r\n",
           status_line);
  s = vst_canned_start(2, head_answer, get_answer);
  assert_int_equal(head(s, "dir/k.mp4", 0, &info, &err), code);
  assert_int_equal(s->got, 2);
  assert_signed(s->req[1].head, "GET", "/videos/dir/k.mp4");
  finish(s);
  if(!strstr(err.msg, text))
    fail_msg("'%s' not in '%s'", text, err.msg);
}

static char *error_answer(const char *status, const char *code)
{
  static char out[4][512];
  static int next;
  char body[256], *o = out[next++ % 4];
  snprintf(body, sizeof(body), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
           "<Error><Code>%s</Code><BucketName>videos</BucketName>"
           "<RequestId>tx1</RequestId></Error>", code);
  snprintf(o, 512, "HTTP/1.1 %s\r\nContent-Type: application/xml\r\n"
           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
           strlen(body), body);
  return o;
}

static void test_statuses(void **state)
{
  (void)state;
  expect_status("HTTP/1.1 404 Not Found",
                error_answer("404 Not Found", "NoSuchKey"),
                VS_ERR_NOTFOUND, "HEAD videos/dir/k.mp4: HTTP 404 NoSuchKey");
  expect_status("HTTP/1.1 403 Forbidden",
                error_answer("403 Forbidden", "SignatureDoesNotMatch"),
                VS_ERR_AUTH, "HTTP 403 SignatureDoesNotMatch");
  expect_status("HTTP/1.1 400 Bad Request",
                error_answer("400 Bad Request", "AuthorizationHeaderMalformed"),
                VS_ERR_INVALID, "HTTP 400 AuthorizationHeaderMalformed");
  expect_status("HTTP/1.1 503 Service Unavailable",
                error_answer("503 Service Unavailable", "SlowDown"),
                VS_ERR_NET, "HTTP 503 SlowDown");
  expect_status("HTTP/1.1 301 Moved Permanently",
                error_answer("301 Moved Permanently", "PermanentRedirect"),
                VS_ERR_NET, "HTTP 301 PermanentRedirect");
  /* the GET answers differently (the object appeared meanwhile, or a
   * body that is no S3 error): no code, still the HEAD's status */
  expect_status("HTTP/1.1 403 Forbidden",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                "Connection: close\r\n\r\nabc",
                VS_ERR_AUTH, "HTTP 403 (no S3 error code)");
  expect_status("HTTP/1.1 404 Not Found",
                error_answer("404 Not Found", "<script>"),
                VS_ERR_NOTFOUND, "HTTP 404 (no S3 error code)");
}

static void test_timeout(void **state)
{
  vst_canned *s = vst_canned_start(1, VST_HANG);
  vs_object_info info;
  vs_err err = {0};
  struct timespec a, b;
  double took;
  (void)state;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(head(s, "k", 300, &info, &err), VS_ERR_NET);
  clock_gettime(CLOCK_MONOTONIC, &b);
  finish(s);
  took = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  assert_true(took >= 0.29 && took < 3);
  assert_non_null(strstr(err.msg, "HEAD videos/k: "));
  assert_non_null(strstr(err.msg, "timed out"));
}

static void test_refused(void **state)
{
  vst_canned *s = vst_canned_start(0); /* listens, then closes: nobody home */
  int port = s->srv.port;
  vs_object_info info;
  vs_err err = {0};
  char endpoint[64];
  vs_s3_target t = {endpoint, "us-east-1", KEY_ID, SECRET};
  (void)state;
  finish(s);
  snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
  assert_int_equal(vs_s3_head(&t, "videos", "k", &info, &err), VS_ERR_NET);
  assert_non_null(strstr(err.msg, "HEAD videos/k: "));
  assert_null(strstr(err.msg, SECRET));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fields),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_malformed_headers),
    cmocka_unit_test(test_signed_request),
    cmocka_unit_test(test_statuses),
    cmocka_unit_test(test_timeout),
    cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
