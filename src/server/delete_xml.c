/* The DeleteObjects body (see delete_xml.h). A hand-written recursive
 * reader for one fixed shape: a general XML parser would accept far more
 * than S3 does (entities of a DTD, namespaces on every element) and give
 * a hostile body more to work with. Bounded: every step consumes input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/delete_xml.h"

typedef struct xin {
  const char *p, *end;
  char *msg;
  size_t cap;
} xin;

static int fail(xin *x, const char *what)
{
  snprintf(x->msg, x->cap, "The XML you provided was not well-formed or "
           "did not validate against our published schema (%s)", what);
  return -1;
}

static void skip_ws(xin *x)
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
static int attributes(xin *x, int *empty)
{
  for(;;) {
    const char *s;
    char q;
    skip_ws(x);
    if(x->p >= x->end)
      return fail(x, "unterminated tag");
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
      return fail(x, "bad attribute");
    skip_ws(x);
    if(x->p >= x->end || *x->p++ != '=')
      return fail(x, "attribute without a value");
    skip_ws(x);
    if(x->p >= x->end || (*x->p != '"' && *x->p != '\''))
      return fail(x, "attribute value not quoted");
    q = *x->p++;
    while(x->p < x->end && *x->p != q && *x->p != '<')
      x->p++;
    if(x->p >= x->end || *x->p != q)
      return fail(x, "unterminated attribute value");
    x->p++;
  }
}

/* "<Name" at x->p: its name into name (cap bytes), then the attributes;
 * attrs 0 refuses any. 1 when the next thing is a closing tag instead. */
static int open_tag(xin *x, char *name, size_t cap, int attrs, int *empty)
{
  const char *s;
  size_t n;
  skip_ws(x);
  if(x->p >= x->end || *x->p != '<')
    return fail(x, x->p >= x->end ? "unexpected end" : "text where an "
                "element belongs");
  if(x->p + 1 < x->end && x->p[1] == '/')
    return 1;
  x->p++;
  for(s = x->p; x->p < x->end && name_char(*x->p); x->p++)
    ;
  n = (size_t)(x->p - s);
  if(!n || n >= cap)
    return fail(x, "bad element name");
  memcpy(name, s, n);
  name[n] = 0;
  if(!attrs) {
    skip_ws(x);
    if(x->p < x->end && *x->p != '>' && *x->p != '/')
      return fail(x, "unexpected attribute");
  }
  return attributes(x, empty) ? -1 : 0;
}

static int close_tag(xin *x, const char *name)
{
  size_t n = strlen(name);
  skip_ws(x);
  if((size_t)(x->end - x->p) < n + 3 || x->p[0] != '<' || x->p[1] != '/' ||
     memcmp(x->p + 2, name, n))
    return fail(x, "element not closed");
  x->p += 2 + n;
  skip_ws(x);
  if(x->p >= x->end || *x->p != '>')
    return fail(x, "element not closed");
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
static size_t entity(xin *x, char *o)
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

/* A leaf's text up to its closing tag, decoded, into a malloc'd string. */
static int text(xin *x, const char *name, char **out, size_t *len)
{
  char *o = malloc(VS__DEL_TEXT_MAX + 1);
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
        return fail(x, "bad entity or character reference");
      }
    }
    else {
      tmp[0] = *x->p++;
      k = 1;
    }
    if(n + k > VS__DEL_TEXT_MAX) {
      free(o);
      return fail(x, "text too long");
    }
    memcpy(o + n, tmp, k);
    n += k;
  }
  o[n] = 0;
  if(close_tag(x, name)) {
    free(o);
    return -1;
  }
  *out = o;
  *len = n;
  return 0;
}

static int not_implemented(xin *x, const char *name)
{
  snprintf(x->msg, x->cap, "<%s> in a DeleteObjects request is not "
           "implemented by vsink", name);
  return -2;
}

