/* Fuzz target: the aws-chunked decoder (src/server/chunked.c) and the chunk
 * signature chain (src/sigv4/sigv4_chunk.c).
 *
 * Input: a mode byte, a cut byte, two bytes of decoded length, then a body.
 * Invariants: (1) the body decodes the same (same answer, same payload
 * bytes) whole and cut in two at any point with the payload taken a few
 * bytes at a time (pausing), and never hands out more than
 * the decoded length; (2) an accepted body decoded to exactly the decoded
 * length; (3) the body's bytes used as a payload, encoded as a client
 * would (signed with the seed's chain, chunks of a size from the input, a
 * trailer), decode back to themselves in pieces, and a flipped byte in the
 * signed forms is refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "server/internal.h"

#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define MAXOUT 70000

typedef struct out {
  unsigned char buf[MAXOUT];
  size_t n;
  int over;
  size_t take_max; /* 0: all; else pause after this many (a full pipe) */
} out;

static int on_data(void *arg, const char *p, size_t n, size_t *took)
{
  out *o = arg;
  if(o->take_max && n > o->take_max)
    n = o->take_max;
  *took = n;
  if(o->n + n > MAXOUT) {
    o->over = 1;
    return -1;
  }
  memcpy(o->buf + o->n, p, n);
  o->n += n;
  return 0;
}

static int on_trailer(void *arg, const char *name, const char *value)
{
  (void)arg;
  (void)name;
  return value[0] == '!' ? -1 : 0;
}

static vs_sigv4_chain chain(void)
{
  vs_sigv4_chain c;
  if(vs_sigv4_chain_init(&c, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                         "20130524T000000Z", "us-east-1", "s3", SEED))
    abort();
  return c;
}

/* All of b, again after each pause (the decoder takes up where it
 * stopped); a pause must take something. */
static int feed(vs__awsc *d, const char *b, size_t n)
{
  size_t used;
  while(n) {
    if(vs__awsc_feed(d, b, n, &used))
      return -1;
    if(!used)
      abort();
    b += used;
    n -= used;
  }
  return 0;
}

static vs__s3code run(vs__awsc_mode mode, const char *b, size_t n,
                      uint64_t want, size_t cut, out *o)
{
  vs_sigv4_chain c = chain();
  vs__awsc *d = vs__awsc_new(mode, &c, want, "x-amz-checksum-crc32",
                             on_data, on_trailer, o);
  vs__s3code code = VS__S3_NONE;
  if(!d)
    abort();
  o->n = 0;
  o->over = 0;
  if(cut > n)
    cut = n;
  if(feed(d, b, cut) || feed(d, b + cut, n - cut) || vs__awsc_end(d))
    code = vs__awsc_code(d);
  if(!code && vs__awsc_total(d) != want)
    abort();
  vs__awsc_free(d);
  return code;
}

static size_t encode(vs__awsc_mode mode, const uint8_t *p, size_t n,
                     size_t csize, char *dst)
{
  vs_sigv4_chain c = chain();
  size_t at = 0, w = 0;
  unsigned char h[32];
  char sig[65];
  const char *tr = "x-amz-checksum-crc32:AAAAAA==";
  for(;;) {
    size_t k = n - at < csize ? n - at : csize;
    SHA256(p + at, k, h);
    if(mode == VS__AWSC_UNSIGNED_TRAILER)
      w += (size_t)sprintf(dst + w, "%zx\r\n", k);
    else {
      vs_sigv4_chunk_sign(&c, 0, h, sig);
      w += (size_t)sprintf(dst + w, "%zx;chunk-signature=%s\r\n", k, sig);
    }
    if(!k)
      break;
    memcpy(dst + w, p + at, k);
    w += k;
    w += (size_t)sprintf(dst + w, "\r\n");
    at += k;
  }
  if(mode == VS__AWSC_SIGNED)
    return w + (size_t)sprintf(dst + w, "\r\n");
  w += (size_t)sprintf(dst + w, "%s\r\n", tr);
  if(mode == VS__AWSC_SIGNED_TRAILER) {
    char line[64];
    snprintf(line, sizeof(line), "%s\n", tr);
    SHA256((const unsigned char *)line, strlen(line), h);
    vs_sigv4_chunk_sign(&c, 1, h, sig);
    w += (size_t)sprintf(dst + w, "x-amz-trailer-signature:%s\r\n", sig);
  }
  return w + (size_t)sprintf(dst + w, "\r\n");
}

static out A, B;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vs__awsc_mode mode;
  size_t cut, n, csize, len;
  uint64_t want;
  const char *body;
  vs__s3code c1, c2;
  char *enc;
  if(size < 4 || size > 60000)
    return 0;
  mode = (vs__awsc_mode)(1 + data[0] % 3);
  cut = data[1];
  want = (uint64_t)data[2] << 8 | data[3];
  body = (const char *)data + 4;
  n = size - 4;
  /* (1), (2) */
  A.take_max = 0;
  B.take_max = 1 + cut % 64; /* B pauses often */
  c1 = run(mode, body, n, want, n, &A);
  c2 = run(mode, body, n, want, cut * n / 255, &B);
  if(c1 != c2 || (!c1 && (A.n != B.n || memcmp(A.buf, B.buf, A.n))))
    abort();
  if(A.n > want || B.n > want)
    abort();
  /* (3) */
  csize = 1 + (size_t)data[2] * 3;
  enc = malloc(n * 2 + (n / csize + 2) * 100 + 200);
  if(!enc)
    return 0;
  len = encode(mode, (const uint8_t *)body, n, csize, enc);
  if(run(mode, enc, len, n, cut * len / 255, &A) || A.n != n ||
     memcmp(A.buf, body, n))
    abort();
  if(mode != VS__AWSC_UNSIGNED_TRAILER && len) {
    size_t at = (size_t)data[3] * 257 % len;
    enc[at] ^= 0x01; /* not 0x20: hex digits may come in either case */
    if(!run(mode, enc, len, n, cut * len / 255, &A))
      abort();
  }
  free(enc);
  return 0;
}
