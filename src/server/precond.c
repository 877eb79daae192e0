/* Conditional GET and HEAD (precond.h): RFC 9110 §13.1 and §13.2.2, which
 * S3 follows; the precedence rules S3 documents are RFC 9110's order. */
#include <string.h>

#include "server/precond.h"
#include "util/clock.h"

static int rest_blank(const char *s)
{
  while(*s == ' ' || *s == '\t')
    s++;
  return *s == 0;
}

/* RFC 9110's three forms, with GMT alone as the zone it names. */
int vs__http_date_parse(const char *s, int64_t *unix_s)
{
  return vs_time_parse_http(s, 0, unix_s);
}

int vs__etag_listed(const char *v, const char *etag, int strong)
{
  size_t elen = strlen(etag);
  if(!v)
    return 0;
  while(*v == ' ' || *v == '\t')
    v++;
  if(!strcmp(v, "*") || (v[0] == '*' && rest_blank(v + 1)))
    return 1;
  while(*v) {
    const char *end = strchr(v, ','), *t = v;
    size_t len = end ? (size_t)(end - v) : strlen(v);
    int weak = 0;
    while(len && (*t == ' ' || *t == '\t'))
      t++, len--;
    while(len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
      len--;
    if(len >= 2 && !strncmp(t, "W/", 2))
      weak = 1, t += 2, len -= 2;
    if(len >= 2 && t[0] == '"' && t[len - 1] == '"')
      t++, len -= 2;
    if(!(weak && strong) && len == elen && !memcmp(t, etag, elen))
      return 1;
    if(!end)
      break;
    v = end + 1;
  }
  return 0;
}

unsigned vs__precond_eval(const vs__conds *c, const char *etag,
                          int64_t mtime_s)
{
  int64_t t;
  if(c->if_match) {
    if(!vs__etag_listed(c->if_match, etag, 1))
      return 412;
  }
  else if(c->if_unmodified_since &&
          !vs__http_date_parse(c->if_unmodified_since, &t) && mtime_s > t)
    return 412;
  if(c->if_none_match) {
    if(vs__etag_listed(c->if_none_match, etag, 0))
      return 304;
  }
  else if(c->if_modified_since &&
          !vs__http_date_parse(c->if_modified_since, &t) && mtime_s <= t)
    return 304;
  return 200;
}
