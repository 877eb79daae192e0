/* Time formats: SigV4's basic ISO 8601, the manifest's RFC 3339 and
 * HTTP's dates. */
#ifndef VS_UTIL_CLOCK_H
#define VS_UTIL_CLOCK_H

#include <stdint.h>

/* "20130524T000000Z" (needs 17 bytes) from Unix seconds. */
void vs_time_amz(int64_t unix_s, char out[17]);
/* Parses "20130524T000000Z" exactly; -1 if malformed. */
int vs_time_parse_amz(const char *s, int64_t *unix_s);
/* "2026-11-24T12:15:00.123Z" (needs 25 bytes) from Unix milliseconds. */
void vs_time_rfc3339(int64_t unix_ms, char out[25]);
/* Parses RFC 3339 in UTC or with an offset, with or without fraction, and
 * a bare date "2026-11-24" (midnight UTC); -1 if malformed. */
int vs_time_parse_rfc3339(const char *s, int64_t *unix_ms);
/* "Tue, 24 Nov 2026 12:15:00 GMT" (needs 30 bytes), for HTTP headers. */
void vs_time_http(int64_t unix_s, char out[30]);
/* Parses an HTTP-date (RFC 9110 5.6.7) in each form a recipient must
 * accept: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years are 1970-2069) and
 * asctime "Sun Nov  6 08:49:37 1994"; blanks around it are skipped, a leap
 * second reads as :59, years are 1 to 9999. zone_aliases: IMF-fixdate's
 * zone may also be UTC, +0000 or -0000 (RFC 1123 dates, which SigV2
 * clients sign). -1 if malformed or NULL. */
int vs_time_parse_http(const char *s, int zone_aliases, int64_t *unix_s);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian) and back. */
int64_t vs_days_from_civil(int64_t y, unsigned m, unsigned d);
void vs_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
