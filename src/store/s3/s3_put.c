/* PutObject: one body, from memory or a file region, sent with its
 * Content-MD5 (the store checks the bytes it got) and its SHA-256 signed
 * as x-amz-content-sha256 (the signature covers the bytes too). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/s3/s3_int.h"
#include "util/enc.h"

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

int vs__s3_hash_body(const vs_s3_body *b, char md5_b64[25],
                     char sha256_hex[65], vs_err *err)
{
  EVP_MD_CTX *md5 = EVP_MD_CTX_new(), *sha = EVP_MD_CTX_new();
  unsigned char d5[16], d256[32];
  int rc = VS_OK;
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

int vs_s3_put(const vs_s3_target *t, const char *bucket, const char *key,
              const vs_s3_body *body, const char *content_type,
              int if_none_match, vs_s3_put_result *out, vs_err *err)
{
  vs__s3_call c = {0};
  char md5[25], sha[65], h_md5[48], h_type[300];
  int rc;
  memset(out, 0, sizeof(*out));
  if(!body || !key)
    return vs_fail(err, VS_ERR_INVALID, "PutObject: no body or key");
  if(content_type && (strlen(content_type) > 255 ||
                      strpbrk(content_type, "\r\n")))
    return vs_fail(err, VS_ERR_INVALID, "PutObject: bad Content-Type");
  if((rc = vs__s3_hash_body(body, md5, sha, err)))
    return rc;
  c.t = t, c.method = "PUT", c.bucket = bucket, c.key = key;
  snprintf(h_md5, sizeof(h_md5), "Content-MD5: %s", md5);
  c.headers[c.n_headers++] = h_md5;
  if(content_type && *content_type) {
    snprintf(h_type, sizeof(h_type), "Content-Type: %s", content_type);
    c.headers[c.n_headers++] = h_type;
  }
  if(if_none_match)
    c.headers[c.n_headers++] = "If-None-Match: *";
  vs__s3_set_body(&c, body);
  c.payload_sha256 = sha;
  if(!(rc = vs__s3_do(&c, err)))
    vs__s3_result(&c, out);
  vs__s3_call_free(&c);
  return rc;
}
