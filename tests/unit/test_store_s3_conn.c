/* store_s3: what a request costs besides its bytes. Calls from one thread
 * go over one kept-alive connection (not a new one each), a connection the
 * server closed while idle (a gateway restarted) is replaced without the
 * call failing, and a body whose MD5 the caller knows (a spool file hashed
 * as it was written) is sent once, with that Content-MD5 signed and
 * x-amz-content-sha256: UNSIGNED-PAYLOAD, instead of being hashed first.
 * The server: HTTP/1.1 with keep-alive on 127.0.0.1, counting its
 * connections. */
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define KEY_ID "AKIDUNITS3CONN000001"
#define SECRET "unitS3ConnSecret/0123456789abcdefghijkl"
#define NOW 1700000000

typedef struct server {
  vst_server srv;
  int max;           /* answers this many requests, then stops */
  int close_after;   /* closes a connection after so many answers; 0: never */
  int accepts, requests;
  vst_req req[VST_REQ_MAX];
} server;

static int more(void *ctx)
{
  server *s = ctx;
  return s->requests < s->max;
}

/* Keep-alive: requests on c until it ends or close_after, each answered
 * 200 with ETag "e<n>" (n counting from 1 across connections). */
static void answer(void *ctx, int c)
{
  server *s = ctx;
  int here;
  s->accepts++;
  for(here = 0; s->requests < s->max &&
                vst_read_request(c, &s->req[s->requests]);) {
    char a[128];
    ssize_t w;
    s->requests++;
    snprintf(a, sizeof(a), "HTTP/1.1 200 OK\r\nETag: \"e%d\"\r\n"
             "Content-Length: 0\r\n\r\n", s->requests);
    w = write(c, a, strlen(a));
    (void)w;
    if(s->close_after && ++here >= s->close_after)
      break;
  }
}

static server *start(int max, int close_after)
{
  server *s = calloc(1, sizeof(*s));
  assert_non_null(s);
  assert_true(max <= VST_REQ_MAX);
  s->max = max;
  s->close_after = close_after;
  s->srv = (vst_server){.fd = -1, .more = more, .answer = answer, .ctx = s};
  assert_int_equal(vst_server_start(&s->srv), 0);
  return s;
}

static void finish(server *s)
{
  vst_server_wait(&s->srv);
}

static int64_t fixed_now(void *ctx)
{
  (void)ctx;
  return (int64_t)NOW * 1000;
}

static vs_s3_target target(const server *s, char *endpoint)
{
  vs_s3_target t = {endpoint, NULL, KEY_ID, SECRET, fixed_now, NULL, 5000,
                    4, 10};
  sprintf(endpoint, "http://127.0.0.1:%d", s->srv.port);
  return t;
}

static void part(const vs_s3_target *t, unsigned n, const char *want_etag)
{
  char etag[VS_S3_ETAG_MAX];
  vs_s3_body b = {"part bytes", -1, 0, 10, NULL};
  vs_err err = {0};
  assert_int_equal(vs_s3_mpu_part(t, "videos", "k", "u", n, &b, etag, &err),
                   VS_OK);
  assert_string_equal(etag, want_etag);
}

/* Three parts, one connection. */
static void test_connection_reused(void **state)
{
  char endpoint[64];
  server *s = start(3, 0);
  vs_s3_target t = target(s, endpoint);
  (void)state;
  part(&t, 1, "e1");
  part(&t, 2, "e2");
  part(&t, 3, "e3");
  finish(s);
  assert_int_equal(s->requests, 3);
  assert_int_equal(s->accepts, 1);
  free(s);
}

/* The server closes each connection after its answer (as a gateway that
 * restarted or dropped idle ones): the next call opens a new one. */
static void test_closed_connection_replaced(void **state)
{
  char endpoint[64];
  server *s = start(3, 1);
  vs_s3_target t = target(s, endpoint);
  (void)state;
  part(&t, 1, "e1");
  usleep(100 * 1000); /* the close reaches the client's socket */
  part(&t, 2, "e2");
  part(&t, 3, "e3");
  finish(s);
  assert_int_equal(s->requests, 3);
  assert_int_equal(s->accepts, 3);
  free(s);
}

/* ---- a body whose MD5 is known ----------------------------------------- */

/* Request i is signed (vsink's verifier accepts it), UNSIGNED-PAYLOAD,
 * with Content-MD5 md5 among the signed headers, and carried body. */
static void assert_unsigned(const server *s, int i, const char *md5,
                            const char *body)
{
  vst_parsed p;
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req;
  vs_sigv4_result res;
  vs_err err = {0};
  assert_int_equal(vst_parse_head(s->req[i].head, &p), 0);
  req = (vs_sigv4_request){p.method, p.uri, vst_lookup, &p};
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", NOW, &res, &err),
                   VS_SIGV4_OK);
  vs_keyring_free(kr);
  assert_string_equal(vst_lookup(&p, "x-amz-content-sha256"),
                      VS_SIGV4_UNSIGNED);
  assert_string_equal(vst_lookup(&p, "content-md5"), md5);
  assert_non_null(strstr(vst_lookup(&p, "authorization"), "content-md5;"));
  assert_int_equal(s->req[i].body_len, strlen(body));
  assert_memory_equal(s->req[i].body, body, strlen(body));
}

static void test_known_md5_unsigned(void **state)
{
  char endpoint[64], etag[VS_S3_ETAG_MAX], md5[25];
  unsigned char d[16];
  server *s = start(2, 0);
  vs_s3_target t = target(s, endpoint);
  vs_s3_body b = {"spooled part", -1, 0, 12, md5};
  vs_s3_put_result r;
  vs_err err = {0};
  (void)state;
  /* not checked here (the server does): any 16 bytes go as they are */
  EVP_Digest("other bytes", 11, d, NULL, EVP_md5(), NULL);
  EVP_EncodeBlock((unsigned char *)md5, d, 16);
  assert_int_equal(vs_s3_mpu_part(&t, "videos", "k", "u", 1, &b, etag, &err),
                   VS_OK);
  assert_int_equal(vs_s3_put(&t, "videos", "k", &b, NULL, &r, &err), VS_OK);
  finish(s);
  assert_int_equal(s->requests, 2);
  assert_unsigned(s, 0, md5, "spooled part");
  assert_unsigned(s, 1, md5, "spooled part");
  free(s);
}

static void test_known_md5_malformed(void **state)
{
  static const char *bad[] = {"", "abc", "AAAAAAAAAAAAAAAAAAAAAA==x",
                              "!!!!!!!!!!!!!!!!!!!!!!==", "QUFBQUFBQUFBQUFB"};
  char etag[VS_S3_ETAG_MAX];
  vs_s3_target t = {"http://127.0.0.1:9", NULL, KEY_ID, SECRET, fixed_now,
                    NULL, 1000, 1, 10};
  vs_s3_body b = {"x", -1, 0, 1, NULL};
  vs_err err = {0};
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    b.md5 = bad[i];
    assert_int_equal(vs_s3_mpu_part(&t, "videos", "k", "u", 1, &b, etag,
                                    &err), VS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "MD5"));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_connection_reused),
    cmocka_unit_test(test_closed_connection_replaced),
    cmocka_unit_test(test_known_md5_unsigned),
    cmocka_unit_test(test_known_md5_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
