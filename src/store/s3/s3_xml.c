/* A pull reader for S3's XML answers (see s3_int.h). Not the sink's strict
 * reader (src/server/xml_in.c): that one lives above the store (the store
 * may not link the server) and, made for requests a hostile client sends,
 * refuses attributes below the root and has no way to pass over an
 * element it does not know; answers from RGW, MinIO or AWS carry both
 * (xmlns:xsi on Grantee, Owner, ChecksumAlgorithm, RestoreStatus, ...).
 * Comments and processing instructions are skipped; CDATA and DTDs are
 * refused. Every step consumes input; depth is bounded. Pure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3/s3_int.h"

#define MAX_DEPTH 32

static int bad(vs__s3x *x, const char *why)
{
  if(!x->why)
    x->why = why;
  return -1;
}

static void skip_ws(vs__s3x *x)
{
  while(x->p < x->end &&
        (*x->p == ' ' || *x->p == '\t' || *x->p == '\r' || *x->p == '\n'))
    x->p++;
}

static int name_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
         c == ':';
}

static int starts(const vs__s3x *x, const char *s)
{
  size_t n = strlen(s);
  return (size_t)(x->end - x->p) >= n && !memcmp(x->p, s, n);
}

/* Past the next occurrence of s, or -1. */
static int skip_past(vs__s3x *x, const char *s)
{
  size_t n = strlen(s);
  while((size_t)(x->end - x->p) >= n) {
    if(!memcmp(x->p, s, n)) {
      x->p += n;
      return 0;
    }
    x->p++;
  }
  return bad(x, "unterminated comment or declaration");
}

/* White space, comments and processing instructions. */
static int skip_misc(vs__s3x *x)
{
  for(;;) {
    skip_ws(x);
    if(starts(x, "<!--")) {
      if(skip_past(x, "-->"))
        return -1;
    }
    else if(starts(x, "<?")) {
      if(skip_past(x, "?>"))
        return -1;
    }
    else if(starts(x, "<!"))
      return bad(x, "DTD or CDATA");
    else
      return 0;
  }
}

/* Attributes up to the tag's end; sets x->empty. */
static int attributes(vs__s3x *x)
{
  for(;;) {
    const char *s;
    char q;
    skip_ws(x);
    if(x->p >= x->end)
      return bad(x, "unterminated tag");
    if(*x->p == '>') {
      x->p++;
      x->empty = 0;
      return 0;
    }
    if(starts(x, "/>")) {
      x->p += 2;
      x->empty = 1;
      return 0;
    }
    for(s = x->p; x->p < x->end && name_char(*x->p); x->p++)
      ;
    if(x->p == s)
      return bad(x, "bad attribute");
    skip_ws(x);
    if(x->p >= x->end || *x->p++ != '=')
      return bad(x, "attribute without a value");
    skip_ws(x);
    if(x->p >= x->end || (*x->p != '"' && *x->p != '\''))
      return bad(x, "attribute value not quoted");
    q = *x->p++;
    while(x->p < x->end && *x->p != q && *x->p != '<')
      x->p++;
    if(x->p >= x->end || *x->p != q)
      return bad(x, "unterminated attribute value");
    x->p++;
  }
}

/* "<Name ...>" at x->p. */
static int open_tag(vs__s3x *x)
{
  const char *s;
  size_t n;
  if(x->p >= x->end || *x->p != '<')
    return bad(x, "expected an element");
  x->p++;
  for(s = x->p; x->p < x->end && name_char(*x->p); x->p++)
    ;
  n = (size_t)(x->p - s);
  if(!n || n >= sizeof(x->name))
    return bad(x, "bad element name");
  if(x->depth >= MAX_DEPTH)
    return bad(x, "nested too deeply");
  memcpy(x->name, s, n);
  x->name[n] = 0;
  if(attributes(x))
    return -1;
  if(!x->empty)
    x->depth++;
  return 0;
}

/* "</name>" at x->p. */
static int close_tag(vs__s3x *x, const char *name)
{
  size_t n = strlen(name);
  if((size_t)(x->end - x->p) < n + 3 || x->p[0] != '<' || x->p[1] != '/' ||
     memcmp(x->p + 2, name, n) || name_char(x->p[2 + n]))
    return bad(x, "element not closed");
  x->p += 2 + n;
  skip_ws(x);
  if(x->p >= x->end || *x->p != '>')
    return bad(x, "element not closed");
  x->p++;
  x->depth--;
  return 0;
}

void vs__s3x_init(vs__s3x *x, const char *s, size_t n)
{
  memset(x, 0, sizeof(*x));
  x->p = s;
  x->end = s + n;
}

