#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vsink/common.h"

static const char *const names[] = {
  "ok", "invalid", "not found", "exists", "no space", "io", "no memory",
  "too large", "digest mismatch", "auth", "busy", "network"
};

const char *vs_code_name(int code)
{
  if(code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
    return "unknown";
  return names[code];
}

int vs_fail(vs_err *err, int code, const char *fmt, ...)
{
  va_list ap;
  if(!err)
    return code;
  err->code = code;
  err->sys_errno = 0;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return code;
}

static int code_of_errno(int e)
{
  switch(e) {
  case ENOSPC:
  case EDQUOT:
    return VS_ERR_NOSPACE;
  case ENOENT:
    return VS_ERR_NOTFOUND;
  case EEXIST:
    return VS_ERR_EXISTS;
  case ENOMEM:
    return VS_ERR_NOMEM;
  case EFBIG:
    return VS_ERR_TOOLARGE;
  default:
    return VS_ERR_IO;
  }
}

int vs_fail_errno(vs_err *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  int code = code_of_errno(errnum);
  size_t n;
  if(!err)
    return code;
  err->code = code;
  err->sys_errno = errnum;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  n = strlen(err->msg);
  snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
  return code;
}

int64_t vs_now_ms(vs_now_fn fn, void *ctx)
{
  struct timespec ts;
  if(fn)
    return fn(ctx);
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
