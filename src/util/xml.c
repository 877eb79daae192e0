/* One escaper for every XML answer the sink writes (errors, listings,
 * multipart results), so a key reads back the same from each of them. */
#include <string.h>

#include "util/xml.h"

static int url_safe(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '~' || c == '/';
}

void vs_xml_text(vs_buf *b, const char *s, size_t n, int url)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for(i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if(url && !url_safe(c)) {
      vs_buf_addc(b, '%');
      vs_buf_addc(b, hex[c >> 4]);
      vs_buf_addc(b, hex[c & 15]);
      continue;
    }
    switch(c) {
    case '<': vs_buf_adds(b, "&lt;"); break;
    case '>': vs_buf_adds(b, "&gt;"); break;
    case '&': vs_buf_adds(b, "&amp;"); break;
    case '"': vs_buf_adds(b, "&quot;"); break;
    case '\'': vs_buf_adds(b, "&apos;"); break;
    default:
      if((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
        c = '?';
      vs_buf_addc(b, (char)c);
    }
  }
}

void vs_xml_elem(vs_buf *b, const char *tag, const char *s, int url)
{
  vs_buf_addf(b, "<%s>", tag);
  if(s)
    vs_xml_text(b, s, strlen(s), url);
  vs_buf_addf(b, "</%s>", tag);
}
