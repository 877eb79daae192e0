/* Helpers of rgw_store_test.c (see there): the cluster's settings, stores
 * under the run's prefix, bodies of deterministic bytes uploaded and read
 * back through the store with their digests. */
#define _GNU_SOURCE
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
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "rgw_store_help.h"
vs_s3_target T;
const char *BUCKET, *PLAIN;
char PREFIX[64], DIR_[512];
uint64_t COPY_MAX;

/* ---- helpers ------------------------------------------------------------ */

vs_store *open_store(const char *bucket, const char *sub, int req)
{
  static vs_store_s3_opts o; /* the store keeps o's strings */
  static char spool[600], state[600];
  vs_store *s = NULL;
  vs_err e = {0};
  int rc;
  snprintf(spool, sizeof(spool), "%s/%s/spool", DIR_, sub);
  snprintf(state, sizeof(state), "%s/%s/state", DIR_, sub);
  memset(&o, 0, sizeof(o));
  o.t = T;
  o.bucket = bucket;
  o.prefix = PREFIX;
  o.spool_dir = spool;
  o.state_dir = state;
  o.require_versioning = req;
  o.copy_max = COPY_MAX;
  rc = vs_store_s3_open(&s, &o, &e);
  if(rc)
    fail_msg("open: %s", e.msg);
  return s;
}


void gen_fill(gen *g, unsigned char *p, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++) {
    g->x ^= g->x << 13;
    g->x ^= g->x >> 7;
    g->x ^= g->x << 17;
    p[i] = (unsigned char)(g->x >> 24);
  }
}

void hex(const unsigned char *d, size_t n, char *out)
{
  size_t i;
  for(i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}


void dg_init(digests *d)
{
  d->sha = EVP_MD_CTX_new();
  d->md5 = EVP_MD_CTX_new();
  EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL);
  EVP_DigestInit_ex(d->md5, EVP_md5(), NULL);
}

void dg_add(digests *d, const void *p, size_t n)
{
  EVP_DigestUpdate(d->sha, p, n);
  EVP_DigestUpdate(d->md5, p, n);
}

void dg_end(digests *d)
{
  unsigned char b[32];
  EVP_DigestFinal_ex(d->sha, b, NULL);
  hex(b, 32, d->sha_hex);
  EVP_DigestFinal_ex(d->md5, b, NULL);
  hex(b, 16, d->md5_hex);
  EVP_MD_CTX_free(d->sha);
  EVP_MD_CTX_free(d->md5);
}


/* Uploads a.bytes of stream a.seed; the commit's result code, info and
 * the digests. */
int put(vs_store *s, const char *b, const char *k, const put_args *a,
               vs_object_info *info, digests *d, vs_err *e)
{
  enum { CHUNK = 1 << 20 };
  unsigned char *buf = malloc(CHUNK);
  vs_upload *u = NULL;
  vs_commit c;
  gen g = {a->seed * 2654435761ULL + 88172645463325252ULL};
  uint64_t left = a->bytes;
  int rc = vs_store_begin(s, b, k, &u, e);
  assert_non_null(buf);
  if(rc) {
    free(buf);
    return rc;
  }
  if(a->expect)
    assert_int_equal(vs_store_expect(s, u, a->bytes, e), VS_OK);
  assert_int_equal(vs_store_describe(s, u, a->ctype, a->headers, e), VS_OK);
  dg_init(d);
  while(left) {
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    gen_fill(&g, buf, n);
    dg_add(d, buf, n);
    if((rc = vs_store_write(s, u, buf, n, e))) {
      vs_store_abort(s, u);
      dg_end(d);
      free(buf);
      return rc;
    }
    left -= n;
  }
  dg_end(d);
  free(buf);
  memset(&c, 0, sizeof(c));
  c.bytes = a->bytes;
  c.sha256 = d->sha_hex;
  c.md5 = d->md5_hex;
  c.content_type = a->ctype;
  c.headers = a->headers;
  c.policy = a->policy;
  c.defer_overwrite = a->defer;
  c.if_none_match = a->if_none_match;
  c.if_match = a->if_match;
  c.checksum_alg = "crc32";
  c.checksum = "AAAAAA==";
  return vs_store_commit(s, u, &c, info, e);
}

void put_ok(vs_store *s, const char *b, const char *k, uint64_t bytes,
                   uint64_t seed, vs_object_info *info, digests *d)
{
  put_args a = {0};
  vs_err e = {0};
  a.bytes = bytes, a.seed = seed;
  if(put(s, b, k, &a, info, d, &e))
    fail_msg("put %s/%s: %s", b, k, e.msg);
}

/* Reads [off, off + len) of a version through stream into its SHA-256;
 * returns the bytes read. */
uint64_t stream_sha(vs_store *s, const char *b, const char *k,
                           const char *vid, uint64_t off, uint64_t len,
                           char out[65], unsigned char *copy)
{
  EVP_MD_CTX *sha = EVP_MD_CTX_new();
  unsigned char buf[65536], d[32];
  uint64_t got = 0;
  vs_err e = {0};
  ssize_t r;
  int fd;
  if(vs_store_stream(s, b, k, vid, off, len, &fd, &e))
    fail_msg("stream: %s", e.msg);
  EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
  while((r = read(fd, buf, sizeof(buf))) > 0) {
    EVP_DigestUpdate(sha, buf, (size_t)r);
    if(copy)
      memcpy(copy + got, buf, (size_t)r);
    got += (uint64_t)r;
  }
  close(fd);
  EVP_DigestFinal_ex(sha, d, NULL);
  EVP_MD_CTX_free(sha);
  hex(d, 32, out);
  return got;
}

