/* The aws-chunked decoder: the body of a PUT sent with x-amz-content-sha256
 * STREAMING-* (Content-Encoding: aws-chunked) is a series of chunks
 *
 *   HEXSIZE[;chunk-signature=SIG]\r\n DATA \r\n  ...  0[;chunk-signature=SIG]\r\n
 *
 * then either \r\n (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) or trailing headers
 * ("x-amz-checksum-crc32:BASE64", and x-amz-trailer-signature:SIG for the
 * signed form) ending with an empty line. libmicrohttpd has already removed
 * any HTTP chunked framing; this framing is inside the body.
 *
 * The decoder is pure and incremental: it is fed the body in whatever
 * pieces arrive, keeps a bounded line buffer and one SHA-256 context
 * (constant memory), hands payload bytes and the trailing header to its
 * caller, and checks every chunk signature in its chain (sigv4_chunk.c). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "server/internal.h"
#include "util/enc.h"

#define LINE_CAP 256
#define SIG_ATTR ";chunk-signature="
#define TRAILER_SIG "x-amz-trailer-signature"

enum state { S_HEADER, S_DATA, S_DATA_CRLF, S_FINAL_CRLF, S_TRAILER, S_DONE,
             S_FAILED };

struct vs__awsc {
  vs__awsc_mode mode;
  enum state st;
  char line[LINE_CAP];
  size_t line_len;
  uint64_t left;            /* bytes of the current chunk still to come */
  uint64_t total, want;     /* decoded so far; x-amz-decoded-content-length */
  unsigned crlf;            /* S_DATA_CRLF / S_FINAL_CRLF: bytes of it seen */
  char sig[65];             /* the current chunk's signature */
  vs_sigv4_chain chain;
  EVP_MD_CTX *sha;          /* the current chunk, then the trailer lines */
  char trailer_name[64];    /* x-amz-trailer; "" when none is announced */
  int got_trailer, got_trailer_sig;
  vs__awsc_data_fn data;
  vs__awsc_trailer_fn trailer;
  void *arg;
  vs__s3code code;
  char msg[160];
};

static int signed_mode(const vs__awsc *d)
{
  return d->mode != VS__AWSC_UNSIGNED_TRAILER;
}

static int fail(vs__awsc *d, vs__s3code code, const char *msg)
{
  if(d->st != S_FAILED) {
    d->st = S_FAILED;
    d->code = code;
    snprintf(d->msg, sizeof(d->msg), "%s", msg);
  }
  return -1;
}

vs__awsc *vs__awsc_new(vs__awsc_mode mode, const vs_sigv4_chain *chain,
                       uint64_t decoded_len, const char *trailer_name,
                       vs__awsc_data_fn data, vs__awsc_trailer_fn trailer,
                       void *arg)
{
  vs__awsc *d = calloc(1, sizeof(*d));
  if(!d)
    return NULL;
  d->mode = mode;
  d->want = decoded_len;
  d->data = data;
  d->trailer = trailer;
  d->arg = arg;
  if(trailer_name)
    snprintf(d->trailer_name, sizeof(d->trailer_name), "%s", trailer_name);
  if(signed_mode(d)) {
    if(!chain || !chain->amzdate[0] || !(d->sha = EVP_MD_CTX_new())) {
      free(d);
      return NULL;
    }
    d->chain = *chain;
  }
  return d;
}

void vs__awsc_free(vs__awsc *d)
{
  if(!d)
    return;
  EVP_MD_CTX_free(d->sha);
  OPENSSL_cleanse(d, sizeof(*d));
  free(d);
}

vs__s3code vs__awsc_code(const vs__awsc *d)
{
  return d->code;
}

const char *vs__awsc_msg(const vs__awsc *d)
{
  return d->msg;
}

static int sha_start(vs__awsc *d)
{
  return EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) ? 0 : -1;
}

static int sha_check(vs__awsc *d, int trailer, const char *sig)
{
  unsigned char h[32];
  unsigned len;
  if(!EVP_DigestFinal_ex(d->sha, h, &len))
    return fail(d, VS__S3_INTERNAL, "out of memory");
  if(!vs_sigv4_chunk_check(&d->chain, trailer, h, sig))
    return fail(d, VS__S3_SIGNATURE, trailer
                ? "the trailer's signature (x-amz-trailer-signature) does "
                  "not match"
                : "a chunk's signature (chunk-signature) does not match");
  return 0;
}

