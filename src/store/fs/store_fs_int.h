/* What the filesystem store's other files need of store_fs.c. Internal to
 * vsink_store. */
#ifndef VS_STORE_FS_INT_H
#define VS_STORE_FS_INT_H

#include "vsink/store.h"

/* DIR/buckets of a filesystem store; NULL for another kind of store. */
const char *vs__store_fs_buckets(const vs_store *s);
/* A version's metadata file (text, len) into info; -1 when it is not the
 * metadata of version vid. */
int vs__store_fs_meta_parse(const char *text, size_t len, const char *vid,
                            vs_object_info *info);

/* The upload's bytes become a hard link of version vid of bucket/key, of
 * the given size (store_fs_copy.c); commit it as if they had been written.
 * VS_ERR_NOTFOUND when the version is gone. */
int vs__store_fs_upload_link(vs_upload *u, const char *bucket,
                             const char *key, const char *vid,
                             uint64_t bytes, vs_err *err);

#endif
