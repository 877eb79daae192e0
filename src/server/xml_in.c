/* The strict XML reader (see xml_in.h), shared by the request bodies the
 * sink parses (delete_xml.c, mpu_xml.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/xml_in.h"

int vs__xin_fail(vs__xin *x, const char *what)
{
  snprintf(x->msg, x->cap, "The XML you provided was not well-formed or "
           "did not validate against our published schema (%s)", what);
  return -1;
}

static void skip_ws(vs__xin *x)
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

/* Attributes up to the tag's end: name="v" or name='v' (the namespace of
 * <Delete>; S3 ignores others). *empty for "/>". */
static int attributes(vs__xin *x, int *empty)
{
  for(;;) {
    const char *s;
    char q;
    skip_ws(x);
    if(x->p >= x->end)
      return vs__xin_fail(x, "unterminated tag");
    if(*x->p == '>') {
      x->p++;
      *empty = 0;
      return 0;
    }
    if(*x->p == '/' && x->p + 1 < x->end && x->p[1] == '>') {
      x->p += 2;
      *empty = 1;
      return 0;
    }
    for(s = x->p; x->p < x->end && name_char(*x->p); x->p++)
      ;
    if(x->p == s)
      return vs__xin_fail(x, "bad attribute");
    skip_ws(x);
    if(x->p >= x->end || *x->p++ != '=')
      return vs__xin_fail(x, "attribute without a value");
    skip_ws(x);
    if(x->p >= x->end || (*x->p != '"' && *x->p != '\''))
      return vs__xin_fail(x, "attribute value not quoted");
    q = *x->p++;
    while(x->p < x->end && *x->p != q && *x->p != '<')
      x->p++;
    if(x->p >= x->end || *x->p != q)
      return vs__xin_fail(x, "unterminated attribute value");
    x->p++;
  }
}

/* "<Name" at x->p: its name into name (cap bytes), then the attributes;
 * attrs 0 refuses any. 1 when the next thing is a closing tag instead. */
static int open_tag(vs__xin *x, char *name, size_t cap, int attrs,
                    int *empty)
{
  const char *s;
  size_t n;
  skip_ws(x);
  if(x->p >= x->end || *x->p != '<')
    return vs__xin_fail(x, x->p >= x->end ? "unexpected end" : "text where an "
                "element belongs");
  if(x->p + 1 < x->end && x->p[1] == '/')
    return 1;
  x->p++;
  for(s = x->p; x->p < x->end && name_char(*x->p); x->p++)
    ;
  n = (size_t)(x->p - s);
  if(!n || n >= cap)
    return vs__xin_fail(x, "bad element name");
  memcpy(name, s, n);
  name[n] = 0;
  if(!attrs) {
    skip_ws(x);
    if(x->p < x->end && *x->p != '>' && *x->p != '/')
      return vs__xin_fail(x, "unexpected attribute");
  }
  return attributes(x, empty) ? -1 : 0;
}

int vs__xin_close(vs__xin *x, const char *name)
{
  size_t n = strlen(name);
  skip_ws(x);
  if((size_t)(x->end - x->p) < n + 3 || x->p[0] != '<' || x->p[1] != '/' ||
     memcmp(x->p + 2, name, n))
    return vs__xin_fail(x, "element not closed");
  x->p += 2 + n;
  skip_ws(x);
  if(x->p >= x->end || *x->p != '>')
    return vs__xin_fail(x, "element not closed");
  x->p++;
  return 0;
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

/* &...; at x->p (after the '&') into o; its length, 0 when malformed. */
static size_t entity(vs__xin *x, char *o)
{
  static const struct { const char *name; char c; } E[] = {
    {"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'},
    {"apos;", '\''}};
  size_t i, left = (size_t)(x->end - x->p);
  uint32_t c = 0;
  int hex, digits = 0;
  for(i = 0; i < sizeof(E) / sizeof(E[0]); i++)
    if(left >= strlen(E[i].name) && !memcmp(x->p, E[i].name,
                                            strlen(E[i].name))) {
      x->p += strlen(E[i].name);
      o[0] = E[i].c;
      return 1;
    }
  if(!left || *x->p != '#')
    return 0;
  x->p++;
  hex = x->p < x->end && *x->p == 'x';
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
  x->p++; /* ';' */
  return put_utf8(o, c);
}

int vs__xin_text(vs__xin *x, const char *name, size_t max, char **out,
                 size_t *len)
{
  char *o = malloc(max + 1);
  size_t n = 0;
  if(!o)
    return -3;
  while(x->p < x->end && *x->p != '<') {
    char tmp[4];
    size_t k;
    if(*x->p == '&') {
      x->p++;
      if(!(k = entity(x, tmp))) {
        free(o);
        return vs__xin_fail(x, "bad entity or character reference");
      }
    }
    else {
      tmp[0] = *x->p++;
      k = 1;
    }
    if(n + k > max) {
      free(o);
      return vs__xin_fail(x, "text too long");
    }
    memcpy(o + n, tmp, k);
    n += k;
  }
  o[n] = 0;
  if(vs__xin_close(x, name)) {
    free(o);
    return -1;
  }
  *out = o;
  *len = n;
  return 0;
}

int vs__xin_open(vs__xin *x, char *name, size_t cap, int *empty)
{
  return open_tag(x, name, cap, 0, empty);
}

int vs__xin_root(vs__xin *x, const char *root)
{
  char name[32];
  int empty, rc;
  skip_ws(x);
  if(x->end - x->p >= 5 && !memcmp(x->p, "<?xml", 5)) {
    const char *q = x->p + 5;
    while(q + 1 < x->end && !(q[0] == '?' && q[1] == '>'))
      q++;
    if(q + 1 >= x->end)
      return vs__xin_fail(x, "unterminated XML declaration");
    x->p = q + 2;
  }
  rc = open_tag(x, name, sizeof(name), 1, &empty);
  if(rc > 0)
    return vs__xin_fail(x, "no root element");
  if(!rc && (strcmp(name, root) || empty)) {
    char what[64];
    snprintf(what, sizeof(what), "the root element is not %s", root);
    return vs__xin_fail(x, what);
  }
  return rc;
}

int vs__xin_end(vs__xin *x)
{
  skip_ws(x);
  return x->p == x->end ? 0 : vs__xin_fail(x, "content after the root "
                                           "element");
}