size_t count_versions(vs_store *s, const char *b, const char *k,
                             char ***ids)
{
  size_t n = 0;
  vs_err e = {0};
  if(vs_store_versions(s, b, k, ids, &n, &e))
    fail_msg("versions: %s", e.msg);
  return n;
}

void free_ids(char **ids, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
}

size_t uploads_under(const char *b)
{
  vs_s3_uploads_page pg;
  vs_err e = {0};
  char pre[256];
  size_t n;
  snprintf(pre, sizeof(pre), "%s/%s/", PREFIX, b);
  if(vs_s3_mpu_list(&T, BUCKET, pre, NULL, NULL, &pg, &e))
    fail_msg("mpu list: %s", e.msg);
  n = pg.n;
  vs_s3_uploads_page_free(&pg);
  return n;
}

/* VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec,
 * so it would start at the peak of the Python that ran us. */
long maxrss_kib(void)
{
  char line[256];
  long kib = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if(!f)
    return -1;
  while(fgets(line, sizeof(line), f))
    if(sscanf(line, "VmHWM: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

/* ---- a gate in front of the cluster ------------------------------------- */

typedef struct relay {
  int a, b;
  gate *g;
} relay;

/* A request the client starts (its request line ends in the bytes read):
 * 0 to pass it on, -1 when the gate allows no more (gate_allow), which
 * closes it. A kept-alive connection carries several requests, so the
 * gate counts requests, not connections. */
static int count_requests(gate *g, const char *p, size_t n)
{
  const char *end = p + n, *q;
  for(; (q = memmem(p, (size_t)(end - p), "HTTP/1.1\r\n", 10)); p = q + 10) {
    if(!__atomic_load_n(&g->counting, __ATOMIC_SEQ_CST))
      return 0;
    if(__atomic_sub_fetch(&g->left, 1, __ATOMIC_SEQ_CST) < 0) {
      __atomic_store_n(&g->open, 0, __ATOMIC_SEQ_CST);
      return -1;
    }
  }
  return 0;
}

/* Copies both ways until either side ends, or the gate closes: a cluster
 * that goes away takes its connections with it, kept-alive ones too. */
static void *relay_main(void *arg)
{
  relay *r = arg;
  char buf[65536];
  struct pollfd p[2] = {{r->a, POLLIN, 0}, {r->b, POLLIN, 0}};
  int idle_ms = 0;
  for(;;) {
    int i, ready = poll(p, 2, 50);
    if(ready < 0 || !__atomic_load_n(&r->g->open, __ATOMIC_SEQ_CST) ||
       (!ready && (idle_ms += 50) >= 60000))
      break;
    if(ready)
      idle_ms = 0;
    for(i = 0; i < 2; i++) {
      ssize_t n;
      if(!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      n = read(p[i].fd, buf, sizeof(buf));
      if(n <= 0 || (i == 0 && count_requests(r->g, buf, (size_t)n)) ||
         write(p[1 - i].fd, buf, (size_t)n) != n)
        goto out;
    }
  }
out:
  close(r->a);
  close(r->b);
  __atomic_sub_fetch(&r->g->relays, 1, __ATOMIC_SEQ_CST);
  free(r);
  return NULL;
}

static void *gate_main(void *arg)
{
  gate *g = arg;
  for(;;) {
    int c = accept(g->lfd, NULL, NULL), u;
    relay *r;
    pthread_t th;
    if(c < 0)
      return NULL; /* shut down */
    if(!__atomic_load_n(&g->open, __ATOMIC_SEQ_CST) ||
       (u = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
      close(c);
      continue;
    }
    if(connect(u, (struct sockaddr *)&g->up, sizeof(g->up)) ||
       !(r = malloc(sizeof(*r)))) {
      close(u);
      close(c);
      continue;
    }
    r->a = c, r->b = u, r->g = g;
    __atomic_add_fetch(&g->relays, 1, __ATOMIC_SEQ_CST);
    if(pthread_create(&th, NULL, relay_main, r)) {
      __atomic_sub_fetch(&g->relays, 1, __ATOMIC_SEQ_CST);
      close(u), close(c), free(r);
      continue;
    }
    pthread_detach(th);
  }
}

int gate_start(gate *g, const char *endpoint)
{
  struct sockaddr_in a = {0};
  socklen_t al = sizeof(a);
  const char *colon = strrchr(endpoint, ':');
  memset(g, 0, sizeof(*g));
  g->open = 1;
  g->up.sin_family = AF_INET;
  g->up.sin_port = htons((uint16_t)atoi(colon + 1));
  g->up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if((g->lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
     bind(g->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(g->lfd, 64) ||
     getsockname(g->lfd, (struct sockaddr *)&a, &al))
    return -1;
  snprintf(g->endpoint, sizeof(g->endpoint), "http://127.0.0.1:%d",
           ntohs(a.sin_port));
  return pthread_create(&g->th, NULL, gate_main, g) ? -1 : 0;
}

void gate_set(gate *g, int open)
{
  __atomic_store_n(&g->counting, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g->open, open, __ATOMIC_SEQ_CST);
}

void gate_allow(gate *g, int n)
{
  __atomic_store_n(&g->left, n, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g->counting, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g->open, 1, __ATOMIC_SEQ_CST);
}

void gate_stop(gate *g)
{
  gate_set(g, 0); /* the relays end within their poll (g goes with us) */
  shutdown(g->lfd, SHUT_RDWR);
  pthread_join(g->th, NULL);
  close(g->lfd);
  while(__atomic_load_n(&g->relays, __ATOMIC_SEQ_CST))
    usleep(10000);
}
