/* The delivered files: a container header that `file` and vsink recognise,
 * then bytes that depend only on (taskUUID, result index), so a test can
 * recompute any file's SHA-256 (the recipe is in README.md). Any byte can
 * be computed on its own, so an upload streams from a read callback and
 * never holds the file in memory. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fakeapi.h"
#include "util/enc.h"

/* ISO BMFF: ftyp (isom / mp41), then an mdat box running to the end. */
static const uint8_t mp4_head[] = {
  0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0,
  'i', 's', 'o', 'm', 'm', 'p', '4', '1'
};
/* QuickTime: ftyp with the 'qt  ' brand, then mdat. */
static const uint8_t mov_head[] = {
  0, 0, 0, 0x14, 'f', 't', 'y', 'p', 'q', 't', ' ', ' ', 0, 0, 2, 0,
  'q', 't', ' ', ' '
};
/* EBML header (DocType webm, version 2), then a Segment of unknown size. */
static const uint8_t webm_head[] = {
  0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81,
  0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84,
  'w', 'e', 'b', 'm', 0x42, 0x87, 0x81, 0x02, 0x42, 0x85, 0x81, 0x02,
  0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

static void add_mdat(fa_content *c)
{
  uint64_t rest = c->size > c->hlen ? c->size - c->hlen : 0;
  /* size 0 means "to the end of the file", valid for the last box */
  uint32_t box = rest <= UINT32_MAX && rest >= 8 ? (uint32_t)rest : 0;
  uint8_t *p = c->head + c->hlen;
  p[0] = (uint8_t)(box >> 24);
  p[1] = (uint8_t)(box >> 16);
  p[2] = (uint8_t)(box >> 8);
  p[3] = (uint8_t)box;
  memcpy(p + 4, "mdat", 4);
  c->hlen += 8;
}

int fa_content_init(fa_content *c, const char *task_uuid, int index,
                    uint64_t size, const char *format)
{
  uint8_t md[SHA256_DIGEST_LENGTH];
  char seed_text[64];
  int i, n;
  memset(c, 0, sizeof(*c));
  c->size = size;
  if(!strcmp(format, "MP4") || !strcmp(format, "MOV")) {
    const uint8_t *h = format[1] == 'P' ? mp4_head : mov_head;
    c->hlen = format[1] == 'P' ? sizeof(mp4_head) : sizeof(mov_head);
    memcpy(c->head, h, c->hlen);
    add_mdat(c);
  }
  else if(!strcmp(format, "WEBM")) {
    c->hlen = sizeof(webm_head);
    memcpy(c->head, webm_head, c->hlen);
  }
  else
    return -1;
  n = snprintf(seed_text, sizeof(seed_text), "%s:%d", task_uuid, index);
  SHA256((const uint8_t *)seed_text, (size_t)n, md);
  for(i = 0; i < 8; i++)
    c->seed = c->seed << 8 | md[i];
  return 0;
}

static uint64_t splitmix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Byte i is byte (i % 8) (little-endian) of
 * splitmix64(seed + (i / 8 + 1) * golden), unless the header covers it. */
void fa_content_fill(const fa_content *c, uint64_t off, uint8_t *out,
                     size_t n)
{
  size_t k = 0;
  while(k < n) {
    uint64_t pos = off + k;
    uint64_t w = splitmix64(c->seed + (pos / 8 + 1) * 0x9e3779b97f4a7c15ULL);
    unsigned b;
    for(b = (unsigned)(pos % 8); b < 8 && k < n; b++, k++) {
      pos = off + k;
      out[k] = pos < c->hlen ? c->head[pos] : (uint8_t)(w >> (8 * b));
    }
  }
}

void fa_content_sha256(const fa_content *c, char hex[65])
{
  uint8_t chunk[65536], md[SHA256_DIGEST_LENGTH];
  uint64_t off = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  while(off < c->size) {
    size_t n = c->size - off < sizeof(chunk) ? (size_t)(c->size - off)
                                             : sizeof(chunk);
    fa_content_fill(c, off, chunk, n);
    EVP_DigestUpdate(ctx, chunk, n);
    off += n;
  }
  EVP_DigestFinal_ex(ctx, md, NULL);
  EVP_MD_CTX_free(ctx);
  vs_hex(md, sizeof(md), hex);
}
