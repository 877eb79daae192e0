/* UUID v4: made for taskUUIDs, found inside object keys. */
#ifndef VS_UTIL_UUID_H
#define VS_UTIL_UUID_H

#include <stddef.h>

/* Formats 16 random bytes as a v4 UUID (version and variant bits set):
 * lowercase, 36 characters and a NUL. */
void vs_uuid_format(const unsigned char rnd[16], char out[37]);
/* 1 when s[0..35] is a UUID v4 (either case). */
int vs_uuid_is_v4(const char *s, size_t len);
/* Finds the last UUID v4 in s (the file name is where vsink puts it);
 * copies it lowercased into out and returns 1, or returns 0. */
int vs_uuid_find_v4(const char *s, char out[37]);

#endif
