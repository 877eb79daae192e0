/* What the filesystem store's other files need of store_fs.c. Internal to
 * vsink_store. */
#ifndef VS_STORE_FS_INT_H
#define VS_STORE_FS_INT_H

#include "vsink/store.h"

/* DIR/buckets of a filesystem store; NULL for another kind of store. */
const char *vs__store_fs_buckets(const vs_store *s);

#endif
