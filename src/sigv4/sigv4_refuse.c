/* How a signature check says no (sigv4_int.h): one message format for
 * SigV4 and SigV2, so the sink logs and answers both alike. */
#include <stdarg.h>
#include <stdio.h>

#include "sigv4/sigv4_int.h"

vs_sigv4_status vs__refuse(vs_err *err, vs_sigv4_status st, const char *fmt,
                           ...)
{
  va_list ap;
  if(!err)
    return st;
  err->code = VS_ERR_AUTH;
  err->sys_errno = 0;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return st;
}

vs_sigv4_status vs__refuse_oom(vs_err *err)
{
  vs__refuse(err, VS_SIGV4_BAD_SIGNATURE, "out of memory checking a signature");
  if(err)
    err->code = VS_ERR_NOMEM;
  return VS_SIGV4_BAD_SIGNATURE;
}
