/* The process's log: one JSON object per line on stderr, each written with a
 * single write() so that lines from several threads never interleave. */
#ifndef VS_UTIL_LOG_H
#define VS_UTIL_LOG_H

#include "util/buf.h"

/* Adds s (n bytes) as a quoted JSON string, escaping as RFC 8259 asks and
 * replacing invalid UTF-8 with U+FFFD so that a hostile key cannot break a
 * log or manifest line. */
int vs_buf_add_json_str(vs_buf *b, const char *s, size_t n);

/* Process-wide settings (logging is one of the few legitimate globals). */
void vs_log_set_quiet(int quiet);

/* {"time":...,"level":level,"msg":...} */
void vs_log(const char *level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* Writes a prepared JSON object (no trailing newline) as one line, adding
 * "time" first: fields must hold the rest of the object, starting with a
 * comma, e.g. ",\"method\":\"PUT\"". */
void vs_log_fields(const char *fields, size_t len);

#endif
