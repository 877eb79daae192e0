/* The manifest reader's streamed segment (internal): one segment read line
 * by line out of a fixed buffer, plain or gzip. manifest_read.c has it
 * (with vs_manifest_read_segment and the listing); the merge of a whole
 * directory (manifest_merge.c) drives one per open segment. Not a public
 * header. manifest_gzip.c's compression is shared with the writer. */
#ifndef VS_MANIFEST_INT_H
#define VS_MANIFEST_INT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "vsink/manifest.h"

typedef struct rd {
  char *path;       /* the file actually read */
  int fd, gz;
  int eof;          /* no more bytes will come */
  int truncated;    /* the gzip stream ended early */
  int in_eof, between; /* gzip: input exhausted; at a member boundary */
  int zlive;
  z_stream z;
  unsigned char *in;
  char *buf;
  size_t cap, start, end;
  uint64_t off;     /* offset of buf[start] in the (uncompressed) segment */
} rd;

/* 1 and a line (valid until the next call), 0 at the end (then torn_len
 * and torn say whether a torn tail was left), or -1 and err. */
typedef struct tail {
  int torn;
  uint64_t off;
  size_t len;
} tail;

/* Opens segment s for reading into r; r is closed with vs__rd_close
 * whatever the result. */
int vs__rd_open(rd *r, const vs_manifest_segment *s, vs_err *err);
void vs__rd_close(rd *r);
int vs__rd_next(rd *r, const char **line, size_t *len, tail *t,
                vs_err *err);

/* <plain> -> <plain>.gz, crash-safe (manifest_gzip.c): a crash anywhere
 * leaves the plain segment alone, or both (readers take the .gz), never a
 * partial .gz under the final name. The caller holds the segment's lock. */
int vs__gzip_segment(const char *dir, const char *plain, vs_err *err);

#endif
