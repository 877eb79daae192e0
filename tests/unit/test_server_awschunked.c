/* server: the aws-chunked decoder (chunked.c) and the chunk signature chain
 * (sigv4_chunk.c). AWS's "Example: PUT Object" of the chunked-upload page
 * (64 KiB chunks) is reproduced to the byte: its seed signature verifies,
 * the chain yields its three chunk signatures, and the body decodes. Valid
 * bodies of every mode decode the same whatever the pieces they arrive in;
 * forged, truncated, oversized and ill-framed ones are refused with S3's
 * code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "server/internal.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T20130524 1369353600
#define AMZDATE "20130524T000000Z"
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define SIG1 "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2 "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3 "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"

/* ---- what the decoder hands out ---------------------------------------- */
typedef struct sink {
  unsigned char *out;
  size_t n, cap;
  char trailer[128];
  int trailers;
  size_t take_max; /* 0: all; else pause after this many (a full pipe) */
} sink;

static int on_data(void *arg, const char *p, size_t n, size_t *took)
{
  sink *s = arg;
  if(s->take_max && n > s->take_max)
    n = s->take_max;
  *took = n;
  if(s->n + n > s->cap)
    return -1;
  memcpy(s->out + s->n, p, n);
  s->n += n;
  return 0;
}

static int on_trailer(void *arg, const char *name, const char *value)
{
  sink *s = arg;
  s->trailers++;
  snprintf(s->trailer, sizeof(s->trailer), "%s=%s", name, value);
  return strcmp(value, "bad") ? 0 : -1;
}

static vs_sigv4_chain seed_chain(void)
{
  vs_sigv4_chain c;
  assert_int_equal(vs_sigv4_chain_init(&c, SECRET, AMZDATE, "us-east-1",
                                       "s3", SEED), 0);
  return c;
}

/* Decodes body[0..n) fed in pieces cut at cuts[0..ncuts) (ascending).
 * Returns 0 when the body was accepted whole; else the code. */
static vs__s3code decode(vs__awsc_mode mode, const char *body, size_t n,
                         uint64_t want, const char *trailer_name,
                         const size_t *cuts, size_t ncuts, sink *s)
{
  vs_sigv4_chain c = seed_chain();
  vs__awsc *d = vs__awsc_new(mode, &c, want, trailer_name, on_data,
                             on_trailer, s);
  size_t at = 0, i;
  vs__s3code code = VS__S3_NONE;
  assert_non_null(d);
  s->n = 0;
  s->trailers = 0;
  s->trailer[0] = 0;
  for(i = 0; i <= ncuts && !code; i++) {
    size_t to = i < ncuts ? cuts[i] : n, used;
    while(at < to && !code) { /* again after each pause */
      if(vs__awsc_feed(d, body + at, to - at, &used))
        code = vs__awsc_code(d);
      assert_true(code || used > 0);
      at += used;
    }
    at = to;
  }
  if(!code && vs__awsc_end(d))
    code = vs__awsc_code(d);
  vs__awsc_free(d);
  return code;
}

/* ---- building bodies --------------------------------------------------- */
typedef struct body {
  char *p;
  size_t n, cap;
} body;

