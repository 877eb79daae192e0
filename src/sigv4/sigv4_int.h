/* Shared by the signature code (sigv4.c signs, sigv4_verify.c verifies,
 * sigv2.c). Not a public header. */
#ifndef VS_SIGV4_INT_H
#define VS_SIGV4_INT_H

#include "vsink/sigv4.h"

#include <stddef.h>

#include "util/buf.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINAL "aws4_request"
#define MAX_HEADERS 64    /* signed headers in one request */

/* A query string, parsed: what is signed and what is checked. */
typedef struct qparam {
  char *name, *value;   /* decoded; may hold NUL bytes, hence the lengths */
  size_t name_len, value_len;
  char *ename, *evalue; /* canonical encoding of the decoded bytes */
} qparam;

typedef struct qlist {
  qparam *p;
  size_t n;
} qlist;

void vs__qlist_free(qlist *q);
/* Parses n bytes of a raw query: VS_ERR_INVALID (too many parameters, a
 * malformed escape) or VS_ERR_NOMEM, said in err. */
int vs__qlist_parse(qlist *q, const char *s, size_t n, vs_err *err);
/* SigV4's canonical query string, X-Amz-Signature left out if asked. */
int vs__qlist_canon(const qlist *q, int skip_signature, vs_buf *out);
/* The parameter named name; *dups counts the others of that name. */
const qparam *vs__qlist_get(const qlist *q, const char *name, int *dups);

/* The credential scope a signature is made under. */
typedef struct scope {
  char key_id[129];
  char date[9];     /* YYYYMMDD */
  char region[64];
  char service[32];
} scope;

typedef struct hdrs {
  size_t n;
  const char *name[MAX_HEADERS]; /* lowercase, in signing order */
  const char *value[MAX_HEADERS];
} hdrs;

/* The canonical URI of a raw path (n bytes). */
int vs__canon_path(vs_buf *b, const char *raw, size_t n);
int vs__canon_request(vs_buf *b, const char *method, const char *curi,
                      const char *cquery, const hdrs *h, const char *payload);
/* Signs a canonical request: hex signature into sig[65]. */
int vs__sign_canon(const char *secret, const scope *s, const char *amzdate,
                   const vs_buf *canon, char sig[65]);
/* HTTP whitespace as SigV4's trimming sees it. */
int vs__is_ws(char c);
/* s is exactly 64 lowercase hex digits. */
int vs__is_lower_hex64(const char *s);

/* Fills err (may be NULL) with VS_ERR_AUTH and the message; returns st. */
vs_sigv4_status vs__refuse(vs_err *err, vs_sigv4_status st, const char *fmt,
                           ...) __attribute__((format(printf, 3, 4)));
/* Refusing is the only safe answer when we cannot finish the check:
 * VS_SIGV4_BAD_SIGNATURE, err's code VS_ERR_NOMEM. */
vs_sigv4_status vs__refuse_oom(vs_err *err);

#endif
