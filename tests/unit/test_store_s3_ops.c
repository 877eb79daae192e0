/* store_s3: the store calls against a scripted HTTP server on 127.0.0.1
 * that records each request whole (headers and body) and answers what a
 * real S3 server might: UploadPart is retried on 503/500/a dropped
 * connection, each try sending the same bytes read again from the file,
 * signed (vsink's verifier accepts it) with Content-MD5 and the payload's
 * SHA-256, and given up after its attempts; 4xx are not retried;
 * CompleteMultipartUpload's 200 with an <Error> fails; If-None-Match 412 is
 * VS_ERR_EXISTS; GetObject streams to its receiver, which may stop it;
 * DeleteObject returns the marker. (The same calls against a real Ceph RGW:
 * tests/integration/test_rgw_s3client.py.) */
#include <fcntl.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define KEY_ID "AKIDUNITS3OPS0000001"
#define SECRET "unitS3OpsSecret/0123456789abcdefghijklm"
#define NOW 1700000000

static int64_t fixed_now(void *ctx)
{
  (void)ctx;
  return (int64_t)NOW * 1000;
}

static vs_s3_target target(const vst_canned *s, char *endpoint)
{
  vs_s3_target t = {endpoint, NULL, KEY_ID, SECRET, fixed_now, NULL, 5000,
                    4, 10};
  sprintf(endpoint, "http://127.0.0.1:%d", s->srv.port);
  return t;
}

/* An answer with status, extra header lines ("" for none) and a body. */
static const char *answer(const char *status, const char *headers,
                          const char *body)
{
  static char out[16][2048];
  static int next;
  char *o = out[next++ % 16];
  assert_true(strlen(body) <= 1500 && strlen(headers) <= 200);
  snprintf(o, 2048, "HTTP/1.1 %.100s\r\n%.200sContent-Length: %zu\r\n"
           "Connection: close\r\n\r\n%.1500s", status, headers,
           strlen(body), body);
  return o;
}

static const char *s3_error(const char *status, const char *code)
{
  static char body[8][256];
  static int next;
  char *b = body[next++ % 8];
  snprintf(b, 256, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s"
           "</Code><Message>said %s</Message></Error>", code, code);
  return answer(status, "Content-Type: application/xml\r\n", b);
}

/* ---- what a request carried ---------------------------------------------- */

static void digests(const void *p, size_t n, char md5_b64[25],
                    char sha_hex[65])
{
  static const char hexd[] = "0123456789abcdef";
  unsigned char d5[16], d[32];
  unsigned i;
  EVP_Digest(p, n, d5, NULL, EVP_md5(), NULL);
  EVP_Digest(p, n, d, NULL, EVP_sha256(), NULL);
  EVP_EncodeBlock((unsigned char *)md5_b64, d5, 16);
  for(i = 0; i < 32; i++) {
    sha_hex[2 * i] = hexd[d[i] >> 4];
    sha_hex[2 * i + 1] = hexd[d[i] & 15];
  }
  sha_hex[64] = 0;
}

/* Request i: method and URI, signed so vsink's verifier accepts it, with
 * the body want (n bytes) and its Content-MD5 and SHA-256. */
static void assert_request(const vst_canned *s, int i, const char *method,
                           const char *uri, const void *want, size_t n)
{
  vst_parsed p;
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req;
  vs_sigv4_result res;
  vs_err err = {0};
  char md5[25], sha[65];
  assert_int_equal(vst_parse_head(s->req[i].head, &p), 0);
  assert_string_equal(p.method, method);
  assert_string_equal(p.uri, uri);
  req = (vs_sigv4_request){p.method, p.uri, vst_lookup, &p};
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", NOW, &res, &err),
                   VS_SIGV4_OK);
  vs_keyring_free(kr);
  assert_int_equal(s->req[i].body_len, n);
  assert_memory_equal(s->req[i].body, want, n);
  digests(want, n, md5, sha);
  assert_string_equal(vst_lookup(&p, "x-amz-content-sha256"), sha);
  assert_string_equal(res.payload_sha256, sha);
  if(!strcmp(method, "PUT") || !strcmp(method, "POST")) {
    assert_non_null(vst_lookup(&p, "content-md5"));
    assert_string_equal(vst_lookup(&p, "content-md5"), md5);
    assert_non_null(strstr(vst_lookup(&p, "authorization"), "content-md5;"));
  }
}

