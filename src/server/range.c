/* The Range header of a GET, parsed as RFC 9110 §14.1.2 writes it. The sink
 * serves one range: a header it cannot read, or one with several ranges, is
 * ignored (the whole object, 200), as the RFC allows; a range it can read
 * but that selects nothing is 416. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"

/* 1*DIGIT, saturating at UINT64_MAX: a position past any object is still
 * a position (unsatisfiable, or clamped), not a syntax error. */
static const char *digits(const char *p, uint64_t *out)
{
  const char *start = p;
  uint64_t v = 0;
  for(; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  *out = v;
  return p == start ? NULL : p;
}

int vs__range_parse(const char *h, uint64_t size, uint64_t *off,
                    uint64_t *len)
{
  uint64_t a, b;
  const char *p;
  if(!h || strncasecmp(h, "bytes=", 6))
    return 1;
  p = h + 6;
  if(*p == '-') { /* suffix-range: the last a bytes */
    p = digits(p + 1, &a);
    if(!p || *p)
      return 1;
    if(a == 0 || size == 0)
      return -1; /* nothing to select; a 206 could not even say so */
    *len = a > size ? size : a;
    *off = size - *len;
    return 0;
  }
  p = digits(p, &a);
  if(!p || *p != '-')
    return 1;
  p++;
  if(*p) {
    p = digits(p, &b);
    if(!p || *p || b < a)
      return 1; /* RFC 9110: last-pos < first-pos is invalid */
  }
  else
    b = UINT64_MAX;
  if(a >= size)
    return -1;
  *off = a;
  *len = (b >= size ? size - 1 : b) - a + 1;
  return 0;
}
