/* The signature chain of aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-
 * PAYLOAD[-TRAILER]): each chunk's signature is an HMAC, under the
 * request's signing key, of a string naming the previous signature and the
 * chunk's SHA-256, so a chunk cannot be changed, dropped, reordered or
 * moved into another request without breaking every link after it. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/enc.h"
#include "vsink/sigv4.h"

/* SHA-256 of the empty string: the "previous headers" hash of a chunk */
#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int mac(const void *key, size_t klen, const void *msg, size_t mlen,
               unsigned char out[32])
{
  unsigned int len = 32;
  return HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len) ? 0 : -1;
}

static int is_hex64(const char *s)
{
  size_t i;
  for(i = 0; i < 64; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
         (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return s[64] == 0;
}

int vs_sigv4_chain_init(vs_sigv4_chain *c, const char *secret,
                        const char *amzdate, const char *region,
                        const char *service, const char *seed)
{
  char k[256];
  size_t slen;
  int n, rc;
  memset(c, 0, sizeof(*c));
  if(!service)
    service = "s3";
  if(!secret || !amzdate || !region || !seed || strlen(amzdate) != 16 ||
     !is_hex64(seed) || (slen = strlen(secret)) + 5 > sizeof(k))
    return VS_ERR_INVALID;
  n = snprintf(c->scope, sizeof(c->scope), "%.8s/%s/%s/aws4_request",
               amzdate, region, service);
  if(n < 0 || (size_t)n >= sizeof(c->scope))
    return VS_ERR_INVALID;
  memcpy(k, "AWS4", 4);
  memcpy(k + 4, secret, slen);
  rc = mac(k, slen + 4, amzdate, 8, c->key) ||
       mac(c->key, 32, region, strlen(region), c->key) ||
       mac(c->key, 32, service, strlen(service), c->key) ||
       mac(c->key, 32, "aws4_request", 12, c->key);
  OPENSSL_cleanse(k, sizeof(k));
  if(rc) {
    OPENSSL_cleanse(c, sizeof(*c));
    return VS_ERR_NOMEM;
  }
  memcpy(c->amzdate, amzdate, 17);
  for(n = 0; n < 64; n++) /* kept lowercase: it is signed as such */
    c->prev[n] = (char)(seed[n] >= 'A' && seed[n] <= 'F' ? seed[n] + 32
                                                           : seed[n]);
  c->prev[64] = 0;
  return VS_OK;
}

static int link_sig(const vs_sigv4_chain *c, int trailer,
                    const unsigned char sha[32], char sig[65])
{
  char sts[512], hex[65];
  unsigned char h[32];
  int n;
  vs_hex(sha, 32, hex);
  if(trailer)
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s",
                 c->amzdate, c->scope, c->prev, hex);
  else
    n = snprintf(sts, sizeof(sts),
                 "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", c->amzdate,
                 c->scope, c->prev, EMPTY_SHA256, hex);
  if(n < 0 || (size_t)n >= sizeof(sts) || mac(c->key, 32, sts, (size_t)n, h))
    return VS_ERR_NOMEM;
  vs_hex(h, 32, sig);
  return VS_OK;
}

int vs_sigv4_chunk_sign(vs_sigv4_chain *c, int trailer,
                        const unsigned char sha[32], char sig[65])
{
  int rc = link_sig(c, trailer, sha, sig);
  if(!rc)
    memcpy(c->prev, sig, 65);
  return rc;
}

int vs_sigv4_chunk_check(vs_sigv4_chain *c, int trailer,
                         const unsigned char sha[32], const char *sig)
{
  char mine[65], low[65];
  int i, same;
  if(!sig || strlen(sig) != 64 || !is_hex64(sig) ||
     link_sig(c, trailer, sha, mine))
    return 0;
  for(i = 0; i < 64; i++)
    low[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + 32 : sig[i]);
  low[64] = 0;
  same = !CRYPTO_memcmp(mine, low, 64);
  if(same)
    memcpy(c->prev, mine, 65);
  OPENSSL_cleanse(mine, sizeof(mine));
  return same;
}
