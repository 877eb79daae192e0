#include "util/dec.h"

#include <stdio.h>
#include <string.h>

int vs_dec_parse(const char *s, size_t len, vs_dec *out)
{
  size_t i = 0;
  int neg = 0, frac = -1, any = 0;
  __int128 v = 0;
  if(i < len && (s[i] == '-' || s[i] == '+'))
    neg = s[i++] == '-';
  for(; i < len; i++) {
    if(s[i] == '.' && frac < 0) {
      frac = 0;
      continue;
    }
    if(s[i] < '0' || s[i] > '9')
      return -1;
    if(frac >= 0 && ++frac > VS_DEC_DIGITS)
      return -1;
    v = v * 10 + (s[i] - '0');
    any = 1;
    if(v > (__int128)INT64_MAX * 10)
      return -1;
  }
  if(!any)
    return -1;
  for(frac = frac < 0 ? 0 : frac; frac < VS_DEC_DIGITS; frac++)
    v *= 10;
  if(v > INT64_MAX)
    return -1;
  *out = (vs_dec)(neg ? -v : v);
  return 0;
}

void vs_dec_format(vs_dec d, int min_frac, char out[VS_DEC_STRLEN])
{
  unsigned __int128 a = d < 0 ? (unsigned __int128)(-(__int128)d)
                              : (unsigned __int128)d;
  unsigned long long ip = (unsigned long long)(a / VS_DEC_SCALE);
  unsigned long long fp = (unsigned long long)(a % VS_DEC_SCALE);
  char frac[VS_DEC_DIGITS + 1];
  int n = VS_DEC_DIGITS;
  snprintf(frac, sizeof(frac), "%010llu", fp);
  while(n > min_frac && frac[n - 1] == '0')
    n--;
  frac[n] = 0;
  snprintf(out, VS_DEC_STRLEN, "%s%llu%s%s", d < 0 ? "-" : "", ip,
           n ? "." : "", frac);
}

int vs_dec_add(vs_dec a, vs_dec b, vs_dec *out)
{
  return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

int vs_dec_muldiv(vs_dec a, int64_t num, int64_t den, vs_dec *out)
{
  __int128 p = (__int128)a * num;
  if(den == 0 || p % den)
    return -1;
  p /= den;
  if(p > INT64_MAX || p < INT64_MIN)
    return -1;
  *out = (vs_dec)p;
  return 0;
}

int vs_dec_from_json_number(double v, vs_dec *out)
{
  char txt[64];
  if(v != v || v > 9e8 || v < -9e8)
    return -1;
  snprintf(txt, sizeof(txt), "%.15g", v);
  if(strchr(txt, 'e')) {
    /* tiny values print in exponent form: spell them out, still at 15
     * significant digits, and let the parser judge the precision */
    snprintf(txt, sizeof(txt), "%.*f", VS_DEC_DIGITS, v);
  }
  return vs_dec_parse(txt, strlen(txt), out);
}
