/* PutObject: one body, from memory or a file region, sent with its
 * Content-MD5 (the store checks the bytes it got) and its SHA-256 signed
 * as x-amz-content-sha256 (the signature covers the bytes too), or with
 * UNSIGNED-PAYLOAD when the caller knew the MD5 (the signed Content-MD5
 * then covers the bytes). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/s3/s3_int.h"
#include "util/enc.h"
#include "vsink/sigv4.h"

#define HASH_CHUNK (256u << 10)

static int hash_file(const vs_s3_body *b, EVP_MD_CTX *md5, EVP_MD_CTX *sha,
                     vs_err *err)
{
  unsigned char *buf = malloc(HASH_CHUNK);
  uint64_t done = 0;
  int rc = VS_OK;
  if(!buf)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  while(done < b->len && !rc) {
    size_t want = b->len - done < HASH_CHUNK ? (size_t)(b->len - done)
                                             : HASH_CHUNK;
    ssize_t r = pread(b->fd, buf, want, (off_t)(b->off + done));
    if(r < 0 && errno == EINTR)
      continue;
    if(r <= 0)
      rc = r < 0 ? vs_fail_errno(err, errno, "reading the body to send")
                 : vs_fail(err, VS_ERR_IO, "the body to send ends at %llu "
                           "of %llu bytes", (unsigned long long)done,
                           (unsigned long long)b->len);
    else {
      EVP_DigestUpdate(md5, buf, (size_t)r);
      EVP_DigestUpdate(sha, buf, (size_t)r);
      done += (uint64_t)r;
    }
  }
  free(buf);
  return rc;
}

/* Content-MD5 is signed: it binds the body as the SHA-256 would, and the
 * server checks it. Skipping SHA-256 spares a pass over the body here and
 * the server's own hashing of it, which matter at gigabytes. */
static int known_md5(const vs_s3_body *b, char md5_b64[25],
                     char sha256_hex[65], vs_err *err)
{
  uint8_t d5[16];
  if(strlen(b->md5) != 24 || vs_unb64(b->md5, 24, d5, sizeof(d5)) != 16)
    return vs_fail(err, VS_ERR_INVALID, "body MD5 '%.40s' is not 16 bytes "
                   "in base64", b->md5);
  memcpy(md5_b64, b->md5, 25);
  strcpy(sha256_hex, VS_SIGV4_UNSIGNED);
  return VS_OK;
}

int vs__s3_hash_body(const vs_s3_body *b, char md5_b64[25],
                     char sha256_hex[65], vs_err *err)
{
  EVP_MD_CTX *md5, *sha;
  unsigned char d5[16], d256[32];
  int rc = VS_OK;
  if(b->md5)
    return known_md5(b, md5_b64, sha256_hex, err);
  md5 = EVP_MD_CTX_new();
  sha = EVP_MD_CTX_new();
  if(!md5 || !sha || !EVP_DigestInit_ex(md5, EVP_md5(), NULL) ||
     !EVP_DigestInit_ex(sha, EVP_sha256(), NULL))
    rc = vs_fail(err, VS_ERR_NOMEM, "cannot set up MD5 and SHA-256");
  else if(b->mem) {
    EVP_DigestUpdate(md5, b->mem, (size_t)b->len);
    EVP_DigestUpdate(sha, b->mem, (size_t)b->len);
  }
  else if(b->fd < 0)
    rc = vs_fail(err, VS_ERR_INVALID, "S3 request body: no file");
  else
    rc = hash_file(b, md5, sha, err);
  if(!rc && (!EVP_DigestFinal_ex(md5, d5, NULL) ||
             !EVP_DigestFinal_ex(sha, d256, NULL)))
    rc = vs_fail(err, VS_ERR_NOMEM, "MD5 or SHA-256 failed");
  if(!rc) {
    vs_b64(d5, 16, md5_b64);
    vs_hex(d256, 32, sha256_hex);
  }
  EVP_MD_CTX_free(md5);
  EVP_MD_CTX_free(sha);
  return rc;
}

/* Bytes a header value may not hold (a request line must stay one). */
static int bad_value(const char *v, size_t n)
{
  size_t i;
  for(i = 0; i < n; i++)
    if(((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
      return 1;
  return 0;
}

/* One "name:value" line of o->headers onto c->hbuf as "name: value". */
static int add_line(vs__s3_call *c, const char *line, size_t n, vs_err *err)
{
  const char *colon = memchr(line, ':', n);
  size_t nlen = colon ? (size_t)(colon - line) : 0;
  if(!colon || !vs__s3_kept_header(line, nlen) || bad_value(colon + 1,
                                                            n - nlen - 1))
    return vs_fail(err, VS_ERR_INVALID, "header line '%.*s' is not one an "
                   "object keeps, or its value is not one line",
                   (int)(n > 80 ? 80 : n), line);
  vs_buf_addf(&c->hbuf, "%.*s: %.*s", (int)nlen, line, (int)(n - nlen - 1),
              colon + 1);
  vs_buf_addc(&c->hbuf, 0);
  return VS_OK;
}

int vs__s3_write_headers(vs__s3_call *c, const vs_s3_write_opts *o,
                         vs_err *err)
{
  const char *p, *end;
  size_t lines = 0, at;
  int rc;
  if(!o)
    return VS_OK;
  if(o->content_type && *o->content_type) {
    if(strlen(o->content_type) > 255 ||
       bad_value(o->content_type, strlen(o->content_type)))
      return vs_fail(err, VS_ERR_INVALID, "bad Content-Type");
    vs_buf_addf(&c->hbuf, "Content-Type: %s", o->content_type);
    vs_buf_addc(&c->hbuf, 0);
  }
  for(p = o->headers ? o->headers : ""; *p; p = *end ? end + 1 : end) {
    end = p + strcspn(p, "\n");
    if(end == p)
      continue;
    if(++lines > VS__S3_META_MAX)
      return vs_fail(err, VS_ERR_TOOLARGE, "more than %d header lines",
                     VS__S3_META_MAX);
    if((rc = add_line(c, p, (size_t)(end - p), err)))
      return rc;
  }
  if(c->hbuf.failed)
    return vs_fail(err, VS_ERR_NOMEM, "out of memory");
  /* the buffer is complete: now its strings stay where they are */
  for(at = 0; at < c->hbuf.len; at += strlen(c->hbuf.data + at) + 1)
    c->headers[c->n_headers++] = c->hbuf.data + at;
  return VS_OK;
}

int vs_s3_put(const vs_s3_target *t, const char *bucket, const char *key,
              const vs_s3_body *body, const vs_s3_write_opts *o,
              vs_s3_put_result *out, vs_err *err)
{
  vs__s3_call c = {0};
  char md5[25], sha[65], h_md5[48];
  int rc;
  memset(out, 0, sizeof(*out));
  if(!body || !key)
    return vs_fail(err, VS_ERR_INVALID, "PutObject: no body or key");
  if((rc = vs__s3_hash_body(body, md5, sha, err)))
    return rc;
  c.t = t, c.method = "PUT", c.bucket = bucket, c.key = key;
  snprintf(h_md5, sizeof(h_md5), "Content-MD5: %s", md5);
  c.headers[c.n_headers++] = h_md5;
  if(o && o->if_none_match)
    c.headers[c.n_headers++] = "If-None-Match: *";
  vs__s3_set_body(&c, body);
  c.payload_sha256 = sha;
  if(!(rc = vs__s3_write_headers(&c, o, err)) && !(rc = vs__s3_do(&c, err)))
    vs__s3_result(&c, out);
  vs__s3_call_free(&c);
  return rc;
}