static void put(body *b, const void *p, size_t n)
{
  if(b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = 0;
}

static void puts_(body *b, const char *s)
{
  put(b, s, strlen(s));
}

/* payload cut into chunks of at most csize; signed with the seed's chain
 * unless mode is unsigned; trailer "name:value" or NULL. */
static body build(vs__awsc_mode mode, const unsigned char *payload,
                  size_t n, size_t csize, const char *trailer)
{
  body b = {0};
  vs_sigv4_chain c = seed_chain();
  size_t at = 0;
  char line[200], sig[65];
  unsigned char h[32];
  for(;;) {
    size_t k = n - at < csize ? n - at : csize;
    SHA256(payload + at, k, h);
    if(mode == VS__AWSC_UNSIGNED_TRAILER)
      snprintf(line, sizeof(line), "%zx\r\n", k);
    else {
      assert_int_equal(vs_sigv4_chunk_sign(&c, 0, h, sig), 0);
      snprintf(line, sizeof(line), "%zx;chunk-signature=%s\r\n", k, sig);
    }
    puts_(&b, line);
    if(!k)
      break;
    put(&b, payload + at, k);
    puts_(&b, "\r\n");
    at += k;
  }
  if(mode == VS__AWSC_SIGNED) {
    puts_(&b, "\r\n");
    return b;
  }
  if(trailer) {
    snprintf(line, sizeof(line), "%s\n", trailer);
    SHA256((const unsigned char *)line, strlen(line), h);
    snprintf(line, sizeof(line), "%s\r\n", trailer);
    puts_(&b, line);
  }
  else
    SHA256((const unsigned char *)"", 0, h);
  if(mode == VS__AWSC_SIGNED_TRAILER) {
    assert_int_equal(vs_sigv4_chunk_sign(&c, 1, h, sig), 0);
    snprintf(line, sizeof(line), "x-amz-trailer-signature:%s\r\n", sig);
    puts_(&b, line);
  }
  puts_(&b, "\r\n");
  return b;
}

/* ---- AWS's example ----------------------------------------------------- */
typedef struct table {
  const char *const *kv;
} table;

static const char *lookup(void *ctx, const char *name)
{
  const table *t = ctx;
  size_t i;
  for(i = 0; t->kv[i]; i += 2)
    if(!strcasecmp(t->kv[i], name))
      return t->kv[i + 1];
  return NULL;
}

static void test_aws_example(void **state)
{
  const char *hdrs[] = {
    "Host", "s3.amazonaws.com", "x-amz-date", AMZDATE,
    "x-amz-storage-class", "REDUCED_REDUNDANCY",
    "Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013"
    "0524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-"
    "length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-leng"
    "th;x-amz-storage-class,Signature=" SEED,
    "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "Content-Encoding", "aws-chunked", "x-amz-decoded-content-length",
    "66560", "Content-Length", "66824", NULL};
  table t = {hdrs};
  vs_sigv4_request rq = {"PUT", "/examplebucket/chunkObject.txt", lookup,
                         &t};
  vs_sigv4_result res;
  vs_sigv4_chain c;
  vs_keyring *kr = vs_keyring_new();
  vs_err err = {0};
  unsigned char *a = malloc(65536), h[32];
  char sig[65];
  body b = {0};
  sink s = {malloc(66560), 0, 66560, "", 0, 0};
  size_t cuts[3] = {1, 86 + 65536, 86 + 65536 + 2 + 85 + 1024 + 2};
  size_t i;
  (void)state;
  assert_non_null(a);
  memset(a, 'a', 65536);
  assert_int_equal(vs_keyring_add(kr, KEY_ID, SECRET, &err), 0);
  assert_int_equal(vs_sigv4_verify(&rq, kr, "us-east-1", T20130524, &res,
                                   &err), VS_SIGV4_OK);
  assert_string_equal(res.payload_sha256, VS_SIGV4_STREAMING);
  assert_string_equal(res.chain.prev, SEED);
  assert_string_equal(res.chain.scope, "20130524/us-east-1/s3/aws4_request");
  /* the chain from the seed: AWS's three chunk signatures */
  c = res.chain;
  SHA256(a, 65536, h);
  assert_int_equal(vs_sigv4_chunk_sign(&c, 0, h, sig), 0);
  assert_string_equal(sig, SIG1);
  SHA256(a, 1024, h);
  assert_int_equal(vs_sigv4_chunk_sign(&c, 0, h, sig), 0);
  assert_string_equal(sig, SIG2);
  SHA256(a, 0, h);
  assert_int_equal(vs_sigv4_chunk_sign(&c, 0, h, sig), 0);
  assert_string_equal(sig, SIG3);
  /* the body, as the page shows it: 66824 bytes */
  puts_(&b, "10000;chunk-signature=" SIG1 "\r\n");
  put(&b, a, 65536);
  puts_(&b, "\r\n400;chunk-signature=" SIG2 "\r\n");
  put(&b, a, 1024);
  puts_(&b, "\r\n0;chunk-signature=" SIG3 "\r\n\r\n");
  assert_int_equal(b.n, 66824);
  assert_int_equal(decode(VS__AWSC_SIGNED, b.p, b.n, 66560, NULL, NULL, 0,
                          &s), VS__S3_NONE);
  assert_int_equal(s.n, 66560);
  for(i = 0; i < s.n; i++)
    assert_int_equal(s.out[i], 'a');
  assert_int_equal(decode(VS__AWSC_SIGNED, b.p, b.n, 66560, NULL, cuts, 3,
                          &s), VS__S3_NONE);
  /* one byte at a time */
  {
    vs_sigv4_chain c2 = seed_chain();
    vs__awsc *d = vs__awsc_new(VS__AWSC_SIGNED, &c2, 66560, NULL, on_data,
                               NULL, &s);
    s.n = 0;
    for(i = 0; i < b.n; i++) {
      size_t used;
      assert_int_equal(vs__awsc_feed(d, b.p + i, 1, &used), 0);
      assert_int_equal(used, 1);
    }
    assert_int_equal(vs__awsc_end(d), 0);
    assert_int_equal(vs__awsc_total(d), 66560);
    vs__awsc_free(d);
  }
  /* the payload taken 1000 bytes at a time (the sink parks on a full
   * pipe): each chunk hashed once, the same bytes out */
  s.take_max = 1000;
  assert_int_equal(decode(VS__AWSC_SIGNED, b.p, b.n, 66560, NULL, cuts, 3,
                          &s), VS__S3_NONE);
  assert_int_equal(s.n, 66560);
  s.take_max = 0;
  /* a forged chunk: one payload byte changed */
  b.p[86 + 100] = 'b';
  assert_int_equal(decode(VS__AWSC_SIGNED, b.p, b.n, 66560, NULL, NULL, 0,
                          &s), VS__S3_SIGNATURE);
  free(b.p);
  free(a);
  free(s.out);
  vs_keyring_free(kr);
}

/* ---- every split of valid bodies --------------------------------------- */
static unsigned char PAYLOAD[300];

static void every_split(vs__awsc_mode mode, size_t csize,
                        const char *trailer, const char *tname)
{
  body b = build(mode, PAYLOAD, sizeof(PAYLOAD), csize, trailer);
  sink s = {malloc(sizeof(PAYLOAD)), 0, sizeof(PAYLOAD), "", 0, 0};
  /* under valgrind (which looks for memory errors, not for the split that
   * breaks the parser) a sparser grid of second cuts: a quarter the time */
  size_t i, j, far = getenv("VSINK_UNDER_VALGRIND") ? 151 : 37;
  for(i = 0; i <= b.n; i++)
    for(j = i; j <= b.n; j += (j < i + 4 || j + 4 > b.n) ? 1 : far) {
      size_t cuts[2] = {i, j};
      assert_int_equal(decode(mode, b.p, b.n, sizeof(PAYLOAD), tname, cuts,
                              2, &s), VS__S3_NONE);
      assert_int_equal(s.n, sizeof(PAYLOAD));
      assert_memory_equal(s.out, PAYLOAD, sizeof(PAYLOAD));
      assert_int_equal(s.trailers, trailer ? 1 : 0);
    }
  /* every truncation is refused, at the latest at the end */
  for(i = 0; i < b.n; i++)
    assert_int_equal(decode(mode, b.p, i, sizeof(PAYLOAD), tname, NULL, 0,
                            &s), VS__S3_INCOMPLETE_BODY);
  /* and so is a body one byte longer */
  put(&b, "x", 1);
  assert_int_equal(decode(mode, b.p, b.n, sizeof(PAYLOAD), tname, NULL, 0,
                          &s), VS__S3_INCOMPLETE_BODY);
  free(b.p);
  free(s.out);
}

static void test_splits(void **state)
{
  size_t i;
  (void)state;
  for(i = 0; i < sizeof(PAYLOAD); i++)
    PAYLOAD[i] = (unsigned char)(i * 7 + (i >> 3));
  every_split(VS__AWSC_SIGNED, 128, NULL, NULL);
  every_split(VS__AWSC_SIGNED, 300, NULL, NULL);
  every_split(VS__AWSC_UNSIGNED_TRAILER, 100,
              "x-amz-checksum-crc32:AAAAAA==", "x-amz-checksum-crc32");
  every_split(VS__AWSC_UNSIGNED_TRAILER, 64, NULL, NULL);
  every_split(VS__AWSC_SIGNED_TRAILER, 128,
              "x-amz-checksum-crc32c:sOO8/Q==", "x-amz-checksum-crc32c");
}

/* ---- refusals ---------------------------------------------------------- */
static vs__s3code one(vs__awsc_mode mode, const char *b, uint64_t want,
                      const char *tname)
{
  sink s = {malloc(1024), 0, 1024, "", 0, 0};
  vs__s3code code = decode(mode, b, strlen(b), want, tname, NULL, 0, &s);
  free(s.out);
  return code;
}

static void test_refusals(void **state)
{
  unsigned char p[40];
  body b;
  sink s = {malloc(1024), 0, 1024, "", 0, 0};
  char *at;
  (void)state;
  memset(p, 'v', sizeof(p));
  /* a signature of the right form, from no chain */
  b = build(VS__AWSC_SIGNED, p, sizeof(p), 16, NULL);
  at = strstr(b.p, "chunk-signature=") + 16;
  at[5] = at[5] == '0' ? '1' : '0';
  assert_int_equal(decode(VS__AWSC_SIGNED, b.p, b.n, 40, NULL, NULL, 0, &s),
                   VS__S3_SIGNATURE);
  /* refused at the forged chunk's end: nothing after it handed out (the
   * caller drops what it was handed: objects.c aborts the upload) */
  assert_int_equal(s.n, 16);
  free(b.p);
  /* chunks swapped: each is signed, but not in this place */
  b = build(VS__AWSC_SIGNED, p, sizeof(p), 20, NULL);
  at = strstr(b.p + 1, "14;chunk");
  {
    size_t len1 = (size_t)(at - b.p);
    char *tmp = malloc(len1);
    memcpy(tmp, b.p, len1);
    memmove(b.p, at, len1);
    memcpy(b.p + len1, tmp, len1);
    free(tmp);
  }
  assert_int_equal(decode(VS__AWSC_SIGNED, b.p, b.n, 40, NULL, NULL, 0, &s),
                   VS__S3_SIGNATURE);
  free(b.p);
  /* the trailer changed after signing */
  b = build(VS__AWSC_SIGNED_TRAILER, p, sizeof(p), 64,
            "x-amz-checksum-crc32:AAAAAA==");
  at = strstr(b.p, "AAAAAA==");
  at[0] = 'B';
  assert_int_equal(decode(VS__AWSC_SIGNED_TRAILER, b.p, b.n, 40,
                          "x-amz-checksum-crc32", NULL, 0, &s),
                   VS__S3_SIGNATURE);
  free(b.p);
  /* the trailer signature missing */
  b = build(VS__AWSC_SIGNED_TRAILER, p, sizeof(p), 64,
            "x-amz-checksum-crc32:AAAAAA==");
  at = strstr(b.p, "x-amz-trailer-signature");
  strcpy(at, "\r\n");
  assert_int_equal(decode(VS__AWSC_SIGNED_TRAILER, b.p, strlen(b.p), 40,
                          "x-amz-checksum-crc32", NULL, 0, &s),
                   VS__S3_INCOMPLETE_BODY);
  free(b.p);
  free(s.out);
  /* unsigned framing */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "3\r\nabc\r\n0\r\n\r\n", 3,
                       NULL), VS__S3_NONE);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "3\r\nabcd\r\n0\r\n\r\n", 4,
                       NULL), VS__S3_INCOMPLETE_BODY); /* size wrong */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "3\nabc\r\n0\r\n\r\n", 3,
                       NULL), VS__S3_INCOMPLETE_BODY); /* LF alone */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "g\r\n", 3, NULL),
                   VS__S3_INCOMPLETE_BODY);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "\r\n", 3, NULL),
                   VS__S3_INCOMPLETE_BODY);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "00000000000000003\r\nabc\r\n0\r\n\r\n", 3, NULL),
                   VS__S3_INCOMPLETE_BODY); /* 17 hex digits */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "ffffffffffffffff\r\n", 3, NULL),
                   VS__S3_INCOMPLETE_BODY); /* over the decoded length */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "3\r\nabc\r\n0\r\n\r\n", 4,
                       NULL), VS__S3_INCOMPLETE_BODY); /* decodes short */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "3\r\nabc\r\n0\r\n\r\n", 2,
                       NULL), VS__S3_INCOMPLETE_BODY); /* decodes long */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "3;chunk-signature=x\r\nabc\r\n0\r\n\r\n", 3, NULL),
                   VS__S3_INCOMPLETE_BODY);
  /* trailers: announced, unannounced, twice, invalid value */
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
                       3, NULL), VS__S3_INVALID_REQUEST);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, "3\r\nabc\r\n0\r\n\r\n", 3,
                       "x-amz-checksum-crc32"), VS__S3_INCOMPLETE_BODY);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:a\r\n"
                       "x-amz-checksum-crc32:a\r\n\r\n", 3,
                       "x-amz-checksum-crc32"), VS__S3_INVALID_REQUEST);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:bad\r\n\r\n", 3,
                       "x-amz-checksum-crc32"), VS__S3_BAD_DIGEST);
  assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER,
                       "3\r\nabc\r\n0\r\nx-amz-checksum-crc32\r\n\r\n", 3,
                       "x-amz-checksum-crc32"), VS__S3_INCOMPLETE_BODY);
  /* a line that never ends is cut at the buffer */
  {
    char longl[600];
    memset(longl, '0', sizeof(longl) - 1);
    longl[sizeof(longl) - 1] = 0;
    longl[0] = '1';
    memset(longl + 1, ';', sizeof(longl) - 2);
    assert_int_equal(one(VS__AWSC_UNSIGNED_TRAILER, longl, 3, NULL),
                     VS__S3_INCOMPLETE_BODY);
  }
  /* a signed mode without a chain cannot start */
  assert_null(vs__awsc_new(VS__AWSC_SIGNED, NULL, 1, NULL, NULL, NULL, NULL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_aws_example),
    cmocka_unit_test(test_splits),
    cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
