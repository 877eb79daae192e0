/* Headers that frame or describe a request must come once. Two
 * Content-Length headers with different values let a client and a proxy
 * disagree on where a body ends (request smuggling, RFC 9112 §6.3), two
 * Host headers on which site is meant (§3.2); libmicrohttpd reads only the
 * first of each. Every header vsink reads (the signature's inputs, digests,
 * conditions) is held to the same rule, so no copy can say one thing to
 * the checks and another to a proxy. Content-Length beside
 * Transfer-Encoding is refused for the same reason. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"

#define MAX_SEEN 64

static const char *const framing[] = {
  "Content-Length", "Transfer-Encoding", "Host", "Authorization", "Expect",
  "Range", "Content-MD5", "Content-Type", "Content-Encoding",
};

static int must_be_single(const char *name)
{
  size_t i;
  if(!strncasecmp(name, "x-amz-", 6) || !strncasecmp(name, "if-", 3))
    return 1;
  for(i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
    if(!strcasecmp(name, framing[i]))
      return 1;
  return 0;
}

typedef struct seen {
  const char *names[MAX_SEEN];
  size_t n;
  const char *dup; /* the first name seen twice */
} seen;

static enum MHD_Result each(void *cls, enum MHD_ValueKind kind,
                            const char *name, const char *value)
{
  seen *s = cls;
  size_t i;
  (void)kind;
  (void)value;
  if(!name || !must_be_single(name))
    return MHD_YES;
  for(i = 0; i < s->n; i++)
    if(!strcasecmp(s->names[i], name)) {
      s->dup = name;
      return MHD_NO;
    }
  if(s->n < MAX_SEEN)
    s->names[s->n++] = name;
  return MHD_YES;
}

int vs__headers_check(struct MHD_Connection *conn, char *msg, size_t cap)
{
  seen s = {{0}, 0, NULL};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, each, &s);
  if(s.dup) {
    snprintf(msg, cap, "the request has more than one %s header", s.dup);
    return -1;
  }
  /* RFC 9112 §6.1: both may be a smuggling attempt; refuse and close */
  if(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                 MHD_HTTP_HEADER_TRANSFER_ENCODING) &&
     MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                 MHD_HTTP_HEADER_CONTENT_LENGTH)) {
    snprintf(msg, cap, "the request has both Content-Length and "
             "Transfer-Encoding");
    return -1;
  }
  return 0;
}
