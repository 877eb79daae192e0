/* vs_buf: a growable byte buffer that always keeps a NUL after its data
 * (after curl's dynbuf). A buffer that failed to grow stays failed: later
 * appends are no-ops returning VS_ERR_NOMEM, so callers may check once. */
#ifndef VS_UTIL_BUF_H
#define VS_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct vs_buf {
  char *data;
  size_t len;
  size_t cap;
  int failed;
} vs_buf;

#define VS_BUF_INIT {NULL, 0, 0, 0}

void vs_buf_init(vs_buf *b);
void vs_buf_free(vs_buf *b);
void vs_buf_reset(vs_buf *b);           /* len = 0, keeps memory */
int vs_buf_add(vs_buf *b, const void *p, size_t n);
int vs_buf_adds(vs_buf *b, const char *s);
int vs_buf_addc(vs_buf *b, char c);
int vs_buf_addf(vs_buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
int vs_buf_vaddf(vs_buf *b, const char *fmt, va_list ap);
/* "" when empty; never NULL. */
const char *vs_buf_str(const vs_buf *b);
/* Hands the memory to the caller (NUL-terminated, never NULL unless out of
 * memory) and leaves b empty. */
char *vs_buf_steal(vs_buf *b);

#endif
