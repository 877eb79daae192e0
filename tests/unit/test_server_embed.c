/* server: the sink driven as a library, no subprocess: a presigned PUT is
 * stored and recorded; the server's injected clock decides expiry exactly
 * (one second before the end the URL works, at the end it does not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "vsink/server.h"

#define T0 1795522500LL /* 2026-11-24T12:15:00Z */

typedef struct fx {
  char dir[256];
  vs_store *store;
  vs_manifest *man;
  vs_server *srv;
  int64_t now_ms;
} fx;

static int64_t fake_now(void *ctx)
{
  return ((fx *)ctx)->now_ms;
}

static int setup(void **state)
{
  fx *f = calloc(1, sizeof(*f));
  char mdir[300];
  static const char *buckets[] = {"videos"};
  vs_store_fs_opts so = {0};
  vs_manifest_opts mo = {0};
  vs_server_config c = {0};
  vs_keyring *kr = vs_keyring_new();
  vs_err err = {0};
  if(!f || !kr || vst_tmpdir("srv", f->dir, sizeof(f->dir)))
    return -1;
  f->now_ms = T0 * 1000;
  so.dir = f->dir;
  snprintf(mdir, sizeof(mdir), "%s/manifest", f->dir);
  mo.dir = mdir;
  mo.node = "test";
  if(vs_store_fs_open(&f->store, &so, NULL, &err) ||
     vs_manifest_open(&f->man, &mo, &err) ||
     vs_keyring_add(kr, "AKIDEMBED", "embedsecret", &err))
    return -1;
  c.listen = "127.0.0.1:0";
  c.buckets = buckets;
  c.n_buckets = 1;
  c.region = "us-east-1";
  c.threads = 1;
  c.store = f->store;
  c.manifest = f->man;
  c.keys = kr;
  c.now = fake_now;
  c.now_ctx = f;
  if(vs_server_start(&f->srv, &c, &err)) {
    fprintf(stderr, "start: %s\n", err.msg);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  vs_server_free(f->srv);
  vs_manifest_close(f->man);
  vs_store_close(f->store);
  vst_rmrf(f->dir);
  free(f);
  return 0;
}

static char *presign(fx *f, const char *method, const char *path,
                     int64_t expires)
{
  char endpoint[64];
  char *url = NULL;
  vs_sigv4_creds c = {"AKIDEMBED", "embedsecret", "us-east-1", "s3"};
  vs_presign_req r = {method, endpoint, path, NULL, T0, expires};
  snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u",
           vs_server_port(f->srv));
  assert_int_equal(vs_sigv4_presign(&c, &r, &url, NULL), VS_OK);
  return url;
}

/* One HTTP/1.0 request over a plain socket; returns the status code. */
static int http(fx *f, const char *method, const char *url, const char *body)
{
  struct sockaddr_in a = {0};
  char req[4096], resp[1024];
  const char *path = strstr(url + 7, "/");
  int s = socket(AF_INET, SOCK_STREAM, 0), status = -1;
  ssize_t n;
  size_t got = 0;
  a.sin_family = AF_INET;
  a.sin_port = htons(vs_server_port(f->srv));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
  snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n"
           "Content-Length: %zu\r\n\r\n%s", method, path,
           vs_server_port(f->srv), strlen(body), body);
  assert_int_equal(write(s, req, strlen(req)), (ssize_t)strlen(req));
  while((n = read(s, resp + got, sizeof(resp) - 1 - got)) > 0)
    got += (size_t)n;
  resp[got] = 0;
  close(s);
  sscanf(resp, "HTTP/1.%*d %d", &status);
  return status;
}

static int count_stored(fx *f)
{
  char mdir[300];
  snprintf(mdir, sizeof(mdir), "%s/manifest", f->dir);
  return vst_count_lines_with(mdir, "\"event\":\"stored\"");
}

static void test_put_and_expiry(void **state)
{
  fx *f = *state;
  char *url = presign(f, "PUT", "/videos/a.mp4", 60);
  f->now_ms = (T0 + 59) * 1000;
  assert_int_equal(http(f, "PUT", url, "hello"), 200);
  assert_int_equal(count_stored(f), 1);
  f->now_ms = (T0 + 60) * 1000; /* X-Amz-Date + X-Amz-Expires: over */
  assert_int_equal(http(f, "PUT", url, "again"), 403);
  assert_int_equal(count_stored(f), 1);
  free(url);
  url = presign(f, "GET", "/videos/a.mp4", 60);
  f->now_ms = T0 * 1000;
  assert_int_equal(http(f, "GET", url, ""), 200);
  free(url);
}

static void test_shutdown_idle(void **state)
{
  fx *f = *state;
  assert_int_equal(vs_server_in_flight(f->srv), 0);
  assert_int_equal(vs_server_shutdown(f->srv, 1), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_put_and_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(test_shutdown_idle, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
