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
