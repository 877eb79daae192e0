/* Exact decimal money: a count of 10^-10 USD in an int64 (up to about
 * 922 million). Costs are parsed from and printed to decimal text and never
 * pass through a binary float. */
#ifndef VS_UTIL_DEC_H
#define VS_UTIL_DEC_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t vs_dec;

#define VS_DEC_SCALE 10000000000LL /* 10^10 */
#define VS_DEC_DIGITS 10
#define VS_DEC_STRLEN 32

/* Parses [-]digits[.digits] (no exponent, at most 10 fractional digits).
 * Returns 0 or -1 (malformed, too precise, overflow). */
int vs_dec_parse(const char *s, size_t len, vs_dec *out);
/* Formats with at least min_frac fractional digits and no trailing zeros
 * beyond them: (0.0668, 2) -> "0.0668", (5, 2) -> "5.00". */
void vs_dec_format(vs_dec d, int min_frac, char out[VS_DEC_STRLEN]);
/* *out = a + b; -1 on overflow. */
int vs_dec_add(vs_dec a, vs_dec b, vs_dec *out);
/* *out = a * num / den exactly; -1 on overflow or when not exact. */
int vs_dec_muldiv(vs_dec a, int64_t num, int64_t den, vs_dec *out);
/* A JSON number as the API sends it (cJSON hands us a double): decimals of
 * up to 15 significant digits survive the double exactly (DBL_DIG), so
 * printing with %.15g gives back the text that was sent. -1 if it cannot be
 * represented. */
int vs_dec_from_json_number(double v, vs_dec *out);

#endif
