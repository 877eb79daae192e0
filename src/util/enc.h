/* Hex and base64, the two encodings S3 headers use. */
#ifndef VS_UTIL_ENC_H
#define VS_UTIL_ENC_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2n lowercase hex digits and a NUL: out needs 2n+1 bytes. */
void vs_hex(const uint8_t *in, size_t n, char *out);
/* The value of one hex digit (either case), or -1. */
int vs_hexval(int c);
/* Decodes exactly 2n hex digits (either case) into out[n]; -1 if bad. */
int vs_unhex(const char *in, size_t n, uint8_t *out);
/* Standard base64 with padding; out needs 4*((n+2)/3)+1 bytes. */
void vs_b64(const uint8_t *in, size_t n, char *out);
/* Strict standard base64 (padding required, no spaces). Returns the number
 * of bytes written (at most cap) or -1 when malformed or too long. */
long vs_unb64(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
