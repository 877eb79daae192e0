#include "util/clock.h"

#include <stdio.h>
#include <string.h>

/* Howard Hinnant's civil-date algorithms: exact, no timezone database and
 * no global state (gmtime/timegm are not needed). */
int64_t vs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void vs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  int64_t era;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
  return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

static void split(int64_t s, int64_t *y, unsigned *mo, unsigned *d,
                  unsigned *h, unsigned *mi, unsigned *se)
{
  int64_t days = floordiv(s, 86400), rem = s - days * 86400;
  vs_civil_from_days(days, y, mo, d);
  *h = (unsigned)(rem / 3600);
  *mi = (unsigned)(rem / 60 % 60);
  *se = (unsigned)(rem % 60);
}

/* The formatters print into a roomy buffer first: the compiler cannot know
 * that the fields are in range, and a truncated time must never go out. */
void vs_time_amz(int64_t unix_s, char out[17])
{
  char buf[64];
  int64_t y;
  unsigned mo, d, h, mi, s;
  split(unix_s, &y, &mo, &d, &h, &mi, &s);
  snprintf(buf, sizeof(buf), "%04d%02u%02uT%02u%02u%02uZ", (int)y, mo, d, h,
           mi, s);
  memcpy(out, buf, 16);
  out[16] = 0;
}

void vs_time_rfc3339(int64_t ms, char out[25])
{
  int64_t y, sec = floordiv(ms, 1000);
  unsigned mo, d, h, mi, s;
  char buf[80];
  split(sec, &y, &mo, &d, &h, &mi, &s);
  snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)y, mo,
           d, h, mi, s, (unsigned)(ms - sec * 1000));
  memcpy(out, buf, 24);
  out[24] = 0;
}

void vs_time_http(int64_t unix_s, char out[30])
{
  static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun",
                                   "Mon", "Tue", "Wed"};
  static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t y, days = floordiv(unix_s, 86400);
  unsigned mo, d, h, mi, s;
  char buf[80];
  split(unix_s, &y, &mo, &d, &h, &mi, &s);
  snprintf(buf, sizeof(buf), "%s, %02u %s %04d %02u:%02u:%02u GMT",
           wd[((days % 7) + 7) % 7], d, mn[mo - 1], (int)y, h, mi, s);
  memcpy(out, buf, 29);
  out[29] = 0;
}

/* Reads exactly n digits. */
static int digits(const char *s, int n, unsigned *v)
{
  int i;
  *v = 0;
  for(i = 0; i < n; i++) {
    if(s[i] < '0' || s[i] > '9')
      return -1;
    *v = *v * 10 + (unsigned)(s[i] - '0');
  }
  return 0;
}

static int valid(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                 unsigned s)
{
  static const unsigned mdays[] = {31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  unsigned leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if(mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
     s > 59)
    return 0;
  return !(mo == 2 && d == 29 && !leap);
}

int vs_time_parse_amz(const char *s, int64_t *out)
{
  unsigned y, mo, d, h, mi, se;
  if(strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || digits(s, 4, &y) ||
     digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
     digits(s + 11, 2, &mi) || digits(s + 13, 2, &se) ||
     !valid(y, mo, d, h, mi, se))
    return -1;
  *out = vs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return 0;
}

int vs_time_parse_rfc3339(const char *s, int64_t *out)
{
  unsigned y, mo, d, h = 0, mi = 0, se = 0, frac = 0, oh, om;
  int64_t ms;
  const char *p;
  if(digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
     s[7] != '-' || digits(s + 8, 2, &d))
    return -1;
  p = s + 10;
  if(*p == 'T' || *p == 't' || *p == ' ') {
    if(digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) ||
       p[6] != ':' || digits(p + 7, 2, &se))
      return -1;
    p += 9;
    if(*p == '.') {
      int n = 0;
      for(p++; *p >= '0' && *p <= '9'; p++, n++)
        if(n < 3)
          frac = frac * 10 + (unsigned)(*p - '0');
      if(!n)
        return -1;
      for(; n < 3; n++)
        frac *= 10;
    }
  }
  if(!valid(y, mo, d, h, mi, se))
    return -1;
  ms = (vs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) *
         1000 + frac;
  if(*p == 'Z' || *p == 'z')
    p++;
  else if((*p == '+' || *p == '-') && !digits(p + 1, 2, &oh) && p[3] == ':' &&
          !digits(p + 4, 2, &om)) {
    int64_t off = ((int64_t)oh * 60 + om) * 60000;
    ms += *p == '+' ? -off : off;
    p += 6;
  }
  else if(*p && p != s + 10)
    return -1;
  if(*p)
    return -1;
  *out = ms;
  return 0;
}

static unsigned month_of(const char *m)
{
  static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned i;
  for(i = 0; i < 12; i++)
    if(!strcmp(m, mn[i]))
      return i + 1;
  return 0;
}

static int date_of(unsigned y, const char *mon, unsigned d, unsigned h,
                   unsigned mi, unsigned se, int64_t *out)
{
  unsigned mo = month_of(mon);
  if(se == 60) /* a leap second: the clock reads :59 twice */
    se = 59;
  if(y < 1 || y > 9999 || !valid(y, mo, d, h, mi, se))
    return -1;
  *out = vs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return 0;
}

static int rest_blank(const char *s)
{
  while(*s == ' ' || *s == '\t')
    s++;
  return *s == 0;
}

static int zone_ok(const char *z, int aliases)
{
  return !strcmp(z, "GMT") ||
         (aliases && (!strcmp(z, "UTC") || !strcmp(z, "+0000") ||
                      !strcmp(z, "-0000")));
}

int vs_time_parse_http(const char *s, int zone_aliases, int64_t *out)
{
  char wd[12], mon[4], zone[6];
  unsigned d, y, h, mi, se;
  int n = -1;
  if(!s)
    return -1;
  while(*s == ' ' || *s == '\t')
    s++;
  /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
  if(sscanf(s, "%3[A-Za-z], %2u %3[A-Za-z] %4u %2u:%2u:%2u %5s%n", wd, &d,
            mon, &y, &h, &mi, &se, zone, &n) == 8 && n > 0 &&
     rest_blank(s + n))
    return zone_ok(zone, zone_aliases) ? date_of(y, mon, d, h, mi, se, out)
                                       : -1;
  n = -1;
  /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
  if(sscanf(s, "%11[A-Za-z], %2u-%3[A-Za-z]-%2u %2u:%2u:%2u GMT%n", wd, &d,
            mon, &y, &h, &mi, &se, &n) == 7 && n > 0 && rest_blank(s + n))
    return date_of(y < 70 ? 2000 + y : 1900 + y, mon, d, h, mi, se, out);
  n = -1;
  /* asctime: Sun Nov  6 08:49:37 1994 */
  if(sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2u %2u:%2u:%2u %4u%n", wd, mon, &d,
            &h, &mi, &se, &y, &n) == 7 && n > 0 && rest_blank(s + n))
    return date_of(y, mon, d, h, mi, se, out);
  return -1;
}
