/* Shared by the signature checks (sigv4.c, sigv2.c). Not a public header. */
#ifndef VS_SIGV4_INT_H
#define VS_SIGV4_INT_H

#include "vsink/sigv4.h"

/* Fills err (may be NULL) with VS_ERR_AUTH and the message; returns st. */
vs_sigv4_status vs__refuse(vs_err *err, vs_sigv4_status st, const char *fmt,
                           ...) __attribute__((format(printf, 3, 4)));
/* Refusing is the only safe answer when we cannot finish the check:
 * VS_SIGV4_BAD_SIGNATURE, err's code VS_ERR_NOMEM. */
vs_sigv4_status vs__refuse_oom(vs_err *err);

#endif