/* "HEXSIZE" or "HEXSIZE;chunk-signature=SIG", CRLF already cut. */
static int chunk_header(vs__awsc *d, const char *l, size_t n)
{
  uint64_t size = 0;
  size_t i = 0;
  for(; i < n && vs_hexval(l[i]) >= 0; i++) {
    if(i >= 16)
      return fail(d, VS__S3_INCOMPLETE_BODY, "an aws-chunked chunk size "
                  "has more than 16 hex digits");
    size = size << 4 | (uint64_t)vs_hexval(l[i]);
  }
  if(!i)
    return fail(d, VS__S3_INCOMPLETE_BODY, "an aws-chunked chunk does not "
                "start with its size in hex");
  if(signed_mode(d)) {
    size_t a = strlen(SIG_ATTR), k;
    if(n - i != a + 64 || memcmp(l + i, SIG_ATTR, a))
      return fail(d, VS__S3_INCOMPLETE_BODY, "an aws-chunked chunk header "
                  "must be HEXSIZE;chunk-signature=<64 hex digits>");
    for(k = 0; k < 64; k++)
      if(vs_hexval(l[i + a + k]) < 0)
        return fail(d, VS__S3_INCOMPLETE_BODY, "a chunk-signature is not "
                    "64 hex digits");
    memcpy(d->sig, l + i + a, 64);
    d->sig[64] = 0;
    if(sha_start(d))
      return fail(d, VS__S3_INTERNAL, "out of memory");
  }
  else if(i != n)
    return fail(d, VS__S3_INCOMPLETE_BODY, "an unsigned aws-chunked chunk "
                "header must be its size in hex alone");
  if(size > d->want - d->total)
    return fail(d, VS__S3_INCOMPLETE_BODY, "the aws-chunked body holds more "
                "than x-amz-decoded-content-length bytes");
  d->left = size;
  if(size) {
    d->st = S_DATA;
    return 0;
  }
  /* the final chunk: signed like any other, over no data */
  if(signed_mode(d) && sha_check(d, 0, d->sig))
    return -1;
  d->crlf = 0;
  d->st = d->mode == VS__AWSC_SIGNED ? S_FINAL_CRLF : S_TRAILER;
  if(d->st == S_TRAILER && signed_mode(d) && sha_start(d))
    return fail(d, VS__S3_INTERNAL, "out of memory");
  return 0;
}

/* One trailing line "name:value" (CR LF or LF cut); "" ends the trailer. */
static int trailer_line(vs__awsc *d, char *l, size_t n)
{
  char *colon, *v;
  if(!n) {
    /* minio-go ends its checksum line with LF and then sends CR LF before
     * the signature line: an empty line there does not end the trailer */
    if(d->mode == VS__AWSC_SIGNED_TRAILER && !d->got_trailer_sig &&
       d->got_trailer)
      return 0;
    if(d->mode == VS__AWSC_SIGNED_TRAILER && !d->got_trailer_sig)
      return fail(d, VS__S3_INCOMPLETE_BODY, "the trailer has no "
                  "x-amz-trailer-signature");
    if(d->trailer_name[0] && !d->got_trailer)
      return fail(d, VS__S3_INCOMPLETE_BODY, "the trailer announced by "
                  "x-amz-trailer did not come");
    d->st = S_DONE;
    return 0;
  }
  if(d->got_trailer_sig)
    return fail(d, VS__S3_INCOMPLETE_BODY, "trailing data after the "
                "x-amz-trailer-signature");
  l[n] = 0;
  colon = memchr(l, ':', n);
  if(!colon || colon == l)
    return fail(d, VS__S3_INCOMPLETE_BODY, "a trailing header line is not "
                "name:value");
  *colon = 0;
  v = colon + 1;
  while(*v == ' ' || *v == '\t')
    v++;
  if(d->mode == VS__AWSC_SIGNED_TRAILER && !strcasecmp(l, TRAILER_SIG)) {
    if(strlen(v) != 64)
      return fail(d, VS__S3_INCOMPLETE_BODY, "x-amz-trailer-signature is "
                  "not 64 hex digits");
    if(sha_check(d, 1, v))
      return -1;
    d->got_trailer_sig = 1;
    return 0;
  }
  if(!d->trailer_name[0] || strcasecmp(l, d->trailer_name) || d->got_trailer)
    return fail(d, VS__S3_INVALID_REQUEST, "the trailer holds a header "
                "x-amz-trailer did not announce");
  d->got_trailer = 1;
  if(d->mode == VS__AWSC_SIGNED_TRAILER) {
    /* signed as "name:value\n", whatever line ending came */
    *colon = ':';
    if(!EVP_DigestUpdate(d->sha, l, strlen(l)) ||
       !EVP_DigestUpdate(d->sha, "\n", 1))
      return fail(d, VS__S3_INTERNAL, "out of memory");
    *colon = 0;
  }
  if(d->trailer && d->trailer(d->arg, l, v))
    return fail(d, VS__S3_BAD_DIGEST, "the trailing checksum is not valid");
  return 0;
}

