/* Option values shared by the subcommands. */
#ifndef VS_CLI_OPTS_H
#define VS_CLI_OPTS_H

#include <stdint.h>

/* "5368709120", "5GiB", "64MiB", "512K", "1G" (K/M/G are powers of 1024,
 * as for every size vsink takes). -1 when malformed or out of range. */
int vs_cli_parse_size(const char *s, uint64_t *out);
/* A whole number in [min, max]. */
int vs_cli_parse_uint(const char *s, unsigned long long min,
                      unsigned long long max, unsigned long long *out);
/* "90", "90s", "15m", "2h", "7d" -> seconds. */
int vs_cli_parse_duration(const char *s, int64_t *seconds);

#endif
