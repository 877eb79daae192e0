/* Query parameters of the raw URI, decoded (the sink parses the raw form:
 * SigV4 signs it, and MHD's parsed arguments turn '+' into spaces). */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

char *vs__query_get(const char *raw_uri, const char *name)
{
  const char *p = strchr(raw_uri, '?');
  size_t nlen = strlen(name);
  while(p && *p) {
    const char *start = p + 1, *end = strchr(start, '&'), *eq;
    size_t len = end ? (size_t)(end - start) : strlen(start);
    eq = memchr(start, '=', len);
    if((size_t)((eq ? eq : start + len) - start) == nlen &&
       !strncmp(start, name, nlen)) {
      size_t out_len;
      if(!eq)
        return strdup("");
      return vs_sigv4_uri_decode(eq + 1, len - nlen - 1, &out_len);
    }
    p = end;
  }
  return NULL;
}

int vs__query_count(const char *raw_uri, const char *name, long max,
                    long *out)
{
  char *v = vs__query_get(raw_uri, name);
  size_t n = v ? strlen(v) : 0;
  int ok = n > 0 && n <= 10 && strspn(v, "0123456789") == n;
  long x = ok ? strtol(v, NULL, 10) : 0;
  if(!v)
    return 0;
  free(v);
  if(!ok || x > 2147483647L)
    return -1;
  *out = x < max ? x : max;
  return 1;
}
