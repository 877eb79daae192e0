/* cJSON with exact numbers. cJSON keeps a number only as a double, which
 * loses seeds above 2^53 and cost digits; vs_json_parse also keeps each
 * number's source text (in the node's otherwise unused valuestring, which
 * cJSON_Delete frees), so integers and decimals can be read exactly. */
#ifndef VS_UTIL_JSON_H
#define VS_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* NULL when malformed (or out of memory). Trailing non-space is an error,
 * and so are a NUL byte, a raw control character in a string and \u0000:
 * a C string would silently end there. */
cJSON *vs_json_parse(const char *text, size_t len);
/* The source text of a number node parsed by vs_json_parse, else NULL. */
const char *vs_json_number_text(const cJSON *n);
/* An integer number node exactly (no fraction, no exponent), range-checked
 * into [min, max]; -1 if it is not one. */
int vs_json_int64(const cJSON *n, int64_t min, int64_t max, int64_t *out);

#endif
