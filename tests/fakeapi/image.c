/* Image dimensions from the file header, for inputs.frameImages given as
 * a data URI or base64 (the API checks 300..6000 px a side). */
#include <string.h>

#include "fakeapi.h"

static long be16(const uint8_t *p)
{
  return (long)p[0] << 8 | p[1];
}

static long be32(const uint8_t *p)
{
  return (long)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                (uint32_t)p[2] << 8 | p[3]);
}

static long le16(const uint8_t *p)
{
  return (long)p[0] | (long)p[1] << 8;
}

static long le24(const uint8_t *p)
{
  return (long)p[0] | (long)p[1] << 8 | (long)p[2] << 16;
}

/* Walks JPEG segments to the first start-of-frame marker. */
static int jpeg_size(const uint8_t *p, size_t n, long *w, long *h)
{
  size_t i = 2;
  while(i + 9 < n) {
    uint8_t m;
    if(p[i] != 0xff)
      return -1;
    m = p[i + 1];
    if(m == 0xff) {
      i++;
      continue;
    }
    if(m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
      *h = be16(p + i + 5);
      *w = be16(p + i + 7);
      return 0;
    }
    i += 2 + (size_t)be16(p + i + 2);
  }
  return -1;
}

static int webp_size(const uint8_t *p, size_t n, long *w, long *h)
{
  if(n >= 30 && !memcmp(p + 12, "VP8 ", 4)) {
    *w = le16(p + 26) & 0x3fff;
    *h = le16(p + 28) & 0x3fff;
    return 0;
  }
  if(n >= 25 && !memcmp(p + 12, "VP8L", 4)) {
    uint32_t b = (uint32_t)p[21] | (uint32_t)p[22] << 8 |
                 (uint32_t)p[23] << 16 | (uint32_t)p[24] << 24;
    *w = (long)(b & 0x3fff) + 1;
    *h = (long)((b >> 14) & 0x3fff) + 1;
    return 0;
  }
  if(n >= 30 && !memcmp(p + 12, "VP8X", 4)) {
    *w = le24(p + 24) + 1;
    *h = le24(p + 27) + 1;
    return 0;
  }
  return -1;
}

const char *fa_image_sniff(const uint8_t *p, size_t n, long *w, long *h)
{
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if(n >= 24 && !memcmp(p, png, 8) && !memcmp(p + 12, "IHDR", 4)) {
    *w = be32(p + 16);
    *h = be32(p + 20);
    return "PNG";
  }
  if(n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
    return jpeg_size(p, n, w, h) ? NULL : "JPEG";
  if(n >= 16 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
    return webp_size(p, n, w, h) ? NULL : "WEBP";
  return NULL;
}
