/* S3's checksum algorithms (see cksum.h).
 *
 * CRC32 is zlib's (already a dependency) and SHA-1/SHA-256 are OpenSSL's.
 * No Debian C library ships CRC32C or CRC64NVME, so both are here:
 * slicing-by-8 (eight bytes per step through eight 256-entry tables,
 * several times faster than a byte at a time), with the tables generated
 * as constants by scripts/gen_cksum_tables.py rather than built at start,
 * so that nothing here is global mutable state.
 *
 * CRC32C has one more path: x86-64's SSE4.2 crc32 instruction computes
 * exactly this polynomial, eight bytes per instruction, several times the
 * tables' speed, and SSE4.2 is on every x86-64 server of the last decade
 * but not in the x86-64 baseline the compiler targets. So that one function
 * is compiled for SSE4.2 alone (a target attribute, not a build flag that
 * would let the compiler use SSE4.2 anywhere), and vs_cksum_init asks the
 * CPU (cpuid, through __builtin_cpu_supports) before choosing it. Other
 * CPUs and compilers get the tables; both paths are tested against each
 * other. */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util/cksum.h"
#include "util/cksum_tab.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define VS_CRC32C_SSE42 1
#endif

static const struct {
  const char *name, *label;
  size_t len;
} ALGS[VS_CKSUM__COUNT] = {
  [VS_CKSUM_CRC32] = {"crc32", "CRC32", 4},
  [VS_CKSUM_CRC32C] = {"crc32c", "CRC32C", 4},
  [VS_CKSUM_CRC64NVME] = {"crc64nvme", "CRC64NVME", 8},
  [VS_CKSUM_SHA1] = {"sha1", "SHA1", 20},
  [VS_CKSUM_SHA256] = {"sha256", "SHA256", 32},
};

static int known(vs_cksum_alg alg)
{
  return alg > VS_CKSUM_NONE && alg < VS_CKSUM__COUNT;
}

size_t vs_cksum_len(vs_cksum_alg alg)
{
  return known(alg) ? ALGS[alg].len : 0;
}

const char *vs_cksum_name(vs_cksum_alg alg)
{
  return known(alg) ? ALGS[alg].name : NULL;
}

const char *vs_cksum_label(vs_cksum_alg alg)
{
  return known(alg) ? ALGS[alg].label : NULL;
}

vs_cksum_alg vs_cksum_parse(const char *s)
{
  int a;
  for(a = VS_CKSUM_NONE + 1; s && a < VS_CKSUM__COUNT; a++)
    if(!strcasecmp(s, ALGS[a].name))
      return (vs_cksum_alg)a;
  return VS_CKSUM_NONE;
}

/* ---- the CRCs ------------------------------------------------------------ */

static uint64_t load_le64(const unsigned char *p)
{
  uint64_t w;
  memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

/* c is the running register (inverted form) in both. */
static uint32_t crc32c_tables(uint32_t c, const unsigned char *p, size_t n)
{
  const uint32_t(*t)[256] = crc32c_tab;
  for(; n && ((uintptr_t)p & 7); n--)
    c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  for(; n >= 8; n -= 8, p += 8) {
    uint64_t w = load_le64(p) ^ c;
    c = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
        t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^
        t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
  }
  for(; n; n--)
    c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

static uint64_t crc64_tables(uint64_t c, const unsigned char *p, size_t n)
{
  const uint64_t(*t)[256] = crc64nvme_tab;
  for(; n && ((uintptr_t)p & 7); n--)
    c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  for(; n >= 8; n -= 8, p += 8) {
    uint64_t w = load_le64(p) ^ c;
    c = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
        t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^
        t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
  }
  for(; n; n--)
    c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

#ifdef VS_CRC32C_SSE42
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t c, const unsigned char *p, size_t n)
{
  uint64_t c64;
  for(; n && ((uintptr_t)p & 7); n--)
    c = _mm_crc32_u8(c, *p++);
  c64 = c;
  for(; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
  }
  c = (uint32_t)c64;
  for(; n; n--)
    c = _mm_crc32_u8(c, *p++);
  return c;
}
#endif

int vs_crc32c_hw(void)
{
#ifdef VS_CRC32C_SSE42
  return __builtin_cpu_supports("sse4.2") != 0;
#else
  return 0;
#endif
}

static uint32_t crc32c_run(int hw, uint32_t crc, const void *p, size_t n)
{
  uint32_t c = ~crc;
#ifdef VS_CRC32C_SSE42
  if(hw)
    return ~crc32c_sse42(c, p, n);
#else
  (void)hw;
#endif
  return ~crc32c_tables(c, p, n);
}

uint32_t vs_crc32c(uint32_t crc, const void *p, size_t n)
{
  return crc32c_run(vs_crc32c_hw(), crc, p, n);
}

uint32_t vs_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
  return crc32c_run(0, crc, p, n);
}

uint64_t vs_crc64nvme(uint64_t crc, const void *p, size_t n)
{
  return ~crc64_tables(~crc, p, n);
}

/* ---- the streaming interface --------------------------------------------- */

int vs_cksum_init(vs_cksum *c, vs_cksum_alg alg)
{
  memset(c, 0, sizeof(*c));
  switch(alg) {
  case VS_CKSUM_CRC32:
  case VS_CKSUM_CRC64NVME:
    break;
  case VS_CKSUM_CRC32C:
    c->hw = vs_crc32c_hw();
    break;
  case VS_CKSUM_SHA1:
  case VS_CKSUM_SHA256:
    c->md = EVP_MD_CTX_new();
    if(!c->md || !EVP_DigestInit_ex(c->md, alg == VS_CKSUM_SHA1
                                               ? EVP_sha1()
                                               : EVP_sha256(), NULL)) {
      EVP_MD_CTX_free(c->md);
      c->md = NULL;
      return -1;
    }
    break;
  default:
    return -1;
  }
  c->alg = alg;
  return 0;
}

void vs_cksum_update(vs_cksum *c, const void *p, size_t n)
{
  switch(c->alg) {
  case VS_CKSUM_CRC32:
    c->crc = crc32_z((uLong)c->crc, p, n);
    break;
  case VS_CKSUM_CRC32C:
    c->crc = crc32c_run(c->hw, (uint32_t)c->crc, p, n);
    break;
  case VS_CKSUM_CRC64NVME:
    c->crc = vs_crc64nvme(c->crc, p, n);
    break;
  case VS_CKSUM_SHA1:
  case VS_CKSUM_SHA256:
    EVP_DigestUpdate(c->md, p, n);
    break;
  default:
    break;
  }
}

static void put_be(uint64_t v, size_t len, uint8_t *out)
{
  size_t i;
  for(i = 0; i < len; i++)
    out[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

size_t vs_cksum_final(vs_cksum *c, uint8_t out[VS_CKSUM_MAX])
{
  size_t len = vs_cksum_len(c->alg);
  unsigned mdlen = 0;
  if(c->md) {
    if(!EVP_DigestFinal_ex(c->md, out, &mdlen) || mdlen != len)
      len = 0;
  }
  else if(len)
    put_be(c->crc, len, out);
  vs_cksum_release(c);
  return len;
}

void vs_cksum_release(vs_cksum *c)
{
  EVP_MD_CTX_free(c->md);
  memset(c, 0, sizeof(*c));
}
