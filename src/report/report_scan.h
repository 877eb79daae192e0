/* The report's line scanner (internal): a validating JSON scanner that
 * builds nothing. It checks a whole manifest line and hands back, as spans
 * into the line, only the members a fieldset names, so the fold never
 * builds a JSON tree per event. Span helpers turn those into exact values. */
#ifndef VS_REPORT_SCAN_H
#define VS_REPORT_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/dec.h"
#include "vsink/common.h"

#define VS__SCAN_MAX_DEPTH 32

typedef struct key16 {
  uint8_t b[16];
} key16;

enum { J_NONE = 0, J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL, J_OBJ, J_ARR };

typedef struct span {
  const char *p;
  uint32_t n;
  uint8_t kind, esc;
} span;

typedef struct js {
  const char *p, *e;
} js;

typedef struct fieldset {
  const char *const *names;
  const uint8_t *lens;
  int n;
  span *out;
  int nested; /* index of the member parsed as a nested fieldset, or -1 */
  const struct fieldset *child;
} fieldset;

/* Skips white space. */
void vs__js_ws(js *s);
/* An object at s->p ('{'): members named in fs (may be NULL) land in
 * fs->out; depth is the nesting so far. 0 or -1 when malformed. */
int vs__js_object(js *s, int depth, const fieldset *fs);
int vs__hexval(int ch);
/* A string span's text, unescaped, into b (replacing its contents). */
int vs__span_text(const span *sp, vs_buf *b);
/* An integer number span in [min, max]. */
int vs__span_int(const span *sp, int64_t min, int64_t max, int64_t *out);
/* A decimal (number or string span) exactly. */
int vs__span_dec(const span *sp, vs_dec *out);
/* An RFC 3339 time string span, to Unix milliseconds. */
int vs__span_time(const span *sp, int64_t *ms);
/* A UUID string span as 128 bits. */
int vs__span_uuid(const span *sp, key16 *k);

#endif
