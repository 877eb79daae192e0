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

/* The vs_store_mpu_* calls of vsink/store.h, through vs__fs_mpu_ops. */
int vs__fs_mpu_create(vs_store *base, vs_mpu *m, vs_err *err);
int vs__fs_mpu_get(vs_store *base, const char *bucket, const char *key,
                     const char *upload_id, vs_mpu *m, vs_err *err);
int vs__fs_part_begin(vs_store *base, const char *bucket, const char *key,
                        const char *upload_id, unsigned number,
                        vs_upload **out, vs_err *err);
int vs__fs_part_commit(vs_upload *u, vs_part_info *p, vs_err *err);
int vs__fs_mpu_parts(vs_store *base, const char *bucket, const char *key,
                       const char *upload_id, vs_part_info **parts,
                       size_t *n, vs_err *err);
int vs__fs_mpu_complete(vs_store *base, const char *bucket, const char *key,
                          const char *upload_id, const vs_part_ref *refs,
                          size_t n, const vs_commit *c, vs_object_info *info,
                          vs_mpu_fault *fault, vs_err *err);
int vs__fs_part_range(vs_store *base, const char *bucket, const char *key,
                        const char *version_id, unsigned n, uint64_t *off,
                        uint64_t *len, vs_err *err);
int vs__fs_part_copy(vs_store *base, const char *bucket, const char *key,
                       const char *upload_id, unsigned number,
                       const char *src_bucket, const char *src_key,
                       const char *src_vid, uint64_t off, uint64_t len,
                       vs_part_info *p, vs_err *err);
int vs__fs_mpu_abort(vs_store *base, const char *bucket, const char *key,
                       const char *upload_id, vs_err *err);
int vs__fs_mpu_list(vs_store *base, const char *bucket, vs_mpu **list,
                      size_t *n, vs_err *err);
int vs__fs_mpu_expire(vs_store *base, int64_t before_ms, size_t *removed,
                        vs_err *err);
extern const vs_store_mpu_ops vs__fs_mpu_ops;

#endif
