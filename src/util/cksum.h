/* The checksums S3 defines for x-amz-checksum-*: one streaming interface.
 *
 *   vs_cksum c;
 *   vs_cksum_init(&c, VS_CKSUM_CRC32C);
 *   vs_cksum_update(&c, p, n);            (any number of times)
 *   n = vs_cksum_final(&c, digest);       (the big-endian bytes S3 sends
 *                                          in base64)
 *
 * The caller owns the struct (on the stack or inside its own state); the
 * CRCs allocate nothing. SHA-1 and SHA-256 hold an OpenSSL EVP context,
 * which OpenSSL 3 can only allocate: final releases it, and so does
 * vs_cksum_release for a checksum abandoned half-way (safe on a finalized,
 * released or zeroed struct). */
#ifndef VS_UTIL_CKSUM_H
#define VS_UTIL_CKSUM_H

#include <stddef.h>
#include <stdint.h>

typedef enum vs_cksum_alg {
  VS_CKSUM_NONE = 0,
  VS_CKSUM_CRC32,     /* ISO-HDLC, zlib's crc32 */
  VS_CKSUM_CRC32C,    /* Castagnoli, iSCSI */
  VS_CKSUM_CRC64NVME, /* NVM Express, S3's CRC64NVME */
  VS_CKSUM_SHA1,
  VS_CKSUM_SHA256,
  VS_CKSUM__COUNT
} vs_cksum_alg;

#define VS_CKSUM_MAX 32     /* the longest digest (SHA-256) */
#define VS_CKSUM_B64_MAX 45 /* its base64, and a NUL */

struct evp_md_ctx_st;

typedef struct vs_cksum {
  vs_cksum_alg alg;
  int hw;                   /* CRC32C: the SSE4.2 crc32 instruction */
  uint64_t crc;             /* CRCs: the running value, zlib's form */
  struct evp_md_ctx_st *md; /* SHA-1, SHA-256 */
} vs_cksum;

/* 0, or -1 for VS_CKSUM_NONE, an unknown algorithm or OpenSSL failing (then
 * nothing is held). */
int vs_cksum_init(vs_cksum *c, vs_cksum_alg alg);
void vs_cksum_update(vs_cksum *c, const void *p, size_t n);
/* Writes the digest (vs_cksum_len bytes, big-endian) and releases c.
 * Returns the length, 0 when c holds nothing or OpenSSL failed. */
size_t vs_cksum_final(vs_cksum *c, uint8_t out[VS_CKSUM_MAX]);
void vs_cksum_release(vs_cksum *c);

/* Digest length in bytes; 0 for NONE or unknown. */
size_t vs_cksum_len(vs_cksum_alg alg);
/* "crc32", "crc32c", "crc64nvme", "sha1", "sha256": the header's suffix
 * (x-amz-checksum-<name>); NULL for NONE or unknown. */
const char *vs_cksum_name(vs_cksum_alg alg);
/* "CRC32", ..., "SHA256": x-amz-sdk-checksum-algorithm's value and S3's
 * messages; NULL for NONE or unknown. */
const char *vs_cksum_label(vs_cksum_alg alg);
/* Either spelling, any case; VS_CKSUM_NONE when s names none. */
vs_cksum_alg vs_cksum_parse(const char *s);

/* The CRCs alone, zlib's convention: start with crc = 0, feed the
 * returned value back for the next piece; the value is the final CRC. */
uint32_t vs_crc32c(uint32_t crc, const void *p, size_t n);
uint64_t vs_crc64nvme(uint64_t crc, const void *p, size_t n);
/* CRC32C without the SSE4.2 path whatever the CPU (tests compare both). */
uint32_t vs_crc32c_sw(uint32_t crc, const void *p, size_t n);
/* 1 when vs_crc32c uses the CPU's crc32 instruction. */
int vs_crc32c_hw(void);

#endif
