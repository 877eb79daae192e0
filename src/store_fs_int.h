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

#endif
