#include "cli/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int vs_cli_parse_uint(const char *s, unsigned long long min,
                      unsigned long long max, unsigned long long *out)
{
  char *end;
  unsigned long long v;
  if(!s || !*s || *s == '-' || *s == '+')
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if(errno || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int vs_cli_parse_size(const char *s, uint64_t *out)
{
  static const struct { const char *suffix; unsigned shift; } units[] = {
    {"", 0}, {"B", 0}, {"K", 10}, {"KiB", 10}, {"KB", 10}, {"M", 20},
    {"MiB", 20}, {"MB", 20}, {"G", 30}, {"GiB", 30}, {"GB", 30}, {"T", 40},
    {"TiB", 40}, {"TB", 40},
  };
  char *end;
  unsigned long long v;
  size_t i;
  if(!s || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if(errno)
    return -1;
  for(i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if(strcasecmp(end, units[i].suffix))
      continue;
    if(units[i].shift && v > (UINT64_MAX >> units[i].shift))
      return -1;
    *out = (uint64_t)v << units[i].shift;
    return 0;
  }
  return -1;
}

int vs_cli_parse_duration(const char *s, int64_t *seconds)
{
  char *end;
  long long v;
  int64_t mul = 1;
  if(!s || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoll(s, &end, 10);
  if(errno)
    return -1;
  if(!strcmp(end, "m"))
    mul = 60;
  else if(!strcmp(end, "h"))
    mul = 3600;
  else if(!strcmp(end, "d"))
    mul = 86400;
  else if(*end && strcmp(end, "s"))
    return -1;
  if(v > INT64_MAX / mul)
    return -1;
  *seconds = v * mul;
  return 0;
}
