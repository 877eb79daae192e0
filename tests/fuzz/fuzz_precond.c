/* Fuzz target: conditional GET/HEAD (src/server/precond.c).
 *
 * Input lines: If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since (an empty line: absent), the object's ETag, its
 * Last-Modified as decimal Unix seconds. Invariants: the answer is 200,
 * 304 or 412; a parsed HTTP-date lies in years 1..9999 and, printed back
 * in IMF-fixdate, parses to the same second; a date that parses decides as
 * the RFC says when it is the only condition; a quoted ETag is always
 * listed in its own If-Match and If-None-Match (and *); with no
 * condition the answer is 200. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "server/precond.h"
#include "util/clock.h"

static const char *opt(const fz_lines *l, size_t i)
{
  const char *s = fz_line(l, i);
  return s && *s ? s : NULL;
}

static void check_date(const char *s, int64_t mtime)
{
  int64_t t, t2;
  char back[30];
  vs__conds c = {0};
  if(!s || vs__http_date_parse(s, &t))
    return;
  if(t < -62135596800LL || t > 253402300799LL)
    abort();
  vs_time_http(t, back);
  if(vs__http_date_parse(back, &t2) || t2 != t)
    abort();
  c.if_modified_since = s;
  if(vs__precond_eval(&c, "e", mtime) != (mtime <= t ? 304u : 200u))
    abort();
  c.if_modified_since = NULL;
  c.if_unmodified_since = s;
  if(vs__precond_eval(&c, "e", mtime) != (mtime > t ? 412u : 200u))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz_lines l;
  vs__conds c, none = {0};
  const char *etag;
  int64_t mtime;
  unsigned got;
  if(fz_split(&l, data, size))
    return 0;
  c.if_match = opt(&l, 0);
  c.if_none_match = opt(&l, 1);
  c.if_modified_since = opt(&l, 2);
  c.if_unmodified_since = opt(&l, 3);
  etag = fz_line(&l, 4) ? fz_line(&l, 4) : "";
  mtime = fz_line(&l, 5) ? strtoll(fz_line(&l, 5), NULL, 10) : 0;
  if(mtime < 0 || mtime > 253402300799LL)
    mtime = 0;
  got = vs__precond_eval(&c, etag, mtime);
  if(got != 200 && got != 304 && got != 412)
    abort();
  if(vs__precond_eval(&none, etag, mtime) != 200)
    abort();
  check_date(c.if_modified_since, mtime);
  check_date(c.if_unmodified_since, mtime);
  if(strlen(etag) < 200 && !strpbrk(etag, ",\" \t")) {
    char q[210];
    snprintf(q, sizeof(q), "\"%s\"", etag);
    if(!vs__etag_listed(q, etag, 1) || !vs__etag_listed(q, etag, 0) ||
       !vs__etag_listed("*", etag, 1))
      abort();
  }
  free(l.buf);
  return 0;
}