int vs__s3x_root(vs__s3x *x)
{
  return skip_misc(x) || open_tag(x) ? -1 : 0;
}

int vs__s3x_child(vs__s3x *x, const char *parent)
{
  for(;;) { /* text, comments and PIs between elements */
    if(skip_misc(x))
      return -1;
    if(x->p >= x->end || *x->p == '<')
      break;
    while(x->p < x->end && *x->p != '<')
      x->p++;
  }
  if(x->p >= x->end)
    return bad(x, "unexpected end");
  if(starts(x, "</"))
    return close_tag(x, parent) ? -1 : 0;
  return open_tag(x) ? -1 : 1;
}

static size_t put_utf8(char *o, uint32_t c)
{
  if(c < 0x80) {
    o[0] = (char)c;
    return 1;
  }
  if(c < 0x800) {
    o[0] = (char)(0xc0 | (c >> 6));
    o[1] = (char)(0x80 | (c & 0x3f));
    return 2;
  }
  if(c < 0x10000) {
    o[0] = (char)(0xe0 | (c >> 12));
    o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[2] = (char)(0x80 | (c & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | (c >> 18));
  o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
  o[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* A character reference after "&#": its UTF-8 into o; length, 0 if bad. */
static size_t charref(vs__s3x *x, char *o)
{
  uint32_t c = 0;
  int hex = x->p < x->end && *x->p == 'x', digits = 0;
  x->p += hex;
  for(; x->p < x->end && *x->p != ';'; x->p++, digits++) {
    char d = *x->p;
    unsigned v = d >= '0' && d <= '9' ? (unsigned)(d - '0')
                 : hex && d >= 'a' && d <= 'f' ? (unsigned)(d - 'a' + 10)
                 : hex && d >= 'A' && d <= 'F' ? (unsigned)(d - 'A' + 10)
                                               : 99;
    if(v == 99 || digits >= 8)
      return 0;
    c = c * (hex ? 16 : 10) + v;
  }
  if(x->p >= x->end || !digits || c == 0 || c > 0x10ffff ||
     (c >= 0xd800 && c <= 0xdfff))
    return 0;
  x->p++;
  return put_utf8(o, c);
}

/* &...; at x->p (after the '&') into o; its length, 0 when malformed. */
static size_t entity(vs__s3x *x, char *o)
{
  static const struct { const char *name; char c; } E[] = {
    {"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'},
    {"apos;", '\''}};
  size_t i;
  for(i = 0; i < sizeof(E) / sizeof(E[0]); i++)
    if(starts(x, E[i].name)) {
      x->p += strlen(E[i].name);
      o[0] = E[i].c;
      return 1;
    }
  if(x->p >= x->end || *x->p != '#')
    return 0;
  x->p++;
  return charref(x, o);
}

/* The decoded text up to the next '<' into o (cap bytes, NUL included). */
static int text_into(vs__s3x *x, char *o, size_t cap, size_t *len)
{
  size_t n = 0;
  while(x->p < x->end && *x->p != '<') {
    char tmp[4];
    size_t k = 1;
    if(*x->p == '&') {
      x->p++;
      if(!(k = entity(x, tmp)))
        return bad(x, "bad entity or character reference");
    }
    else
      tmp[0] = *x->p++;
    if(n + k >= cap)
      return bad(x, "text too long");
    memcpy(o + n, tmp, k);
    n += k;
  }
  o[n] = 0;
  *len = n;
  return 0;
}

int vs__s3x_text_to(vs__s3x *x, char *out, size_t cap)
{
  char name[sizeof(x->name)];
  size_t len;
  *out = 0;
  if(x->empty)
    return 0;
  memcpy(name, x->name, sizeof(name));
  if(text_into(x, out, cap, &len) || close_tag(x, name)) {
    *out = 0;
    return -1;
  }
  return 0;
}

int vs__s3x_text(vs__s3x *x, size_t max, char **out)
{
  char *o = malloc(max + 1);
  *out = NULL;
  if(!o)
    return -3;
  if(vs__s3x_text_to(x, o, max + 1)) {
    free(o);
    return -1;
  }
  *out = o;
  return 0;
}

int vs__s3x_skip(vs__s3x *x)
{
  char name[sizeof(x->name)];
  int rc;
  if(x->empty)
    return 0;
  memcpy(name, x->name, sizeof(name));
  while((rc = vs__s3x_child(x, name)) == 1)
    if(vs__s3x_skip(x))
      return -1;
  return rc;
}

int vs__s3x_end(vs__s3x *x)
{
  if(skip_misc(x))
    return -1;
  return x->p == x->end ? 0 : bad(x, "content after the root element");
}
