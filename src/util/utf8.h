/* UTF-8, strictly: overlong forms, surrogates and code points above
 * U+10FFFF are refused, so that two spellings of one name never become two
 * objects, and a hostile string never breaks a JSON or XML line. */
#ifndef VS_UTIL_UTF8_H
#define VS_UTIL_UTF8_H

#include <stddef.h>

/* Length of the well-formed sequence at p (at most avail bytes), or 0. */
size_t vs_utf8_seq(const unsigned char *p, size_t avail);
/* 1 when all n bytes of s are well-formed UTF-8. */
int vs_utf8_valid(const char *s, size_t n);
/* Code points in s, or -1 when it is not well-formed UTF-8. */
long vs_utf8_count(const char *s, size_t n);
/* in into out (cap bytes with the NUL, truncated), ASCII letters in upper
 * (lower) case, every other byte as it is: S3's names such as CRC32. */
void vs_ascii_upper(char *out, size_t cap, const char *in);
void vs_ascii_lower(char *out, size_t cap, const char *in);

#endif
