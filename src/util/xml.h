/* XML text for S3's answers. Not a public header. */
#ifndef VS_UTIL_XML_H
#define VS_UTIL_XML_H

#include <stddef.h>

#include "util/buf.h"

/* What every S3 answer opens with, and S3's namespace. */
#define VS_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define VS_XML_NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* s (n bytes) as XML character data: the five predefined entities, and
 * '?' for the control bytes XML 1.0 cannot carry in any form (tab, LF and
 * CR stay). url: percent-encode instead, as S3 does for encoding-type=url
 * (everything but A-Z a-z 0-9 - _ . ~ /). */
void vs_xml_text(vs_buf *b, const char *s, size_t n, int url);
/* <tag>s</tag>, s escaped as above; NULL is empty. */
void vs_xml_elem(vs_buf *b, const char *tag, const char *s, int url);

#endif
