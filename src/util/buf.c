#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsink/common.h"

void vs_buf_init(vs_buf *b)
{
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

void vs_buf_free(vs_buf *b)
{
  free(b->data);
  vs_buf_init(b);
}

void vs_buf_reset(vs_buf *b)
{
  b->len = 0;
  if(b->data)
    b->data[0] = 0;
}

static int grow(vs_buf *b, size_t need)
{
  size_t cap;
  char *p;
  if(b->failed)
    return VS_ERR_NOMEM;
  if(need < b->cap)
    return VS_OK;
  cap = b->cap ? b->cap : 64;
  while(cap <= need)
    cap *= 2;
  p = realloc(b->data, cap);
  if(!p) {
    b->failed = 1;
    return VS_ERR_NOMEM;
  }
  b->data = p;
  b->cap = cap;
  return VS_OK;
}

int vs_buf_add(vs_buf *b, const void *p, size_t n)
{
  if(grow(b, b->len + n))
    return VS_ERR_NOMEM;
  if(n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
  return VS_OK;
}

int vs_buf_adds(vs_buf *b, const char *s)
{
  return vs_buf_add(b, s, strlen(s));
}

int vs_buf_addc(vs_buf *b, char c)
{
  return vs_buf_add(b, &c, 1);
}

int vs_buf_vaddf(vs_buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n;
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if(n < 0 || grow(b, b->len + (size_t)n))
    return VS_ERR_NOMEM;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return VS_OK;
}

int vs_buf_addf(vs_buf *b, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = vs_buf_vaddf(b, fmt, ap);
  va_end(ap);
  return rc;
}

const char *vs_buf_str(const vs_buf *b)
{
  return b->data ? b->data : "";
}

char *vs_buf_steal(vs_buf *b)
{
  char *p = b->data;
  if(!p && !b->failed)
    p = calloc(1, 1);
  vs_buf_init(b);
  return p;
}
