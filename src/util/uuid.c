#include "util/uuid.h"

#include <ctype.h>
#include <string.h>

#include "util/enc.h"

void vs_uuid_format(const unsigned char rnd[16], char out[37])
{
  unsigned char b[16];
  char hex[33];
  memcpy(b, rnd, 16);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  vs_hex(b, 16, hex);
  memcpy(out, hex, 8);
  out[8] = '-';
  memcpy(out + 9, hex + 8, 4);
  out[13] = '-';
  memcpy(out + 14, hex + 12, 4);
  out[18] = '-';
  memcpy(out + 19, hex + 16, 4);
  out[23] = '-';
  memcpy(out + 24, hex + 20, 12);
  out[36] = 0;
}

int vs_uuid_is_v4(const char *s, size_t len)
{
  size_t i;
  if(len < 36)
    return 0;
  for(i = 0; i < 36; i++) {
    if(i == 8 || i == 13 || i == 18 || i == 23) {
      if(s[i] != '-')
        return 0;
    }
    else if(!isxdigit((unsigned char)s[i]))
      return 0;
  }
  return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
}

int vs_uuid_find_v4(const char *s, char out[37])
{
  size_t n = strlen(s), i, j;
  if(n < 36)
    return 0;
  for(i = n - 36 + 1; i-- > 0;) {
    if(vs_uuid_is_v4(s + i, n - i)) {
      for(j = 0; j < 36; j++)
        out[j] = (char)tolower((unsigned char)s[i + j]);
      out[36] = 0;
      return 1;
    }
  }
  return 0;
}
