/* Shared by the fuzz targets: the fuzzer's bytes cut into NUL-terminated
 * lines, so a target can read an input as "method\nuri\nheader\n...". */
#ifndef VS_FUZZ_INPUT_H
#define VS_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_MAX_LINES 64

typedef struct fz_lines {
  char *buf;                 /* a copy of the input, '\n' replaced by NUL */
  char *line[FZ_MAX_LINES];
  size_t n;
} fz_lines;

/* A line holding a NUL byte ends there: the callers' inputs are C strings,
 * as they are in the server. Lines past FZ_MAX_LINES are dropped. */
static inline int fz_split(fz_lines *l, const uint8_t *data, size_t size)
{
  size_t i, start = 0;
  l->n = 0;
  l->buf = malloc(size + 1);
  if(!l->buf)
    return -1;
  memcpy(l->buf, data, size);
  l->buf[size] = 0;
  for(i = 0; i <= size && l->n < FZ_MAX_LINES; i++)
    if(i == size || l->buf[i] == '\n') {
      l->buf[i] = 0;
      l->line[l->n++] = l->buf + start;
      start = i + 1;
    }
  return 0;
}

static inline const char *fz_line(const fz_lines *l, size_t i)
{
  return i < l->n ? l->line[i] : "";
}

static inline void fz_free(fz_lines *l)
{
  free(l->buf);
  l->buf = NULL;
}

/* A scratch directory: in /dev/shm when there is one (the targets that
 * write files run faster in memory), else in /tmp. */
static inline int fz_mkdtemp(const char *tag, char *out, size_t cap)
{
  snprintf(out, cap, "/dev/shm/vsink-fuzz-%s-XXXXXX", tag);
  if(mkdtemp(out))
    return 0;
  snprintf(out, cap, "/tmp/vsink-fuzz-%s-XXXXXX", tag);
  return mkdtemp(out) ? 0 : -1;
}

/* A broken invariant: say which and crash, so libFuzzer keeps the input. */
#define FZ_ASSERT(cond, ...)                                                 \
  do {                                                                       \
    if(!(cond)) {                                                            \
      fprintf(stderr, "fuzz invariant failed: %s: ", #cond);                 \
      fprintf(stderr, __VA_ARGS__);                                          \
      fputc('\n', stderr);                                                   \
      abort();                                                               \
    }                                                                        \
  } while(0)

#endif
