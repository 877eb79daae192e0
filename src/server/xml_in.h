/* A strict reader for the small XML bodies S3 requests carry
 * (DeleteObjects, CompleteMultipartUpload): elements, attributes on the
 * root only, leaf text with the five predefined entities and character
 * references. Comments, CDATA, DTDs and processing instructions (but the
 * leading XML declaration) are malformed: a general parser would accept
 * far more than S3 does and give a hostile body more to work with.
 * Bounded: every step consumes input. Pure. Not a public header. */
#ifndef VS_SERVER_XML_IN_H
#define VS_SERVER_XML_IN_H

#include <stddef.h>

typedef struct vs__xin {
  const char *p, *end;
  char *msg;     /* why it failed: S3's MalformedXML message */
  size_t cap;
} vs__xin;

/* -1, with msg saying what was wrong. */
int vs__xin_fail(vs__xin *x, const char *what);
/* Skips an optional XML declaration, then opens the root element, which
 * must be root and not empty (attributes allowed: the namespace). */
int vs__xin_root(vs__xin *x, const char *root);
/* "<Name" next: its name into name (cap bytes), its attributes refused;
 * *empty for "<Name/>". 0 opened, 1 a closing tag is next instead, -1
 * malformed. */
int vs__xin_open(vs__xin *x, char *name, size_t cap, int *empty);
/* "</name>" next, or -1. */
int vs__xin_close(vs__xin *x, const char *name);
/* A leaf's text up to its closing tag, decoded, into a malloc'd string of
 * at most max bytes: 0, -1 malformed or too long, -3 out of memory. */
int vs__xin_text(vs__xin *x, const char *name, size_t max, char **out,
                 size_t *len);
/* Nothing but white space left: 0, else -1. */
int vs__xin_end(vs__xin *x);

#endif
