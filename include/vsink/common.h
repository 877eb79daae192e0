/* vsink: what every part shares: the error struct, error codes and the
 * injectable clock. */
#ifndef VSINK_COMMON_H
#define VSINK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. 0 is success; every fallible call returns one of these and
 * fills a vs_err with a message meant for a person. */
typedef enum vs_code {
  VS_OK = 0,
  VS_ERR_INVALID,   /* bad input: a field, a key, an option */
  VS_ERR_NOTFOUND,  /* no such object, file, key id */
  VS_ERR_EXISTS,    /* would overwrite what must not be overwritten */
  VS_ERR_NOSPACE,   /* ENOSPC / EDQUOT */
  VS_ERR_IO,        /* any other system error */
  VS_ERR_NOMEM,
  VS_ERR_TOOLARGE,  /* over a configured size */
  VS_ERR_DIGEST,    /* a checksum did not match */
  VS_ERR_AUTH,      /* authentication failed (see the part's own detail) */
  VS_ERR_BUSY,      /* locked by someone else */
  VS_ERR_NET        /* transport error talking to a remote */
} vs_code;

typedef struct vs_err {
  int code;        /* a vs_code */
  int sys_errno;   /* errno behind VS_ERR_IO / VS_ERR_NOSPACE, else 0 */
  char msg[256];
} vs_err;

/* Sets err (if not NULL) and returns code, so that callers can write
 * `return vs_fail(err, VS_ERR_INVALID, "bad key %s", k);` */
int vs_fail(vs_err *err, int code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* Like vs_fail for a failed system call: maps errno (ENOSPC, EDQUOT to
 * VS_ERR_NOSPACE, ENOENT to VS_ERR_NOTFOUND, EEXIST to VS_ERR_EXISTS) and
 * appends strerror. */
int vs_fail_errno(vs_err *err, int errnum, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
const char *vs_code_name(int code);

/* Milliseconds since the Unix epoch. Every part that reads the clock takes
 * one of these (NULL means the real clock) so tests can be exact. */
typedef int64_t (*vs_now_fn)(void *ctx);
int64_t vs_now_ms(vs_now_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
