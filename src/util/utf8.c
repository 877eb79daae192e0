#include "util/utf8.h"

#include <stdint.h>

size_t vs_utf8_seq(const unsigned char *p, size_t avail)
{
  unsigned c = p[0];
  size_t n, i;
  uint32_t cp;
  if(c < 0x80)
    return 1;
  if(c >= 0xc2 && c <= 0xdf)
    n = 2, cp = c & 0x1f;
  else if(c >= 0xe0 && c <= 0xef)
    n = 3, cp = c & 0x0f;
  else if(c >= 0xf0 && c <= 0xf4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if(avail < n)
    return 0;
  for(i = 1; i < n; i++) {
    if((p[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
     (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

long vs_utf8_count(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  long count = 0;
  while(i < n) {
    size_t k = vs_utf8_seq(p + i, n - i);
    if(!k)
      return -1;
    i += k;
    count++;
  }
  return count;
}

int vs_utf8_valid(const char *s, size_t n)
{
  return vs_utf8_count(s, n) >= 0;
}

static void ascii_case(char *out, size_t cap, const char *in, char from,
                       char to)
{
  size_t i;
  if(!cap)
    return;
  for(i = 0; in[i] && i + 1 < cap; i++)
    out[i] = in[i] >= from && in[i] <= from + 25 ? (char)(in[i] - from + to)
                                                 : in[i];
  out[i] = 0;
}

void vs_ascii_upper(char *out, size_t cap, const char *in)
{
  ascii_case(out, cap, in, 'a', 'A');
}

void vs_ascii_lower(char *out, size_t cap, const char *in)
{
  ascii_case(out, cap, in, 'A', 'a');
}