typedef struct counter {
  size_t bytes, calls, stop_after;
  unsigned long sum;
} counter;

static int count(void *ctx, const void *p, size_t n)
{
  counter *c = ctx;
  size_t i;
  for(i = 0; i < n; i++)
    c->sum += ((const unsigned char *)p)[i] * (unsigned long)(c->bytes + i);
  c->bytes += n;
  c->calls++;
  return c->stop_after && c->bytes >= c->stop_after;
}

/* ---- UploadPart ------------------------------------------------------------ */

static int temp_file(char *path, unsigned char *data, size_t n)
{
  int fd;
  size_t i;
  strcpy(path, "/tmp/vsink-s3ops-XXXXXX");
  fd = mkstemp(path);
  assert_true(fd >= 0);
  for(i = 0; i < n; i++)
    data[i] = (unsigned char)(i * 7 + i / 251);
  assert_int_equal(write(fd, data, n), (ssize_t)n);
  return fd;
}

static unsigned char file_data[20000];

static void test_part_retried(void **state)
{
  char endpoint[64], path[64], etag[VS_S3_ETAG_MAX];
  vst_canned *s = vst_canned_start(4,
    s3_error("503 Service Unavailable", "SlowDown"),
    "", /* the connection dropped without an answer */
    s3_error("500 Internal Server Error", "InternalError"),
    answer("200 OK", "ETag: \"etag-of-7\"\r\n", ""));
  vs_s3_target t = target(s, endpoint);
  int fd = temp_file(path, file_data, sizeof(file_data)), i;
  vs_s3_body b = {NULL, fd, 1000, 15000, NULL};
  vs_err err = {0};
  (void)state;
  lseek(fd, 0, SEEK_SET);
  assert_int_equal(vs_s3_mpu_part(&t, "videos", "a b.mp4", "u+1/x", 7, &b,
                                  etag, &err), VS_OK);
  vst_canned_wait(s);
  assert_string_equal(etag, "etag-of-7");
  assert_int_equal(s->got, 4);
  for(i = 0; i < 4; i++)
    if(i != 1) /* the dropped one may not have sent it all */
      assert_request(s, i, "PUT", "/videos/a%20b.mp4?partNumber=7&uploadId="
                     "u%2B1%2Fx", file_data + 1000, 15000);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), 0); /* pread: offset untouched */
  close(fd);
  unlink(path);
  free(s);
}

static void test_part_gives_up(void **state)
{
  char endpoint[64], path[64], etag[VS_S3_ETAG_MAX];
  const char *slow = s3_error("503 Service Unavailable", "SlowDown");
  vst_canned *s = vst_canned_start(3, slow, slow, slow);
  vs_s3_target t = target(s, endpoint);
  int fd = temp_file(path, file_data, 100);
  vs_s3_body b = {NULL, fd, 0, 100, NULL};
  vs_err err = {0};
  struct timespec t0, t1;
  double took;
  (void)state;
  t.part_attempts = 3;
  t.retry_base_ms = 100;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(vs_s3_mpu_part(&t, "videos", "k", "u", 1, &b, etag, &err),
                   VS_ERR_NET);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  vst_canned_wait(s);
  took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  assert_int_equal(s->got, 3);
  assert_true(took >= 0.3 && took < 5); /* 100 + 200 ms of back-off */
  assert_string_equal(etag, "");
  assert_non_null(strstr(err.msg, "PUT videos/k: HTTP 503 SlowDown: said "
                                  "SlowDown"));
  close(fd);
  unlink(path);
  free(s);
}

static double seconds_since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A server that takes the part and never answers: the try times out (a
 * stall of timeout_ms), the next one goes through. */
