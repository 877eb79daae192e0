/* Conditional GET and HEAD (precond.h): RFC 9110 §13.1 and §13.2.2, which
 * S3 follows; the precedence rules S3 documents are RFC 9110's order. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/precond.h"
#include "util/clock.h"

static int month_of(const char *m)
{
  static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int i;
  for(i = 0; i < 12; i++)
    if(!strcmp(m, mn[i]))
      return i + 1;
  return 0;
}

static int date_of(int64_t y, int mo, unsigned d, unsigned h, unsigned mi,
                   unsigned sec, int64_t *out)
{
  static const unsigned mdays[] = {31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  if(!mo || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 ||
     y < 1 || y > 9999)
    return -1;
  *out = vs_days_from_civil(y, (unsigned)mo, d) * 86400 + h * 3600 +
         mi * 60 + (sec == 60 ? 59 : sec);
  return 0;
}

static int rest_blank(const char *s)
{
  while(*s == ' ' || *s == '\t')
    s++;
  return *s == 0;
}

int vs__http_date_parse(const char *s, int64_t *unix_s)
{
  char wd[12], mon[4];
  unsigned d, y, h, mi, sec;
  int n = -1;
  if(!s)
    return -1;
  while(*s == ' ' || *s == '\t')
    s++;
  /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
  if(sscanf(s, "%3[A-Za-z], %2u %3[A-Za-z] %4u %2u:%2u:%2u GMT%n", wd, &d,
            mon, &y, &h, &mi, &sec, &n) == 7 && n > 0 && rest_blank(s + n))
    return date_of(y, month_of(mon), d, h, mi, sec, unix_s);
  n = -1;
  /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years: 1970-2069) */
  if(sscanf(s, "%11[A-Za-z], %2u-%3[A-Za-z]-%2u %2u:%2u:%2u GMT%n", wd, &d,
            mon, &y, &h, &mi, &sec, &n) == 7 && n > 0 && rest_blank(s + n))
    return date_of(y < 70 ? 2000 + y : 1900 + y, month_of(mon), d, h, mi,
                   sec, unix_s);
  n = -1;
  /* asctime: Sun Nov  6 08:49:37 1994 */
  if(sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2u %2u:%2u:%2u %4u%n", wd, mon, &d,
            &h, &mi, &sec, &y, &n) == 7 && n > 0 && rest_blank(s + n))
    return date_of(y, month_of(mon), d, h, mi, sec, unix_s);
  return -1;
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
