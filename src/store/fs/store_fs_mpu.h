/* What the multipart files of the filesystem store share (internal to
 * vsink_store): store_fs_mpu.c (folders, create, parts),
 * store_fs_mpu_end.c (abort, list, expiry, clean-up at open) and
 * store_fs_mpu_complete.c (complete, part copy, part ranges). */
#ifndef VS_STORE_FS_MPU_H
#define VS_STORE_FS_MPU_H

#include "util/buf.h"
#include "store_fs_int.h"
#include "vsink/store.h"

/* A part as its NNNNN.json records it. */
typedef struct vs__mpu_part {
  vs_part_info info;
  char file[32]; /* its data file in the upload's folder */
} vs__mpu_part;

/* The filesystem store behind base; NULL (and err) for another kind of
 * store, or when write and it is read-only. */
vs__fs_store *vs__mpu_store(vs_store *base, int write, vs_err *err);
/* exactly 32 lower-case hex digits */
int vs__mpu_id_valid(const char *id);
/* DIR/.multipart/<bucket>/<id>; VS_ERR_NOTFOUND for a malformed id. */
int vs__mpu_dir(const vs__fs_store *s, const char *bucket, const char *id,
                char *out, size_t cap, vs_err *err);
/* Takes the upload's lock (*lock_fd: close it to release) and reads it
 * into m: VS_ERR_NOTFOUND unless it is upload id of bucket/key (key NULL:
 * of any key) and still there. */
int vs__mpu_lock(const char *updir, const char *id, const char *bucket,
                 const char *key, vs_mpu *m, int *lock_fd, vs_err *err);
/* Part number's record; VS_ERR_NOTFOUND when the upload has none. */
int vs__mpu_part_read(const char *updir, unsigned number, vs__mpu_part *r,
                      vs_err *err);
/* b into dir/name, durable but for dir's fsync, replacing any. */
int vs__mpu_write_file(const char *dir, const char *name, const vs_buf *b,
                       vs_err *err);
/* Removes dir's files, then dir; how many files went. */
int vs__mpu_remove_tree(const char *dir);

#endif
