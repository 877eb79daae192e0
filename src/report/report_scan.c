#include "report_scan.h"

#include <string.h>

#include "util/clock.h"




void  vs__js_ws(js *s)
{
  while(s->p < s->e &&
        (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
    s->p++;
}

/* value + 1 of each hex digit; 0 for anything else */
static const uint8_t hex1[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
  ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
  ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
  ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};

int  vs__hexval(int ch)
{
  return (int)hex1[(unsigned char)ch] - 1;
}

static int js_str(js *s, span *sp)
{
  const char *p = s->p + 1, *q;
  sp->esc = 0;
  for(;;) {
    q = memchr(p, '"', (size_t)(s->e - p));
    if(!q)
      return -1;
    {
      const char *b = memchr(p, '\\', (size_t)(q - p));
      if(!b)
        break;
      sp->esc = 1;
      if(b + 1 >= s->e)
        return -1;
      if(b[1] == 'u') {
        if(b + 6 > s->e || vs__hexval(b[2]) < 0 || vs__hexval(b[3]) < 0 ||
           vs__hexval(b[4]) < 0 || vs__hexval(b[5]) < 0)
          return -1;
        p = b + 6;
      }
      else if(strchr("\"\\/bfnrt", b[1]) && b[1])
        p = b + 2;
      else
        return -1;
    }
  }
  sp->kind = J_STR;
  sp->p = s->p + 1;
  sp->n = (uint32_t)(q - sp->p);
  s->p = q + 1;
  return 0;
}

static int js_digits(js *s)
{
  const char *p = s->p;
  while(s->p < s->e && *s->p >= '0' && *s->p <= '9')
    s->p++;
  return s->p > p ? 0 : -1;
}

static int js_num(js *s, span *sp)
{
  sp->p = s->p;
  if(s->p < s->e && *s->p == '-')
    s->p++;
  if(s->p < s->e && *s->p == '0')
    s->p++;
  else if(js_digits(s))
    return -1;
  if(s->p < s->e && *s->p == '.') {
    s->p++;
    if(js_digits(s))
      return -1;
  }
  if(s->p < s->e && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if(s->p < s->e && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if(js_digits(s))
      return -1;
  }
  sp->kind = J_NUM;
  sp->n = (uint32_t)(s->p - sp->p);
  sp->esc = 0;
  return 0;
}

static int js_lit(js *s, const char *w, size_t n, int kind, span *sp)
{
  if((size_t)(s->e - s->p) < n || memcmp(s->p, w, n))
    return -1;
  sp->p = s->p;
  sp->n = (uint32_t)n;
  sp->kind = (uint8_t)kind;
  s->p += n;
  return 0;
}


static int js_value(js *s, span *sp, int depth, const fieldset *fs);

/* An object: members named in fs (may be NULL) land in fs->out. */
int  vs__js_object(js *s, int depth, const fieldset *fs)
{
  span k, v;
  if(depth > VS__SCAN_MAX_DEPTH)
    return -1;
  s->p++;
  vs__js_ws(s);
  if(s->p < s->e && *s->p == '}') {
    s->p++;
    return 0;
  }
  for(;;) {
    int i, hit = -1;
    vs__js_ws(s);
    if(s->p >= s->e || *s->p != '"' || js_str(s, &k))
      return -1;
    vs__js_ws(s);
    if(s->p >= s->e || *s->p++ != ':')
      return -1;
    vs__js_ws(s);
    for(i = 0; fs && !k.esc && i < fs->n; i++)
      if(fs->lens[i] == k.n && !memcmp(fs->names[i], k.p, k.n)) {
        hit = i;
        break;
      }
    if(hit >= 0 && hit == fs->nested && s->p < s->e && *s->p == '{') {
      fs->out[hit].kind = J_OBJ;
      if(vs__js_object(s, depth + 1, fs->child))
        return -1;
    }
    else if(js_value(s, hit >= 0 ? &fs->out[hit] : &v, depth + 1, NULL))
      return -1;
    vs__js_ws(s);
    if(s->p >= s->e)
      return -1;
    if(*s->p == '}') {
      s->p++;
      return 0;
    }
    if(*s->p++ != ',')
      return -1;
  }
}

static int js_array(js *s, int depth)
{
  span v;
  if(depth > VS__SCAN_MAX_DEPTH)
    return -1;
  s->p++;
  vs__js_ws(s);
  if(s->p < s->e && *s->p == ']') {
    s->p++;
    return 0;
  }
  for(;;) {
    vs__js_ws(s);
    if(js_value(s, &v, depth + 1, NULL))
      return -1;
    vs__js_ws(s);
    if(s->p >= s->e)
      return -1;
    if(*s->p == ']') {
      s->p++;
      return 0;
    }
    if(*s->p++ != ',')
      return -1;
  }
}

static int js_value(js *s, span *sp, int depth, const fieldset *fs)
{
  if(s->p >= s->e)
    return -1;
  switch(*s->p) {
  case '"':
    return js_str(s, sp);
  case '{':
    sp->kind = J_OBJ;
    return vs__js_object(s, depth, fs);
  case '[':
    sp->kind = J_ARR;
    return js_array(s, depth);
  case 't':
    return js_lit(s, "true", 4, J_TRUE, sp);
  case 'f':
    return js_lit(s, "false", 5, J_FALSE, sp);
  case 'n':
    return js_lit(s, "null", 4, J_NULL, sp);
  default:
    return js_num(s, sp);
  }
}

/* ---- span conversions --------------------------------------------------- */
static void utf8_put(vs_buf *b, unsigned cp)
{
  char o[4];
  size_t n;
  if(cp < 0x80) {
    o[0] = (char)cp;
    n = 1;
  }
  else if(cp < 0x800) {
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  }
  else if(cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  }
  else {
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  vs_buf_add(b, o, n);
}

static unsigned hex4(const char *p)
{
  return (unsigned)(vs__hexval(p[0]) << 12 | vs__hexval(p[1]) << 8 |
                    vs__hexval(p[2]) << 4 | vs__hexval(p[3]));
}

/* The string's text (escapes decoded, already validated) into b. */
int  vs__span_text(const span *sp, vs_buf *b)
{
  const char *p = sp->p, *e = sp->p + sp->n;
  vs_buf_reset(b);
  if(!sp->esc)
    return vs_buf_add(b, p, sp->n);
  while(p < e) {
    const char *q = memchr(p, '\\', (size_t)(e - p));
    if(!q)
      return vs_buf_add(b, p, (size_t)(e - p));
    vs_buf_add(b, p, (size_t)(q - p));
    if(q[1] == 'u') {
      unsigned cp = hex4(q + 2);
      p = q + 6;
      if(cp >= 0xd800 && cp < 0xdc00 && e - p >= 6 && p[0] == '\\' &&
         p[1] == 'u') {
        unsigned lo = hex4(p + 2);
        if(lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        }
      }
      if(cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd; /* a lone surrogate */
      utf8_put(b, cp);
      continue;
    }
    {
      static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
      vs_buf_addc(b, to[strchr(from, q[1]) - from]);
    }
    p = q + 2;
  }
  return b->failed ? VS_ERR_NOMEM : 0;
}

int  vs__span_int(const span *sp, int64_t min, int64_t max, int64_t *out)
{
  const char *p, *e;
  int neg = 0;
  unsigned __int128 v = 0;
  if(sp->kind != J_NUM)
    return -1; /* before any arithmetic: an absent member's p is NULL */
  p = sp->p;
  e = sp->p + sp->n;
  if(*p == '-') {
    neg = 1;
    p++;
  }
  for(; p < e; p++) {
    if(*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (unsigned)(*p - '0');
    if(v > (unsigned __int128)INT64_MAX + 1)
      return -1;
  }
  if(neg ? v > (unsigned __int128)INT64_MAX + 1 : v > INT64_MAX)
    return -1;
  *out = neg ? (int64_t)(-(__int128)v) : (int64_t)v;
  return *out < min || *out > max ? -1 : 0;
}

/* A decimal as the manifest writes money: a string, or a plain number. */
int  vs__span_dec(const span *sp, vs_dec *out)
{
  if(sp->kind != J_STR && sp->kind != J_NUM)
    return -1;
  if(sp->esc)
    return -1;
  return vs_dec_parse(sp->p, sp->n, out);
}

static int d2(const char *p, unsigned *v)
{
  if(p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
    return -1;
  *v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
  return 0;
}

/* The writer's form, "2026-11-24T12:15:00.123Z", fast; anything else RFC
 * 3339 allows through the clock block; a number is Unix milliseconds. */
int  vs__span_time(const span *sp, int64_t *ms)
{
  char tmp[64];
  const char *p = sp->p;
  unsigned c, y, mo, d, h, mi, s, f1, f2;
  if(sp->kind == J_NUM)
    return vs__span_int(sp, INT64_MIN / 2, INT64_MAX / 2, ms);
  if(sp->kind != J_STR || sp->esc || sp->n >= sizeof(tmp))
    return -1;
  if(sp->n == 24 && p[4] == '-' && p[7] == '-' && p[10] == 'T' &&
     p[13] == ':' && p[16] == ':' && p[19] == '.' && p[23] == 'Z' &&
     !d2(p, &c) && !d2(p + 2, &y) && !d2(p + 5, &mo) && !d2(p + 8, &d) &&
     !d2(p + 11, &h) && !d2(p + 14, &mi) && !d2(p + 17, &s) &&
     !d2(p + 20, &f1) && p[22] >= '0' && p[22] <= '9' && mo >= 1 &&
     mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60) {
    int64_t days = vs_days_from_civil(c * 100 + y, mo, d);
    f2 = (unsigned)(p[22] - '0');
    *ms = ((days * 86400 + h * 3600 + mi * 60 + s) * 1000) + f1 * 10 + f2;
    if(d <= 28)
      return 0; /* else let the full parser judge the day of the month */
  }
  memcpy(tmp, p, sp->n);
  tmp[sp->n] = 0;
  return vs_time_parse_rfc3339(tmp, ms);
}

int  vs__span_uuid(const span *sp, key16 *k)
{
  static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16,
                                 19, 21, 24, 26, 28, 30, 32, 34};
  const char *p = sp->p;
  int i;
  if(sp->kind != J_STR || sp->esc || sp->n != 36 || p[8] != '-' ||
     p[13] != '-' || p[18] != '-' || p[23] != '-')
    return -1;
  for(i = 0; i < 16; i++) {
    int hi = vs__hexval(p[at[i]]), lo = vs__hexval(p[at[i] + 1]);
    if(hi < 0 || lo < 0)
      return -1;
    k->b[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