/* Collects a line; at its LF, hands it over without the line ending. */
static int line_byte(vs__awsc *d, char c)
{
  size_t n;
  if(c != '\n') {
    if(d->line_len >= LINE_CAP - 1)
      return fail(d, VS__S3_INCOMPLETE_BODY, "an aws-chunked header or "
                  "trailer line is too long");
    d->line[d->line_len++] = c;
    return 0;
  }
  n = d->line_len;
  d->line_len = 0;
  if(n && d->line[n - 1] == '\r')
    n--;
  else if(d->st == S_HEADER)
    return fail(d, VS__S3_INCOMPLETE_BODY, "an aws-chunked chunk header "
                "must end with CR LF");
  return d->st == S_HEADER ? chunk_header(d, d->line, n)
                           : trailer_line(d, d->line, n);
}

/* Payload to the caller, *k bytes of it taken: 0 all it was offered, 1
 * fewer (the caller paused: the rest comes again in a later feed, so only
 * what was taken is hashed), -1 refused. */
static int data_bytes(vs__awsc *d, const char *p, size_t n, size_t *k)
{
  size_t want = n < d->left ? n : (size_t)d->left;
  *k = want;
  if(d->data && d->data(d->arg, p, want, k))
    return fail(d, VS__S3_INTERNAL, "the payload was not taken");
  if(*k > want)
    *k = want;
  if(signed_mode(d) && !EVP_DigestUpdate(d->sha, p, *k))
    return fail(d, VS__S3_INTERNAL, "out of memory");
  d->left -= *k;
  d->total += *k;
  if(!d->left) {
    d->st = S_DATA_CRLF;
    d->crlf = 0;
  }
  return *k < want;
}

/* The CR LF after a chunk's data (then its signature is checked), or after
 * the final chunk of the signed form without trailer. */
static int crlf_byte(vs__awsc *d, char c)
{
  if(c != "\r\n"[d->crlf])
    return fail(d, VS__S3_INCOMPLETE_BODY, d->st == S_DATA_CRLF
                ? "an aws-chunked chunk's data is not followed by CR LF "
                  "(its size is wrong)"
                : "the final aws-chunked chunk is not followed by CR LF");
  if(++d->crlf < 2)
    return 0;
  if(d->st == S_FINAL_CRLF) {
    d->st = S_DONE;
    return 0;
  }
  if(signed_mode(d) && sha_check(d, 0, d->sig))
    return -1;
  d->st = S_HEADER;
  return 0;
}

int vs__awsc_feed(vs__awsc *d, const char *p, size_t n, size_t *used)
{
  size_t i = 0;
  *used = 0;
  while(i < n) {
    switch(d->st) {
    case S_DATA: {
      size_t k;
      int rc = data_bytes(d, p + i, n - i, &k);
      if(rc < 0)
        return -1;
      i += k;
      if(rc) { /* paused */
        *used = i;
        return 0;
      }
      continue;
    }
    case S_HEADER:
    case S_TRAILER:
      if(line_byte(d, p[i]))
        return -1;
      break;
    case S_DATA_CRLF:
    case S_FINAL_CRLF:
      if(crlf_byte(d, p[i]))
        return -1;
      break;
    case S_DONE:
      return fail(d, VS__S3_INCOMPLETE_BODY, "data after the end of the "
                  "aws-chunked body");
    case S_FAILED:
      return -1;
    }
    i++;
  }
  *used = n;
  return 0;
}

int vs__awsc_end(vs__awsc *d)
{
  if(d->st == S_FAILED)
    return -1;
  if(d->st != S_DONE)
    return fail(d, VS__S3_INCOMPLETE_BODY, "the aws-chunked body ended "
                "before its final chunk and trailer");
  if(d->total != d->want)
    return fail(d, VS__S3_INCOMPLETE_BODY, "the aws-chunked body decodes "
                "to fewer bytes than x-amz-decoded-content-length");
  return 0;
}

uint64_t vs__awsc_total(const vs__awsc *d)
{
  return d->total;
}