static void test_part_timeout_retried(void **state)
{
  char endpoint[64], etag[VS_S3_ETAG_MAX];
  vst_canned *s = vst_canned_start(2, VST_HANG,
                                   answer("200 OK", "ETag: \"e2\"\r\n", ""));
  vs_s3_target t = target(s, endpoint);
  vs_s3_body b = {"part bytes", -1, 0, 10, NULL};
  vs_err err = {0};
  struct timespec t0;
  double took;
  (void)state;
  t.timeout_ms = 1000;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(vs_s3_mpu_part(&t, "videos", "k", "u", 2, &b, etag, &err),
                   VS_OK);
  took = seconds_since(&t0);
  vst_canned_wait(s);
  assert_int_equal(s->got, 2);
  assert_string_equal(etag, "e2");
  assert_true(took >= 0.9 && took < 5);
  assert_request(s, 0, "PUT", "/videos/k?partNumber=2&uploadId=u",
                 "part bytes", 10);
  assert_request(s, 1, "PUT", "/videos/k?partNumber=2&uploadId=u",
                 "part bytes", 10);
  free(s);
}

/* A GET whose body stops half-way fails after the stall, not never. */
static void test_get_stalls(void **state)
{
  char endpoint[64];
  vst_canned *s = vst_canned_start(1, "HTTP/1.1 200 OK\r\nContent-Length: "
                                   "100\r\n\r\nten bytes." VST_HANG);
  vs_s3_target t = target(s, endpoint);
  counter c = {0};
  vs_err err = {0};
  struct timespec t0;
  double took;
  (void)state;
  t.timeout_ms = 1000;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(vs_s3_get(&t, "videos", "k", NULL, count, &c, NULL, &err),
                   VS_ERR_NET);
  took = seconds_since(&t0);
  vst_canned_wait(s);
  print_message("stalled GET failed after %.2f s: %s\n", took, err.msg);
  assert_true(c.bytes == 10);
  assert_true(took >= 0.9 && took < 5);
  assert_non_null(strstr(err.msg, "GET videos/k: "));
  free(s);
}

/* A refusal is final: one request, no retry. */
static void expect_once(const char *status, const char *code, int rc)
{
  char endpoint[64], etag[VS_S3_ETAG_MAX];
  vst_canned *s = vst_canned_start(2, s3_error(status, code),
                                   answer("200 OK", "ETag: \"x\"\r\n", ""));
  vs_s3_target t = target(s, endpoint);
  vs_s3_body b = {"abc", -1, 0, 3, NULL};
  vs_err err = {0};
  assert_int_equal(vs_s3_mpu_part(&t, "videos", "k", "u", 1, &b, etag, &err),
                   rc);
  shutdown(s->srv.fd, SHUT_RDWR); /* the second answer is never asked for */
  vst_canned_wait(s);
  assert_int_equal(s->got, 1);
  assert_non_null(strstr(err.msg, code));
  free(s);
}

static void test_part_refusals(void **state)
{
  (void)state;
  expect_once("400 Bad Request", "InvalidArgument", VS_ERR_INVALID);
  expect_once("400 Bad Request", "BadDigest", VS_ERR_DIGEST);
  expect_once("403 Forbidden", "SignatureDoesNotMatch", VS_ERR_AUTH);
  expect_once("404 Not Found", "NoSuchUpload", VS_ERR_NOTFOUND);
}

/* ---- CompleteMultipartUpload ------------------------------------------------ */

static void test_complete_200_error(void **state)
{
  char endpoint[64];
  const char *body = "\n  <?xml version=\"1.0\"?><Error><Code>InternalError"
                     "</Code><Message>try again</Message></Error>";
  const char *want = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws"
                     ".com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber>"
                     "<ETag>\"e1\"</ETag></Part><Part><PartNumber>3"
                     "</PartNumber><ETag>\"e&amp;3\"</ETag></Part>"
                     "</CompleteMultipartUpload>";
  vst_canned *s = vst_canned_start(1, answer("200 OK", "", body));
  vs_s3_target t = target(s, endpoint);
  vs_s3_part parts[2] = {{1, "e1"}, {3, "e&3"}};
  vs_s3_put_result r;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_s3_mpu_complete(&t, "videos", "k", "up", parts, 2, &r,
                                      &err), VS_ERR_NET);
  vst_canned_wait(s);
  assert_int_equal(s->got, 1);
  assert_request(s, 0, "POST", "/videos/k?uploadId=up", want, strlen(want));
  assert_string_equal(err.msg, "POST videos/k: HTTP 200 with error "
                               "InternalError: try again");
  assert_string_equal(r.etag, "");
  free(s);
}

