#include "util/enc.h"

#include <string.h>

static const char hexd[] = "0123456789abcdef";
static const char b64d[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void vs_hex(const uint8_t *in, size_t n, char *out)
{
  size_t i;
  for(i = 0; i < n; i++) {
    out[2 * i] = hexd[in[i] >> 4];
    out[2 * i + 1] = hexd[in[i] & 15];
  }
  out[2 * n] = 0;
}

int vs_hexval(int c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if(c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int vs_unhex(const char *in, size_t n, uint8_t *out)
{
  size_t i;
  for(i = 0; i < n; i++) {
    int hi = vs_hexval(in[2 * i]), lo = vs_hexval(in[2 * i + 1]);
    if(hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

void vs_b64(const uint8_t *in, size_t n, char *out)
{
  size_t i, o = 0;
  for(i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64d[v >> 18];
    out[o++] = b64d[(v >> 12) & 63];
    out[o++] = b64d[(v >> 6) & 63];
    out[o++] = b64d[v & 63];
  }
  if(i < n) {
    unsigned v = (unsigned)in[i] << 16;
    if(i + 1 < n)
      v |= (unsigned)in[i + 1] << 8;
    out[o++] = b64d[v >> 18];
    out[o++] = b64d[(v >> 12) & 63];
    out[o++] = i + 1 < n ? b64d[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  out[o] = 0;
}

static int b64val(char c)
{
  const char *p = c ? strchr(b64d, c) : NULL;
  return p ? (int)(p - b64d) : -1;
}

long vs_unb64(const char *in, size_t len, uint8_t *out, size_t cap)
{
  size_t i, o = 0;
  if(len % 4)
    return -1;
  for(i = 0; i < len; i += 4) {
    int a = b64val(in[i]), b = b64val(in[i + 1]);
    int last = i + 4 == len;
    int c = in[i + 2] == '=' && last ? -2 : b64val(in[i + 2]);
    int d = in[i + 3] == '=' && last ? -2 : b64val(in[i + 3]);
    unsigned v;
    if(a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2))
      return -1;
    v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)(c < 0 ? 0 : c) << 6 |
        (unsigned)(d < 0 ? 0 : d);
    if(o + 1 + (c >= 0) + (d >= 0) > cap)
      return -1;
    out[o++] = (uint8_t)(v >> 16);
    if(c >= 0)
      out[o++] = (uint8_t)(v >> 8);
    if(d >= 0)
      out[o++] = (uint8_t)v;
  }
  return (long)o;
}
