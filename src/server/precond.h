/* Conditional requests on an object (RFC 9110 §13, as S3 applies them).
 * Not a public header. Pure: no I/O, no state (unit-tested as is). */
#ifndef VS_SERVER_PRECOND_H
#define VS_SERVER_PRECOND_H

#include <stdint.h>

/* The request's conditional headers; NULL when absent. */
typedef struct vs__conds {
  const char *if_match, *if_none_match;
  const char *if_modified_since, *if_unmodified_since;
} vs__conds;

/* What a GET or HEAD of an object whose ETag (unquoted) is etag and whose
 * Last-Modified is mtime_s (Unix seconds) answers, before any Range: 200
 * (serve it), 304 Not Modified or 412 Precondition Failed. RFC 9110
 * §13.2.2's order, which is S3's precedence: If-Match decides and then
 * If-Unmodified-Since is not looked at (If-Match true + If-Unmodified-Since
 * false -> 200); else If-Unmodified-Since; then If-None-Match decides and
 * If-Modified-Since is not looked at (If-None-Match false +
 * If-Modified-Since true -> 304); else If-Modified-Since. A date that does
 * not parse is ignored, as RFC 9110 says. */
unsigned vs__precond_eval(const vs__conds *c, const char *etag,
                          int64_t mtime_s);

/* 1 when the field value (a comma-separated list of entity tags, or "*")
 * names etag. strong: RFC 9110's strong comparison (If-Match: a weak tag
 * never matches); else weak (If-None-Match: W/ is ignored). A tag sent
 * without its quotes is taken as quoted, as S3 does. */
int vs__etag_listed(const char *value, const char *etag, int strong);

/* An HTTP-date (IMF-fixdate, RFC 850 or asctime form) as Unix seconds;
 * -1 when it is none of them. */
int vs__http_date_parse(const char *s, int64_t *unix_s);

#endif