static void test_complete_ok(void **state)
{
  char endpoint[64];
  const char *body = "<CompleteMultipartUploadResult><ETag>&quot;abc-2&quot;"
                     "</ETag></CompleteMultipartUploadResult>";
  vst_canned *s = vst_canned_start(1, answer("200 OK",
                                   "x-amz-version-id: v9\r\n", body));
  vs_s3_target t = target(s, endpoint);
  vs_s3_part parts[2] = {{1, "e1"}, {2, "e2"}};
  vs_s3_part bad[2] = {{2, "e1"}, {2, "e2"}};
  vs_s3_put_result r;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_s3_mpu_complete(&t, "videos", "k", "up", bad, 2, &r,
                                      &err), VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "out of order"));
  assert_int_equal(vs_s3_mpu_complete(&t, "videos", "k", "up", parts, 0, &r,
                                      &err), VS_ERR_INVALID);
  assert_int_equal(vs_s3_mpu_complete(&t, "videos", "k", "up", parts, 2, &r,
                                      &err), VS_OK);
  vst_canned_wait(s);
  assert_string_equal(r.etag, "abc-2");
  assert_string_equal(r.version_id, "v9");
  free(s);
}

/* ---- PutObject ----------------------------------------------------------- */

static void test_put_if_none_match(void **state)
{
  char endpoint[64];
  vst_canned *s = vst_canned_start(2,
    s3_error("412 Precondition Failed", "PreconditionFailed"),
    answer("200 OK", "ETag: \"md5\"\r\nx-amz-version-id: v1\r\n", ""));
  vs_s3_target t = target(s, endpoint);
  vs_s3_body b = {"hello", -1, 0, 5, NULL};
  vs_s3_put_result r;
  vs_err err = {0};
  vst_parsed p;
  (void)state;
  vs_s3_write_opts w = {"video/mp4", "x-amz-meta-task:t-1\n\nCache-Control:"
                       "max-age=60\nx-amz-meta-Seed: 42", 1};
  vs_s3_write_opts bad = {NULL, "x-amz-meta-a:b\rInjected: 1", 0};
  vs_s3_write_opts other = {NULL, "authorization:x", 0};
  assert_int_equal(vs_s3_put(&t, "videos", "k", &b, &bad, &r, &err),
                   VS_ERR_INVALID);
  assert_int_equal(vs_s3_put(&t, "videos", "k", &b, &other, &r, &err),
                   VS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "not one an object keeps"));
  assert_int_equal(vs_s3_put(&t, "videos", "k", &b, &w, &r, &err),
                   VS_ERR_EXISTS);
  assert_non_null(strstr(err.msg, "PUT videos/k: HTTP 412 "
                                  "PreconditionFailed"));
  assert_int_equal(vs_s3_put(&t, "videos", "k", &b, NULL, &r, &err),
                   VS_OK);
  vst_canned_wait(s);
  assert_string_equal(r.etag, "md5");
  assert_string_equal(r.version_id, "v1");
  assert_request(s, 0, "PUT", "/videos/k", "hello", 5);
  assert_int_equal(vst_parse_head(s->req[0].head, &p), 0);
  assert_string_equal(vst_lookup(&p, "if-none-match"), "*");
  assert_string_equal(vst_lookup(&p, "content-type"), "video/mp4");
  assert_string_equal(vst_lookup(&p, "x-amz-meta-task"), "t-1");
  assert_string_equal(vst_lookup(&p, "x-amz-meta-seed"), "42");
  assert_string_equal(vst_lookup(&p, "cache-control"), "max-age=60");
  assert_non_null(strstr(vst_lookup(&p, "authorization"),
                         "cache-control;content-md5;content-type;host;"
                         "if-none-match;x-amz-content-sha256;x-amz-date;"
                         "x-amz-meta-seed;x-amz-meta-task,"));
  assert_int_equal(vst_parse_head(s->req[1].head, &p), 0);
  assert_null(vst_lookup(&p, "if-none-match"));
  assert_request(s, 1, "PUT", "/videos/k", "hello", 5);
  free(s);
}

/* HEAD hands back the headers an object keeps, names lower-case, in the
 * answer's order. */
