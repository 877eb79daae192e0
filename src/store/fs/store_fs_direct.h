/* O_DIRECT writes of an upload from two aligned buffers, on a thread of its
 * own (store_fs_direct.c). Used by store_fs.c past an upload's first
 * megabytes, at an aligned offset; the unaligned tail, and everything once
 * the filesystem refuses O_DIRECT, goes through the plain descriptor.
 *
 *   vs__fs_direct_start(&d, part_path, fd, offset, cap)  -1: stay buffered
 *   vs__fs_direct_write(d, p, n)    0 or the errno of a failed write
 *   vs__fs_direct_finish(d)         all written (not synced), d freed
 *   vs__fs_direct_free(d)           abandon, d freed (NULL is fine) */
#ifndef VS_STORE_FS_DIRECT_H
#define VS_STORE_FS_DIRECT_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vs__fs_direct vs__fs_direct;

int vs__fs_direct_start(vs__fs_direct **out, const char *path, int fd,
                        uint64_t off, size_t cap);
int vs__fs_direct_write(vs__fs_direct *d, const void *p, size_t n);
int vs__fs_direct_finish(vs__fs_direct *d);
void vs__fs_direct_free(vs__fs_direct *d);

#endif
