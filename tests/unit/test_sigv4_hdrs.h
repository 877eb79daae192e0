/* Shared by the signature tests: a request's headers as the server sees
 * them (strings the test owns), behind the callbacks vs_sigv4_request and
 * vs_sigv2_request take. */
#ifndef VS_TEST_SIGV4_HDRS_H
#define VS_TEST_SIGV4_HDRS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "vsink/sigv4.h"

#define HD_MAX 24

typedef struct hd_set {
  const char *name[HD_MAX];
  const char *value[HD_MAX];
  size_t n;
  char buf[160]; /* room for a value the test composes (Authorization) */
} hd_set;

/* The first value of name (any case), or NULL. */
static inline const char *hd_get(void *ctx, const char *name)
{
  const hd_set *f = ctx;
  size_t i;
  for(i = 0; i < f->n; i++)
    if(!strcasecmp(f->name[i], name))
      return f->value[i];
  return NULL;
}

static inline void hd_each(void *ctx, vs_header_visit_fn visit, void *arg)
{
  const hd_set *f = ctx;
  size_t i;
  for(i = 0; i < f->n; i++)
    visit(arg, f->name[i], f->value[i]);
}

/* Another line, even of a name already there. */
static inline void hd_add(hd_set *f, const char *name, const char *value)
{
  assert_true(f->n < HD_MAX);
  f->name[f->n] = name;
  f->value[f->n++] = value;
}

/* Every line of name goes (value NULL), or the first takes value (added
 * when there is none). */
static inline void hd_set_to(hd_set *f, const char *name, const char *value)
{
  size_t i, o = 0;
  if(value) {
    for(i = 0; i < f->n; i++)
      if(!strcasecmp(f->name[i], name)) {
        f->value[i] = value;
        return;
      }
    hd_add(f, name, value);
    return;
  }
  for(i = 0; i < f->n; i++)
    if(strcasecmp(f->name[i], name)) {
      f->name[o] = f->name[i];
      f->value[o++] = f->value[i];
    }
  f->n = o;
}

#endif
