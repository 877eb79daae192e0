/* server/pump: every lane of a pipe sees every byte, in order, in buffers
 * that after the first start at aligned offsets; pipes side by side do not
 * mix; a lane's failure stops its pipe with the lane's error; a pipe
 * abandoned half-way gives its buffers back; no free pipe is said at once;
 * a pipe is deep while the pool is half free; an owner's waits are counted
 * for the lane that held it. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "server/pump.h"

/* A lane that hashes what it sees and checks how it was cut. */
typedef struct seen {
  EVP_MD_CTX *md;
  uint64_t offset; /* the upload's bytes before the pipe */
  uint64_t bytes;
  unsigned buffers, misaligned, short_ones;
  size_t last_len;
  unsigned fail_at; /* 0: never; else fail on that buffer (1-based) */
} seen;

static int see(void *ctx, const void *p, size_t n, vs_err *err)
{
  seen *s = ctx;
  /* each buffer after the first starts aligned; the first is cut short
   * to get there, the others are whole but for the last */
  if(s->buffers && (s->offset + s->bytes) % PUMP_ALIGN)
    s->misaligned++;
  if(s->buffers == 1 && s->last_len != PUMP_BUF - s->offset % PUMP_ALIGN)
    s->short_ones++;
  if(s->buffers > 1 && s->last_len != PUMP_BUF)
    s->short_ones++;
  s->buffers++;
  s->last_len = n;
  if(s->fail_at && s->buffers == s->fail_at)
    return vs_fail(err, VS_ERR_NOSPACE, "lane %p: full at %u", ctx,
                   s->buffers);
  EVP_DigestUpdate(s->md, p, n);
  s->bytes += n;
  return 0;
}

static void seen_init(seen *s, uint64_t offset)
{
  memset(s, 0, sizeof(*s));
  s->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
  s->offset = offset;
}

static void seen_digest(seen *s, unsigned char out[32])
{
  unsigned len;
  EVP_DigestFinal_ex(s->md, out, &len);
  EVP_MD_CTX_free(s->md);
  s->md = NULL;
}

static unsigned char *pattern(size_t n, unsigned seed)
{
  unsigned char *d = malloc(n);
  size_t i;
  assert_non_null(d);
  for(i = 0; i < n; i++)
    d[i] = (unsigned char)((i * 2654435761u) >> 13 ^ seed);
  return d;
}

/* total bytes fed in pieces of pseudo-random sizes up to max_piece; every
 * lane's digest is the data's */
static void through(vs__pump *p, size_t total, size_t max_piece,
                    uint64_t offset, unsigned seed)
{
  unsigned char *d = pattern(total, seed), want[32], got[32];
  seen s[3];
  vs__lane_def lanes[3];
  vs__pipe *pp;
  vs_err err = {0};
  size_t off = 0, i;
  unsigned r = seed;
  memset(lanes, 0, sizeof(lanes));
  for(i = 0; i < 3; i++) {
    seen_init(&s[i], offset);
    lanes[i].fn = see;
    lanes[i].ctx = &s[i];
  }
  pp = vs__pipe_open(p, lanes, 3, offset);
  assert_non_null(pp);
  while(off < total) {
    size_t n;
    r = r * 1103515245u + 12345u;
    n = 1 + (r >> 8) % max_piece;
    if(n > total - off)
      n = total - off;
    assert_int_equal(vs__pipe_put(pp, d + off, n, &err), 0);
    off += n;
  }
  assert_int_equal(vs__pipe_end(pp, &err), 0);
  vs__pipe_free(pp);
  EVP_Digest(d, total, want, NULL, EVP_sha256(), NULL);
  for(i = 0; i < 3; i++) {
    seen_digest(&s[i], got);
    assert_memory_equal(got, want, 32);
    assert_int_equal(s[i].bytes, total);
    assert_int_equal(s[i].misaligned, 0);
    assert_int_equal(s[i].short_ones, 0);
    if(total > PUMP_BUF)
      assert_true(s[i].buffers >= total / PUMP_BUF);
  }
  free(d);
}

static void test_in_order(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  (void)state;
  assert_int_equal(vs__pump_start(&p, 3, 2, &err), VS_OK);
  through(p, 9 * PUMP_BUF + 12345, 300000, 0, 1);    /* pieces < a buffer */
  through(p, 7 * PUMP_BUF + 1, 3 * PUMP_BUF, 1048576 + 20000, 2); /* > */
  through(p, 100, 64, 777, 3);                         /* under a buffer */
  through(p, 4 * PUMP_BUF, 4096, 4096, 4);             /* exact buffers */
  vs__pump_stop(p);
}

typedef struct job {
  vs__pump *p;
  unsigned seed;
} job;

