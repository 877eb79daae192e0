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
#include "server/xml_in.h"

static int not_implemented(vs__xin *x, const char *name)
{
  snprintf(x->msg, x->cap, "<%s> in a DeleteObjects request is not "
           "implemented by vsink", name);
  return -2;
}

/* The children of <Object>: one Key, at most one VersionId. */
static int object(vs__xin *x, vs__del_item *it)
{
  char name[32];
  int empty, rc;
  size_t len;
  while(!(rc = vs__xin_open(x, name, sizeof(name), &empty))) {
    char **slot = !strcmp(name, "Key") ? &it->key
                  : !strcmp(name, "VersionId") ? &it->vid : NULL;
    if(!slot)
      return !strcmp(name, "ETag") || !strcmp(name, "LastModifiedTime") ||
             !strcmp(name, "Size") ? not_implemented(x, name)
                                   : vs__xin_fail(x, "unknown element in Object");
    if(*slot)
      return vs__xin_fail(x, "element repeated in Object");
    if(empty) {
      if(!(*slot = calloc(1, 1)))
        return -3;
      len = 0;
    }
    else if((rc = vs__xin_text(x, name, VS__DEL_TEXT_MAX, slot, &len)))
      return rc;
    if(slot == &it->key)
      it->key_len = len;
  }
  if(rc < 0)
    return rc;
  if(vs__xin_close(x, "Object"))
    return -1;
  return it->key ? 0 : vs__xin_fail(x, "Object without a Key");
}

static int quiet(vs__xin *x, vs__del_req *d, int *seen)
{
  char *v;
  size_t n;
  int rc;
  if(*seen)
    return vs__xin_fail(x, "Quiet repeated");
  *seen = 1;
  if((rc = vs__xin_text(x, "Quiet", VS__DEL_TEXT_MAX, &v, &n)))
    return rc;
  if(!strcasecmp(v, "true"))
    d->quiet = 1;
  else if(strcasecmp(v, "false"))
    rc = vs__xin_fail(x, "Quiet is neither true nor false");
  free(v);
  return rc;
}

static int children(vs__xin *x, vs__del_req *d, size_t max)
{
  char name[32];
  int empty, rc, seen_quiet = 0;
  size_t cap = 0;
  while(!(rc = vs__xin_open(x, name, sizeof(name), &empty))) {
    if(!strcmp(name, "Quiet") && !empty)
      rc = quiet(x, d, &seen_quiet);
    else if(!strcmp(name, "Object") && !empty) {
      if(d->n == max)
        return vs__xin_fail(x, "more Objects than a request may name");
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
      rc = vs__xin_fail(x, "unknown element in Delete");
    if(rc)
      return rc;
  }
  return rc < 0 ? rc : vs__xin_close(x, "Delete");
}

int vs__delete_parse(const char *body, size_t n, size_t max,
                     vs__del_req *out, char *msg, size_t cap)
{
  vs__xin x = {body, body + n, msg, cap};
  int rc;
  memset(out, 0, sizeof(*out));
  msg[0] = 0;
  rc = vs__xin_root(&x, "Delete");
  if(!rc)
    rc = children(&x, out, max);
  if(!rc)
    rc = vs__xin_end(&x);
  if(!rc && !out->n)
    rc = vs__xin_fail(&x, "no Object");
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
