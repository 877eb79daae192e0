/* store_s3: vs_s3_head against a scripted HTTP server on 127.0.0.1 that
 * sends exactly the answers a real server might (and some it should not):
 * the request is signed so that vsink's verifier accepts it, every header
 * lands in its field, malformed or missing headers and each error status
 * give their precise error, and a silent server times out. (The same calls
 * against a real Ceph RGW: tests/integration/test_rgw_presign.py.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define KEY_ID "AKIDUNITS3HEAD000001"
#define SECRET "unitS3HeadSecret/0123456789abcdefghijk"
#define NOW 1700000000 /* 20231114T221320Z */
#define MAX_CONN 3

/* A server that answers its i-th connection with answers[i] (NULL: read
 * the request and say nothing until the client hangs up). */
typedef struct canned {
  int fd, port, n;
  const char *answers[MAX_CONN];
  char req[MAX_CONN][4096];
  int got;
  pthread_t th;
} canned;

static void read_request(int c, char *out, size_t cap)
{
  size_t len = 0;
  ssize_t r;
  struct pollfd p = {c, POLLIN, 0};
  while(len + 1 < cap && poll(&p, 1, 5000) == 1 &&
        (r = read(c, out + len, cap - 1 - len)) > 0) {
    len += (size_t)r;
    out[len] = 0;
    if(strstr(out, "\r\n\r\n"))
      break;
  }
}

static void *serve(void *arg)
{
  canned *s = arg;
  struct pollfd p = {s->fd, POLLIN, 0};
  int i, c;
  char sink[256];
  for(i = 0; i < s->n && poll(&p, 1, 5000) == 1; i++) {
    if((c = accept(s->fd, NULL, NULL)) < 0)
      break;
    read_request(c, s->req[i], sizeof(s->req[i]));
    s->got = i + 1;
    if(s->answers[i]) {
      ssize_t w = write(c, s->answers[i], strlen(s->answers[i]));
      (void)w;
    }
    else {
      struct pollfd q = {c, POLLIN, 0};
      while(poll(&q, 1, 5000) == 1 && read(c, sink, sizeof(sink)) > 0)
        ;
    }
    close(c);
  }
  return NULL;
}

static canned *start(int n, const char *a0, const char *a1)
{
  canned *s = calloc(1, sizeof(*s));
  struct sockaddr_in sa = {0};
  socklen_t len = sizeof(sa);
  assert_non_null(s);
  s->n = n;
  s->answers[0] = a0;
  s->answers[1] = a1;
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s->fd >= 0);
  assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(s->fd, 8), 0);
  assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
  s->port = ntohs(sa.sin_port);
  assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
  return s;
}

static void finish(canned *s)
{
  pthread_join(s->th, NULL);
  close(s->fd);
  free(s);
}

static int64_t fixed_now(void *ctx)
{
  (void)ctx;
  return (int64_t)NOW * 1000 + 999;
}

/* HEAD against the canned server. */
static int head(canned *s, const char *key, long timeout_ms,
                vs_object_info *info, vs_err *err)
{
  char endpoint[64];
  vs_s3_target t = {endpoint, NULL, KEY_ID, SECRET, fixed_now, NULL,
                    timeout_ms};
  snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", s->port);
  return vs_s3_head(&t, "videos", key, info, err);
}

/* ---- checking the request with vsink's own verifier ------------------- */
typedef struct parsed {
  char method[16], uri[1024];
  char *names[32], *values[32];
  int n;
  char copy[4096];
} parsed;

static void parse_request(const char *raw, parsed *p)
{
  char *line, *save = NULL;
  memset(p, 0, sizeof(*p));
  snprintf(p->copy, sizeof(p->copy), "%s", raw);
  line = strtok_r(p->copy, "\r\n", &save);
  assert_non_null(line);
  assert_int_equal(sscanf(line, "%15s %1023s", p->method, p->uri), 2);
  while((line = strtok_r(NULL, "\r\n", &save)) && p->n < 32) {
    char *colon = strchr(line, ':');
    assert_non_null(colon);
    *colon = 0;
    p->names[p->n] = line;
    p->values[p->n++] = colon + 1 + strspn(colon + 1, " ");
  }
}

static const char *lookup(void *ctx, const char *name)
{
  parsed *p = ctx;
  int i;
  for(i = 0; i < p->n; i++)
    if(!strcasecmp(p->names[i], name))
      return p->values[i];
  return NULL;
}

static void assert_signed(const char *raw, const char *method,
                          const char *uri)
{
  parsed p;
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req;
  vs_sigv4_result res;
  vs_err err = {0};
  parse_request(raw, &p);
  assert_string_equal(p.method, method);
  assert_string_equal(p.uri, uri);
  assert_string_equal(lookup(&p, "x-amz-date"), "20231114T221320Z");
  assert_string_equal(lookup(&p, "x-amz-content-sha256"),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                      "649b934ca495991b7852b855");
  assert_non_null(strstr(lookup(&p, "authorization"),
                         "Credential=" KEY_ID "/20231114/us-east-1/s3/"
                         "aws4_request, SignedHeaders=host;"
                         "x-amz-content-sha256;x-amz-date, Signature="));
  assert_non_null(kr);
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  req = (vs_sigv4_request){p.method, p.uri, lookup, &p};
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", NOW, &res, &err),
                   VS_SIGV4_OK);
  assert_int_equal(res.presigned, 0);
  vs_keyring_free(kr);
}

/* ---- tests --------------------------------------------------------------- */
static void test_fields(void **state)
{
  canned *s = start(1,
    "HTTP/1.1 200 OK\r\nContent-Length: 12345678901\r\n"
    "ETag: \"0123456789abcdef0123456789abcdef-3\"\r\n"
    "content-type:video/mp4\r\n"
    "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
    "x-amz-version-id: 3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY\r\n"
    "x-amz-checksum-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\r\n"
    "Connection: close\r\n\r\n", NULL);
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
  canned *s = start(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n", NULL);
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
  canned *s = start(1, answer, NULL);
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
  canned *s = start(1, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                       "Connection: close\r\n\r\n", NULL);
  vs_object_info info;
  vs_err err = {0};
  (void)state;
  assert_int_equal(head(s, "a b/ü+~.mp4", 0, &info, &err), VS_OK);
  assert_int_equal(s->got, 1);
  assert_signed(s->req[0], "HEAD", "/videos/a%20b/%C3%BC%2B~.mp4");
  finish(s);
}

/* An error status: the HEAD, then one GET of the same URL for the code. */
static void expect_status(const char *status_line, const char *get_answer,
                          int code, const char *text)
{
  char head_answer[256];
  canned *s;
  vs_object_info info;
  vs_err err = {0};
  snprintf(head_answer, sizeof(head_answer),
           "%s\r\nContent-Length: 200\r\nConnection: close\r\n\r\n",
           status_line);
  s = start(2, head_answer, get_answer);
  assert_int_equal(head(s, "dir/k.mp4", 0, &info, &err), code);
  assert_int_equal(s->got, 2);
  assert_signed(s->req[1], "GET", "/videos/dir/k.mp4");
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
  canned *s = start(1, NULL, NULL);
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
  canned *s = start(0, NULL, NULL); /* listens, then closes: nobody home */
  int port = s->port;
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