static void *one(void *arg)
{
  job *j = arg;
  through(j->p, 5 * PUMP_BUF + j->seed * 999, 200000, j->seed * 4097,
          j->seed);
  return NULL;
}

/* the first pipes are deep while half the pool is free, the next ones
 * shallow, then there is none */
static void test_depths(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  seen s;
  vs__lane_def lane = {see, &s};
  vs__pipe *a, *b, *c;
  (void)state;
  seen_init(&s, 0);
  assert_int_equal(vs__pump_start(&p, 1, PUMP_DEPTH + 3, &err), VS_OK);
  assert_non_null(a = vs__pipe_open(p, &lane, 1, 0));
  assert_int_equal(vs__pipe_depth(a), PUMP_DEPTH);
  assert_non_null(b = vs__pipe_open(p, &lane, 1, 0));
  assert_int_equal(vs__pipe_depth(b), PUMP_DEPTH_MIN);
  assert_null(c = vs__pipe_open(p, &lane, 1, 0));
  vs__pipe_free(a);
  vs__pipe_free(b);
  seen_digest(&s, (unsigned char[32]){0});
  vs__pump_stop(p);
}

/* four pipes at once on two threads, deep and shallow: each its own bytes */
static void test_side_by_side(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  pthread_t t[4];
  job j[4];
  unsigned i;
  (void)state;
  assert_int_equal(vs__pump_start(&p, 2, 4 * PUMP_DEPTH, &err), VS_OK);
  for(i = 0; i < 4; i++) {
    j[i].p = p;
    j[i].seed = i + 10;
    assert_int_equal(pthread_create(&t[i], NULL, one, &j[i]), 0);
  }
  for(i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  vs__pump_stop(p);
}

/* the write lane fails on its third buffer: put or end says so, with the
 * lane's error, and the other lanes stop too */
static void test_failure(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  unsigned char *d = pattern(20 * PUMP_BUF, 5);
  seen s[2];
  vs__lane_def lanes[2] = {{see, &s[0]}, {see, &s[1]}};
  vs__pipe *pp;
  size_t off;
  int rc = 0;
  (void)state;
  seen_init(&s[0], 0);
  seen_init(&s[1], 0);
  s[1].fail_at = 3;
  assert_int_equal(vs__pump_start(&p, 2, 1, &err), VS_OK);
  pp = vs__pipe_open(p, lanes, 2, 0);
  assert_non_null(pp);
  for(off = 0; !rc && off < 20 * PUMP_BUF; off += 65536)
    rc = vs__pipe_put(pp, d + off, 65536, &err);
  if(!rc)
    rc = vs__pipe_end(pp, &err);
  assert_int_equal(rc, -1);
  assert_int_equal(err.code, VS_ERR_NOSPACE);
  assert_non_null(strstr(err.msg, "full at 3"));
  /* stopped well before the end: at most the buffers in flight more */
  assert_true(off <= (3 + PUMP_DEPTH + 1) * (size_t)PUMP_BUF);
  assert_true(s[0].buffers <= 3 + PUMP_DEPTH);
  vs__pipe_free(pp);
  seen_digest(&s[0], (unsigned char[32]){0});
  seen_digest(&s[1], (unsigned char[32]){0});
  vs__pump_stop(p);
  free(d);
}

/* room for one pipe: a second is refused at once, and a pipe abandoned
 * half-way (its buffers still with the lanes) makes room again */
static void test_no_free_pipe(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  unsigned char *d = pattern(4 * PUMP_BUF, 6);
  seen s;
  vs__lane_def lane = {see, &s};
  vs__pipe *a, *b;
  (void)state;
  seen_init(&s, 0);
  assert_int_equal(vs__pump_start(&p, 1, 1, &err), VS_OK);
  a = vs__pipe_open(p, &lane, 1, 0);
  assert_non_null(a);
  assert_null(vs__pipe_open(p, &lane, 1, 0));
  assert_int_equal(vs__pipe_put(a, d, 4 * PUMP_BUF, &err), 0);
  vs__pipe_free(a); /* no end: abandoned */
  b = vs__pipe_open(p, &lane, 1, 0);
  assert_non_null(b);
  vs__pipe_free(b);
  assert_null(vs__pipe_open(p, &lane, 0, 0)); /* no lane: refused */
  seen_digest(&s, (unsigned char[32]){0});
  vs__pump_stop(p);
  free(d);
}

/* Lanes that only count, one at once and one taking 100 ms a buffer (so
 * the owner, which copies a MiB in well under that even under valgrind,
 * always finds the slow lane still busy). */
static int quick(void *ctx, const void *p, size_t n, vs_err *err)
{
  (void)p;
  (void)err;
  *(size_t *)ctx += n;
  return 0;
}

static int slow(void *ctx, const void *p, size_t n, vs_err *err)
{
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  return quick(ctx, p, n, err);
}

/* an owner that must stop for a buffer is counted once, for the lane
 * whose buffer ended the stop: the slow one, whether the owner waited
 * (put) or was told there is no room and came back (offer) */
static void test_waits(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  unsigned char *d = pattern(8 * PUMP_BUF, 7);
  size_t bytes[2] = {0, 0}, took = 0;
  vs__lane_def lanes[2] = {{quick, &bytes[0], 1}, {slow, &bytes[1], 2}};
  vs__pipe *pp;
  (void)state;
  assert_int_equal(vs__pump_start(&p, 2, PUMP_DEPTH_MIN, &err), VS_OK);
  assert_int_equal(vs__pump_waits(p, 2), 0);
  pp = vs__pipe_open(p, lanes, 2, 0);
  assert_non_null(pp);
  assert_int_equal(vs__pipe_depth(pp), PUMP_DEPTH_MIN);
  /* eight buffers through two: the owner waits for the third to the
   * eighth (the end waits for the lanes, which is no stop for room) */
  assert_int_equal(vs__pipe_put(pp, d, 8 * PUMP_BUF, &err), 0);
  assert_int_equal(vs__pipe_end(pp, &err), 0);
  assert_int_equal(bytes[0], 8 * PUMP_BUF);
  assert_int_equal(bytes[1], 8 * PUMP_BUF);
  assert_int_equal(vs__pump_waits(p, 2), 8 - PUMP_DEPTH_MIN);
  assert_int_equal(vs__pump_waits(p, 1), 0);
  vs__pipe_free(pp);
  /* offer: it takes what the two buffers hold, then no room; the stop is
   * counted when the slow lane gives a buffer back */
  pp = vs__pipe_open(p, lanes, 2, 0);
  assert_non_null(pp);
  assert_int_equal(vs__pipe_offer(pp, d, 3 * PUMP_BUF, &took, &err), 0);
  assert_int_equal(took, PUMP_DEPTH_MIN * (size_t)PUMP_BUF);
  assert_int_equal(vs__pipe_put(pp, d + took, 3 * PUMP_BUF - took, &err), 0);
  assert_int_equal(vs__pipe_end(pp, &err), 0);
  assert_int_equal(vs__pump_waits(p, 2), 8 - PUMP_DEPTH_MIN + 1);
  assert_int_equal(vs__pump_waits(p, 1), 0);
  vs__pipe_free(pp);
  /* no such kind, no pump */
  assert_int_equal(vs__pump_waits(p, PUMP_LANES), 0);
  assert_int_equal(vs__pump_waits(NULL, 2), 0);
  vs__pump_stop(p);
  free(d);
}

/* A hashing lane that waits 30 ms before each buffer. */
static int late_see(void *ctx, const void *p, size_t n, vs_err *err)
{
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
  return see(ctx, p, n, err);
}

/* put right after an offer found no room (as an owner does when it may
 * not park: the server is stopping) waits for the slot: the buffer a lane
 * is still reading is not written over, and every lane sees the data */
static void test_put_after_offer(void **state)
{
  vs__pump *p = NULL;
  vs_err err = {0};
  size_t total = 3 * PUMP_BUF, took = 0, i;
  unsigned char *d = pattern(total, 8), want[32], got[32];
  seen s[2];
  vs__lane_def lanes[2] = {{see, &s[0]}, {late_see, &s[1]}};
  vs__pipe *pp;
  (void)state;
  for(i = 0; i < total; i++) /* the pattern repeats every 2 MiB */
    d[i] ^= (unsigned char)(i >> 20);
  seen_init(&s[0], 0);
  seen_init(&s[1], 0);
  assert_int_equal(vs__pump_start(&p, 2, PUMP_DEPTH_MIN, &err), VS_OK);
  pp = vs__pipe_open(p, lanes, 2, 0);
  assert_non_null(pp);
  assert_int_equal(vs__pipe_offer(pp, d, total, &took, &err), 0);
  assert_int_equal(took, PUMP_DEPTH_MIN * (size_t)PUMP_BUF);
  assert_int_equal(vs__pipe_put(pp, d + took, total - took, &err), 0);
  assert_int_equal(vs__pipe_end(pp, &err), 0);
  vs__pipe_free(pp);
  EVP_Digest(d, total, want, NULL, EVP_sha256(), NULL);
  for(i = 0; i < 2; i++) {
    seen_digest(&s[i], got);
    assert_memory_equal(got, want, 32);
  }
  vs__pump_stop(p);
  free(d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_in_order),
    cmocka_unit_test(test_depths),
    cmocka_unit_test(test_side_by_side),
    cmocka_unit_test(test_failure),
    cmocka_unit_test(test_no_free_pipe),
    cmocka_unit_test(test_waits),
    cmocka_unit_test(test_put_after_offer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
