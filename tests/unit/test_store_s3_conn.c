/* store_s3: what a request costs besides its bytes. Calls from one thread
 * go over one kept-alive connection (not a new one each), a connection the
 * server closed while idle (a gateway restarted) is replaced without the
 * call failing, and a body whose MD5 the caller knows (a spool file hashed
 * as it was written) is sent once, with that Content-MD5 signed and
 * x-amz-content-sha256: UNSIGNED-PAYLOAD, instead of being hashed first.
 * The server: HTTP/1.1 with keep-alive on 127.0.0.1, counting its
 * connections. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "vsink/s3.h"
#include "vsink/sigv4.h"

#define KEY_ID "AKIDUNITS3CONN000001"
#define SECRET "unitS3ConnSecret/0123456789abcdefghijkl"
#define NOW 1700000000
#define MAX_REQ 4
#define BODY_MAX 65536

typedef struct server {
  int fd, port;
  int max;           /* answers this many requests, then stops */
  int close_after;   /* closes a connection after so many answers; 0: never */
  int accepts, requests;
  char head[MAX_REQ][4096];
  char body[MAX_REQ][BODY_MAX];
  size_t body_len[MAX_REQ];
  pthread_t th;
} server;

static size_t read_some(int c, char *out, size_t cap)
{
  struct pollfd p = {c, POLLIN, 0};
  ssize_t r;
  if(poll(&p, 1, 5000) != 1 || (r = read(c, out, cap)) <= 0)
    return 0;
  return (size_t)r;
}

/* Request i from c: 0 when the connection ended first. Requests carry no
 * pipelined bytes past their body (one at a time). */
static int read_request(server *s, int i, int c)
{
  char *h = s->head[i], *end = NULL, *cl;
  size_t len = 0, n, want = 0, have;
  while(len + 1 < sizeof(s->head[i]) &&
        (n = read_some(c, h + len, sizeof(s->head[i]) - 1 - len)) > 0) {
    len += n;
    h[len] = 0;
    if((end = strstr(h, "\r\n\r\n")))
      break;
  }
  if(!end)
    return 0;
  end += 4;
  have = len - (size_t)(end - h);
  if((cl = strcasestr(h, "\r\ncontent-length:")))
    want = strtoul(cl + 17, NULL, 10);
  memcpy(s->body[i], end, have);
  *end = 0;
  if(strcasestr(h, "\r\nexpect: 100-continue")) {
    ssize_t w = write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    (void)w;
  }
  while(have < want && have < BODY_MAX &&
        (n = read_some(c, s->body[i] + have, BODY_MAX - have)) > 0)
    have += n;
  s->body_len[i] = have;
  return 1;
}

static void *serve(void *arg)
{
  server *s = arg;
  struct pollfd p = {s->fd, POLLIN, 0};
  int c, here;
  while(s->requests < s->max && poll(&p, 1, 5000) == 1) {
    if((c = accept(s->fd, NULL, NULL)) < 0)
      break;
    s->accepts++;
    for(here = 0; s->requests < s->max &&
                  read_request(s, s->requests, c);) {
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
    close(c);
  }
  return NULL;
}

static server *start(int max, int close_after)
{
  server *s = calloc(1, sizeof(*s));
  struct sockaddr_in sa = {0};
  socklen_t len = sizeof(sa);
  assert_non_null(s);
  s->max = max;
  s->close_after = close_after;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_true(s->fd >= 0);
  assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(s->fd, 8), 0);
  assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
  s->port = ntohs(sa.sin_port);
  assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
  return s;
}

static void finish(server *s)
{
  pthread_join(s->th, NULL);
  close(s->fd);
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
  sprintf(endpoint, "http://127.0.0.1:%d", s->port);
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

typedef struct parsed {
  char method[16], uri[1024];
  char names[24][64], values[24][512];
  int n;
} parsed;

static void parse_head(const char *raw, parsed *p)
{
  const char *line = strstr(raw, "\r\n");
  memset(p, 0, sizeof(*p));
  assert_non_null(line);
  assert_int_equal(sscanf(raw, "%15s %1023s", p->method, p->uri), 2);
  for(line += 2; *line && strncmp(line, "\r\n", 2) && p->n < 24;) {
    const char *colon = strchr(line, ':'), *eol = strstr(line, "\r\n");
    const char *v = colon + 1;
    assert_non_null(colon);
    assert_non_null(eol);
    snprintf(p->names[p->n], 64, "%.*s", (int)(colon - line), line);
    while(*v == ' ')
      v++;
    snprintf(p->values[p->n], 512, "%.*s", (int)(eol - v), v);
    p->n++;
    line = eol + 2;
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

/* Request i is signed (vsink's verifier accepts it), UNSIGNED-PAYLOAD,
 * with Content-MD5 md5 among the signed headers, and carried body. */
static void assert_unsigned(const server *s, int i, const char *md5,
                            const char *body)
{
  parsed p;
  vs_keyring *kr = vs_keyring_new();
  vs_sigv4_request req;
  vs_sigv4_result res;
  vs_err err = {0};
  parse_head(s->head[i], &p);
  req = (vs_sigv4_request){p.method, p.uri, lookup, &p};
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  assert_int_equal(vs_sigv4_verify(&req, kr, "us-east-1", NOW, &res, &err),
                   VS_SIGV4_OK);
  vs_keyring_free(kr);
  assert_string_equal(lookup(&p, "x-amz-content-sha256"), VS_SIGV4_UNSIGNED);
  assert_string_equal(lookup(&p, "content-md5"), md5);
  assert_non_null(strstr(lookup(&p, "authorization"), "content-md5;"));
  assert_int_equal(s->body_len[i], strlen(body));
  assert_memory_equal(s->body[i], body, strlen(body));
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
