/* Small filesystem blocks: what durability on POSIX needs. */
#ifndef VS_UTIL_FS_H
#define VS_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "vsink/common.h"

/* mkdir -p with mode; each directory it creates is fsynced into its parent
 * so that the path survives a crash. */
int vs_mkdirs(const char *path, mode_t mode, vs_err *err);
/* fsync a directory, making renames and links in it durable. */
int vs_fsync_dir(const char *path, vs_err *err);
/* The directory part of path into out ("." when there is none). */
void vs_dirname(const char *path, char *out, size_t cap);
/* write() until done, retrying EINTR and short writes. */
int vs_write_all(int fd, const void *p, size_t n, vs_err *err);
/* Reads a whole (small) file; *out is NUL-terminated and malloc'd. */
int vs_read_file(const char *path, size_t max, char **out, size_t *len,
                 vs_err *err);
/* Cryptographically strong random bytes. */
int vs_random(void *buf, size_t n, vs_err *err);

#endif
