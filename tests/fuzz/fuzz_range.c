/* Fuzz target: the Range header of a GET (vs__range_parse, src/server/
 * range.c) against an object size.
 *
 * Input: a size selector byte (a few sizes that matter, or the next 8
 * bytes as the size), then the header value. Invariants: the answer is
 * -1, 0 or 1; 0 selects a non-empty range inside the object (no overflow
 * at any size); and the answer is the one a plain reading of RFC 9110
 * §14.1.2 gives (reference() below, written from the RFC, not from the
 * code): exactly one "bytes=" range-spec, no white space, else ignored;
 * unsatisfiable when it selects nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_input.h"
#include "server/internal.h"

/* 1*DIGIT saturating at UINT64_MAX; NULL when there is none. */
static const char *num(const char *p, uint64_t *v)
{
  const char *s = p;
  *v = 0;
  for(; *p >= '0' && *p <= '9'; p++)
    *v = *v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10
           ? UINT64_MAX
           : *v * 10 + (uint64_t)(*p - '0');
  return p > s ? p : NULL;
}

static int reference(const char *h, uint64_t size, uint64_t *off,
                     uint64_t *len)
{
  uint64_t a, b = UINT64_MAX;
  const char *p;
  if(strncasecmp(h, "bytes=", 6))
    return 1;
  p = h + 6;
  if(*p == '-') { /* suffix-range */
    if(!(p = num(p + 1, &a)) || *p)
      return 1;
    if(a == 0 || size == 0)
      return -1;
    *len = a < size ? a : size;
    *off = size - *len;
    return 0;
  }
  if(!(p = num(p, &a)) || *p++ != '-')
    return 1;
  if(*p && (!(p = num(p, &b)) || *p || b < a))
    return 1;
  if(a >= size)
    return -1;
  *off = a;
  *len = (b < size ? b : size - 1) - a + 1;
  return 0;
}

static uint64_t size_of(const uint8_t **data, size_t *size)
{
  static const uint64_t sizes[] = {0, 1, 2, 5, 10, 1000, 1ULL << 32,
                                   UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX};
  uint8_t sel = (*data)[0];
  uint64_t v = 0;
  (*data)++;
  (*size)--;
  if(sel < 200 || *size < 8)
    return sizes[sel % (sizeof(sizes) / sizeof(sizes[0]))];
  memcpy(&v, *data, 8);
  *data += 8;
  *size -= 8;
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint64_t osize, off = 7, len = 7, roff = 7, rlen = 7;
  char *h;
  int rc, want;
  if(size < 1)
    return 0;
  osize = size_of(&data, &size);
  h = malloc(size + 1);
  if(!h)
    return 0;
  memcpy(h, data, size);
  h[size] = 0;
  rc = vs__range_parse(h, osize, &off, &len);
  FZ_ASSERT(rc >= -1 && rc <= 1, "returned %d", rc);
  if(rc == 0) {
    FZ_ASSERT(len > 0, "'%s' on %llu bytes: an empty range", h,
              (unsigned long long)osize);
    FZ_ASSERT(off < osize && len <= osize - off,
              "'%s' on %llu bytes: [%llu, +%llu) is outside the object", h,
              (unsigned long long)osize, (unsigned long long)off,
              (unsigned long long)len);
  }
  want = reference(h, osize, &roff, &rlen);
  FZ_ASSERT(rc == want && (rc != 0 || (off == roff && len == rlen)),
            "'%s' on %llu bytes: got %d [%llu, +%llu), RFC 9110 says %d "
            "[%llu, +%llu)", h, (unsigned long long)osize, rc,
            (unsigned long long)off, (unsigned long long)len, want,
            (unsigned long long)roff, (unsigned long long)rlen);
  free(h);
  return 0;
}