static void test_head_kept_headers(void **state)
{
  char endpoint[64];
  vst_canned *s = vst_canned_start(1, answer("200 OK",
    "Cache-Control: no-cache\r\nX-Amz-Meta-Task: t-1\r\nx-amz-request-id: r"
    "\r\nx-amz-meta-empty:\r\nContent-Language: fr\r\n", ""));
  vs_s3_target t = target(s, endpoint);
  vs_object_info info;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_s3_head_version(&t, "videos", "k", "v1", &info, &err),
                   VS_OK);
  vst_canned_wait(s);
  assert_string_equal(info.headers, "cache-control:no-cache\n"
                      "x-amz-meta-task:t-1\nx-amz-meta-empty:\n"
                      "content-language:fr\n");
  assert_request(s, 0, "HEAD", "/videos/k?versionId=v1", "", 0);
  free(s);
}

/* ---- GetObject, DeleteObject ---------------------------------------------- */

static void test_get_streamed(void **state)
{
  static char body[60001], a206[60200], a200[60200];
  char endpoint[64];
  vst_canned *s;
  vs_s3_target t;
  vs_s3_get_opts g = {"v 1", 1, 5, -1};
  vs_object_info info;
  counter c = {0}, stop = {0, 0, 1, 0};
  unsigned long want = 0;
  vs_err err = {0};
  vst_parsed p;
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(body) - 1; i++) {
    body[i] = (char)('a' + i % 26);
    want += (unsigned char)body[i] * (unsigned long)i;
  }
  snprintf(a206, sizeof(a206), "HTTP/1.1 206 Partial Content\r\nETag: "
           "\"e\"\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
  snprintf(a200, sizeof(a200), "HTTP/1.1 200 OK\r\nContent-Length: %zu"
           "\r\n\r\n%s", strlen(body), body);
  s = vst_canned_start(2, a206, a200);
  t = target(s, endpoint);
  assert_int_equal(vs_s3_get(&t, "videos", "k", &g, count, &c, &info, &err),
                   VS_OK);
  assert_true(c.bytes == sizeof(body) - 1);
  assert_true(c.sum == want);
  assert_true(info.bytes == sizeof(body) - 1);
  assert_string_equal(info.etag, "e");
  assert_int_equal(vs_s3_get(&t, "videos", "k", NULL, count, &stop, &info,
                             &err), VS_ERR_IO);
  assert_non_null(strstr(err.msg, "stopped by the receiver"));
  vst_canned_wait(s);
  assert_int_equal(vst_parse_head(s->req[0].head, &p), 0);
  assert_string_equal(p.uri, "/videos/k?versionId=v%201");
  assert_string_equal(vst_lookup(&p, "range"), "bytes=5-");
  assert_request(s, 0, "GET", "/videos/k?versionId=v%201", "", 0);
  free(s);
}

static void test_delete_marker(void **state)
{
  char endpoint[64];
  vst_canned *s = vst_canned_start(2,
    answer("204 No Content", "x-amz-delete-marker: true\r\n"
           "x-amz-version-id: m-1\r\n", ""),
    answer("204 No Content", "", ""));
  vs_s3_target t = target(s, endpoint);
  vs_s3_delete_result d;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs_s3_delete(&t, "videos", "k", NULL, &d, &err), VS_OK);
  assert_int_equal(d.delete_marker, 1);
  assert_string_equal(d.version_id, "m-1");
  assert_int_equal(vs_s3_delete(&t, "videos", "k", "v/2", &d, &err), VS_OK);
  assert_int_equal(d.delete_marker, 0);
  assert_string_equal(d.version_id, "");
  vst_canned_wait(s);
  assert_request(s, 0, "DELETE", "/videos/k", "", 0);
  assert_request(s, 1, "DELETE", "/videos/k?versionId=v%2F2", "", 0);
  free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_part_retried),
    cmocka_unit_test(test_part_gives_up),
    cmocka_unit_test(test_part_timeout_retried),
    cmocka_unit_test(test_get_stalls),
    cmocka_unit_test(test_part_refusals),
    cmocka_unit_test(test_complete_200_error),
    cmocka_unit_test(test_complete_ok),
    cmocka_unit_test(test_put_if_none_match),
    cmocka_unit_test(test_head_kept_headers),
    cmocka_unit_test(test_get_streamed),
    cmocka_unit_test(test_delete_marker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