/* The children of <Object>: one Key, at most one VersionId. */
static int object(xin *x, vs__del_item *it)
{
  char name[32];
  int empty, rc;
  size_t len;
  while(!(rc = open_tag(x, name, sizeof(name), 0, &empty))) {
    char **slot = !strcmp(name, "Key") ? &it->key
                  : !strcmp(name, "VersionId") ? &it->vid : NULL;
    if(!slot)
      return !strcmp(name, "ETag") || !strcmp(name, "LastModifiedTime") ||
             !strcmp(name, "Size") ? not_implemented(x, name)
                                   : fail(x, "unknown element in Object");
    if(*slot)
      return fail(x, "element repeated in Object");
    if(empty) {
      if(!(*slot = calloc(1, 1)))
        return -3;
      len = 0;
    }
    else if((rc = text(x, name, slot, &len)))
      return rc;
    if(slot == &it->key)
      it->key_len = len;
  }
  if(rc < 0)
    return rc;
  if(close_tag(x, "Object"))
    return -1;
  return it->key ? 0 : fail(x, "Object without a Key");
}

static int quiet(xin *x, vs__del_req *d, int *seen)
{
  char *v;
  size_t n;
  int rc;
  if(*seen)
    return fail(x, "Quiet repeated");
  *seen = 1;
  if((rc = text(x, "Quiet", &v, &n)))
    return rc;
  if(!strcasecmp(v, "true"))
    d->quiet = 1;
  else if(strcasecmp(v, "false"))
    rc = fail(x, "Quiet is neither true nor false");
  free(v);
  return rc;
}

static int children(xin *x, vs__del_req *d, size_t max)
{
  char name[32];
  int empty, rc, seen_quiet = 0;
  size_t cap = 0;
  while(!(rc = open_tag(x, name, sizeof(name), 0, &empty))) {
    if(!strcmp(name, "Quiet") && !empty)
      rc = quiet(x, d, &seen_quiet);
    else if(!strcmp(name, "Object") && !empty) {
      if(d->n == max)
        return fail(x, "more Objects than a request may name");
      if(d->n == cap) {
        size_t nc = cap ? cap * 2 : 16;
        vs__del_item *ni = realloc(d->items, nc * sizeof(*ni));
        if(!ni)
          return -3;
        d->items = ni;
        cap = nc;
      }
      memset(&d->items[d->n], 0, sizeof(d->items[0]));
      d->n++;
      rc = object(x, &d->items[d->n - 1]);
    }
    else
      rc = fail(x, "unknown element in Delete");
    if(rc)
      return rc;
  }
  return rc < 0 ? rc : close_tag(x, "Delete");
}

int vs__delete_parse(const char *body, size_t n, size_t max,
                     vs__del_req *out, char *msg, size_t cap)
{
  xin x = {body, body + n, msg, cap};
  char name[32];
  int empty, rc;
  memset(out, 0, sizeof(*out));
  msg[0] = 0;
  skip_ws(&x);
  if(x.end - x.p >= 5 && !memcmp(x.p, "<?xml", 5)) {
    const char *q = x.p + 5;
    while(q + 1 < x.end && !(q[0] == '?' && q[1] == '>'))
      q++;
    if(q + 1 >= x.end)
      return fail(&x, "unterminated XML declaration");
    x.p = q + 2;
  }
  rc = open_tag(&x, name, sizeof(name), 1, &empty);
  if(rc > 0)
    rc = fail(&x, "no root element");
  else if(!rc && (strcmp(name, "Delete") || empty))
    rc = fail(&x, "the root element is not Delete");
  if(!rc)
    rc = children(&x, out, max);
  if(!rc) {
    skip_ws(&x);
    if(x.p != x.end)
      rc = fail(&x, "content after the root element");
    else if(!out->n)
      rc = fail(&x, "no Object");
  }
  if(rc) {
    vs__delete_req_free(out);
    if(rc == -3)
      snprintf(msg, cap, "out of memory");
  }
  return rc;
}

void vs__delete_req_free(vs__del_req *d)
{
  size_t i;
  for(i = 0; i < d->n; i++) {
    free(d->items[i].key);
    free(d->items[i].vid);
  }
  free(d->items);
  memset(d, 0, sizeof(*d));
}
